#!/usr/bin/env python3
"""pfsubmit.py: hand one message to a lab Postfix's smtpd.

    pfsubmit.py ADDR:PORT FROM TO [--virus] [--subject S] [--size BYTES]

Prints the queue id Postfix gave it ("queued as ID"), or "error: ..." and
exits 1.
"""
import re
import smtplib
import sys

EICAR = r"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"


def main():
    addr, frm, to = sys.argv[1:4]
    host, port = addr.rsplit(":", 1)
    virus, subject, size = False, "lab", 0
    args = sys.argv[4:]
    while args:
        if args[0] == "--virus":
            virus, args = True, args[1:]
        elif args[0] == "--subject":
            subject, args = args[1], args[2:]
        elif args[0] == "--size":
            size, args = int(args[1]), args[2:]
        else:
            sys.exit("usage: pfsubmit.py ADDR:PORT FROM TO [--virus] "
                     "[--subject S] [--size N]")
    body = "From: %s\r\nTo: %s\r\nSubject: %s\r\n\r\n%s\r\n" % (
        frm, to, subject, EICAR if virus else "a clean message")
    if size:
        body += ("x" * 76 + "\r\n") * (size // 78 + 1)
    try:
        s = smtplib.SMTP(host, int(port), timeout=10)
        s.ehlo("submit.lab.test")
        s.mail(frm)
        s.rcpt(to)
        code, text = s.data(body.encode())
        s.quit()
    except (OSError, smtplib.SMTPException) as e:
        print("error:", e)
        sys.exit(1)
    m = re.search(r"queued as (\w+)", text.decode())
    if code != 250 or not m:
        print("error:", code, text.decode())
        sys.exit(1)
    print(m.group(1))


if __name__ == "__main__":
    main()
