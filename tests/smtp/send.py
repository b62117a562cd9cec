#!/usr/bin/env python3
"""send.py: send one message and print how it ended, for the lab tests.

    send.py HOST PORT [--from SRC_IP] [--virus] [--subject S] [--timeout N]
            [--message-id ID] [--size BYTES]

Prints "CODE TEXT" (the end-of-DATA reply, or the failing reply), or
"timed out" / "refused" / "error: ..." when there was no SMTP answer.
"""
import smtplib
import socket
import sys

EICAR = r"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"


def main():
    host, port = sys.argv[1], int(sys.argv[2])
    src, virus, subject, timeout = None, False, "lab", 5.0
    mid, size = None, 0
    args = sys.argv[3:]
    while args:
        if args[0] == "--from":
            src, args = args[1], args[2:]
        elif args[0] == "--virus":
            virus, args = True, args[1:]
        elif args[0] == "--subject":
            subject, args = args[1], args[2:]
        elif args[0] == "--timeout":
            timeout, args = float(args[1]), args[2:]
        elif args[0] == "--message-id":
            mid, args = args[1], args[2:]
        elif args[0] == "--size":
            size, args = int(args[1]), args[2:]
        else:
            sys.exit("usage: send.py HOST PORT [--from IP] [--virus]")
    body = "Subject: %s\r\n%s\r\n%s\r\n" % (
        subject, "Message-ID: %s\r\n" % mid if mid else "",
        EICAR if virus else "a clean message")
    if size:
        body += ("x" * 76 + "\r\n") * (size // 78 + 1)
    try:
        s = smtplib.SMTP(host, port, timeout=timeout,
                         source_address=(src, 0) if src else None)
        s.ehlo("lab.test")
        s.mail("sender@lab.test")
        s.rcpt("rcpt@lab.test")
        code, text = s.data(body.encode())
        s.quit()
        print(code, text.decode())
    except smtplib.SMTPResponseException as e:
        print(e.smtp_code, e.smtp_error.decode())
    except (socket.timeout, TimeoutError):
        print("timed out")
    except ConnectionRefusedError:
        print("refused")
    except (OSError, smtplib.SMTPException) as e:
        print("error:", e)


if __name__ == "__main__":
    main()
