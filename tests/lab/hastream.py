#!/usr/bin/env python3
"""hastream.py: long TCP streams through an HA pair, and what they lived
through.

  hastream.py serve PORT OUT     (on the WAN side) accept streams; each
      is checked byte by byte (byte i is i % 251); when it ends, one JSON
      line goes to OUT: bytes, whether the pattern held, whether it ended
      cleanly or was reset, the longest gap between two reads (ms) and
      when it began (epoch ms).
  hastream.py send HOST PORT SECONDS [N]   (on the LAN side) N streams
      (default 1) at once, 4 KB every 5 ms each, for SECONDS; then each
      closes.  Prints one JSON line per stream: bytes sent, error.
  hastream.py reach HOST PORT SECONDS   try new connections every 50 ms
      for up to SECONDS; print the ms until the first that succeeds (or
      -1).  A connection refused counts as reached: the gateway forwarded
      it.
"""
import json
import socket
import sys
import threading
import time

PAT = bytes(i % 251 for i in range(251 * 64))


def serve(port, out):
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("0.0.0.0", port))
    ls.listen(64)
    lock = threading.Lock()

    def one(c):
        n, ok, end, gap = 0, True, "closed", 0.0
        began = time.time()
        last = time.monotonic()
        try:
            while True:
                d = c.recv(65536)
                t = time.monotonic()
                gap = max(gap, t - last)
                last = t
                if not d:
                    break
                off = n % 251
                if ok:
                    want = (PAT[off:] + PAT * (len(d) // len(PAT) + 2))[:len(d)]
                    if d != want:
                        ok = False
                n += len(d)
        except ConnectionResetError:
            end = "reset"
        except OSError as e:
            end = "error: " + str(e)
        c.close()
        with lock, open(out, "a") as f:
            f.write(json.dumps({"bytes": n, "pattern": ok, "end": end,
                                "max_gap_ms": round(gap * 1000),
                                "began": round(began * 1000)}) + "\n")

    while True:
        c, _ = ls.accept()
        threading.Thread(target=one, args=(c,), daemon=True).start()


def send(host, port, secs, n):
    res = [None] * n

    def one(i):
        sent, err = 0, ""
        try:
            s = socket.create_connection((host, port), timeout=5)
            s.settimeout(30)
            end = time.monotonic() + secs
            while time.monotonic() < end:
                off = sent % 251
                chunk = (PAT[off:] + PAT)[:4096]
                s.sendall(chunk)
                sent += len(chunk)
                time.sleep(0.005)
            s.shutdown(socket.SHUT_WR)
            s.settimeout(30)
            s.recv(1)       # the server's close: everything arrived
            s.close()
        except OSError as e:
            err = str(e) or type(e).__name__
        res[i] = {"sent": sent, "error": err}

    ts = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    for r in res:
        print(json.dumps(r), flush=True)


def reach(host, port, secs):
    t0 = time.monotonic()
    while time.monotonic() - t0 < secs:
        s = socket.socket()
        s.settimeout(0.2)
        try:
            s.connect((host, port))
            s.close()
            print(round((time.monotonic() - t0) * 1000))
            return
        except ConnectionRefusedError:
            print(round((time.monotonic() - t0) * 1000))
            return
        except OSError:
            s.close()
            time.sleep(0.05)
    print(-1)


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "serve":
        serve(int(sys.argv[2]), sys.argv[3])
    elif cmd == "send":
        send(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]),
             int(sys.argv[5]) if len(sys.argv) > 5 else 1)
    elif cmd == "reach":
        reach(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]))
    else:
        sys.exit(__doc__)
