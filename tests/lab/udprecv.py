#!/usr/bin/env python3
"""udprecv.py ADDR PORT SECONDS: the lab's datagram sink.

Prints the sources of the datagrams that came to ADDR:PORT (IPv6 when
ADDR has a colon) within SECONDS, space-separated, or "nothing".
"""
import socket
import sys

addr, port, secs = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
s = socket.socket(socket.AF_INET6 if ":" in addr else socket.AF_INET,
                  socket.SOCK_DGRAM)
s.bind((addr, port))
s.settimeout(secs)
got = []
try:
    while True:
        got.append(s.recvfrom(100)[1][0])
except socket.timeout:
    pass
print(" ".join(got) or "nothing", flush=True)
