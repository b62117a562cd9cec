#!/usr/bin/env python3
"""smtp_tls_load.py: an SMTP load generator and a sink, both able to speak
STARTTLS (Postfix's smtp-source and smtp-sink cannot), for bench_smtp_tls.sh.

    smtp_tls_load.py sink PORT COUNT_FILE [--tls CERT KEY]
        accepts every message and throws it away; offers STARTTLS with
        --tls.  Writes "MESSAGES TLS_MESSAGES" to COUNT_FILE as they come
        (every 5 ms at most); prints "ready" once listening.
    smtp_tls_load.py send HOST:PORT SESSIONS MESSAGES SIZE [--tls]
                     [--wait COUNT_FILE TARGET] [--virus]
        MESSAGES messages of SIZE bytes, SESSIONS sessions at a time, one
        message per session (as smtp-source does).  --tls: STARTTLS in
        every session, and a session whose server does not offer it fails.
        --wait: then until COUNT_FILE says TARGET messages (for a next hop
        behind a queue).  Prints one JSON object: sent, failed, tls,
        seconds (the last reply), delivered_seconds (with --wait, unless
        a message failed), first_error, last_reply, cpu (its own seconds).
"""
import asyncio
import json
import os
import resource
import ssl
import sys
import time

EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"


# ---- sink ------------------------------------------------------------------

