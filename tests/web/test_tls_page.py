#!/usr/bin/python3
"""The console's Anti-Virus page, mail over TLS part, in headless chromium,
without the lab: web/ served by a stand-in for the API whose answers are
moat's own (`moat show --json` of a config with TLS settings, `moat
status --json` of a state directory with mail figures).  Checks that the
"Mail over TLS" panel shows the figures, the form the settings and the
paths (shown, not editable), and that Save sends the four TLS settings
and no path.  Screenshot: SHOTS/antivirus-tls.png (default: here).

usage: test_tls_page.py MOAT WEBROOT [SHOTS]; exit 77 without selenium."""
import http.server
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

try:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait
except ImportError:
    print("skip: python3-selenium is needed")
    sys.exit(77)
if not os.access("/usr/bin/chromedriver", os.X_OK):
    print("skip: chromium-driver is needed")
    sys.exit(77)

MOAT, ROOT = sys.argv[1], sys.argv[2]
TMP = tempfile.mkdtemp(prefix="moat-tlspage-")
SHOTS = sys.argv[3] if len(sys.argv) > 3 else os.getcwd()
failed = 0


def check(ok, what):
    global failed
    print(("ok: " if ok else "FAIL: ") + what, flush=True)
    if not ok:
        failed = 1


CONF = """interface LAN device lan0 address 192.168.1.1/24
interface WAN device wan0 address 203.0.113.2/24
object DANE-SENDERS 192.168.1.25
antivirus {
    smtp-other-scanning on
    smtp-intercept-tls terminate
    smtp-tls-passthrough-from DANE-SENDERS
    smtp-tls-upstream verify
    smtp-tls-certificate /etc/moat/smtp.pem
    smtp-tls-key /etc/moat/smtp.key
    smtp-relay-require-tls on
}
"""
with open(TMP + "/moat.conf", "w") as f:
    f.write(CONF)
POLICY = json.loads(subprocess.run([MOAT, "show", "--json", "-f",
                                    TMP + "/moat.conf"], check=True,
                                   capture_output=True, text=True).stdout)

# The figures as moatd keeps them (src/observe/mailstats.c), read back by
# moat status --json: the API's own answer.
TLS = {"both": 812, "client": 40, "server": 233, "none": 57,
       "passthrough": 3, "passthrough_bytes": 48211, "verified_dane": 120,
       "verified_mta_sts": 64, "verified_ca": 700, "deferred": 5,
       "deferred_dane": 2, "deferred_mta_sts": 1, "deferred_verify": 2}
