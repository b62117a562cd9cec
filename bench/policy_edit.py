#!/usr/bin/env python3
"""policy_edit.py IN OUT KIND: one edit of a generated office policy
(bench/nftgen.c), for bench_apply.sh's incremental column.
KIND: add (a rule in the middle), change (the middle rule's action),
move (the rule at a quarter to three quarters), delete (the middle rule),
big (an object of 10,000 addresses and a rule after the others that
denies HTTPS to it), big+1 (one more address in that object)."""
import sys

src, dst, kind = sys.argv[1:4]
lines = open(src).read().splitlines()
rules = [i for i, l in enumerate(lines)
         if l.split(" ", 1)[0] in ("accept", "deny", "reject")
         and " on " in l]
mid = rules[len(rules) // 2]
if kind == "add":
    lines.insert(mid, "accept on LAN from 10.77.1.2 to 192.0.2.200 "
                 "service HTTPS")
elif kind == "change":
    w = lines[mid].split(" ", 1)
    w[0] = "reject" if w[0] != "reject" else "deny"
    lines[mid] = " ".join(w)
elif kind == "move":
    a, b = rules[len(rules) // 4], rules[3 * len(rules) // 4]
    r = lines.pop(a)
    lines.insert(b, r)
elif kind == "delete":
    lines.pop(mid)
elif kind == "big":
    objs = [i for i, l in enumerate(lines) if l.startswith("object ")]
    addrs = ["172.%d.%d.%d" % (20 + i // 65000, (i // 250) % 256,
                               1 + i % 250) for i in range(10000)]
    lines.insert(rules[-1] + 1, "deny on LAN from ANY to BIG service HTTPS")
    lines.insert(objs[-1] + 1, "object BIG { %s }" % ", ".join(addrs))
elif kind == "big+1":
    for i, l in enumerate(lines):
        if l.startswith("object BIG { "):
            lines[i] = l.replace("object BIG { ", "object BIG { 172.31.1.1, ")
else:
    sys.exit("unknown kind " + kind)
open(dst, "w").write("\n".join(lines) + "\n")
