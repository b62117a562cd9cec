#!/usr/bin/env python3
"""test_api.py BASE_URL USERS_PASSWORD TMP: the console's REST API against
the real server (moatd's console process in the lab's gateway), from the
lab's lan namespace.  Prints ok/FAIL lines; exits 1 on any failure."""
import json
import os
import signal
import subprocess
import threading
import re
import socket
import ssl
import sys
import time
import warnings

import requests
import urllib3

urllib3.disable_warnings()
BASE, PASSWORD, TMP = sys.argv[1], sys.argv[2], sys.argv[3]
API = BASE + "/api/v1/"
failed = 0


def check(ok, what):
    global failed
    print(("ok: " if ok else "FAIL: ") + what)
    if not ok:
        failed = 1


def session(src="192.168.50.11"):
    s = requests.Session()
    s.mount("https://", SourceAdapter(src))
    return s


class SourceAdapter(requests.adapters.HTTPAdapter):
    """Requests from one of the lan namespace's addresses, certificate
    not checked (self-signed; the test pins nothing)."""

    def __init__(self, src):
        self.src = src
        super().__init__()

    def init_poolmanager(self, *a, **kw):
        kw["source_address"] = (self.src, 0)
        kw["cert_reqs"] = "CERT_NONE"
        kw["assert_hostname"] = False
        super().init_poolmanager(*a, **kw)


def login(s, password=PASSWORD):
    return s.post(API + "login", json={"user": "admin", "password": password},
                  verify=False)


# Nothing without a session.
s = session()
for m, p in [("GET", "config"), ("GET", "status"), ("GET", "history"),
             ("GET", "policy"), ("GET", "log"), ("GET", "mail-log"),
             ("POST", "apply"), ("PUT", "config"), ("POST", "test")]:
    r = s.request(m, API + p, json={}, verify=False)
    check(r.status_code == 401, f"{m} {p} without a session: {r.status_code}")

r = login(s, "wrong password")
check(r.status_code == 401, f"a wrong password: {r.status_code}")
# A login that is not application/json (what a form on another site can
# post) is refused before it is tried.
r = s.post(API + "login", data='{"user": "admin", "password": "%s"}' % PASSWORD,
           headers={"Content-Type": "text/plain"}, verify=False)
check(r.status_code == 415 and "__Host-moat_session" not in s.cookies,
      f"a text/plain login: {r.status_code}")
r = login(s)
check(r.status_code == 200 and "csrf" in r.json(), f"login: {r.status_code}")
csrf = r.json()["csrf"]
cookie = r.headers.get("Set-Cookie", "")
check(all(f in cookie for f in ("HttpOnly", "Secure", "SameSite=Strict")) and
      len(s.cookies.get("__Host-moat_session", "")) == 64,
      f"the session cookie: {cookie[:40]}...; HttpOnly, Secure, SameSite=Strict")
check(cookie.startswith("__Host-moat_session=") and "Path=/;" in cookie and
      "Domain" not in cookie, f"the session cookie is __Host-: {cookie[:40]}...")
# The token under a name without the prefix (a cookie any plain-HTTP
# response can set for this host) is no session.
bare = session()
bare.cookies.set("moat_session", s.cookies.get("__Host-moat_session"))
r = bare.get(API + "status", verify=False)
check(r.status_code == 401, f"the token as moat_session: {r.status_code}")
H = {"X-CSRF-Token": csrf}

# State changes need the CSRF token.
for m, p in [("POST", "apply"), ("PUT", "config"), ("POST", "test"),
             ("POST", "rollback"), ("POST", "confirm")]:
    r = s.request(m, API + p, json={}, verify=False)
    check(r.status_code == 403, f"{m} {p} without X-CSRF-Token: {r.status_code}")
r = s.post(API + "apply", json={}, headers={"X-CSRF-Token": "0" * 64},
           verify=False)
check(r.status_code == 403, f"a wrong X-CSRF-Token: {r.status_code}")

# The config: read, a stale save, an invalid one, a good one.
r = s.get(API + "config", verify=False)
check(r.status_code == 200 and set(r.json()) == {"text", "hash"},
      f"GET config: {r.status_code}")
text, h = r.json()["text"], r.json()["hash"]
r = s.put(API + "config", json={"text": text}, headers=H, verify=False)
check(r.status_code == 428, f"PUT config without If-Match: {r.status_code}")
r = s.put(API + "config", json={"text": text},
          headers=dict(H, **{"If-Match": "0123456789abcdef"}), verify=False)
check(r.status_code == 409, f"PUT config on a stale hash: {r.status_code}")
bad = text + "deny on LAN from ANY to NOWHERE service SMTP\n"
r = s.put(API + "config", json={"text": bad},
          headers=dict(H, **{"If-Match": h}), verify=False)
d = r.json().get("diagnostics", [])
check(r.status_code == 422 and d and d[0]["severity"] == "error" and
      d[0]["line"] == text.count("\n") + 1 and "NOWHERE" in d[0]["message"],
      f"PUT config, invalid: {r.status_code} {d[:1]}")
r = s.get(API + "config", verify=False)
check(r.json()["hash"] == h, "nothing saved after 422")
new = text + "deny on LAN from 192.168.50.13 to ANY service HTTP\n"
r = s.put(API + "config", json={"text": new},
          headers=dict(H, **{"If-Match": h}), verify=False)
check(r.status_code == 200 and r.json()["hash"] != h,
      f"PUT config: {r.status_code} {r.text[:80]}")
h2 = r.json()["hash"]
with open(TMP + "/moat.conf") as f:
    check(f.read() == new, "the file holds the saved text")
r = s.get(API + "status", verify=False)
check(r.json().get("unapplied_changes") is True, "status: unapplied changes")

# Rules in the seed's vocabulary: add, edit, move, delete.
def rules_call(method, path, body, base):
    return s.request(method, API + path, json=body, headers=dict(H, **{
        "If-Match": base}), verify=False)


r = s.get(API + "config", verify=False)
h3 = r.json()["hash"]
rule = {"action": "accept", "interface": "LAN",
        "source": {"match": "include", "addresses": ["192.168.50.12"]},
        "destination": {"match": "include", "addresses": []},
        "services": ["SSH", "HTTPS"], "log": True, "comment": 'say "hi"',
        "enabled": True}
r = rules_call("POST", "rules", {"rule": rule, "position": 1}, h3)
check(r.status_code == 200, f"POST rules at 1: {r.status_code} {r.text[:100]}")
h4 = r.json()["hash"]
r = s.get(API + "policy", verify=False)
first = r.json()["policy"]["rules"][0]
check(first["action"] == "accept" and first["comment"] == 'say "hi"' and
      first["services"]["names"] == ["SSH", "HTTPS"] and first["log"],
      f"the new rule is rule 1: {first}")
r = rules_call("POST", "rules", {"rule": dict(rule, interface="LAN\naccept"),
                                  "position": 1}, h4)
