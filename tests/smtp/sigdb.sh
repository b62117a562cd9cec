#!/bin/sh
# sigdb.sh DIR: write the test signature database into DIR (there is none
# on these machines and none can be downloaded; DESIGN.md section 5):
# ClamAV's EICAR test file by its MD5 (eicar.hdb), and by its text anywhere
# in a file (eicar.ndb), readable by the unprivileged proxy.
set -eu
mkdir -p "$1"
echo '44d88612fea8a8f36de82e1278abb02f:68:Test.EICAR' >"$1/eicar.hdb"
printf 'Test.EICAR.Body:0:*:%s\n' "$(printf '%s' 'X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*' | od -An -tx1 | tr -d ' \n')" >"$1/eicar.ndb"
chmod 755 "$1"
chmod 644 "$1"/eicar.*
