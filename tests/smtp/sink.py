#!/usr/bin/env python3
"""sink.py: an SMTP server that records what it receives, for the proxy's
tests and benchmarks.

    sink.py PORT DIR [--host ADDR]

Every message accepted is written to DIR/N.eml exactly as received (after
undoing dot-stuffing), with DIR/N.env holding the envelope (MAIL FROM and
one RCPT per line) and DIR/N.peer the client's address.  It advertises STARTTLS, CHUNKING, AUTH and PIPELINING
so that tests can see the proxy take them out.  Recipients containing
"refuse" get 550; a sender containing "tempfail" gets 451 at the end of
DATA; "--slow-data N" waits N seconds before answering the final dot;
"--ehlo-lines N" answers EHLO with N more lines of 60 bytes (a hostile
or broken next hop's long reply).

STARTTLS gets 502 unless "--tls CERT KEY" (PEM files; CERT may carry a
chain) makes it real: then DIR/N.tls holds the message's TLS version and
cipher ("none" in plain text).  "--starttls-reply TEXT" answers STARTTLS
with TEXT instead (a 454); "--starttls-junk" sends a second reply right
after the 220, in plain text (a next hop, or someone on the path,
injecting a reply before TLS); "--starttls-stall" says 220 and then
nothing (a handshake that stalls).  "--greet-trickle S" sends its
greeting a byte every S seconds (a next hop that holds a session open);
"--junk-reply" answers the final dot with 140 bytes that are not UTF-8.
"""
import os
import socket
import ssl
import socketserver
import sys
import threading
import time

counter_lock = threading.Lock()
counter = [0]
ARGS = {}


