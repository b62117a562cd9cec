#!/usr/bin/python3
"""test_nat_page.py URL PASSWORD SHOTS: the console's NAT sections (the
Interfaces page: outbound NAT rules and 1:1) in headless chromium against
the real console of tests/lab/console.sh, from the lab's lan namespace.
Adds two outbound NAT rules (one at position 1), moves one up, edits one,
sees the parse's error at its field (two IPv4 addresses to translate to),
adds a 1:1 line without reflection, sees the error of an inside address
mapped twice at its field, and deletes them all.  Every control has a
name.  Screenshots: SHOTS/nat.png, nat-errors.png.  Exits 1 on any
failure, 77 without selenium."""
import os
import sys

try:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.select import Select
    from selenium.webdriver.support.ui import WebDriverWait
except ImportError:
    print("skip: python3-selenium is needed")
    sys.exit(77)
if not os.access("/usr/bin/chromedriver", os.X_OK):
    print("skip: chromium-driver is needed")
    sys.exit(77)

URL, PASSWORD, SHOTS = sys.argv[1:4]
failed = 0


def check(ok, what):
    global failed
    print(("ok: " if ok else "FAIL: ") + what, flush=True)
    if not ok:
        failed = 1


opts = webdriver.ChromeOptions()
for a in ("--headless=new", "--no-sandbox", "--disable-gpu",
          "--ignore-certificate-errors", "--window-size=1400,1100",
          "--disable-dev-shm-usage"):
    opts.add_argument(a)
d = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)
wait = WebDriverWait(d, 10)


def table(tid):
    """A table's rows, their cells' texts (redrawn whole: read at once)."""
    return d.execute_script(
        "return [...document.querySelectorAll('#' + arguments[0] + "
        "' tbody tr')].map(tr => [...tr.cells].map(c => c.textContent))",
        tid)


def click(css):
    """Click what css names now (tables are redrawn whole)."""
    WebDriverWait(d, 10).until(lambda _: d.execute_script(
        "const e = document.querySelector(arguments[0]);"
        "if (e) setTimeout(() => e.click(), 0); return !!e", css))


def fill(form, **values):
    for name, value in values.items():
        e = form.find_element(By.NAME, name)
        e.clear()
        e.send_keys(value)


def result(rid):
    return d.find_element(By.ID, rid).text


