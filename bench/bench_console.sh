#!/bin/sh
# bench_console.sh [BUILD]: figures for the web console (root; builds its
# own namespaces; prints, never fails on time):
#  1. GET /api/v1/status requests a second, one client, keep-alive;
#  2. the time until the Policies page of a 1,000-rule policy is drawn in
#     headless chromium (from the click to the last row).
set -eu
cd "$(dirname "$0")/.."
build=${1:-build-release}
moat=$(pwd)/$build/moat
moatd=$(pwd)/$build/moatd
tmp=$(mktemp -d)
chmod 755 "$tmp"
export MOAT_LAB=benchweb- MOAT_STATE_DIR="$tmp/state" MOAT_LOG_DIR="$tmp/log" \
    MOAT_RUN_DIR="$tmp/run" MOAT_WEB_ROOT="$tmp/web"
pid=
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	sh scripts/lab.sh down
	rm -rf "$tmp"
}
trap cleanup EXIT
cp -r web "$tmp/web"
chmod -R a+rX "$tmp/web"
sh scripts/lab.sh up
printf 'bench-pass-1\n' | "$moat" passwd -f "$tmp/users" admin >/dev/null
"$build/bench/nftgen" 1000 office "$tmp" >/dev/null
# The lab's devices; the console on the LAN's lab address, which the
# anti-lockout rule admits whatever the 1,000 rules say.
sed -i 's/^interface LAN device eth1 /interface LAN device gwl0 address 192.168.50.1\/24 /;
    s/^interface WAN device eth0 /interface WAN device gww0 /' "$tmp/policy.conf"
cat >>"$tmp/policy.conf" <<CONF
console {
    listen 192.168.50.1:443
    users $tmp/users
    certificate $tmp/console.pem
    key $tmp/console.key
}
CONF
chmod 600 "$tmp/policy.conf"
ip netns exec "${MOAT_LAB}gw" "$moatd" -f "$tmp/policy.conf" >"$tmp/moatd.log" 2>&1 &
pid=$!
for _ in $(seq 100); do
	grep -q "console: serving" "$tmp/moatd.log" && break
	sleep 0.1
done
ip netns exec "${MOAT_LAB}lan" python3 - <<'PY'
import time, requests, urllib3
urllib3.disable_warnings()
s = requests.Session()
r = s.post("https://192.168.50.1/api/v1/login", json={"user": "admin",
           "password": "bench-pass-1"}, verify=False)
n, t = 500, time.perf_counter()
for _ in range(n):
    assert s.get("https://192.168.50.1/api/v1/status", verify=False).status_code == 200
t = time.perf_counter() - t
print(f"GET /api/v1/status: {n / t:.0f} requests/s ({1000 * t / n:.1f} ms each), one client, "
      "1,000-rule policy applied")
PY
HOME=$tmp ip netns exec "${MOAT_LAB}lan" /usr/bin/python3 - <<'PY'
import time
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait
o = webdriver.ChromeOptions()
for a in ("--headless=new", "--no-sandbox", "--ignore-certificate-errors",
          "--disable-dev-shm-usage"):
    o.add_argument(a)
d = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=o)
try:
    d.get("https://192.168.50.1/")
    d.find_element(By.NAME, "user").send_keys("admin")
    d.find_element(By.NAME, "password").send_keys("bench-pass-1")
    d.find_element(By.CSS_SELECTOR, "#login button").click()
    WebDriverWait(d, 20).until(lambda _: not d.find_element(By.ID, "nav").get_attribute("hidden"))
    best = 1e9
    for _ in range(3):
        d.find_element(By.LINK_TEXT, "Dashboard").click()
        time.sleep(0.5)
        t = time.perf_counter()
        d.find_element(By.LINK_TEXT, "Policies").click()
        WebDriverWait(d, 60).until(lambda _: d.execute_script(
            "return document.querySelectorAll('#rules tbody tr').length") >= 1000)
        best = min(best, time.perf_counter() - t)
    print(f"Policies page of 1,000 rules drawn in chromium: {best * 1000:.0f} ms (best of 3)")
finally:
    d.quit()
PY