class Handler(socketserver.StreamRequestHandler):
    def reply(self, text):
        self.wfile.write(text.encode() + b"\r\n")
        self.wfile.flush()

    def starttls(self):
        if ARGS.get("starttls_reply"):
            self.reply(ARGS["starttls_reply"])
            return
        if not ARGS.get("tls"):
            self.reply("502 5.5.2 Error: command not recognized")
            return
        if ARGS.get("starttls_stall"):
            self.reply("220 2.0.0 Ready to start TLS")
            self.request.settimeout(30)
            try:
                while self.request.recv(4096):
                    pass
            except OSError:
                pass
            self.tls = "failed"
            return
        if ARGS.get("starttls_junk"):
            self.wfile.write(b"220 2.0.0 Ready\r\n250 injected\r\n")
            self.wfile.flush()
        else:
            self.reply("220 2.0.0 Ready to start TLS")
        try:
            conn = ARGS["tls"].wrap_socket(self.request, server_side=True)
        except (ssl.SSLError, OSError):
            self.tls = "failed"
            return
        self.request = conn
        self.rfile = conn.makefile("rb")
        self.wfile = conn.makefile("wb")
        self.tls = "%s %s" % (conn.version(), conn.cipher()[0])

    def handle(self):
        self.tls = "none"
        if ARGS.get("greet_trickle"):
            try:
                for b in b"220 sink.test ESMTP sink\r\n":
                    self.wfile.write(bytes([b]))
                    self.wfile.flush()
                    time.sleep(ARGS["greet_trickle"])
            except OSError:
                return
        else:
            self.reply("220 sink.test ESMTP sink")
        mail, rcpts = None, []
        while True:
            line = self.rfile.readline()
            if not line:
                return
            cmd = line.decode("latin-1").rstrip("\r\n")
            verb = cmd[:4].upper()
            if cmd.upper() == "STARTTLS":
                self.starttls()
                if self.tls == "failed":
                    return
                mail, rcpts = None, []
                continue
            if verb in ("EHLO", "HELO"):
                mail, rcpts = None, []
                if verb == "HELO":
                    self.reply("250 sink.test")
                    continue
                extra = ["X-FILLER-%04d-" % i + "x" * 45
                         for i in range(ARGS.get("ehlo_lines", 0))]
                for cap in ["sink.test", "PIPELINING", "SIZE 200000000",
                            "8BITMIME", "SMTPUTF8", "STARTTLS", "CHUNKING",
                            "AUTH PLAIN LOGIN", "ENHANCEDSTATUSCODES"] + extra:
                    self.wfile.write(("250-" + cap + "\r\n").encode())
                self.reply("250 DSN")
            elif verb == "MAIL":
                mail, rcpts = cmd[10:], []
                self.reply("250 2.1.0 Ok")
            elif verb == "RCPT":
                if "refuse" in cmd:
                    self.reply("550 5.1.1 <%s>: Recipient address rejected"
                               % cmd[8:].strip("<>"))
                else:
                    rcpts.append(cmd[8:])
                    self.reply("250 2.1.5 Ok")
            elif verb == "DATA":
                if not rcpts:
                    self.reply("554 5.5.1 Error: no valid recipients")
                    continue
                self.reply("354 End data with <CR><LF>.<CR><LF>")
                chunks = []
                while True:
                    l = self.rfile.readline()
                    if not l:
                        return
                    if l == b".\r\n":
                        break
                    if l.startswith(b"."):
                        l = l[1:]
                    chunks.append(l)
                if ARGS.get("slow"):
                    time.sleep(ARGS["slow"])
                if "tempfail" in (mail or ""):
                    self.reply("451 4.3.0 Error: try again")
                    continue
                with counter_lock:
                    counter[0] += 1
                    n = counter[0]
                if ARGS["dir"] != "-":
                    path = os.path.join(ARGS["dir"], "%d" % n)
                    with open(path + ".eml.tmp", "wb") as f:
                        f.write(b"".join(chunks))
                    with open(path + ".env", "w") as f:
                        f.write("\n".join([mail] + rcpts) + "\n")
                    with open(path + ".peer", "w") as f:
                        f.write("%s\n" % self.client_address[0])
                    with open(path + ".tls", "w") as f:
                        f.write(self.tls + "\n")
                    os.rename(path + ".eml.tmp", path + ".eml")
                if ARGS.get("junk_reply"):
                    # 140 bytes that are not UTF-8 in the reply's text
                    self.wfile.write(b"250 2.0.0 queued " + b"\xff" * 140 +
                                     b"\r\n")
                    self.wfile.flush()
                else:
                    self.reply("250 2.0.0 Ok: queued as %d" % n)
                mail, rcpts = None, []
            elif verb == "RSET":
                mail, rcpts = None, []
                self.reply("250 2.0.0 Ok")
            elif verb == "NOOP":
                self.reply("250 2.0.0 Ok")
            elif verb == "QUIT":
                self.reply("221 2.0.0 Bye")
                return
            else:
                self.reply("502 5.5.2 Error: command not recognized")


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 1024


def main():
    port, ARGS["dir"] = int(sys.argv[1]), sys.argv[2]
    host = "127.0.0.1"
    args = sys.argv[3:]
    while args:
        if args[0] == "--host":
            host = args[1]
        elif args[0] == "--slow-data":
            ARGS["slow"] = float(args[1])
        elif args[0] == "--junk-reply":
            ARGS["junk_reply"] = True
            args = args[1:]
            continue
        elif args[0] == "--greet-trickle":
            ARGS["greet_trickle"] = float(args[1])
        elif args[0] == "--ehlo-lines":
            ARGS["ehlo_lines"] = int(args[1])
        elif args[0] == "--tls":
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(args[1], args[2])
            ARGS["tls"] = ctx
            args = args[1:]
        elif args[0] == "--starttls-reply":
            ARGS["starttls_reply"] = args[1]
        elif args[0] == "--starttls-junk":
            ARGS["starttls_junk"] = True
            args = args[1:]
            continue
        elif args[0] == "--starttls-stall":
            ARGS["starttls_stall"] = True
            args = args[1:]
            continue
        args = args[2:]
    if ARGS["dir"] != "-":      # go on numbering after an earlier sink
        counter[0] = max([int(n[:-4]) for n in os.listdir(ARGS["dir"])
                          if n.endswith(".eml")] + [0])
    if ":" in host:
        Server.address_family = socket.AF_INET6
    srv = Server((host, port), Handler)
    print("ready", flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
