#!/usr/bin/env python3
"""proctree.py PID...: CPU clock ticks used so far by these processes and
all their descendants, those that ended and were reaped included (their
parents' cutime and cstime), for bench_smtp_tls.sh."""
import os
import sys


def stat(pid):
    try:
        with open("/proc/%s/stat" % pid) as f:
            s = f.read()
    except OSError:
        return None
    f = s[s.rindex(")") + 2:].split()
    # after the name: state ppid ... utime(12) stime cutime cstime
    return int(f[1]), sum(int(x) for x in f[11:15])


def main():
    procs = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            st = stat(d)
            if st:
                procs[int(d)] = st
    children = {}
    for pid, (ppid, _) in procs.items():
        children.setdefault(ppid, []).append(pid)
    seen, todo, total = set(), [int(p) for p in sys.argv[1:]], 0
    while todo:
        p = todo.pop()
        if p in seen or p not in procs:
            continue
        seen.add(p)
        total += procs[p][1]
        todo.extend(children.get(p, []))
    print(total)


if __name__ == "__main__":
    main()
