#!/usr/bin/env python3
"""listen.py LOG ADDR:PORT...: the lab's servers.

Listens on each address and port; to every connection it sends a banner
("220 <addr> moat-lab ESMTP" on port 25, "moat-lab <addr>:<port>" elsewhere),
answers SMTP commands minimally (enough for a telnet test or one message),
and appends one line per connection to LOG: "<local> <peer>".
"""
import asyncio
import sys


async def serve(reader, writer, log):
    local = writer.get_extra_info("sockname")
    peer = writer.get_extra_info("peername")
    with open(log, "a") as f:
        f.write(f"{local[0]}:{local[1]} {peer[0]}\n")
    smtp = local[1] == 25
    writer.write((f"220 {local[0]} moat-lab ESMTP\r\n" if smtp
                  else f"moat-lab {local[0]}:{local[1]}\r\n").encode())
    await writer.drain()
    try:
        data_mode = False
        while smtp:
            line = await asyncio.wait_for(reader.readline(), 30)
            if not line:
                break
            if data_mode:
                if line in (b".\r\n", b".\n"):
                    data_mode = False
                    writer.write(b"250 queued\r\n")
                continue
            verb = line[:4].upper()
            if verb == b"QUIT":
                writer.write(b"221 bye\r\n")
                await writer.drain()
                break
            if verb == b"DATA":
                data_mode = True
                writer.write(b"354 go ahead\r\n")
            else:
                writer.write(b"250 ok\r\n")
            await writer.drain()
    except (asyncio.TimeoutError, ConnectionError):
        pass
    writer.close()


async def main():
    log = sys.argv[1]
    servers = []
    for spec in sys.argv[2:]:
        addr, port = spec.rsplit(":", 1)
        addr = addr.strip("[]")
        servers.append(await asyncio.start_server(
            lambda r, w: serve(r, w, log), addr, int(port)))
    print("listening", flush=True)
    await asyncio.gather(*(s.serve_forever() for s in servers))


asyncio.run(main())
