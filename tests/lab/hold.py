#!/usr/bin/env python3
"""hold.py: a long-lived TCP session, for the schedules' lab test.

hold.py serve ADDR PORT...      echo every line back, on each address
hold.py client SRC DST PORT STATUS
    connect from SRC, send a line a second and wait for its echo; STATUS
    holds "alive N" after each echo, and "cut SECONDS-SINCE-EPOCH REASON"
    once an echo has not come for 4 seconds (or the send fails), then exit.
"""
import os
import socket
import sys
import threading
import time


def serve(addrs_port):
    *addrs, port = addrs_port
    socks = []
    for a in addrs:
        s = socket.socket(socket.AF_INET6 if ":" in a else socket.AF_INET)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((a, int(port)))
        s.listen(16)
        socks.append(s)

    def echo(c):
        with c:
            while True:
                data = c.recv(4096)
                if not data:
                    return
                c.sendall(data)

    def accept(s):
        while True:
            c, _ = s.accept()
            threading.Thread(target=echo, args=(c,), daemon=True).start()

    for s in socks[1:]:
        threading.Thread(target=accept, args=(s,), daemon=True).start()
    print("listening", flush=True)
    accept(socks[0])


def write(path, text):
    try:
        with open(path + ".tmp", "w") as f:
            f.write(text + "\n")
        os.replace(path + ".tmp", path)
    except OSError:
        sys.exit(0)     # the test is over: its directory is gone


def client(src, dst, port, status):
    s = socket.socket(socket.AF_INET6 if ":" in dst else socket.AF_INET)
    s.bind((src, 0))
    s.settimeout(4)
    try:
        s.connect((dst, int(port)))
    except OSError as e:
        write(status, f"cut {time.time():.0f} connect: {e}")
        return
    n = 0
    while True:
        n += 1
        line = f"ping {n}\n".encode()
        try:
            s.sendall(line)
            got = b""
            while not got.endswith(b"\n"):
                chunk = s.recv(4096)
                if not chunk:
                    raise OSError("closed by the peer")
                got += chunk
        except (OSError, socket.timeout) as e:
            write(status, f"cut {time.time():.0f} {e or 'timed out'}")
            return
        write(status, f"alive {n}")
        time.sleep(1)


if __name__ == "__main__":
    if sys.argv[1] == "serve":
        serve(sys.argv[2:])
    else:
        client(*sys.argv[2:6])