check(r.status_code == 400, f"a rule with a newline in a name: {r.status_code}")
r = rules_call("POST", "rules", {"rule": dict(rule, services=["NOPE"])}, h4)
check(r.status_code == 422, f"a rule with an unknown service: {r.status_code}")
r = rules_call("POST", "rules/1/move", {"to": 3}, h4)
check(r.status_code == 200, f"move rule 1 to 3: {r.status_code} {r.text[:100]}")
h5 = r.json()["hash"]
r = s.get(API + "policy", verify=False)
rs = r.json()["policy"]["rules"]
check(rs[2]["comment"] == 'say "hi"' and rs[0]["action"] == "accept" and
      rs[1]["action"] == "deny", f"the order after the move: "
      f"{[x['action'] for x in rs]}")
r = rules_call("PUT", "rules/3", {"rule": dict(rule, action="deny",
                                                enabled=False)}, h5)
check(r.status_code == 200, f"PUT rules/3: {r.status_code}")
h6 = r.json()["hash"]
rs = s.get(API + "policy", verify=False).json()["policy"]["rules"]
check(rs[2]["action"] == "deny" and rs[2]["enabled"] is False,
      "rule 3 edited: deny, disabled")
# The console keeps what lint found of the file it saved (config.memo, in
# the state directory) and takes from it what an edit cannot change: the
# findings are a whole lint's, with the memo broken or gone as well.
memo = os.path.join(os.environ["MOAT_STATE_DIR"], "config.memo")
twice = dict(rule, source={"match": "include",
                           "addresses": ["192.168.50.14"]}, comment="twice")
for _ in range(2):
    hb = s.get(API + "config", verify=False).json()["hash"]
    r = rules_call("POST", "rules", {"rule": twice}, hb)
check(r.status_code == 200 and any("never match" in d["message"]
                                   for d in r.json()["diagnostics"]),
      f"a rule twice: the second never matches: {r.status_code}")
check(os.path.exists(memo) and os.path.getsize(memo) > 0,
      "a save keeps lint's memo of the file")
with_memo = s.get(API + "policy", verify=False).json()["diagnostics"]
check(any("never match" in d["message"] for d in with_memo),
      f"findings to compare: {with_memo}")
