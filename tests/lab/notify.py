#!/usr/bin/env python3
"""notify.py SOCKET OUT: stand in for systemd's notify socket: write each
message moatd sends to OUT, and with READY=1 whether table inet moat was
in the kernel at that moment (it must be: readiness means the rules are
in).  Stops after 20 s."""
import os
import socket
import subprocess
import sys

path, out = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
s.settimeout(20)
print("listening", flush=True)
with open(out, "a") as f:
    try:
        while True:
            msg = s.recv(4096).decode()
            f.write(msg.replace("\n", " ") + "\n")
            if "READY=1" in msg:
                t = subprocess.run(["nft", "list", "table", "inet", "moat"],
                                   capture_output=True)
                f.write("table: %s\n" % ("yes" if t.returncode == 0
                                         else "no"))
            f.flush()
    except socket.timeout:
        pass
