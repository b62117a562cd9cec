#!/usr/bin/env python3
"""console_bench.py WHAT RULES: one figure of the web console at
https://192.168.50.1 (bench_console.sh serves it), as admin/bench-pass-1;
prints one line.  WHAT:
  status  GET /api/v1/status requests a second, one client, keep-alive
          (all the counters: what moat status --json reads);
  draw    the Policies page in headless chromium: from the click to its
          last row drawn (a page of 1,000 rules, or all where the console
          draws all), best of 3; then the Dashboard's, to its table of
          counters drawn;
  edit    a rule edit as the page makes it, best of 3: GET config, POST
          rules (a rule added in the middle: the config read, edited,
          checked and saved), POST apply (with a confirm, as the page
          sends) and POST confirm, GET policy (the page of the rule, or
          all where the console has no pages), then DELETE of that rule
          and POST apply and confirm again.  A request that fails is said
          with its status."""
import sys
import time

import requests
import urllib3

urllib3.disable_warnings()
BASE = "https://192.168.50.1"
API = BASE + "/api/v1/"
WHAT, N = sys.argv[1], int(sys.argv[2])


def session():
    s = requests.Session()
    r = s.post(API + "login", json={"user": "admin",
                                    "password": "bench-pass-1"}, verify=False)
    r.raise_for_status()
    return s, {"X-CSRF-Token": r.json()["csrf"]}


def status():
    s, _ = session()
    n, t = 0, time.perf_counter()
    # 500 requests, or as many as 10 s hold (a second each at 100,000
    # rules, where the kernel's counters are read for each).
    while n < 500 and (n < 5 or time.perf_counter() - t < 10):
        assert s.get(API + "status", verify=False).status_code == 200
        n += 1
    t = time.perf_counter() - t
    print(f"GET /api/v1/status: {n / t:.0f} requests/s ({1000 * t / n:.1f} "
          f"ms each), one client, {N:,}-rule policy applied")


def draw():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait
    o = webdriver.ChromeOptions()
    for a in ("--headless=new", "--no-sandbox", "--ignore-certificate-errors",
              "--disable-dev-shm-usage"):
        o.add_argument(a)
    d = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=o)
    d.set_script_timeout(300)
    try:
        d.get(BASE + "/")
        d.find_element(By.NAME, "user").send_keys("admin")
        d.find_element(By.NAME, "password").send_keys("bench-pass-1")
        d.find_element(By.CSS_SELECTOR, "#login button").click()
        WebDriverWait(d, 20).until(
            lambda _: not d.find_element(By.ID, "nav").get_attribute("hidden"))
        best, rows = 1e9, 0
        for _ in range(3):
            d.find_element(By.LINK_TEXT, "Dashboard").click()
            time.sleep(0.5)
            t = time.perf_counter()
            d.find_element(By.LINK_TEXT, "Policies").click()
            # Drawn: as many rows as the page shows (a pager's 1,000, or
            # every rule) and no more coming.
            want = min(N, 1000) if d.find_elements(By.ID, "rules-pager") else N
            count = ("return document.querySelectorAll('#rules tbody tr')"
                     ".length")
            try:
                WebDriverWait(d, 120, poll_frequency=0.02).until(
                    lambda _: d.execute_script(count) >= want)
            except TimeoutException:
                print(f"Policies page of {N:,} rules: not drawn in 120 s "
                      f"({d.execute_script(count):,} rows)")
                return
            best = min(best, time.perf_counter() - t)
            rows = d.execute_script(count)
        print(f"Policies page of {N:,} rules drawn in chromium: "
              f"{best * 1000:.0f} ms ({rows:,} rows; best of 3)")
        # The Dashboard (the page after the login): from the click to its
        # table of counters drawn (filled in one go after the status).
        best = 1e9
        hits = "return document.querySelectorAll('#hits tbody tr').length"
        for _ in range(3):
            d.find_element(By.LINK_TEXT, "Policies").click()
            time.sleep(0.5)
            d.execute_script("document.querySelector('#hits tbody')"
                             ".textContent = ''")
            t = time.perf_counter()
            d.find_element(By.LINK_TEXT, "Dashboard").click()
            try:
                WebDriverWait(d, 120, poll_frequency=0.02).until(
                    lambda _: d.execute_script(hits) > 0)
            except TimeoutException:
                print("Dashboard: not drawn in 120 s")
                return
            best = min(best, time.perf_counter() - t)
        print(f"Dashboard drawn in chromium: {best * 1000:.0f} ms "
              f"({d.execute_script(hits):,} counters; best of 3)")
    finally:
        d.quit()


def edit():
    s, h = session()
    rule = {"action": "accept", "interface": "LAN",
            "source": {"match": "include", "addresses": ["10.77.1.2"]},
            "destination": {"match": "include",
                            "addresses": ["192.0.2.200"]},
            "services": ["HTTPS"], "log": False, "comment": "bench",
            "enabled": True}
    pos = max(1, N // 2)
    best, size = {}, 0

    def timed(name, method, path, ok=200, **kw):
        t = time.perf_counter()
        r = s.request(method, API + path, verify=False, timeout=600, **kw)
        ms = (time.perf_counter() - t) * 1000
        if r.status_code != ok:
            raise RuntimeError(f"{name}: {r.status_code} {r.text[:120]}")
        best[name] = min(best.get(name, 1e9), ms)
        return r

    try:
        for _ in range(3):
            c = timed("GET config", "GET", "config").json()
            r = timed("POST rules", "POST", "rules", json={
                "rule": rule, "position": pos}, headers=dict(
                    h, **{"If-Match": c["hash"]}))
            saved = r.json()["hash"]
            # (with a confirm, as the page does; then confirmed)
            timed("POST apply", "POST", "apply", json={"confirm": 600},
                  headers=h)
            timed("POST confirm", "POST", "confirm", json={}, headers=h)
            r = timed("GET policy", "GET", "policy?first=%d&count=1000" %
                      (pos - (pos - 1) % 1000))
            size = len(r.content)
            timed("DELETE rule", "DELETE", "rules/%d" % pos, json={},
                  headers=dict(h, **{"If-Match": saved}))
            timed("POST apply again", "POST", "apply",
                  json={"confirm": 600}, headers=h)
            timed("POST confirm again", "POST", "confirm", json={},
                  headers=h)
    except RuntimeError as e:
        print(f"a rule edit of {N:,} rules: {e}")
        return
    print(f"a rule edit of {N:,} rules (best of 3; ms): " + ", ".join(
        f"{k} {v:.0f}" for k, v in best.items()) +
        f"; GET policy {size:,} bytes")


{"status": status, "draw": draw, "edit": edit}[WHAT]()
