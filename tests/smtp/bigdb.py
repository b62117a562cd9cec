#!/usr/bin/env python3
"""bigdb.py DIR [HASHES] [BODIES]: a synthetic ClamAV signature database
of realistic size, for load, memory and reload measurements (ClamAV's real
one cannot be downloaded here): DIR/synth.hdb with HASHES MD5 hash
signatures (default 1,000,000) and DIR/synth.ndb with BODIES body
signatures of 20 random bytes anywhere in a file (default 50,000), plus
EICAR by hash and by text, so a scanner loaded from it still finds
something.  Deterministic: the same arguments give the same files."""
import hashlib
import os
import random
import sys


def main():
    d = sys.argv[1]
    hashes = int(sys.argv[2]) if len(sys.argv) > 2 else 1000000
    bodies = int(sys.argv[3]) if len(sys.argv) > 3 else 50000
    os.makedirs(d, exist_ok=True)
    r = random.Random(1)
    with open(os.path.join(d, "synth.hdb"), "w") as f:
        for i in range(hashes):
            h = hashlib.md5(b"synthetic %d" % i).hexdigest()
            f.write("%s:%d:Synth.Hash.%d\n" % (h, 1000 + i % 50000, i))
        f.write("44d88612fea8a8f36de82e1278abb02f:68:Test.EICAR\n")
    with open(os.path.join(d, "synth.ndb"), "w") as f:
        for i in range(bodies):
            pat = bytes(r.randrange(256) for _ in range(20)).hex()
            f.write("Synth.Body.%d:0:*:%s\n" % (i, pat))
        eicar = (b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-"
                 b"TEST-FILE!$H+H*")
        f.write("Test.EICAR.Body:0:*:%s\n" % eicar.hex())


if __name__ == "__main__":
    main()
