#!/usr/bin/python3
"""test_browser.py URL PASSWORD MOAT SHOTS: the console in a real browser
(Debian's chromium, headless, through chromium-driver), from the lab's lan
namespace: log in; build seed configuration A through the Policies form;
apply with confirm and confirm; the telnet test for real (moat probe)
shows the workstation blocked and the mail server admitted, and the
simulated one says which rule; swap the two rules and see the "never
matches" finding; let a confirm lapse and see the previous ruleset back;
turn on Other SMTP Scanning and see EICAR from the lan refused (554).
A screenshot of each page goes to SHOTS.  Exits 1 on any failure."""
import subprocess
import sys
import time

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.select import Select
from selenium.webdriver.support.ui import WebDriverWait

URL, PASSWORD, MOAT, SHOTS, DB, SMTP = sys.argv[1:7]
failed = 0


def check(ok, what):
    global failed
    print(("ok: " if ok else "FAIL: ") + what, flush=True)
    if not ok:
        failed = 1


opts = webdriver.ChromeOptions()
for a in ("--headless=new", "--no-sandbox", "--disable-gpu",
          "--ignore-certificate-errors", "--window-size=1280,1000",
          "--disable-dev-shm-usage"):
    opts.add_argument(a)
d = webdriver.Chrome(service=Service("/usr/bin/chromedriver"),
                     options=opts)
wait = WebDriverWait(d, 10)


# The controls a screen reader or a keyboard user could not name.
KEYBOARD_JS = """
return [...document.querySelectorAll('input:not([type=hidden]), select, textarea, button, a')]
  .filter(e => !(e.getAttribute('aria-label') || e.closest('label') ||
                 (e.id && document.querySelector('label[for="' + e.id + '"]')) ||
                 (['BUTTON', 'A'].includes(e.tagName) && e.textContent.trim())))
  .map(e => e.outerHTML.slice(0, 80));
"""


def shot(name):
    d.save_screenshot(f"{SHOTS}/{name}.png")


def visible(css):
    return wait.until(EC.visibility_of_element_located((By.CSS_SELECTOR, css)))


def rows():
    """The policy table's cells, read at once (it is redrawn whole)."""
    return d.execute_script(
        "return [...document.querySelectorAll('#rules tbody tr')]"
        ".map(tr => [...tr.cells].map(td => td.textContent))")


def add_rule(action, src, services, comment, log=False):
    choose("rule-form", "action", action)
    choose("rule-form", "interface", "LAN")
    f = d.find_element(By.ID, "rule-form")
    for name, value in (("src", src), ("services", services),
                        ("comment", comment)):
        e = f.find_element(By.NAME, name)
        e.clear()
        e.send_keys(value)
    box = f.find_element(By.NAME, "log")
    if box.is_selected() != log:
        box.click()
    n = len(rows())
    f.find_element(By.ID, "rule-save").click()
    wait.until(lambda _: len(rows()) == n + 1)


def choose(form, name, text):
    """Select text in form's select name.  A form's lists are filled
    again when the config comes back from the gateway: an option found
    just before may be gone by the click, so look again."""
    end = time.time() + 10
    while True:
        try:
            f = d.find_element(By.ID, form)
            Select(f.find_element(By.NAME, name)).select_by_visible_text(text)
            return
        except StaleElementReferenceException:
            if time.time() > end:
                raise
            time.sleep(0.1)


def click(css):
    """Click what css names now (tables are redrawn whole)."""
    WebDriverWait(d, 10).until(lambda _: d.execute_script(
        "const e = document.querySelector(arguments[0]);"
        "if (e) setTimeout(() => e.click(), 0); return !!e", css))


def masq_on():
    """The masquerade box of WAN (the table is redrawn whole)."""
    return d.execute_script("const b = document.querySelector("
                            "\"input[aria-label='Masquerade on WAN']\");"
                            "return b ? b.checked : null")


