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
"""
import os
import socket
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

    def handle(self):
        self.reply("220 sink.test ESMTP sink")
        mail, rcpts = None, []
        while True:
            line = self.rfile.readline()
            if not line:
                return
            cmd = line.decode("latin-1").rstrip("\r\n")
            verb = cmd[:4].upper()
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
                    os.rename(path + ".eml.tmp", path + ".eml")
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
        elif args[0] == "--ehlo-lines":
            ARGS["ehlo_lines"] = int(args[1])
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
