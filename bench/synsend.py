#!/usr/bin/env python3
"""synsend.py SRC DST PORT COUNT: open COUNT new TCP connections' first
packet (a SYN each, every one a new conntrack entry) from SRC to DST:PORT
as fast as possible, and print the seconds it took.  Run in the lab's lan
namespace; the gateway's rule evaluation happens in the sender's softirq,
so the time per SYN includes what the rules cost."""
import socket
import sys
import time

src, dst, port, count = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
socks = []
t = time.perf_counter()
for i in range(count):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setblocking(False)
    s.bind((src, 0))
    s.connect_ex((dst, port))
    socks.append(s)
    if len(socks) >= 200:
        for x in socks:
            x.close()
        socks = []
elapsed = time.perf_counter() - t
for x in socks:
    x.close()
print(f"{elapsed:.4f}")
