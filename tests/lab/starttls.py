#!/usr/bin/env python3
"""starttls.py: what an SMTP client sees of a server's STARTTLS.

    starttls.py HOST PORT [--from SRC_IP] [--no-tls] [--timeout N]

Says EHLO, then STARTTLS if the server offers it (unless --no-tls), EHLO
again, then MAIL FROM.  Prints one JSON object: "starttls" (offered),
"tls" (the version and cipher, or null), "cert_sha256" (of the server's
certificate, DER, or null), "mail" (the reply to MAIL: "CODE TEXT"),
or "error".  Certificates are not verified: the caller compares them.
"""
import hashlib
import json
import smtplib
import ssl
import sys


def main():
    host, port = sys.argv[1], int(sys.argv[2])
    src, use_tls, timeout = None, True, 5.0
    args = sys.argv[3:]
    while args:
        if args[0] == "--from":
            src, args = args[1], args[2:]
        elif args[0] == "--no-tls":
            use_tls, args = False, args[1:]
        elif args[0] == "--timeout":
            timeout, args = float(args[1]), args[2:]
        else:
            sys.exit("usage: starttls.py HOST PORT [--from IP] [--no-tls]")
    out = {"starttls": False, "tls": None, "cert_sha256": None, "mail": None}
    try:
        s = smtplib.SMTP(host, port, timeout=timeout,
                         source_address=(src, 0) if src else None)
        s.ehlo("probe.lab.test")
        out["starttls"] = s.has_extn("starttls")
        if use_tls and out["starttls"]:
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            s.starttls(context=ctx)
            der = s.sock.getpeercert(binary_form=True)
            out["cert_sha256"] = hashlib.sha256(der).hexdigest()
            out["tls"] = "%s %s" % (s.sock.version(), s.sock.cipher()[0])
            s.ehlo("probe.lab.test")
        code, text = s.mail("probe@lab.test")
        out["mail"] = "%d %s" % (code, text.decode(errors="replace"))
        try:
            s.quit()
        except smtplib.SMTPException:
            pass
    except smtplib.SMTPResponseException as e:
        out["mail"] = "%d %s" % (e.smtp_code,
                                 e.smtp_error.decode(errors="replace"))
    except (OSError, smtplib.SMTPException) as e:
        out["error"] = str(e) or type(e).__name__
    print(json.dumps(out))


if __name__ == "__main__":
    main()
