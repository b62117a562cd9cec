#!/bin/sh
# test.sh: build moat with ASan and UBSan and warnings as errors, run the
# whole suite, and end with one line "N passed, N failed".
set -u
cd "$(dirname "$0")/.."
sh scripts/setup.sh || exit 1
dir=build-test
if [ ! -d "$dir" ]; then
	meson setup "$dir" --buildtype=debug -Dwerror=true -Dtest_seams=true \
	    -Db_sanitize=address,undefined \
	    -Dc_args=-fno-sanitize-recover=undefined >/dev/null || exit 1
fi
ninja -C "$dir" || { echo "0 passed, 1 failed"; exit 1; }
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export MOAT_PROP_POLICIES=${MOAT_PROP_POLICIES:-2000}
# What /tmp holds before, to tell what the suite left behind.
ls -A /tmp >"$dir/tmp-before" 2>/dev/null
meson test -C "$dir" --print-errorlogs --num-processes 2
python3 - "$dir/meson-logs/testlog.json" "$dir/tmp-before" <<'PY'
import json, os, sys
passed = failed = skipped = 0
# One check more: the suite's scratch (its own moat-*, mktemp's tmp.*,
# chromium's, a clamd's scan files) is gone from /tmp when it ends.
with open(sys.argv[2]) as f:
    before = set(f.read().split("\n"))
left = sorted(n for n in os.listdir("/tmp") if n not in before and
              n.startswith(("moat-", "tmp.", "org.chromium.",
                            ".org.chromium.", "clamav-")))
if left:
    failed += 1
    print("failed: scratch left in /tmp:", " ".join(left))
else:
    passed += 1
with open(sys.argv[1]) as f:
    for line in f:
        t = json.loads(line)
        if t["result"] in ("OK", "EXPECTEDFAIL"):
            passed += 1
        elif t["result"] == "SKIP":
            skipped += 1
            print("skipped:", t["name"])
        else:
            failed += 1
            print("failed:", t["name"], t["result"])
print(f"{passed} passed, {failed} failed" +
      (f", {skipped} skipped" if skipped else ""))
sys.exit(1 if failed or not passed else 0)
PY
