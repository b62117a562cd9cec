#!/usr/bin/env python3
"""hamail.py HOST PORT SECONDS: mail without pause through a relay, as a
careful client sends it: messages numbered 1, 2, 3 ... (header X-Seq),
one connection each; a message that gets no 250 (a 4xx, a timeout, a
connection cut) is sent again until it does.  New messages stop after
SECONDS; the last one is still sent until it is accepted (for at most 30 s
more).  Prints one JSON object: acked (the numbers the relay accepted),
attempts (per number, what each try got: "250", "4xx ...", "cut before
DATA's end", "cut after DATA's end": the only case where the relay may
already have passed the message on).
"""
import json
import socket
import sys
import time

HOST, PORT, SECS = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])


def reply(f):
    line = f.readline()
    if not line:
        raise ConnectionError("closed")
    code = line[:3]
    while line[3:4] == b"-":
        line = f.readline()
        if not line:
            raise ConnectionError("closed")
    return code.decode(), line.decode(errors="replace").strip()


def attempt(n):
    body = ("From: ha@lan.test\r\nTo: sink@wan.test\r\nSubject: message %d\r\n"
            "X-Seq: %d\r\n\r\nmessage %d through an HA pair\r\n" % (n, n, n))
    s = socket.create_connection((HOST, PORT), timeout=5)
    s.settimeout(5)
    f = s.makefile("rb")
    after_data = False
    try:
        code, line = reply(f)
        if code != "220":
            return line
        for cmd, want in ((b"EHLO lan.test", "250"),
                          (b"MAIL FROM:<ha@lan.test>", "250"),
                          (b"RCPT TO:<sink@wan.test>", "250"),
                          (b"DATA", "354")):
            s.sendall(cmd + b"\r\n")
            code, line = reply(f)
            if code != want:
                return line
        s.sendall(body.encode() + b".\r\n")
        after_data = True
        code, line = reply(f)
        try:
            s.sendall(b"QUIT\r\n")
        except OSError:
            pass
        return "250" if code == "250" else line
    except (OSError, ConnectionError):
        return "cut after DATA's end" if after_data else "cut before DATA's end"
    finally:
        s.close()


def main():
    acked, attempts = [], {}
    t0 = time.monotonic()
    n = 0
    while time.monotonic() - t0 < SECS:
        n += 1
        tries = attempts.setdefault(n, [])
        while time.monotonic() - t0 < SECS + 30:
            try:
                r = attempt(n)
            except OSError as e:
                r = "no connection: " + (str(e) or type(e).__name__)
            tries.append(r)
            if r == "250":
                acked.append(n)
                break
            time.sleep(0.2)
    print(json.dumps({"acked": acked, "attempts": attempts}))


main()
