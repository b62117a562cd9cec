#!/usr/bin/env python3
"""memgrep.py PID TEXT: whether TEXT is anywhere in the process's readable
memory (its heap, stacks, anonymous and file mappings; regions over 256 MB,
such as a sanitizer's shadow, are left out).  Prints "found" or
"absent"; exit 0 either way, 2 when the memory cannot be read."""
import re, sys

pid, text = sys.argv[1], sys.argv[2].encode()
found = False
try:
    maps = open("/proc/%s/maps" % pid).read().splitlines()
    mem = open("/proc/%s/mem" % pid, "rb", 0)
except OSError as e:
    print("cannot read: %s" % e)
    sys.exit(2)
for line in maps:
    m = re.match(r"([0-9a-f]+)-([0-9a-f]+) (\S+)", line)
    lo, hi, perms = int(m.group(1), 16), int(m.group(2), 16), m.group(3)
    if perms[0] != "r" or hi - lo > (256 << 20) or "[vvar]" in line:
        continue
    try:
        mem.seek(lo)
        if text in mem.read(hi - lo):
            found = True
            break
    except OSError:
        continue
print("found" if found else "absent")