now = int(time.time())
os.makedirs(TMP + "/state")
os.makedirs(TMP + "/run")
with open(TMP + "/state/mail-stats.json", "w") as f:
    json.dump({"total": {"messages": 1142, "clean": 1139, "virus": 3,
                         "scanned": 1142},
               "since_start": {"messages": 285, "clean": 285},
               "tls": TLS, "tls_since_start": dict(
                   {k: v // 4 for k, v in TLS.items()}, passthrough=1),
               "started": now - 3600, "engine": "clamav 1.0.7",
               "signatures": 8700000, "sessions": 2, "updated": now}, f)
env = dict(os.environ, MOAT_STATE_DIR=TMP + "/state",
           MOAT_RUN_DIR=TMP + "/run")
STATUS = json.loads(subprocess.run([MOAT, "status", "--json"], env=env,
                                   check=True, capture_output=True,
                                   text=True).stdout)
check(STATUS["mail"]["tls"]["both"] == 812, "moat status --json has mail.tls")

puts = []


class Api(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def answer(self, code, body, ctype="application/json"):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        path = self.path.split("?")[0]
        if path.startswith("/api/v1/"):
            what = path[len("/api/v1/"):]
            self.answer(200, {"policy": {"policy": POLICY, "diagnostics": [],
                                         "rules_total": len(POLICY["rules"]),
                                         "hash": "0" * 16},
                              "config": {"text": CONF, "hash": "0" * 16},
                              "status": STATUS}.get(what, {}))
            return
        name = "index.html" if path == "/" else path.lstrip("/")
        if name not in ("index.html", "moat.js", "moat.css"):
            self.answer(404, {})
            return
        with open(os.path.join(ROOT, name), "rb") as f:
            self.answer(200, f.read(), {"html": "text/html", "js": "text/javascript",
                                        "css": "text/css"}[name.split(".")[1]])

    def body(self):
        n = int(self.headers.get("Content-Length", 0))
        return json.loads(self.rfile.read(n) or b"{}")

    def do_POST(self):
        self.body()
        self.answer(200, {"csrf": "c", "user": "admin"}
                    if self.path == "/api/v1/login" else {})

    def do_PUT(self):
        puts.append((self.path, self.body()))
        self.answer(200, {"hash": "1" * 16, "diagnostics": []})


srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Api)
threading.Thread(target=srv.serve_forever, daemon=True).start()
URL = "http://127.0.0.1:%d/" % srv.server_address[1]

# chromium's own scratch (a directory of its singleton socket, which
# chromedriver's quit left in /tmp) goes with the test's.
os.environ["TMPDIR"] = TMP
opts = webdriver.ChromeOptions()
for a in ("--headless=new", "--no-sandbox", "--disable-gpu",
          "--window-size=1280,1500", "--disable-dev-shm-usage"):
    opts.add_argument(a)
d = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)
wait = WebDriverWait(d, 10)


def figures():
    return d.execute_script(
        "return Object.fromEntries([...document.querySelectorAll("
        "'#av-tls-figures tbody tr')].map(tr => [tr.cells[0].textContent,"
        " [tr.cells[1].textContent, tr.cells[2].textContent]]))")


try:
    d.get(URL + "#antivirus")
    f = d.find_element(By.ID, "login")
    f.find_element(By.NAME, "user").send_keys("admin")
    f.find_element(By.NAME, "password").send_keys("x")
    f.find_element(By.CSS_SELECTOR, "button").click()
    wait.until(lambda _: len(figures()) > 0)
    fig = figures()
    check(fig.get("Messages, TLS on both legs") == ["203", "812"],
          f"both legs, since start and in total: {fig}")
    check(fig.get("Messages, the next hop's leg only") == ["58", "233"] and
          fig.get("Passthrough sessions (not scanned)") == ["1", "3"] and
          fig.get("Next hop verified by MTA-STS") == ["16", "64"] and
          fig.get("Recipients deferred for TLS policy") == ["1", "5"] and
          fig.get("… verify not met") == ["0", "2"], "the other figures")
    f = d.find_element(By.ID, "av-form")
    wait.until(lambda _: f.find_element(By.NAME, "smtp_tls_passthrough_from")
               .get_attribute("value") != "")
    check(Select(f.find_element(By.NAME, "smtp_intercept_tls"))
          .first_selected_option.get_attribute("value") == "terminate" and
          Select(f.find_element(By.NAME, "smtp_tls_upstream"))
          .first_selected_option.get_attribute("value") == "verify" and
          f.find_element(By.NAME, "smtp_relay_require_tls").is_selected() and
          f.find_element(By.NAME, "smtp_tls_passthrough_from")
          .get_attribute("value") == "DANE-SENDERS",
          "the form holds the config's TLS settings")
    paths = d.find_element(By.ID, "av-tls-paths").text
    check("/etc/moat/smtp.pem" in paths and "/etc/moat/smtp.key" in paths and
          not d.find_elements(By.CSS_SELECTOR, "#av-tls-paths input"),
          "the certificate and key shown, not editable: " + paths)
    unnamed = d.execute_script(
        "return [...document.querySelectorAll('#antivirus input, "
        "#antivirus select, #antivirus button')].filter(e => !(e.getAttribute"
        "('aria-label') || e.closest('label') || (e.tagName === 'BUTTON' && "
        "e.textContent.trim()))).map(e => e.outerHTML.slice(0, 80))")
    check(unnamed == [], f"every control has a name: {unnamed}")
    d.save_screenshot(SHOTS + "/antivirus-tls.png")
    Select(f.find_element(By.NAME, "smtp_tls_upstream")).select_by_value("dane")
    p = f.find_element(By.NAME, "smtp_tls_passthrough_from")
    p.clear()
    f.find_element(By.ID, "av-save").click()
    wait.until(lambda _: d.find_element(By.ID, "av-result").text != "")
    s = puts[-1][1]["settings"] if puts else {}
    check(puts and puts[-1][0] == "/api/v1/antivirus" and
          s.get("smtp_tls_upstream") == "dane" and
          s.get("smtp_intercept_tls") == "terminate" and
          s.get("smtp_relay_require_tls") is True and
          "smtp_tls_passthrough_from" in s and
          s["smtp_tls_passthrough_from"] is None,
          f"Save sends the TLS settings: {s}")
    check(not {"smtp_tls_certificate", "smtp_tls_key", "smtp_tls_ca_file",
               "dnssec_trust_anchor"} & set(s), "and no path")
finally:
    d.quit()
    srv.shutdown()
    shutil.rmtree(TMP)
print("screenshot: " + SHOTS + "/antivirus-tls.png")
sys.exit(failed)