def cut(on):
    """The browser's way to the console cut (a reset for each packet, so
    that its requests fail at once) or restored, in its own namespace."""
    if on:
        subprocess.run(["nft", "-f", "-"], check=True, text=True, input=
                       "table inet browsercut {\n chain out {\n"
                       "  type filter hook output priority 0\n"
                       "  ip daddr 192.168.50.1 tcp dport 443 "
                       "reject with tcp reset\n }\n}\n")
    else:
        subprocess.run(["nft", "delete", "table", "inet", "browsercut"],
                       stderr=subprocess.DEVNULL)


def probe(src, port=25):
    r = subprocess.run([MOAT, "probe", "--timeout", "1", "--from", src,
                        "198.51.100.25", str(port)], capture_output=True,
                       text=True)
    return r.stdout.strip()


try:
    d.get(URL)
    visible("#login")
    shot("login")
    d.find_element(By.NAME, "user").send_keys("admin")
    d.find_element(By.NAME, "password").send_keys("wrong password")
    d.find_element(By.CSS_SELECTOR, "#login button").click()
    wait.until(lambda _: d.find_element(By.ID, "login-error").text != "")
    check("wrong" in d.find_element(By.ID, "login-error").text,
          "a wrong password is said so")
    p = d.find_element(By.NAME, "password")
    p.clear()
    p.send_keys(PASSWORD)
    d.find_element(By.CSS_SELECTOR, "#login button").click()
    visible("#dashboard")
    check(True, "logged in: the dashboard")
    # The config it starts with has a gateway: the dashboard says its
    # state (moatd probes it; the lab's WAN host answers).
    wait.until(lambda _: "Gateway ISP" in
               d.find_element(By.ID, "applied").text)
    applied = d.find_element(By.ID, "applied").text
    check("Gateway ISP" in applied and "via 198.51.100.25 on WAN" in
          applied, "the dashboard says the gateway's state: " +
          applied.replace("\n", " | "))
    shot("dashboard-gateway")
    # Another table's chain at the forward hook (browser.sh adds it).
    check("Other table" in applied and "ip sidecar passing (filter at "
          "forward, priority 10, policy accept, 1 rule): its rules may "
          "drop or reject what moat accepts" in applied,
          "the dashboard says what the other table's chain can do")

    # An interface and the masquerade through their forms.
    d.find_element(By.LINK_TEXT, "Interfaces").click()
    f = visible("#iface-form")
    f.find_element(By.NAME, "name").send_keys("PPPOE")
    f.find_element(By.NAME, "device").send_keys("ppp0")
    f.find_element(By.NAME, "dynamic").click()
    f.find_element(By.CSS_SELECTOR, "button").click()
    wait.until(lambda _: "PPPOE" in d.find_element(By.ID, "interfaces-table").text)
    # The gateway's answer, and the forms filled again after it, come
    # after the box ticks: wait for the answer.
    d.execute_script("document.getElementById('iface-result').textContent = ''")
    click("input[aria-label='Masquerade on WAN']")
    wait.until(lambda _: masq_on())
    wait.until(lambda _: d.find_element(By.ID, "iface-result").text != "")
    check("ppp0 dynamic" in d.find_element(By.ID, "interfaces-table").text,
          "an interface with a dynamic address, and the masquerade on WAN")
    choose("forward-form", "interface", "WAN")
    f = d.find_element(By.ID, "forward-form")
    f.find_element(By.NAME, "services").send_keys("HTTPS")
    f.find_element(By.NAME, "to").send_keys("192.168.50.12")
    f.find_element(By.CSS_SELECTOR, "button").click()
    wait.until(lambda _: "192.168.50.12" in d.find_element(By.ID, "forwards-table").text)
    check("HTTPS" in d.find_element(By.ID, "forwards-table").text,
          "a port forward through its form")
    shot("interfaces")
    click("button[aria-label='Delete port forward 1']")
    wait.until(EC.alert_is_present()).accept()
    wait.until(lambda _: "192.168.50.12" not in d.find_element(By.ID, "forwards-table").text)
    # The box unticks at the click; the gateway's answer (and the new
    # If-Match hash it brings) comes after: wait for it, or the next
    # change is sent with the old hash and refused (409).
    d.execute_script("document.getElementById('iface-result').textContent = ''")
    click("input[aria-label='Masquerade on WAN']")
    wait.until(lambda _: masq_on() is False)
    wait.until(lambda _: d.find_element(By.ID, "iface-result").text != "")
    click("button[aria-label='Delete interface PPPOE']")
    wait.until(EC.alert_is_present()).accept()
    wait.until(lambda _: "PPPOE" not in d.find_element(By.ID, "interfaces-table").text)

    # Gateways: the one the config starts with, probed by moatd; a second
    # one and a group through the forms, then a bad one refused at once.
    g = d.find_element(By.ID, "gateways-table").text
    check("ISP WAN 198.51.100.25" in g and ("up" in g or "pending" in g),
          "the gateway in force with moatd's state: " + g.replace("\n", " | "))
    choose("gateway-form", "interface", "WAN")
    f = d.find_element(By.ID, "gateway-form")
    f.find_element(By.NAME, "name").send_keys("BACKUP")
    f.find_element(By.NAME, "via").send_keys("198.51.100.26")
    f.find_element(By.NAME, "latency").send_keys("300")
    f.find_element(By.CSS_SELECTOR, "button").click()
    wait.until(lambda _: "BACKUP" in d.find_element(By.ID, "gateways-table").text)
    check("not probed (apply it)" in d.find_element(By.ID, "gateways-table").text,
          "a new gateway is not probed before it is applied")
    f = d.find_element(By.ID, "gwgroup-form")
    f.find_element(By.NAME, "name").send_keys("INTERNET")
    f.find_element(By.NAME, "members").send_keys("ISP BACKUP:2")
    f.find_element(By.CSS_SELECTOR, "button").click()
    wait.until(lambda _: "INTERNET" in d.find_element(By.ID, "gwgroups-table").text)
    check("ISP (1), BACKUP (2)" in d.find_element(By.ID, "gwgroups-table").text,
          "a gateway group through its form")
    f = d.find_element(By.ID, "gateway-form")
    for name in ("name", "via", "latency"):
        f.find_element(By.NAME, name).clear()
    f.find_element(By.NAME, "name").send_keys("WRONG")
    f.find_element(By.NAME, "via").send_keys("10.9.9.9")
    # BACKUP's "Saved." is still there: clear it, or the wait below ends
    # at once and reads that answer instead of this one.
    d.execute_script("document.getElementById('gateway-result').textContent = ''")
    f.find_element(By.CSS_SELECTOR, "button").click()
    wait.until(lambda _: d.find_element(By.ID, "gateway-result").text != "")
    res = d.find_element(By.ID, "gateway-result").text
    check("WRONG" not in d.find_element(By.ID, "gateways-table").text and
          "Saved" not in res, "a gateway off its interface's networks is refused: " + res)
    shot("interfaces-gateways")
    click("button[aria-label='Delete gateway group INTERNET']")
    wait.until(EC.alert_is_present()).accept()
    wait.until(lambda _: "INTERNET" not in d.find_element(By.ID, "gwgroups-table").text)
    click("button[aria-label='Delete gateway BACKUP']")
    wait.until(EC.alert_is_present()).accept()
    wait.until(lambda _: "BACKUP" not in d.find_element(By.ID, "gateways-table").text)

    # An object and a service through their forms.
    d.find_element(By.LINK_TEXT, "Objects").click()
    f = visible("#object-form")
    f.find_element(By.NAME, "name").send_keys("PRINTERS")
    f.find_element(By.NAME, "members").send_keys("192.168.50.200-192.168.50.210")
    f.find_element(By.CSS_SELECTOR, "button").click()
    wait.until(lambda _: "PRINTERS" in d.find_element(By.ID, "objects-table").text)
    f = d.find_element(By.ID, "service-form")
    f.find_element(By.NAME, "name").send_keys("PRINTING")
    f.find_element(By.NAME, "entries").send_keys("tcp 515,631,9100")
    f.find_element(By.CSS_SELECTOR, "button").click()
    wait.until(lambda _: "PRINTING" in d.find_element(By.ID, "services-table").text)
    check("tcp 515,631,9100" in d.find_element(By.ID, "services-table").text,
          "an object and a service defined through the forms")
    shot("objects")
    # (each deletion redraws both tables: a button found before may be
    # gone by its click, so click() looks for it when it clicks)
    click("button[aria-label='Delete service PRINTING']")
    wait.until(EC.alert_is_present()).accept()
    wait.until(lambda _: "PRINTING" not in d.find_element(By.ID, "services-table").text)
    click("button[aria-label='Delete object PRINTERS']")
    wait.until(EC.alert_is_present()).accept()
    wait.until(lambda _: "PRINTERS" not in d.find_element(By.ID, "objects-table").text)

    # Seed configuration A, through the form.
    d.find_element(By.LINK_TEXT, "Policies").click()
    visible("#policies")
    add_rule("accept", "192.168.50.10/255.255.255.255", "SMTP",
             "mail server may send")
    add_rule("deny", "", "SMTP", "nobody else", log=True)
    rs = rows()
    check(rs[0][1:6] == ["accept", "LAN", "192.168.50.10", "ANY", "SMTP"] and
          rs[1][1:6] == ["deny", "LAN", "ANY", "ANY", "SMTP"],
          f"seed configuration A in the table: {[r[:8] for r in rs]}")
    check(d.find_element(By.ID, "banner").is_displayed(),
          "the unapplied-changes banner")
    shot("policies")

    # What Apply changes, said before it is pressed (moat diff): the LAN's
    # SMTP but the mail server's goes from the default's accept to deny.
    d.find_element(By.LINK_TEXT, "Dashboard").click()
    visible("#dashboard")
    wait.until(lambda _: "flows change" in
               d.find_element(By.ID, "changes-summary").text)
    changes = d.find_element(By.ID, "changes").text
    check("tcp port 25: accept \u2192 deny" in changes and
          "after Apply: deny by rule 2" in changes and
          "from 192.168.50.10 " not in changes,
          "the Dashboard says what Apply changes: " + changes[:300])
    d.execute_script("document.getElementById('changes-summary')"
                     ".scrollIntoView()")
    shot("dashboard-changes")

    # Apply with confirm, and confirm.
    d.find_element(By.ID, "apply").click()
    visible("#confirm")
    check(d.find_element(By.ID, "changes-summary").text.startswith(
          "Applied: "), "the summary stays, as what was applied")
    shot("dashboard-confirm")
    d.find_element(By.ID, "confirm").click()
    wait.until(lambda _: d.find_element(By.ID, "apply-result").text ==
               "Confirmed.")
    check(True, "applied with confirm, and confirmed")
    time.sleep(1)
    check(" timed out" in probe("192.168.50.11"),
          "the workstation's SMTP is blocked: " + probe("192.168.50.11"))
    check(" connected" in probe("192.168.50.10"),
          "the mail server's SMTP passes: " + probe("192.168.50.10"))
    shot("dashboard")

    # The simulated test, from the keyboard alone: Tab to the page's
    # link, Enter, Tab through the form, Enter.
    unnamed = d.execute_script(KEYBOARD_JS)
    check(unnamed == [], "every control has a name (a label, its text or "
          "aria-label): " + str(unnamed))
    d.find_element(By.TAG_NAME, "body").click()
    d.execute_script("document.activeElement.blur(); window.scrollTo(0, 0)")
    for _ in range(40):
        ActionChains(d).send_keys(Keys.TAB).perform()
        if d.execute_script("return document.activeElement.textContent") == \
                "Troubleshooting":
            break
    ring = d.execute_script("return getComputedStyle(document.activeElement)"
                            ".outlineStyle")
    check(ring not in ("none", ""), "a focused link shows a ring: " + ring)
    ActionChains(d).send_keys(Keys.ENTER).perform()
    f = visible("#test-form")
    typed = []
    for _ in range(10):
        ActionChains(d).send_keys(Keys.TAB).perform()
        name = d.execute_script("return document.activeElement.name")
        if name == "src":
            ActionChains(d).send_keys("192.168.50.11").perform()
            typed.append(name)
        elif name == "dst":
            ActionChains(d).send_keys("198.51.100.25").perform()
            typed.append(name)
            break
    check(typed == ["src", "dst"], "the form's fields in Tab order: " +
          str(typed))
    ActionChains(d).send_keys(Keys.ENTER).perform()
    wait.until(lambda _: d.find_element(By.ID, "test-result").text != "")
    res = d.find_element(By.ID, "test-result").text
    check(res.startswith("deny by rule 2"), "the simulated telnet test: " + res)
    d.find_element(By.ID, "probe").click()
    wait.until(lambda _: "from the gateway" in
               d.find_element(By.ID, "probe-result").text)
    res = d.find_element(By.ID, "probe-result").text
    check("port 25 from the gateway: connected: 220" in res,
          "the real telnet test, from the gateway: " + res)
    f.find_element(By.NAME, "dst").clear()
    f.find_element(By.NAME, "dst").send_keys("198.51.100.26")
    d.find_element(By.ID, "probe").click()
    wait.until(lambda _: "198.51.100.26" in
               d.find_element(By.ID, "probe-result").text)
    res = d.find_element(By.ID, "probe-result").text
    check("timed out" in res or "refused" in res,
          "a host that does not answer, from the gateway: " + res)
    shot("troubleshooting")

    # The seed's pitfall: the rules swapped.
    d.find_element(By.LINK_TEXT, "Policies").click()
    visible("#policies")
    wait.until(lambda _: len(rows()) == 2)
    # (the table is drawn again when the policy comes back: click()
    # finds the button of the table there is then)
    click("button[aria-label='Down rule 1']")
    wait.until(lambda _: rows() and rows()[0][1] == "deny")
    wait.until(lambda _: "never match" in rows()[1][10])
    check("never match" in rows()[1][10] and "rule 1" in rows()[1][10],
          "swapped: rule 2 can never match: " + rows()[1][10])
    shot("policies-pitfall")

    # A confirm that lapses while the browser has lost the gateway: the
    # gateway reverts by itself, and the page says so when it is back.
    d.find_element(By.LINK_TEXT, "Dashboard").click()
    visible("#dashboard")
    secs = d.find_element(By.ID, "confirm-secs")
    secs.clear()
    secs.send_keys("12")
    d.find_element(By.ID, "apply").click()
    visible("#confirm")
    time.sleep(1)
    check(" timed out" in probe("192.168.50.10"),
          "the swapped rules block the mail server meanwhile")
    cut(True)
    d.find_element(By.ID, "confirm").click()
    wait.until(lambda _: "cannot be reached to confirm" in
               d.find_element(By.ID, "apply-result").text)
    check(d.find_element(By.ID, "confirm").is_displayed(),
          "a confirm that cannot reach the gateway: said, and the "
          "countdown goes on")
    WebDriverWait(d, 30).until(lambda _: "cannot be reached from here" in
                               d.find_element(By.ID, "lapse").text)
    check(True, "the lapse, seen from the cut-off browser: " +
          d.find_element(By.ID, "lapse").text)
    shot("dashboard-lapse")
    time.sleep(1)
    check(" connected" in probe("192.168.50.10"),
          "not confirmed: the gateway put the previous ruleset back")
    cut(False)
    WebDriverWait(d, 20).until(lambda _: "reverted: entry" in
                               d.find_element(By.ID, "lapse").text)
    check("Not confirmed in time" in d.find_element(By.ID, "apply-result").text,
          "the gateway reached again: " + d.find_element(By.ID, "lapse").text)
    d.find_element(By.LINK_TEXT, "History").click()
    visible("#history")
    wait.until(lambda _: len(d.find_elements(By.CSS_SELECTOR,
                                             "#entries tbody tr")) >= 3)
    first = d.find_element(By.CSS_SELECTOR, "#entries tbody tr").text
    check("revert" in first, "History shows the revert: " + first)
    shot("history")
    # The rules back in order; Other SMTP Scanning on; EICAR refused.
    d.find_element(By.LINK_TEXT, "Policies").click()
    visible("#policies")
    wait.until(lambda _: len(rows()) == 2)
    # (the table is drawn again when the policy comes back: click()
    # finds the button of the table there is then)
    click("button[aria-label='Up rule 2']")
    wait.until(lambda _: rows() and rows()[0][1] == "accept")
    d.find_element(By.LINK_TEXT, "Anti-Virus").click()
    f = visible("#av-form")
    wait.until(lambda _: f.find_element(By.NAME, "engine_path").get_attribute("value") != "")
    other = f.find_element(By.NAME, "smtp_other_scanning")
    if not other.is_selected():
        other.click()
    check(f.find_element(By.NAME, "smtp_outgoing_scanning").is_selected(),
          "Outgoing SMTP Scanning is on by default, as in the language")
    local = f.find_element(By.NAME, "smtp_local_scanning")
    if local.is_selected():
        local.click()
    path = f.find_element(By.NAME, "engine_path")
    path.clear()
    path.send_keys(DB)
    f.find_element(By.ID, "av-save").click()
    wait.until(lambda _: d.find_element(By.ID, "av-result").text != "")
    check(d.find_element(By.ID, "av-result").text.startswith("Saved"),
          "Other SMTP Scanning on: " + d.find_element(By.ID, "av-result").text)
    shot("antivirus")
    d.find_element(By.LINK_TEXT, "Dashboard").click()
    visible("#dashboard")
    secs = d.find_element(By.ID, "confirm-secs")
    secs.clear()
    secs.send_keys("60")
    d.find_element(By.ID, "apply").click()
    visible("#confirm").click()
    wait.until(lambda _: d.find_element(By.ID, "apply-result").text ==
               "Confirmed.")
    out = ""
    for _ in range(30):    # the proxy loads its signatures
        out = subprocess.run(["python3", SMTP + "/send.py", "198.51.100.25",
                              "25", "--from", "192.168.50.10", "--virus"],
                             capture_output=True, text=True).stdout.strip()
        if out.startswith("554"):
            break
        time.sleep(0.5)
    check(out.startswith("554 5.7.1"), "EICAR from the mail server: " + out)
    out = subprocess.run(["python3", SMTP + "/send.py", "198.51.100.25", "25",
                          "--from", "192.168.50.10"], capture_output=True,
                         text=True).stdout.strip()
    check(out.startswith("250"), "a clean message passes: " + out)

    d.find_element(By.LINK_TEXT, "History").click()
    visible("#history")
    f = d.find_element(By.ID, "diff-form")
    f.find_element(By.NAME, "from").send_keys("1")
    f.find_element(By.NAME, "to").send_keys("2")
    f.find_element(By.CSS_SELECTOR, "button").click()
    wait.until(lambda _: d.find_element(By.ID, "diff").text != "")
    check("+accept on LAN from 192.168.50.10" in d.find_element(By.ID, "diff").text,
          "History compares entries 1 and 2")
    # The log, live: a blocked connection appears without a reload.
    d.find_element(By.LINK_TEXT, "Logs").click()
    visible("#logs")
    time.sleep(1)
    before = len(d.find_elements(By.CSS_SELECTOR, "#fwlog tbody tr"))
    probe("192.168.50.11")
    WebDriverWait(d, 10).until(lambda _: d.execute_script(
        "const r = document.querySelector('#fwlog tbody tr');"
        "return r ? r.textContent : ''").find("192.168.50.11") >= 0 and
        len(d.find_elements(By.CSS_SELECTOR, "#fwlog tbody tr")) > before)
    first = d.execute_script("return document.querySelector("
                             "'#fwlog tbody tr').textContent")
    check("rule 2" in first and "deny" in first,
          "the firewall log shows the blocked telnet test live: " + first)
    shot("logs")
    d.find_element(By.LINK_TEXT, "Config").click()
    visible("#config")
    wait.until(lambda _: "interface LAN" in
               d.find_element(By.ID, "config-text").get_attribute("value"))
    shot("config")
    # A policy of 2,502 rules is drawn a page of 1,000 at a time.
    saved = d.execute_async_script("""
        const done = arguments[0];
        (async () => {
          const c = await api("GET", "config");
          let more = "";
          for (let i = 0; i < 2500; i++)
            more += "deny on WAN from 203.0." + (i >> 8) + "." + (i & 255) + "\\n";
          const r = await api("PUT", "config", { text: c.data.text + more },
                              { "If-Match": c.data.hash });
          done([r.status, c.data.text]);
        })();""")
    check(saved[0] == 200, f"2,500 rules more saved: {saved[0]}")
    d.find_element(By.LINK_TEXT, "Policies").click()
    visible("#policies")
    shown = lambda: d.find_element(By.ID, "rules-shown").text
    wait.until(lambda _: "of 2,502" in shown())
    check(shown() == "Rules 1\u20131,000 of 2,502" and len(rows()) == 1000 and
          d.find_element(By.ID, "rules-prev").get_attribute("disabled"),
          f"the first page: {shown()}, {len(rows())} rows")
    d.find_element(By.ID, "rules-next").click()
    wait.until(lambda _: shown().startswith("Rules 1,001"))
    check(rows()[0][0] == "1001" and rows()[-1][0] == "2000",
          f"Next: {shown()}, rules {rows()[0][0]}-{rows()[-1][0]}")
    d.find_element(By.ID, "rules-last").click()
    wait.until(lambda _: shown().startswith("Rules 2,001"))
    check(shown() == "Rules 2,001\u20132,502 of 2,502" and len(rows()) == 502 and
          d.find_element(By.ID, "rules-next").get_attribute("disabled"),
          f"Last: {shown()}, {len(rows())} rows")
    shot("policies-pages")
    d.set_window_size(390, 844)
    shot("policies-pages-phone")
    d.set_window_size(1280, 1000)
    g = d.find_element(By.ID, "rules-goto")
    g.find_element(By.NAME, "rule").send_keys("1500")
    g.find_element(By.CSS_SELECTOR, "button").click()
    wait.until(lambda _: shown().startswith("Rules 1,001"))
    check(any(r[0] == "1500" for r in rows()), "Go to rule 1500: " + shown())
    d.find_element(By.CSS_SELECTOR, "button[aria-label='Delete rule 1500']")
    put_back = d.execute_async_script("""
        const text = arguments[0], done = arguments[1];
        (async () => {
          const c = await api("GET", "config");
          const r = await api("PUT", "config", { text },
                              { "If-Match": c.data.hash });
          done(r.status);
        })();""", saved[1])
    check(put_back == 200, f"the config put back: {put_back}")
    # The page shown (rules 1,001-2,000) is past the last rule now: the
    # last page is drawn instead.
    d.find_element(By.LINK_TEXT, "Dashboard").click()
    d.find_element(By.LINK_TEXT, "Policies").click()
    said = lambda: d.find_element(By.ID, "rules-shown").get_attribute(
        "textContent")     # (the pager is hidden at two rules)
    wait.until(lambda _: said() == "Rules 1\u20132 of 2")
    check(len(rows()) == 2 and not d.find_element(
        By.ID, "rules-pager").is_displayed(),
        f"past the last rule: {said()}, {len(rows())} rows, pager hidden")
    d.set_window_size(390, 844)
    d.find_element(By.LINK_TEXT, "Policies").click()
    visible("#policies")
    shot("policies-phone")
finally:
    cut(False)
    d.quit()
sys.exit(failed)
