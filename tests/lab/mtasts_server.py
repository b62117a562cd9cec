#!/usr/bin/env python3
"""mtasts_server.py ADDR CERT KEY POLICYFILE: serve an MTA-STS policy at
https://ADDR:443/.well-known/mta-sts.txt (text/plain), read from POLICYFILE
at each request (a test may change it); any other path: 404.  Prints
"listening" once it accepts."""
import http.server
import ssl
import sys

addr, cert, key, policy = sys.argv[1:5]


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path != "/.well-known/mta-sts.txt":
            self.send_error(404)
            return
        with open(policy, "rb") as f:
            body = f.read()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, fmt, *args):
        sys.stderr.write("mtasts_server: " + (fmt % args) + "\n")


srv = http.server.HTTPServer((addr, 443), Handler)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
print("listening", flush=True)
srv.serve_forever()
