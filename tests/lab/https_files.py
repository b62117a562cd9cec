#!/usr/bin/env python3
"""https_files.py ADDR CERT KEY DIR: serve the files of DIR over HTTPS at
https://ADDR:443/NAME (text/plain), read at each request (a test may
change them); anything else: 404.  Prints "listening" once it accepts."""
import http.server
import os
import ssl
import sys

addr, cert, key, root = sys.argv[1:5]


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        name = self.path.lstrip("/")
        path = os.path.join(root, name)
        if "/" in name or not os.path.isfile(path):
            self.send_error(404)
            return
        with open(path, "rb") as f:
            body = f.read()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, fmt, *args):
        sys.stderr.write("https_files: " + (fmt % args) + "\n")


srv = http.server.HTTPServer((addr, 443), Handler)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
print("listening", flush=True)
srv.serve_forever()