for how in ("broken", "gone"):
    if how == "broken":
        with open(memo, "r+b") as f:
            f.seek(os.path.getsize(memo) // 2)
            f.write(b"\xff" * 16)
    else:
        os.remove(memo)
    got = s.get(API + "policy", verify=False).json()["diagnostics"]
    check(got == with_memo and os.path.exists(memo),
          f"the memo {how}: the same findings, the memo kept anew")
for n in (len(rs) + 2, len(rs) + 1):
    hb = s.get(API + "config", verify=False).json()["hash"]
    rules_call("DELETE", "rules/%d" % n, {}, hb)
rs2 = s.get(API + "policy", verify=False).json()["policy"]["rules"]
check(len(rs2) == len(rs) and all(x["comment"] != "twice" for x in rs2),
      f"the two rules deleted: {len(rs2)} rules")
# A page of the rules (the Policies page's), with the findings on them.
whole = s.get(API + "policy", verify=False).json()
r = s.get(API + "policy?first=2&count=2", verify=False)
page = r.json()
lines = [x["line"] for x in page["policy"]["rules"]]
check(r.status_code == 200 and page["rules_total"] == len(rs) and
      [x["number"] for x in page["policy"]["rules"]] == [2, 3] and
      page["policy"]["interfaces"] == whole["policy"]["interfaces"] and
      page["diagnostics"] == [d for d in whole["diagnostics"] if
                              d["severity"] == "error" or
                              lines[0] <= d["line"] <= lines[-1]] and
      len(page["diagnostics"]) < len(whole["diagnostics"]),
      f"GET policy?first=2&count=2: {r.status_code}, rules "
      f"{[x['number'] for x in page['policy']['rules']]} of "
      f"{page.get('rules_total')}, {len(page['diagnostics'])} of "
      f"{len(whole['diagnostics'])} findings")
on = [(x["number"], d) for x in whole["policy"]["rules"]
      for d in whole["diagnostics"] if d["line"] == x["line"]]
if on:
    r = s.get(API + "policy?first=%d&count=1" % on[0][0], verify=False)
    check(on[0][1] in r.json()["diagnostics"], f"the page of rule "
          f"{on[0][0]} has its finding: {on[0][1]['message'][:60]}")
else:
    check(False, f"a finding on a rule: {whole['diagnostics']}")
check(page["hash"] == s.get(API + "config", verify=False).json()["hash"],
      "GET policy's hash is the config's (the edits' If-Match)")
r = s.get(API + "policy?first=99", verify=False)
check(r.status_code == 200 and r.json()["policy"]["rules"] == [] and
      r.json()["rules_total"] == len(rs), f"GET policy past the last rule: "
      f"{r.status_code}")
for q in ("count=5001", "first=0", "first=x", "count=2x"):
    r = s.get(API + "policy?" + q, verify=False)
    check(r.status_code == 400, f"GET policy?{q}: {r.status_code}")
r = rules_call("DELETE", "rules/3", {}, h5)
check(r.status_code == 409, f"DELETE on a stale hash: {r.status_code}")
r = rules_call("DELETE", "rules/9", {}, h6)
check(r.status_code == 404, f"DELETE a rule that is not there: {r.status_code}")
r = rules_call("DELETE", "rules/3", {}, h6)
check(r.status_code == 200 and len(s.get(API + "policy", verify=False).json()
      ["policy"]["rules"]) == 3, f"DELETE rules/3: {r.status_code}")

# Objects and services.
r = s.get(API + "config", verify=False)
ho = r.json()["hash"]
r = s.put(API + "objects/SERVERS", json={"members": {"addresses": [
    "192.168.50.10", "192.168.50.20-192.168.50.29"]}},
    headers=dict(H, **{"If-Match": ho}), verify=False)
check(r.status_code == 200, f"PUT objects/SERVERS: {r.status_code} {r.text[:80]}")
ho = r.json()["hash"]
r = s.put(API + "services/ALT-WEB", json={"entries": [
    {"protocol": "tcp", "ports": ["8080", "8443"]}]},
    headers=dict(H, **{"If-Match": ho}), verify=False)
check(r.status_code == 200, f"PUT services/ALT-WEB: {r.status_code}")
ho = r.json()["hash"]
pol = s.get(API + "policy", verify=False).json()["policy"]
names = [o["name"] for o in pol["objects"]] + [x["name"] for x in pol["services"]]
check("SERVERS" in names and "ALT-WEB" in names, "both are in the policy")
r = s.put(API + "objects/SERVERS", json={"members": {"addresses": ["192.168.50.11"]}},
          headers=dict(H, **{"If-Match": ho}), verify=False)
check(r.status_code == 200, "PUT objects/SERVERS again: replaced")
ho = r.json()["hash"]
r = s.put(API + "objects/BAD", json={"members": {"addresses": ["1.2.3.4 }\nfirewall off"]}},
          headers=dict(H, **{"If-Match": ho}), verify=False)
check(r.status_code == 400, f"an object with a newline: {r.status_code}")
r = s.delete(API + "objects/NOPE", json={}, headers=dict(H, **{"If-Match": ho}),
             verify=False)
check(r.status_code == 404, f"DELETE a missing object: {r.status_code}")
r = s.delete(API + "services/ALT-WEB", json={}, headers=dict(H, **{"If-Match": ho}),
             verify=False)
check(r.status_code == 200, f"DELETE services/ALT-WEB: {r.status_code}")
ho = r.json()["hash"]
r = s.delete(API + "objects/SERVERS", json={}, headers=dict(H, **{"If-Match": ho}),
             verify=False)
check(r.status_code == 200, f"DELETE objects/SERVERS: {r.status_code}")

# Feed objects (fqdn, url, country) through the same endpoints, in moat
# show --json's shape; each with its state as moatd's feed process has it
# (console.sh's config: a good list, a bad one, localhost, a country).
r = s.get(API + "objects", verify=False)
objs = {o["name"]: o for o in r.json().get("objects", [])}
check(r.status_code == 200 and {"blocklist", "badlist", "me", "home"} <=
      set(objs) and objs["ANY"]["builtin"] and "state" not in objs["ANY"],
      f"GET objects: {r.status_code} {sorted(objs)[:8]}")
bl = objs.get("blocklist", {})
st = bl.get("state") or {}
check(bl.get("kind") == "url" and bl.get("refresh") == 10 and
      bl.get("applied") is True and st.get("result") == "ok" and
      st.get("v4") == 2 and st.get("v6") == 1 and
      isinstance(st.get("last_refresh"), int) and
      isinstance(st.get("next_refresh"), int) and st.get("error") is None,
      f"a good list and its state: {bl}")
st = objs.get("badlist", {}).get("state") or {}
check(st.get("result") == "error" and "line 2" in (st.get("error") or "")
      and st.get("last_refresh") is None,
      f"a bad list: its error, never refreshed: {st}")
r = s.get(API + "objects/home", verify=False)
check(r.status_code == 200 and r.json().get("countries") == ["XA"] and
      (r.json().get("state") or {}).get("v4") == 1,
      f"GET objects/home: {r.status_code} {r.text[:160]}")
r = s.get(API + "objects/NOPE", verify=False)
check(r.status_code == 404, f"GET objects/NOPE: {r.status_code}")
r = s.get(API + "objects/..%2f..%2fetc%2fpasswd", verify=False)
check(r.status_code == 404, f"GET objects/ with a path: {r.status_code}")
st = s.get(API + "status", verify=False).json().get("feeds", [])
check({f["name"] for f in st} == {"blocklist", "badlist", "me", "home"},
      f"GET status: feeds {[f['name'] for f in st]}")
hf = s.get(API + "config", verify=False).json()["hash"]
for body, want in [
        ({"kind": "fqdn", "hosts": ["backup.example.org", "Mirror.example.net"]},
         {"kind": "fqdn", "hosts": ["backup.example.org", "mirror.example.net"]}),
        ({"kind": "url", "url": "https://lists.example/drop.txt?v=2",
          "refresh": 21600, "max": 5000},
         {"kind": "url", "url": "https://lists.example/drop.txt?v=2",
          "refresh": 21600, "max": 5000}),
        ({"kind": "country", "countries": ["de", "AT"]},
         {"kind": "country", "countries": ["DE", "AT"]})]:
    r = s.put(API + "objects/FEED", json=body,
              headers=dict(H, **{"If-Match": hf}), verify=False)
    check(r.status_code == 200, f"PUT objects/FEED {body['kind']}: "
          f"{r.status_code} {r.text[:100]}")
    hf = r.json().get("hash", hf)
    o = s.get(API + "objects/FEED", verify=False).json()
    check(all(o.get(k) == v for k, v in want.items()) and
          o.get("state") is None and o.get("applied") is False,
          f"GET objects/FEED: as moat show --json has it, not applied: {o}")
# The parse's errors, at their fields; what no line can hold, 400.
for body, field, index in [
        ({"kind": "url", "url": "https://l.example/x", "refresh": 5}, "refresh", None),
        ({"kind": "url", "url": "http://l.example/x"}, "url", None),
        ({"kind": "fqdn", "hosts": ["a.example", "bad_-.example"]}, "hosts", 1),
        ({"kind": "country", "countries": ["DE", "DEU"]}, "countries", 1)]:
    r = s.put(API + "objects/FEED", json=body,
              headers=dict(H, **{"If-Match": hf}), verify=False)
    d = [x for x in r.json().get("diagnostics", []) if x["severity"] == "error"]
    check(r.status_code == 422 and d and d[0].get("field") == field and
          d[0].get("index") == index and d[0]["line"] > 0,
          f"PUT objects/FEED {body}: 422 at {field}: {r.status_code} {d[:1]}")
for body, field in [({"kind": "dns", "hosts": ["a.example"]}, "kind"),
                    ({"kind": "fqdn", "hosts": ["a.example\nfirewall off"]}, "hosts"),
                    ({"kind": "url", "url": "https://a.example/\"\nfirewall off"}, "url"),
                    ({"kind": "url", "url": "https://a.example/", "max": [1]}, "max")]:
    r = s.put(API + "objects/FEED", json=body,
              headers=dict(H, **{"If-Match": hf}), verify=False)
    check(r.status_code == 400 and r.json().get("field") == field,
          f"PUT objects/FEED, {field} no line can hold: {r.status_code} {r.text[:80]}")
check(s.get(API + "config", verify=False).json()["hash"] == hf, "nothing saved")
r = s.delete(API + "objects/FEED", json={}, headers=dict(H, **{"If-Match": hf}),
             verify=False)
check(r.status_code == 200 and s.get(API + "objects/FEED", verify=False)
      .status_code == 404, f"DELETE objects/FEED: {r.status_code}")
# The settings of feed objects name a file moatd-feeds reads (as
# moat-feeds, no privilege): the console may change them.
r = s.get(API + "config", verify=False)
text, hf = r.json()["text"], r.json()["hash"]
new = re.sub(r"geoip-database \S+", "geoip-database /var/lib/GeoIP/other.mmdb",
             text) + "dns-min-ttl 10s\n"
r = s.put(API + "config", json={"text": new},
          headers=dict(H, **{"If-Match": hf}), verify=False)
check(new != text and r.status_code == 200,
      f"PUT config changing geoip-database, dns-min-ttl: {r.status_code} {r.text[:100]}")
r = s.put(API + "config", json={"text": text},
          headers=dict(H, **{"If-Match": r.json().get("hash", "")}), verify=False)
check(r.status_code == 200, f"and back: {r.status_code}")

# Interfaces and NAT.
def named(method, path, body, base):
    return s.request(method, API + path, json=body,
                     headers=dict(H, **{"If-Match": base}), verify=False)


hi = s.get(API + "config", verify=False).json()["hash"]
r = named("PUT", "interfaces/DMZ", {"device": "gwd0", "addresses": ["10.9.0.1/24"],
                                    "default": "reject"}, hi)
check(r.status_code == 200, f"PUT interfaces/DMZ: {r.status_code} {r.text[:80]}")
hi = r.json()["hash"]
r = named("PUT", "interfaces/PPP", {"device": "ppp0", "dynamic": True}, hi)
check(r.status_code == 200, f"PUT interfaces/PPP (dynamic): {r.status_code}")
hi = r.json()["hash"]
r = named("PUT", "nat/WAN", {}, hi)
check(r.status_code == 200, f"PUT nat/WAN: {r.status_code}")
hi = r.json()["hash"]
pol = s.get(API + "policy", verify=False).json()["policy"]
ifs = {i["name"]: i for i in pol["interfaces"]}
check(ifs.get("DMZ", {}).get("default") == "reject" and ifs.get("PPP", {}).get("dynamic")
      and pol["nat"] and pol["nat"][0]["interface"] == "WAN",
      "the interfaces and the masquerade are in the policy")
r = named("PUT", "interfaces/BAD", {"device": "eth9 address 1.2.3.4/8"}, hi)
check(r.status_code == 400, f"a device with spaces: {r.status_code}")
r = named("DELETE", "interfaces/LAN", {}, hi)
check(r.status_code == 422, f"DELETE interfaces/LAN, which rules use: {r.status_code}")
for path in ("nat/WAN", "interfaces/PPP", "interfaces/DMZ"):
    r = named("DELETE", path, {}, hi)
    check(r.status_code == 200, f"DELETE {path}: {r.status_code}")
    hi = r.json()["hash"]
r = named("DELETE", "nat/WAN", {}, hi)
check(r.status_code == 404, f"DELETE nat/WAN again: {r.status_code}")

# Port forwards, by number.
hf = s.get(API + "config", verify=False).json()["hash"]
r = named("POST", "forwards", {"interface": "WAN", "services": ["SMTP"],
          "to": ["192.168.50.10"]}, hf)
check(r.status_code == 200, f"POST forwards: {r.status_code} {r.text[:80]}")
hf = r.json()["hash"]
r = named("PUT", "forwards/1", {"interface": "WAN", "services": ["HTTP", "HTTPS"],
          "to": ["192.168.50.12", "2001:db8:50::12"]}, hf)
check(r.status_code == 200, f"PUT forwards/1: {r.status_code} {r.text[:80]}")
hf = r.json()["hash"]
fw = s.get(API + "policy", verify=False).json()["policy"]["forwards"]
check(len(fw) == 1 and fw[0]["services"]["names"] == ["HTTP", "HTTPS"] and
      len(fw[0]["to"]) == 2, f"the forward: {fw}")
r = named("POST", "forwards", {"interface": "WAN", "services": ["SMTP"],
          "to": ["192.168.50.0/24"]}, hf)
check(r.status_code == 422, f"a forward to a network: {r.status_code}")
r = named("DELETE", "forwards/2", {}, hf)
check(r.status_code == 404, f"DELETE a missing forward: {r.status_code}")
r = named("DELETE", "forwards/1", {}, hf)
check(r.status_code == 200 and not s.get(API + "policy", verify=False).json()
      ["policy"]["forwards"], f"DELETE forwards/1: {r.status_code}")

# Outbound NAT rules and 1:1, by number; the errors at their fields.
hn = s.get(API + "config", verify=False).json()["hash"]
r = named("POST", "nat-source", {"interface": "WAN", "source": {"addresses": ["LANNET"]},
          "destination": {"addresses": ["10.20.0.0/16"]}, "translate": "none"}, hn)
check(r.status_code == 200, f"POST nat-source: {r.status_code} {r.text[:80]}")
hn = r.json()["hash"]
r = named("POST", "nat-source", {"interface": "WAN", "source": {"addresses": ["192.168.50.12"]},
          "services": ["SMTP"], "translate": ["198.51.100.9"], "position": 1}, hn)
check(r.status_code == 200, f"POST nat-source at 1: {r.status_code} {r.text[:80]}")
hn = r.json()["hash"]
ns_ = [n for n in s.get(API + "policy", verify=False).json()["policy"]["nat"]
       if n["type"] == "source"]
check(len(ns_) == 2 and ns_[0]["translate"][0]["address"] == "198.51.100.9" and
      ns_[1]["translate"] == "none", f"the nat source rules: {ns_}")
r = named("POST", "nat-source/2/move", {"to": 1}, hn)
check(r.status_code == 200, f"POST nat-source/2/move: {r.status_code} {r.text[:80]}")
hn = r.json()["hash"]
ns_ = [n for n in s.get(API + "policy", verify=False).json()["policy"]["nat"]
       if n["type"] == "source"]
check(ns_[0]["translate"] == "none", f"moved: {ns_}")
r = named("PUT", "nat-source/2", {"interface": "WAN", "source": {"addresses": ["192.168.50.12"]},
          "services": {"match": "selected", "names": ["SMTP"]}, "translate": "masquerade"}, hn)
check(r.status_code == 200, f"PUT nat-source/2: {r.status_code} {r.text[:80]}")
hn = r.json()["hash"]
r = named("PUT", "nat-source/2", {"interface": "WAN", "source": {"addresses": ["LANNET"]},
          "translate": ["198.51.100.9", "198.51.100.10"]}, hn)
d = [x for x in r.json().get("diagnostics", []) if x["severity"] == "error"]
check(r.status_code == 422 and d and d[0].get("field") == "translate",
      f"two IPv4 addresses to translate to: {r.status_code} {d}")
r = named("PUT", "nat-source/2", {"interface": "WAN", "source": {"addresses": ["LANNET"]},
          "translate": "every where"}, hn)
check(r.status_code == 400 and r.json().get("field") == "translate",
      f"a translate no line holds: {r.status_code} {r.text[:80]}")
r = named("DELETE", "nat-source/3", {}, hn)
check(r.status_code == 404, f"DELETE a missing nat source rule: {r.status_code}")
r = named("POST", "one-to-one", {"interface": "WAN", "public": "203.0.113.10",
          "inside": "192.168.50.13", "reflection": False}, hn)
check(r.status_code == 200, f"POST one-to-one: {r.status_code} {r.text[:80]}")
hn = r.json()["hash"]
r = named("POST", "one-to-one", {"interface": "WAN", "public": "203.0.113.11",
          "inside": "192.168.50.13"}, hn)
d = [x for x in r.json().get("diagnostics", []) if x["severity"] == "error"]
check(r.status_code == 422 and d and d[0].get("field") == "inside",
      f"an inside address mapped twice: {r.status_code} {d}")
ones = [n for n in s.get(API + "policy", verify=False).json()["policy"]["nat"]
        if n["type"] == "one-to-one"]
check(len(ones) == 1 and ones[0]["reflection"] is False, f"the 1:1: {ones}")
for path in ("one-to-one/1", "nat-source/2", "nat-source/1"):
    r = named("DELETE", path, {}, hn)
    check(r.status_code == 200, f"DELETE {path}: {r.status_code} {r.text[:80]}")
    hn = r.json()["hash"]
check(not s.get(API + "policy", verify=False).json()["policy"]["nat"],
      "no nat line left")
r = named("PUT", "one-to-one", {}, hn)
check(r.status_code == 405, f"PUT one-to-one: {r.status_code}")
r = named("POST", "one-to-one/1/move", {"to": 1}, hn)
check(r.status_code == 404, f"a 1:1 does not move: {r.status_code}")

# The Gateway Anti-Virus, by the seed's names.
r = s.get(API + "config", verify=False)
hv = r.json()["hash"]
r = s.put(API + "antivirus", json={"settings": {"smtp_other_scanning": True,
          "smtp_local_scanning": False, "max_message_size": 1048576}},
          headers=dict(H, **{"If-Match": hv}), verify=False)
check(r.status_code == 200, f"PUT antivirus: {r.status_code} {r.text[:100]}")
av = s.get(API + "policy", verify=False).json()["policy"]["antivirus"]
check(av and av["smtp_other_scanning"] and not av["smtp_local_scanning"] and
      av["max_message_size"] == 1048576, f"the antivirus block: {av}")
r = s.put(API + "antivirus", json={"settings": {"engine_path": "/x\n}\nfirewall off"}},
          headers=dict(H, **{"If-Match": r.json()["hash"]}), verify=False)
check(r.status_code == 400, f"a path with a newline: {r.status_code}")
r = s.put(API + "antivirus", json={"settings": {"smtp_other_scanning": "yes"}},
          headers=dict(H, **{"If-Match": "0" * 16}), verify=False)
check(r.status_code in (400, 409), f"a setting of the wrong type: {r.status_code}")
# Mail over TLS: the proxy's behaviour, not the paths the parent reads.
hv = s.get(API + "config", verify=False).json()["hash"]
r = s.put(API + "antivirus", json={"settings": {"smtp_intercept_tls": "strip",
          "smtp_tls_upstream": "verify", "smtp_relay_require_tls": True,
          "smtp_tls_passthrough_from": None}},
          headers=dict(H, **{"If-Match": hv}), verify=False)
check(r.status_code == 200, f"PUT antivirus TLS: {r.status_code} {r.text[:100]}")
av = s.get(API + "policy", verify=False).json()["policy"]["antivirus"]
check(av["smtp_intercept_tls"] == "strip" and av["smtp_tls_upstream"] ==
      "verify" and av["smtp_relay_require_tls"], f"the TLS settings: {av}")
hv = s.get(API + "config", verify=False).json()["hash"]
for k in ("smtp_tls_certificate", "smtp_tls_key", "smtp_tls_ca_file",
          "dnssec_trust_anchor"):
    r = s.put(API + "antivirus", json={"settings": {k: "/etc/moat/x.pem"}},
              headers=dict(H, **{"If-Match": hv}), verify=False)
    check(r.status_code == 400, f"PUT antivirus {k}: {r.status_code}")

# The policy, a test.
r = s.get(API + "policy", verify=False)
rules = r.json()["policy"]["rules"]
check(r.status_code == 200 and len(rules) == 3 and rules[2]["action"] == "deny",
      f"GET policy: {r.status_code}, {len(rules)} rules")
r = s.get(API + "config", verify=False)
h2 = r.json()["hash"]
r = s.post(API + "test", json={"in": "LAN", "src": "192.168.50.11",
                               "dst": "198.51.100.25", "service": "SMTP"},
           headers=H, verify=False)
check(r.status_code == 200 and r.json()["result"]["rule"] == 2 and
      r.json()["result"]["verdict"] == "deny", f"POST test: {r.text[:120]}")
r = s.post(API + "test", json={"in": "NOPE", "src": "1.2.3.4",
                               "dst": "1.2.3.5", "service": "SMTP"},
           headers=H, verify=False)
check(r.status_code == 400, f"POST test, an unknown interface: {r.status_code}")
# A request of many values is not parsed by moatd's parent (at most 1,024:
# a request is a few fields; 32 MB of "{}" took gigabytes to parse).
many = {"in": "LAN", "src": "192.168.50.11", "dst": "198.51.100.25",
        "service": "SMTP"}
r = s.post(API + "test", json=dict(many, **{f"x{i}": 0 for i in range(900)}),
           headers=H, verify=False)
check(r.status_code == 200, f"POST test with 900 fields more: {r.status_code}")
r = s.post(API + "test", json=dict(many, **{f"x{i}": [] for i in range(1100)}),
           headers=H, verify=False)
check(r.status_code == 400 and "not a request" in r.text,
      f"POST test with 1,100 arrays more: {r.status_code} {r.text[:60]}")

# The real telnet test, from the gateway.
r = s.post(API + "probe", json={"dst": "192.168.50.1", "port": 443},
           headers=H, verify=False)
check(r.status_code == 200 and r.json()["result"] == "connected",
      f"POST probe, the console's own port: {r.text[:120]}")
r = s.post(API + "probe", json={"dst": "192.168.50.1", "service": "SMTP",
                                "timeout": 1}, headers=H, verify=False)
check(r.status_code == 200 and r.json()["result"] == "refused" and
      r.json()["port"] == 25, f"POST probe, nothing on port 25: {r.text[:120]}")
for body, why in [({"dst": "mail.example", "port": 25}, "a name"),
                  ({"dst": "192.168.50.0/24", "port": 25}, "a network"),
                  ({"dst": "192.168.50.1", "port": 0}, "port 0"),
                  ({"dst": "192.168.50.1", "port": 25, "service": "SMTP"},
                   "both port and service"),
                  ({"dst": "192.168.50.1", "service": "DNS"}, "a UDP service"),
                  ({"dst": "192.168.50.1", "port": 25, "timeout": 60},
                   "a 60 s timeout")]:
    r = s.post(API + "probe", json=body, headers=H, verify=False)
    check(r.status_code == 400, f"POST probe, {why}: {r.status_code} "
          f"{r.text[:80]}")
r = s.post(API + "probe", json={"dst": "192.168.50.1", "port": 25},
           verify=False)
check(r.status_code == 403, f"POST probe without the CSRF token: {r.status_code}")
for dst in ("127.0.0.1", "::1", "0.0.0.0", "224.0.0.1", "255.255.255.255"):
    r = s.post(API + "probe", json={"dst": dst, "port": 22}, headers=H,
               verify=False)
    check(r.status_code == 400, f"POST probe to {dst}: {r.status_code}")

# The probe runs in a child of its own: moatd's parent goes on meanwhile
# (a reload is done while a probe to an address nobody has still waits).
moatd_pid = int(open(TMP + "/moatd.pid").read())
res = {}
t = threading.Thread(target=lambda: res.update(r=s.post(
    API + "probe", json={"dst": "198.51.100.77", "port": 25, "timeout": 3},
    headers=H, verify=False)))
start = time.time()
t.start()
time.sleep(0.5)
before = open(TMP + "/moatd.log").read().count("SIGHUP: reloading")
os.kill(moatd_pid, signal.SIGHUP)
seen = None
while time.time() - start < 2.5 and seen is None:
    if open(TMP + "/moatd.log").read().count("SIGHUP: reloading") > before:
        seen = time.time() - start
    time.sleep(0.05)
t.join()
took = time.time() - start
check(seen is not None and seen < took - 0.5 and
      res["r"].status_code == 200 and res["r"].json()["result"] in
      ("timed out", "error", "refused"),
      f"a reload during a {took:.1f} s probe, done at {seen} s: "
      f"{res['r'].text[:100]}")
out = subprocess.run(["pgrep", "-x", "moatd-probe"], capture_output=True,
                     text=True).stdout.split()
check(not out, f"the probe's process is gone: {out}")
# A probe stopped where it stands (its user is the console's: a console
# taken over could stop it) neither writes nor exits: past its 10 s root
# ends it and answers, without waiting on it (a review, 2026-12-08: root
# blocked in read() on its pipe, and did nothing else until a signal).
res = {}
def stopped_probe():
    try:
        res["r"] = s.post(API + "probe", json={"dst": "198.51.100.77",
                          "port": 25, "timeout": 5}, headers=H,
                          verify=False, timeout=25)
    except requests.RequestException as e:
        res["e"] = e
t = threading.Thread(target=stopped_probe)
start = time.time()
t.start()
stopped = None
while time.time() - start < 3 and stopped is None:
    out = subprocess.run(["pgrep", "-x", "-P", str(moatd_pid),
                          "moatd-probe"], capture_output=True,
                         text=True).stdout.split()
    if out:
        stopped = int(out[0])
        os.kill(stopped, signal.SIGSTOP)
    time.sleep(0.02)
t.join()
took = time.time() - start
r = res.get("r")
check(stopped is not None and r is not None and r.status_code == 200 and
      r.json()["result"] == "error" and
      "did not finish" in r.text and took < 20,
      f"a probe stopped ({stopped}): answered in {took:.1f} s: "
      f"{r.text[:100] if r is not None else res.get('e')}")
out = subprocess.run(["pgrep", "-x", "-P", str(moatd_pid),
                          "moatd-probe"], capture_output=True,
                     text=True).stdout.split()
check(not out, f"... and the stopped probe is gone: {out}")
# (10 s: the session, of 8 s, ended meanwhile)
r = login(s)
check(r.status_code == 200, f"logged in again: {r.status_code}")
csrf = r.json().get("csrf", "")
H = {"X-CSRF-Token": csrf}

# At most ten probes a minute.
codes = [s.post(API + "probe", json={"dst": "192.168.50.1", "port": 443},
                headers=H, verify=False).status_code for _ in range(10)]
check(200 in codes and codes[-1] == 429 and
      all(c in (200, 429) for c in codes) and
      codes.index(429) == len(codes) - codes.count(429),
      f"probes, ten a minute: {codes}")

# Apply with confirm, confirmed; then one that lapses.
r = s.post(API + "apply", json={"confirm": 30}, headers=H, verify=False)
check(r.status_code == 200, f"apply --confirm 30: {r.status_code} {r.text[:100]}")
pending = open(TMP + "/state-dir").read().strip() + "/pending"
watchdog = int(open(pending).read().split()[1])
r = s.get(API + "status", verify=False)
p = r.json().get("pending") or {}
check(p.get("entry") == r.json()["applied"]["entry"] and
      25 <= p.get("seconds_left", 0) <= 30,
      f"status says a confirm waits, and how long: {p}")
r = s.post(API + "confirm", json={}, headers=H, verify=False)
check(r.status_code == 200, f"confirm: {r.status_code} {r.text[:100]}")
time.sleep(0.5)
try:
    state = open(f"/proc/{watchdog}/stat").read().split(")")[1].split()[0]
except FileNotFoundError:
    state = "gone"
check(state in ("gone", "Z"), f"the confirm ended moatd's watchdog: {state}")
r = s.get(API + "status", verify=False)
check(r.json()["pending"] is None, "confirmed: nothing waits")
check("ha" in r.json() and r.json()["ha"] is None,
      "status: no HA pair here, and it says so (ha: null)")
check(r.json()["applied"]["hash"] == h2 and
      r.json()["unapplied_changes"] is False, "the saved config is applied")
# The busiest counters only (the Dashboard's), or none (the banner's).
sock = socket.create_connection(("192.168.50.1", 443),
                                source_address=("192.168.50.11", 0))
sock.close()
full = s.get(API + "status", verify=False).json()
one = s.get(API + "status?counters=1", verify=False).json()
none = s.get(API + "status?counters=0", verify=False).json()
most = max(c["packets"] for c in full["counters"])
check(len(full["counters"]) > 1 and full["counters_total"] ==
      len(full["counters"]) and len(one["counters"]) == 1 and
      one["counters_total"] == len(full["counters"]) and
      one["counters"][0]["packets"] >= most,
      f"status?counters=1: the busiest of {one.get('counters_total')}: "
      f"{one['counters'][:1]} (most in all: {most} packets)")
check(none["counters"] == [] and none["counters_total"] is None and
      none["unapplied_changes"] is False and none["applied"] ==
      full["applied"], "status?counters=0: no counters, the rest the same")
for q in ("counters=x", "counters=100001", "counters=-1"):
    r = s.get(API + "status?" + q, verify=False)
    check(r.status_code == 400, f"GET status?{q}: {r.status_code}")
r = s.post(API + "apply", json={"confirm": "soon"}, headers=H, verify=False)
check(r.status_code == 400, f"apply, confirm not a number: {r.status_code}")
r = s.post(API + "apply", json={"confirm": 2}, headers=H, verify=False)
check(r.status_code == 200, "apply --confirm 2, not confirmed")
time.sleep(4)
r = s.get(API + "history", verify=False)
whats = [e["what"] for e in r.json()["entries"]]
check(whats[-1] == "revert", f"the unconfirmed apply reverted: {whats}")
audit = [(a["user"], a["what"]) for a in r.json()["audit"]]
check(("admin", "save") in audit and ("admin", "apply") in audit,
      f"the audit names the user: {audit}")
# The console's apply and rollback always go with a confirm (a review,
# 2026-12-07: without one, an apply or a rollback that turned the console
# off or moved it stayed): none, 0 or a day is refused.
for body in ({}, {"confirm": 0}, {"confirm": 86400}):
    r = s.post(API + "apply", json=body, headers=H, verify=False)
    check(r.status_code == 400, f"apply {body}: {r.status_code}")
r = s.post(API + "rollback", json={"entry": 1}, headers=H, verify=False)
check(r.status_code == 400, f"rollback without a confirm: {r.status_code}")
r = s.post(API + "rollback", json={"entry": 1, "confirm": 30}, headers=H,
           verify=False)
check(r.status_code == 200 and "confirm within 30 s" in r.text,
      f"rollback to entry 1, with a confirm: {r.status_code} {r.text[:80]}")
r = s.get(API + "status", verify=False)
p = r.json().get("pending") or {}
check(p.get("entry") == r.json()["applied"]["entry"] and
      r.json()["applied"]["what"] == "rollback" and
      25 <= p.get("seconds_left", 0) <= 30,
      f"the rollback waits for its confirm: {p}")
r = s.post(API + "confirm", json={}, headers=H, verify=False)
check(r.status_code == 200, f"the rollback confirmed: {r.status_code}")
r = s.post(API + "rollback", json={"entry": 999, "confirm": 30}, headers=H,
           verify=False)
check(r.status_code == 409, f"rollback to a missing entry: {r.status_code}")
r = s.get(API + "diff?from=1&to=2", verify=False)
lines = r.json().get("lines", [])
check(r.status_code == 200 and any(l.startswith("+") for l in lines),
      f"GET diff 1..2: {r.status_code}, {len(lines)} lines")
r = s.get(API + "diff?from=1&to=999", verify=False)
check(r.status_code == 404, f"GET diff to a missing entry: {r.status_code}")
for p in ("log", "mail-log"):
    r = s.get(API + p, verify=False)
    check(r.status_code == 200 and isinstance(r.json()["records"], list),
          f"GET {p}: {r.status_code}")

# Hostile input.
r = s.put(API + "config", data=b"{" * 100000, headers=dict(H, **{
    "If-Match": h2, "Content-Type": "application/json"}), verify=False)
check(r.status_code == 400, f"100,000 nested braces: {r.status_code}")
r = s.put(API + "config", data=b'{"text": "x', headers=dict(H, **{
    "If-Match": h2, "Content-Type": "application/json"}), verify=False)
check(r.status_code == 400, f"broken JSON: {r.status_code}")
# A config's PUT may bring up to 32 MB (a config of 16 MB, escaped), and
# only from a session that may change things; every other body 1 MB.
r = s.put(API + "config", data=b"x" * (10 << 20), headers=dict(H, **{
    "If-Match": h2}), verify=False)
check(r.status_code == 400, f"a 10 MB body of a session: read, not JSON: "
      f"{r.status_code}")
for what, who, size, want in (
        ("a 40 MB body of a session", s, 40 << 20, 413),
        ("a 2 MB body of no session", session(), 2 << 20, 413),
        ("a 2 MB body of a made-up session", session(), 2 << 20, 401),
        ("a 2 MB POST test of a session", s, 2 << 20, 413)):
    if "made-up" in what:
        who.cookies.set("__Host-moat_session", "0" * 64)
    try:
        r = who.request("POST" if "POST" in what else "PUT", API + (
            "test" if "POST" in what else "config"), data=b"x" * size,
            headers=dict(H, **{"If-Match": h2}), verify=False)
        check(r.status_code == want, f"{what}: {r.status_code}")
    except requests.exceptions.ConnectionError:
        check(True, f"{what}: the connection is closed")
r = s.put(API + "config", json={"text": "x"}, headers=dict(H, **{
    "If-Match": '"' * 33000}), verify=False)
check(r.status_code in (400, 431), f"If-Match of 33,000 bytes: {r.status_code}")
# One large body at a time: a second config's PUT over 1 MB, while the
# first's body is still coming, is refused (413), and the first is taken.
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
slow = ctx.wrap_socket(socket.create_connection(
    (BASE.split("//")[1], 443), source_address=("192.168.50.11", 0)))
cookie = "__Host-moat_session=" + s.cookies.get("__Host-moat_session")
slow.sendall((f"PUT /api/v1/config HTTP/1.1\r\nHost: x\r\nCookie: {cookie}"
              f"\r\nX-CSRF-Token: {csrf}\r\nIf-Match: 0123456789abcdef\r\n"
              f"Content-Type: application/json\r\n"
              f"Content-Length: {3 << 20}\r\n\r\n").encode() + b" " * 4096)
time.sleep(1)
r = s.put(API + "config", data=b" " * (2 << 20), headers=dict(H, **{
    "If-Match": h2}), verify=False)
check(r.status_code == 413 and "another" in r.json().get("error", ""),
      f"a second large body meanwhile: {r.status_code} {r.text[:80]}")
slow.sendall(b" " * ((3 << 20) - 4096 - 2) + b"{}")
answer = slow.recv(4096).decode(errors="replace")
slow.close()
check(" 400 " in answer.split("\r\n")[0] or " 409 " in answer.split("\r\n")[0],
      f"the first large body taken whole: {answer.splitlines()[:1]}")
r = s.put(API + "config", data=b" " * (2 << 20), headers=dict(H, **{
    "If-Match": h2}), verify=False)
check(r.status_code == 400, f"a large body after it: read, not a config: "
      f"{r.status_code}")
cur = s.get(API + "config", verify=False).json()
big = cur["text"] + "# a config over 4 MB, as a 100,000-rule policy's is\n" * 100000
r = s.put(API + "config", json={"text": big}, headers=dict(H, **{
    "If-Match": cur["hash"]}), verify=False)
check(r.status_code == 200 and len(big) > (4 << 20),
      f"PUT config of {len(big) >> 10} KB: {r.status_code} {r.text[:80]}")
back = s.get(API + "config", verify=False).json()
check(back["text"] == big, f"GET config: the {len(big) >> 10} KB saved")
r = s.put(API + "config", json={"text": cur["text"]}, headers=dict(H, **{
    "If-Match": back["hash"]}), verify=False)
check(r.status_code == 200, f"the config put back: {r.status_code}")
for path in ("/../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/.hidden",
             "/index.html%00.png", "/moat.js/../../../etc/shadow"):
    r = s.get(BASE + path, verify=False)
    check(r.status_code == 404, f"GET {path}: {r.status_code}")
r = s.get(BASE + "/", verify=False)
check(r.status_code == 200 and "text/html" in r.headers["Content-Type"] and
      "default-src 'self'" in r.headers.get("Content-Security-Policy", "") and
      r.headers.get("X-Frame-Options") == "DENY", "GET /: the page, with "
      "its security headers")
check(s.get(API + "status", verify=False).status_code == 200,
      "the server still answers")

# TLS 1.2 or newer only (issue 21): a client that offers at most TLS 1.1
# (this client can: tried against openssl s_server -tls1_1) is refused.
def tls_version(lo, hi, ciphers="DEFAULT"):
    c = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    c.check_hostname = False
    c.verify_mode = ssl.CERT_NONE
    c.set_ciphers(ciphers + ":@SECLEVEL=0")
    c.minimum_version, c.maximum_version = lo, hi
    raw = socket.create_connection((BASE.split("//")[1], 443),
                                   source_address=("192.168.50.11", 0))
    try:
        with c.wrap_socket(raw) as t:
            return t.version()
    except (ssl.SSLError, OSError) as e:
        return "refused"


with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    v = tls_version(ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1)
check(v == "refused", f"TLS 1.0/1.1 only: {v}")
v = tls_version(ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_2)
check(v == "TLSv1.2", f"TLS 1.2: {v}")
# Of TLS 1.2, forward-secret AEAD suites only: a client that offers only
# CBC with SHA-1, or only static RSA, is refused.
for ciphers in ("ECDHE-ECDSA-AES128-SHA:ECDHE-RSA-AES128-SHA", "AES128-GCM-SHA256"):
    v = tls_version(ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_2, ciphers)
    check(v == "refused", f"TLS 1.2 with only {ciphers}: {v}")

# Slow clients: one address holds 8 connections that send nothing; the
# server still answers others, and drops the silent ones in 30 s.
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
host = BASE.split("//")[1]
slow = []
for _ in range(8):
    c = socket.create_connection((host, 443), source_address=("192.168.50.12", 0))
    slow.append(c)
r = session("192.168.50.11").get(BASE + "/", verify=False)
check(r.status_code == 200, "8 silent connections: others still served")
for c in slow:
    c.close()

# The session times out (session-timeout 8s in the test's config; the
# test's own waits stay well under it).
time.sleep(10)
r = s.get(API + "status", verify=False)
check(r.status_code == 401, f"after the idle timeout: {r.status_code}")

# Failed logins from one address: throttled.
t = session("192.168.50.13")
codes = [login(t, "wrong-%d" % i).status_code for i in range(6)]
check(codes[:5] == [401] * 5 and codes[5] == 429,
      f"six wrong passwords from one address: {codes}")
r = login(t)
check(r.status_code == 429, f"then even the right one waits: {r.status_code}")
r = login(session("192.168.50.11"))
check(r.status_code == 200, "another address logs in")

# An apply that restarts the console (it moves to another port): the
# parent's answer reaches the request that asked, or nobody; never the
# new console's next request (issue 21, finding 1: a wrong password then
# got 200 and a session).  Moved to 8443 and back: two restarts.
def wait_served(base):
    for _ in range(100):
        try:
            if session("192.168.50.12").get(base + "/", verify=False).ok:
                return True
        except requests.exceptions.ConnectionError:
            pass
        time.sleep(0.1)
    return False


a = session("192.168.50.10")
r = login(a)
Ha = {"X-CSRF-Token": r.json()["csrf"]}
base = BASE
for port, new_base in ((8443, BASE + ":8443"), (443, BASE)):
    api = base + "/api/v1/"
    r = a.get(api + "config", verify=False)
    text, h = r.json()["text"], r.json()["hash"]
    new = re.sub(r"\n\s*listen \S+", "", text)
    new = new.replace("console {", "console {\n    listen 192.168.50.1:%d" %
                      port, 1)
    r = a.put(api + "config", json={"text": new},
              headers=dict(Ha, **{"If-Match": h}), verify=False)
    check(r.status_code == 200, f"PUT config, the console on port {port}: "
          f"{r.status_code} {r.text[:80]}")
    try:
        st = a.post(api + "apply", json={"confirm": 600}, headers=Ha,
                    verify=False).status_code
    except requests.exceptions.ConnectionError:
        st = "cut"
    check(st in (200, "cut"), f"apply, which restarts the console: {st}")
    check(wait_served(new_base), f"the console serves on port {port}")
    # (confirmed through the console where it now is)
    r = a.post(new_base + "/api/v1/confirm", json={}, headers=Ha,
               verify=False)
    check(r.status_code == 200, f"confirmed on port {port}: {r.status_code}")
    m = session("192.168.50.12")
    r = m.post(new_base + "/api/v1/login", json={"user": "mallory",
               "password": "wrong"}, verify=False)
    check(r.status_code == 401 and "__Host-moat_session" not in m.cookies,
          f"after the restart, a wrong password: {r.status_code} "
          f"{r.text[:60]}")
    r = m.post(new_base + "/api/v1/login", json={"user": "admin",
               "password": PASSWORD}, verify=False)
    check(r.status_code == 200, f"then the right one: {r.status_code}")
    base = new_base
hist = m.get(API + "history", verify=False).json().get("audit", [])
check(not any(e["user"] == "mallory" for e in hist),
      "mallory is nowhere in the audit")
check(("admin", "login") in [(e["user"], e["what"]) for e in hist],
      "the parent writes who logged in to the audit")
check(a.get(API + "status", verify=False).status_code == 200,
      "a session outlives the console's restarts (the parent holds it)")

# What the console may not change: files, users and secrets of privileged
# processes (issue 21, finding 2).
r = a.get(API + "config", verify=False)
text, h = r.json()["text"], r.json()["hash"]
for what, new in [
        ("console { certificate }", text.replace(TMP + "/console.pem",
                                                 "/etc/moat/other.pem")),
        ("console { users }", text.replace(TMP + "/users", "/tmp/users")),
        ("console { user }", re.sub(r"\buser \S+", "user root", text, 1)
         if re.search(r"\buser \S+", text) else
         text.replace("console {", "console {\n    user root", 1)),
        ("logging { metrics-file }", text + "logging {\n    metrics-file /etc/shadow\n}\n")]:
    r = a.put(API + "config", json={"text": new},
              headers=dict(Ha, **{"If-Match": h}), verify=False)
    # 422 with the reason: the console may not change it, or (checked
    # first, for every config) the path lies outside moat's directories
    # or the user is root.
    reason = r.json().get("error", "") + " ".join(
        d.get("message", "") for d in r.json().get("diagnostics", []))
    check(new != text and r.status_code == 422 and
          (what in reason or "outside moat's" in reason or
           "cannot run as" in reason),
          f"PUT config changing {what}: {r.status_code} {r.text[:100]}")
check(a.get(API + "config", verify=False).json()["hash"] == h,
      "nothing saved")

# Sessions end when their user's line in the users file changes.
users = open(TMP + "/users").read()
with open(TMP + "/users.new", "w") as f:
    f.write(users.replace("admin:", "someone:"))
os.rename(TMP + "/users.new", TMP + "/users")
r = a.get(API + "status", verify=False)
check(r.status_code == 401, f"admin removed from the users file: {r.status_code}")
with open(TMP + "/users.new", "w") as f:
    f.write(users)
os.rename(TMP + "/users.new", TMP + "/users")
check(a.get(API + "status", verify=False).status_code == 401,
      "admin back: the old session stays ended")

# Throttling per user too: wrong passwords for one user from several
# addresses lock that user for a while, from any address it has not
# logged in from; where it has, only that address's own throttle holds
# (a review, 2026-12-07: anyone could keep every admin out).  admin has
# logged in from .10, .11 and .12 (four wrong each: under their own 5).
codes = [login(session("192.168.50.%d" % (10 + i % 3)), "bad-%d" % i).status_code
         for i in range(12)]
check(codes == [401] * 12,
      f"twelve wrong passwords for admin from three addresses, four "
      f"each: {codes}")
r = login(session("192.168.50.14"))
check(r.status_code == 429, f"then admin's right password from a new "
      f"address waits: {r.status_code}")
r = login(session("192.168.50.10"))
check(r.status_code == 200, f"from an address admin logged in from "
      f"before, it does not: {r.status_code}")

# A console taken over that sends a request a byte at a time never holds
# root's loop (it did, up to 10 s a request, one after the other: a
# review, 2026-12-08): a SIGHUP meanwhile is answered at once, and past
# 10 s the channel is dropped.  The test takes a copy of the console's end
# of its channel (its fd 4) with pidfd_getfd, and drips into it.  Last:
# the console is started again after it.
import ctypes
import struct
libc = ctypes.CDLL(None, use_errno=True)
web = subprocess.run(["pgrep", "-x", "-P", str(moatd_pid), "moatd-web"],
                     capture_output=True, text=True).stdout.split()
pidfd = os.pidfd_open(int(web[0])) if web else -1
ch = libc.syscall(438, pidfd, 4, 0) if pidfd != -1 else -1  # pidfd_getfd
check(ch >= 0, f"the console's channel, for the drip: {web} "
      f"{os.strerror(ctypes.get_errno()) if ch < 0 else ''}")
if ch >= 0:
    body = json.dumps({"op": "status", "pad": "x" * 60}).encode()
    frame = struct.pack("!II", len(body), 4242) + body

    def drip():
        for b in frame:
            try:
                os.write(ch, bytes([b]))
            except OSError:
                return
            time.sleep(0.2)
    log = TMP + "/moatd.log"
    before = open(log).read().count("SIGHUP: reloading")
    t = threading.Thread(target=drip, daemon=True)
    start = time.time()
    t.start()
    time.sleep(1)
    os.kill(moatd_pid, signal.SIGHUP)
    seen = None
    while time.time() - start < 9 and seen is None:
        if open(log).read().count("SIGHUP: reloading") > before:
            seen = time.time() - start
        time.sleep(0.05)
    check(seen is not None and seen < 3,
          f"a request dripped a byte every 0.2 s: a SIGHUP at 1 s is "
          f"answered at {seen} s")
    dropped = None
    while time.time() - start < 16 and dropped is None:
        if "a request not whole within its time" in open(log).read():
            dropped = time.time() - start
        time.sleep(0.1)
    check(dropped is not None and 9 < dropped < 13,
          f"... and the channel is dropped at {dropped} s")
    os.close(ch)
    os.close(pidfd)
sys.exit(failed)
