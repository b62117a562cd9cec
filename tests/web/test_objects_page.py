#!/usr/bin/python3
"""test_objects_page.py URL PASSWORD SHOTS: the console's Objects page in
headless chromium against the real console of tests/lab/console.sh (run
from the lab's lan namespace), whose config holds feed objects moatd's
feed process has read: a good list, a list with a bad line, an fqdn
object and a country object.  Checks that each is listed with its kind,
source, elements per family, last refresh and result, next refresh and
last error, that the failing one stands out, that the form defines an
fqdn object (shown as not applied yet) and shows the parse's errors at
their fields (a host name, a refresh), and deletes it again.
Screenshots: SHOTS/objects-feeds.png, objects-feeds-errors.png,
objects-feeds-phone.png.  Exits 1 on any failure, 77 without selenium."""
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


def feeds():
    """The feed table, by name: its cells' texts and the row's class (it
    is redrawn whole, so read at once)."""
    return d.execute_script(
        "return Object.fromEntries([...document.querySelectorAll("
        "'#feeds-table tbody tr')].map(tr => [tr.cells[0].textContent, "
        "{cls: tr.className, cells: [...tr.cells].map(c => c.textContent)}]))")


def field_error(name):
    return d.find_element(By.ID, "object-err-" + name).text


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


try:
    d.get(URL + "/#objects")
    wait.until(EC.visibility_of_element_located((By.ID, "login")))
    d.find_element(By.NAME, "user").send_keys("admin")
    d.find_element(By.NAME, "password").send_keys(PASSWORD)
    d.find_element(By.CSS_SELECTOR, "#login button").click()
    wait.until(EC.visibility_of_element_located((By.ID, "objects")))
    wait.until(lambda _: {"blocklist", "badlist", "me", "home"} <= set(feeds()))
    rows = feeds()
    # Name, kind, source, IPv4, IPv6, last refresh, next, last error.
    b = rows["blocklist"]["cells"]
    check(b[1] == "url" and "file://" in b[2] and b[3] == "2" and
          b[4] == "1" and "ok" in b[5] and "ago" in b[5] and "in " in b[6]
          and b[7] == "" and "failing" not in rows["blocklist"]["cls"],
          f"a good list: kind, source, 2 IPv4 and 1 IPv6 elements, "
          f"refreshed, next refresh, no error: {b}")
    bad = rows["badlist"]
    check("failing" in bad["cls"] and "failed" in bad["cells"][5] and
          "line 2" in bad["cells"][7] and "not-an-address" in
          bad["cells"][7], f"a list with a bad line stands out, with "
          f"its error: {bad}")
    color = d.execute_script(
        "const r = [...document.querySelectorAll('#feeds-table tbody tr')]"
        ".find(tr => tr.cells[0].textContent === 'badlist');"
        "return getComputedStyle(r.cells[1]).backgroundColor")
    check(color not in ("rgba(0, 0, 0, 0)", "rgb(255, 255, 255)"),
          f"the failing row is shaded: {color}")
    me = rows["me"]["cells"]
    check(me[1] == "fqdn" and me[2].startswith("localhost") and
          me[3] == "1", f"an fqdn object and its addresses: {me}")
    home = rows["home"]["cells"]
    check(home[1] == "country" and home[2] == "XA" and home[3] == "1" and
          "ok" in home[5] and "GeoIP file changes" in home[6],
          f"a country object: {home}")
    check(d.find_element(By.ID, "objects-none").text != "" and not
          d.find_element(By.ID, "objects-table").is_displayed(),
          "no address object: said, no empty table")
    d.save_screenshot(SHOTS + "/objects-feeds.png")

    # The form: an fqdn object with a name that is not one, then right.
    f = d.find_element(By.ID, "object-form")
    fill(f, name="backup")
    Select(f.find_element(By.NAME, "kind")).select_by_value("fqdn")
    check(f.find_element(By.NAME, "hosts").is_displayed() and not
          f.find_element(By.NAME, "members").is_displayed() and not
          f.find_element(By.NAME, "url").is_displayed(),
          "the kind shows its own fields")
    fill(f, hosts="backup.example.org bad_-.example")
    f.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait.until(lambda _: field_error("hosts") != "")
    check("bad_-.example" in field_error("hosts") and
          f.find_element(By.NAME, "hosts").get_attribute("aria-invalid") ==
          "true" and field_error("name") == "",
          "the parse's error at its host name: " + field_error("hosts"))
    # A url object refreshed too often: said at the refresh field.
    Select(f.find_element(By.NAME, "kind")).select_by_value("url")
    fill(f, url="https://lists.example/drop.txt", refresh="5s")
    f.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait.until(lambda _: field_error("refresh") != "")
    check("10s" in field_error("refresh") and field_error("hosts") == "" and
          field_error("url") == "",
          "the refresh's error at its field: " + field_error("refresh"))
    d.execute_script("document.getElementById('object-form')"
                     ".scrollIntoView()")
    d.save_screenshot(SHOTS + "/objects-feeds-errors.png")
    Select(f.find_element(By.NAME, "kind")).select_by_value("fqdn")
    fill(f, hosts="backup.example.org")
    f.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait.until(lambda _: "backup" in feeds())
    row = feeds()["backup"]["cells"]
    check(row[1] == "fqdn" and "backup.example.org" in row[2] and
          "not applied" in row[2] and field_error("refresh") == "",
          f"saved: listed, not applied yet: {row}")
    # Edit fills the form with the object.
    click("button[aria-label='Edit object blocklist']")
    wait.until(lambda _: f.find_element(By.NAME, "url").get_attribute(
        "value") != "")
    check(Select(f.find_element(By.NAME, "kind")).first_selected_option
          .get_attribute("value") == "url" and
          f.find_element(By.NAME, "refresh").get_attribute("value") == "10s"
          and f.find_element(By.NAME, "url").get_attribute("value")
          .startswith("file://"), "Edit fills the form with the url object")
    f.find_element(By.ID, "object-new").click()
    click("button[aria-label='Delete object backup']")
    wait.until(EC.alert_is_present()).accept()
    wait.until(lambda _: "backup" not in feeds())
    check(True, "deleted")
    unnamed = d.execute_script(
        "return [...document.querySelectorAll('#objects input, "
        "#objects select, #objects button')].filter(e => !(e.getAttribute"
        "('aria-label') || e.closest('label') || (e.tagName === 'BUTTON' && "
        "e.textContent.trim()))).map(e => e.outerHTML.slice(0, 80))")
    check(unnamed == [], f"every control has a name: {unnamed}")
    # The dashboard sums them up and names the one that fails.
    d.find_element(By.LINK_TEXT, "Dashboard").click()
    wait.until(lambda _: "follow the world" in
               d.find_element(By.ID, "applied").text)
    line = d.find_element(By.ID, "applied").text
    check("4 (3 ok, 1 not: badlist)" in line,
          "the dashboard sums the feed objects up: " +
          line.split("follow the world")[1].split("\n")[1])
    d.find_element(By.LINK_TEXT, "Objects").click()
    wait.until(lambda _: "badlist" in feeds())
    d.set_window_size(390, 844)
    d.execute_script("window.scrollTo(0, 0)")
    d.save_screenshot(SHOTS + "/objects-feeds-phone.png")
finally:
    d.quit()
sys.exit(failed)