try:
    d.get(URL + "/#interfaces")
    wait.until(EC.visibility_of_element_located((By.ID, "login")))
    d.find_element(By.NAME, "user").send_keys("admin")
    d.find_element(By.NAME, "password").send_keys(PASSWORD)
    d.find_element(By.CSS_SELECTOR, "#login button").click()
    f = wait.until(EC.visibility_of_element_located((By.ID, "natsrc-form")))
    wait.until(lambda _: "WAN" in f.find_element(By.NAME, "interface").text)

    # An exception first: the partner's network keeps its source.
    Select(f.find_element(By.NAME, "interface")).select_by_visible_text("WAN")
    fill(f, source="LANNET", destination="10.20.0.0/16")
    Select(f.find_element(By.NAME, "how")).select_by_value("none")
    check(not f.find_element(By.NAME, "translate").is_enabled(),
          "no address to give for translate none")
    f.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait.until(lambda _: len(table("natsrc-table")) == 1)
    # The mail server leaves from its own address: added at position 1.
    Select(f.find_element(By.NAME, "how")).select_by_value("address")
    fill(f, source="192.168.50.10", services="SMTP", translate="198.51.100.9",
         position="1")
    f.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait.until(lambda _: len(table("natsrc-table")) == 2)
    rows = table("natsrc-table")
    check(rows[0][2] == "192.168.50.10" and rows[0][4] == "SMTP" and
          rows[0][5] == "198.51.100.9" and rows[0][1] == "WAN" and
          rows[1][3].startswith("10.20.0.0/") and
          rows[1][5] == "none", f"two outbound NAT rules, the second added "
          f"at position 1: {rows}")
    click("button[aria-label='Move outbound NAT rule 2 up']")
    wait.until(lambda _: table("natsrc-table")[0][5] == "none")
    check(True, "rule 2 moved up")
    # Edit rule 2 (the mail server's): two IPv4 addresses, refused by
    # the parse, at the field.
    click("button[aria-label='Edit outbound NAT rule 2']")
    wait.until(lambda _: "Edit outbound NAT rule 2" in
               d.find_element(By.ID, "natsrc-form-title").text)
    check(f.find_element(By.NAME, "translate").get_attribute("value") ==
          "198.51.100.9", "the form holds the rule")
    fill(f, translate="198.51.100.9 198.51.100.10")
    f.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait.until(lambda _: d.find_element(By.ID, "natsrc-err-translate").text)
    err = d.find_element(By.ID, "natsrc-err-translate").text
    check("one address" in err and f.find_element(By.NAME, "translate")
          .get_attribute("aria-invalid") == "true",
          f"the parse's error at the translate field: {err}")

    # 1:1 without reflection, then the same inside address again.
    o = d.find_element(By.ID, "one-form")
    Select(o.find_element(By.NAME, "interface")).select_by_visible_text("WAN")
    fill(o, public="203.0.113.10", inside="192.168.50.13")
    o.find_element(By.NAME, "reflection").click()
    o.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait.until(lambda _: len(table("one-table")) == 1)
    rows = table("one-table")
    check(rows[0][1:5] == ["WAN", "203.0.113.10", "192.168.50.13", "off"],
          f"a 1:1 line, reflection off: {rows}")
    fill(o, public="203.0.113.11", inside="192.168.50.13")
    o.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait.until(lambda _: d.find_element(By.ID, "one-err-inside").text)
    err = d.find_element(By.ID, "one-err-inside").text
    check("mapped already" in err, f"the parse's error at the inside "
          f"field: {err}")
    d.execute_script("document.getElementById('natsrc-title')"
                     ".scrollIntoView()")
    d.save_screenshot(SHOTS + "/nat-errors.png")

    # The rule mended, then a clean picture.
    fill(f, translate="198.51.100.9")
    f.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait.until(lambda _: "Saved" in result("natsrc-result"))
    rows = table("natsrc-table")
    check(rows[1][5] == "198.51.100.9" and
          d.find_element(By.ID, "natsrc-err-translate").text == "",
          f"mended and saved: {rows}")
    fill(o, public="203.0.113.12", inside="192.168.50.12")
    o.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait.until(lambda _: len(table("one-table")) == 2)
    check(table("one-table")[1][1] == "WAN" and table("one-table")[1][4] ==
          "on", f"the interface kept, reflection on by default: "
          f"{table('one-table')}")
    d.execute_script("document.getElementById('natsrc-title')"
                     ".scrollIntoView()")
    d.save_screenshot(SHOTS + "/nat.png")
    unnamed = d.execute_script(
        "return [...document.querySelectorAll('#interfaces input:not("
        "[type=hidden]), #interfaces select, #interfaces button')].filter("
        "e => !(e.getAttribute('aria-label') || e.closest('label') || "
        "(e.tagName === 'BUTTON' && e.textContent.trim()))).map(e => "
        "e.outerHTML.slice(0, 80))")
    check(unnamed == [], f"every control has a name: {unnamed}")

    for label, tid in (("Delete 1:1 NAT 2", "one-table"),
                       ("Delete 1:1 NAT 1", "one-table"),
                       ("Delete outbound NAT rule 2", "natsrc-table"),
                       ("Delete outbound NAT rule 1", "natsrc-table")):
        n = len(table(tid))
        click(f"button[aria-label='{label}']")
        wait.until(EC.alert_is_present()).accept()
        wait.until(lambda _: len(table(tid)) == n - 1)
    check(True, "all deleted")
finally:
    d.quit()
sys.exit(failed)