class Sink:
    def __init__(self, count_file, ctx):
        self.count_file = count_file
        self.ctx = ctx
        self.messages = 0
        self.tls = 0
        self.dirty = True

    async def writer_task(self):
        while True:
            if self.dirty:
                self.dirty = False
                tmp = self.count_file + ".new"
                with open(tmp, "w") as f:
                    f.write("%d %d\n" % (self.messages, self.tls))
                os.replace(tmp, self.count_file)
            await asyncio.sleep(0.005)

    async def session(self, reader, writer):
        in_tls = False
        try:
            writer.write(b"220 sink.bench ESMTP\r\n")
            while True:
                line = await reader.readline()
                if not line:
                    break
                verb = line[:4].upper()
                if verb == b"EHLO":
                    ext = b"250-STARTTLS\r\n" if self.ctx and not in_tls else b""
                    writer.write(b"250-sink.bench\r\n250-PIPELINING\r\n"
                                 b"250-8BITMIME\r\n" + ext +
                                 b"250 SIZE 104857600\r\n")
                elif verb == b"STAR" and self.ctx and not in_tls:
                    writer.write(b"220 2.0.0 Ready to start TLS\r\n")
                    await writer.drain()
                    await writer.start_tls(self.ctx)
                    in_tls = True
                elif verb == b"DATA":
                    writer.write(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                    await writer.drain()
                    first = await reader.readline()
                    if first != b".\r\n":
                        await reader.readuntil(b"\r\n.\r\n")
                    self.messages += 1
                    self.tls += in_tls
                    self.dirty = True
                    writer.write(b"250 2.0.0 Ok: discarded\r\n")
                elif verb == b"QUIT":
                    writer.write(b"221 2.0.0 Bye\r\n")
                    await writer.drain()
                    break
                else:
                    writer.write(b"250 2.0.0 Ok\r\n")
                await writer.drain()
        except (OSError, asyncio.IncompleteReadError, ssl.SSLError,
                asyncio.LimitOverrunError):
            pass
        finally:
            writer.close()


async def sink_main(port, count_file, ctx):
    sink = Sink(count_file, ctx)
    server = await asyncio.start_server(sink.session, "127.0.0.1", port,
                                        limit=1 << 26, backlog=1024)
    asyncio.ensure_future(sink.writer_task())
    print("ready", flush=True)
    async with server:
        await server.serve_forever()


# ---- sender ----------------------------------------------------------------

async def reply(reader, lines=None):
    """One SMTP reply: (code, text of the last line); its lines' text
    (after the code) appended to lines."""
    while True:
        line = await reader.readline()
        if not line:
            raise ConnectionError("connection closed")
        if lines is not None:
            lines.append(line[4:].strip().upper())
        if line[3:4] != b"-":
            return int(line[:3]), line.decode(errors="replace").strip()


async def expect(reader, want, what):
    code, text = await reply(reader)
    if code != want:
        raise RuntimeError("%s: %s" % (what, text))
    return text


async def one_message(host, port, ctx, body):
    reader, writer = await asyncio.open_connection(host, port, limit=1 << 20)
    try:
        await expect(reader, 220, "greeting")
        writer.write(b"EHLO load.bench\r\n")
        ext = []
        code, text = await reply(reader, ext)
        if code != 250:
            raise RuntimeError("EHLO: " + text)
        tls = False
        if ctx:
            if b"STARTTLS" not in ext:
                raise RuntimeError("STARTTLS not offered")
            writer.write(b"STARTTLS\r\n")
            await expect(reader, 220, "STARTTLS")
            await writer.start_tls(ctx)
            tls = True
            writer.write(b"EHLO load.bench\r\n")
            await expect(reader, 250, "EHLO after STARTTLS")
        writer.write(b"MAIL FROM:<a@x.test>\r\nRCPT TO:<b@y.test>\r\nDATA\r\n")
        await expect(reader, 250, "MAIL")
        await expect(reader, 250, "RCPT")
        await expect(reader, 354, "DATA")
        writer.write(body)
        text = await expect(reader, 250, "end of data")
        writer.write(b"QUIT\r\n")
        await writer.drain()
        try:
            await asyncio.wait_for(reply(reader), 5)
        except (asyncio.TimeoutError, ConnectionError, OSError):
            pass
        return tls, text
    finally:
        writer.close()


async def send_main(host, port, sessions, messages, size, use_tls, wait,
                    virus):
    ctx = None
    if use_tls:
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    head = b"From: a@x.test\r\nTo: b@y.test\r\nSubject: bench\r\n\r\n"
    line = b"x" * 76 + b"\r\n"
    fill = (line * (size // len(line) + 1))[:max(0, size - len(head) - 3)]
    if fill and not fill.endswith(b"\r\n"):
        fill = fill[:fill.rfind(b"\r\n") + 2]
    body = head + (EICAR + b"\r\n" if virus else b"") + fill + b".\r\n"
    todo = [messages]
    res = {"sent": 0, "failed": 0, "tls": 0, "first_error": None,
           "last_reply": None}

    async def worker():
        while todo[0] > 0:
            todo[0] -= 1
            try:
                tls, text = await one_message(host, port, ctx, body)
                res["sent"] += 1
                res["tls"] += tls
                res["last_reply"] = text
            except (OSError, RuntimeError, ConnectionError, ssl.SSLError,
                    asyncio.IncompleteReadError) as e:
                res["failed"] += 1
                res["last_reply"] = str(e)
                if res["first_error"] is None:
                    res["first_error"] = str(e) or type(e).__name__
    t0 = time.monotonic()
    await asyncio.gather(*(worker() for _ in range(sessions)))
    res["seconds"] = round(time.monotonic() - t0, 4)
    # A message that failed never reaches the sink: no waiting for it.
    if wait and not res["failed"]:
        count_file, target = wait
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            try:
                with open(count_file) as f:
                    if int(f.read().split()[0]) >= target:
                        break
            except (OSError, ValueError, IndexError):
                pass
            await asyncio.sleep(0.005)
        res["delivered_seconds"] = round(time.monotonic() - t0, 4)
    ru = resource.getrusage(resource.RUSAGE_SELF)
    res["cpu"] = round(ru.ru_utime + ru.ru_stime, 4)
    print(json.dumps(res))


def main():
    a = sys.argv[1:]
    if a[:1] == ["sink"] and len(a) >= 3:
        ctx = None
        if "--tls" in a:
            i = a.index("--tls")
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(a[i + 1], a[i + 2])
        asyncio.run(sink_main(int(a[1]), a[2], ctx))
    elif a[:1] == ["send"] and len(a) >= 5:
        host, port = a[1].rsplit(":", 1)
        wait = None
        if "--wait" in a:
            i = a.index("--wait")
            wait = (a[i + 1], int(a[i + 2]))
        asyncio.run(send_main(host, int(port), int(a[2]), int(a[3]),
                              int(a[4]), "--tls" in a, wait, "--virus" in a))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
