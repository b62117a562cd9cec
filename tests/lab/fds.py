#!/usr/bin/env python3
"""fds.py PID [EXPECTED...]: the descriptors a process holds, each named by
what its /proc/PID/fd link points to: "null" (/dev/null), a file's base
name, "pipe", "tcp-listen:PORT", "tcp", "udp:PORT" (or udp:ephemeral), "unix", "netlink:PROTO",
"raw", "packet", "eventpoll", "eventfd", ...  Without EXPECTED: prints them,
one "FD NAME" a line.  With: compares them with the EXPECTED names (a
multiset; "NAME*N" for N of one; "NAME?" for one that may be there or not)
and prints "ok" or what is extra and what is missing (exit 1)."""
import collections, os, re, sys

pid = sys.argv[1]


def sockets():
    """inode -> name, from the process's own network namespace."""
    names = {}
    for proto in ("tcp", "tcp6", "udp", "udp6"):
        try:
            lines = open("/proc/%s/net/%s" % (pid, proto)).readlines()[1:]
        except OSError:
            continue
        for l in lines:
            f = l.split()
            port = int(f[1].split(":")[1], 16)
            if proto.startswith("tcp"):
                names[f[9]] = "tcp-listen:%d" % port if f[3] == "0A" else "tcp"
            else:   # a port of the kernel's choosing: which one varies
                names[f[9]] = "udp:%s" % (port if port < 32768 else
                                          "ephemeral")
    for proto in ("raw", "raw6"):
        try:
            for l in open("/proc/%s/net/%s" % (pid, proto)).readlines()[1:]:
                names[l.split()[9]] = "raw"
        except OSError:
            pass
    for proto, col in (("unix", 6), ("netlink", 9), ("packet", 8)):
        try:
            lines = open("/proc/%s/net/%s" % (pid, proto)).readlines()[1:]
        except OSError:
            continue
        for l in lines:
            f = l.split()
            if proto == "netlink":
                names[f[col]] = "netlink:%s" % f[1]
            elif proto == "unix":
                names[f[col]] = "unix"
            else:
                names[f[col]] = "packet"
    return names


def held():
    socks = sockets()
    out = {}
    d = "/proc/%s/fd" % pid
    for fd in sorted(os.listdir(d), key=int):
        try:
            t = os.readlink(os.path.join(d, fd))
        except OSError:
            continue
        m = re.match(r"socket:\[(\d+)\]", t)
        if t == "/dev/null":
            name = "null"
        elif m:
            name = socks.get(m.group(1), "socket")
        elif t.startswith("pipe:"):
            name = "pipe"
        elif t.startswith("anon_inode:"):
            name = t[len("anon_inode:"):].strip("[]")
        else:
            name = os.path.basename(t.replace(" (deleted)", ""))
        out[int(fd)] = name
    return out


fds = held()
if len(sys.argv) == 2:
    for fd, name in fds.items():
        print(fd, name)
    sys.exit(0)
want, maybe = collections.Counter(), collections.Counter()
for e in sys.argv[2:]:
    n = 1
    if "*" in e:
        e, n = e.rsplit("*", 1)
        n = int(n)
    if e.endswith("?"):
        maybe[e[:-1]] += n
    else:
        want[e] += n
have = collections.Counter(fds.values())
extra = have - want - maybe
missing = want - have
if extra or missing:
    print("extra: %s; missing: %s; held: %s" % (
        sorted(extra.elements()), sorted(missing.elements()),
        " ".join("%d=%s" % kv for kv in fds.items())))
    sys.exit(1)
print("ok: " + " ".join("%d=%s" % kv for kv in fds.items()))
