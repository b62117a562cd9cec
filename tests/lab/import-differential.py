#!/usr/bin/env python3
"""import-differential.py MOAT IMPORTGEN PREFIX NCONFIGS NFLOWS WORKDIR

For each of NCONFIGS random configs of the lab's shape (importgen gen:
pfSense config.xml and iptables-save files, in turn), `moat import` it,
apply the result in the gw namespace, send every flow for real from the
lan or wan namespace, and read which named counter of table inet moat
counted it.  For every flow:
- the kernel's deciding rule (the counter) must be the one `moat test
  --json` names on the imported moat.conf;
- an accepted flow must make an entry in gw's connection table, a
  refused one none;
- the kernel's verdict must be the source's, as the evaluator of the
  source's semantics the equivalence report uses decides it (importgen
  explain: pf's last match unless quick, iptables' chain traversal), or
  else the report must list the flow in a region that differs; and no
  flow on which they agree may lie in a region the report lists;
- the report's own view of moat's verdict must be moat test's.
MOAT_IMPDIFF_SEED moves the seeds (default 0).  MOAT_IMPDIFF_LIE=N turns
the first accept rule of the Nth config's import into a deny (or a deny
into an accept) after the import, to see that the test can fail.
Prints the flows checked per verdict class; exits 1 on any difference.
"""
import ipaddress
import json
import os
import re
import subprocess
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import differential as d  # noqa: E402

LAB_ADDRS = ["--addr", "gww0=198.51.100.1/24", "--addr",
             "gwl0=192.168.50.1/24"]
PROTO = {"tcp": 6, "udp": 17, "icmp": 1, "icmpv6": 58}
ACTION = {"accept": "pass", "deny": "block", "reject": "reject"}


def addr_range(text):
    lo, _, hi = text.partition("-")
    a = int(ipaddress.ip_address(lo))
    b = int(ipaddress.ip_address(hi or lo))
    v4 = ":" not in lo
    return (a, b, v4)


def svc_range(text):
    """The keys (protocol << 16 | port or type) of a report's service."""
    w = text.split()
    if w[0] == "protocols":
        p, q = w[1].split("-")
        return (int(p) << 16, int(q) << 16 | 0xffff)
    if w[0] == "protocol":
        return (int(w[1]) << 16, int(w[1]) << 16 | 0xffff)
    p = PROTO.get(w[0], 132)
    lo, _, hi = w[-1].partition("-")
    return (p << 16 | int(lo), p << 16 | int(hi or lo))


def parse_report(text):
    """{interface: [state, [regions], regions not shown]}"""
    rep, cur = {}, None
    for line in text.splitlines():
        m = re.match(r"  (\S+): (equivalent|differs|not compared)", line)
        if m:
            cur = m.group(1)
            rep[cur] = [m.group(2), [], 0]
            continue
        m = re.match(r"    from (\S+) to (\S+), (.*?): the source", line)
        if m and cur:
            rep[cur][1].append((addr_range(m.group(1)),
                                addr_range(m.group(2)),
                                svc_range(m.group(3))))
            continue
        m = re.match(r"    \.\.\. and (\d+) more regions", line)
        if m and cur:
            rep[cur][2] = int(m.group(1))
    return rep


def listed(regions, src, dst, key):
    s = int(ipaddress.ip_address(src))
    t = int(ipaddress.ip_address(dst))
    v4 = ":" not in src
    for (slo, shi, sv4), (dlo, dhi, _), (klo, khi) in regions:
        # the report's IPv4 addresses are written as IPv4: compare them so
        if sv4 == v4 and slo <= s <= shi and dlo <= t <= dhi and \
                klo <= key <= khi:
            return True
    return False


def lie(conf, tested):
    """The rule that decides most of the flows turned around: accept to
    deny, deny or reject to accept."""
    count = {}
    for o in tested:
        if o["decided_by"] == "rule":
            count[o["line"]] = count.get(o["line"], 0) + 1
    if not count:
        return "no rule decides a flow: nothing changed"
    n = max(count, key=count.get) - 1
    with open(conf) as f:
        lines = f.readlines()
    for want, to in (("accept on ", "deny on "), ("deny on ", "accept on "),
                     ("reject on ", "accept on ")):
        if lines[n].startswith(want):
            lines[n] = to + lines[n][len(want):]
            with open(conf, "w") as f:
                f.writelines(lines)
            return f"line {n + 1}: {want.strip()} made {to.strip()}"
    return "nothing changed"


def main():
    moat, gen, prefix, nconf, nflows, work = sys.argv[1:7]
    gw = prefix + "gw"
    seed0 = int(os.environ.get("MOAT_IMPDIFF_SEED", "0"))
    liar = int(os.environ.get("MOAT_IMPDIFF_LIE", "-1"))
    events = []
    try:
        return run(moat, gen, prefix, int(nconf), nflows, work, gw, seed0,
                   liar, events)
    finally:
        for e in events:
            e.close()


def run(moat, gen, prefix, nconf, nflows, work, gw, seed0, liar, events):
    bad = 0
    total = rule_agree = src_agree = listed_diff = unshown = 0
    not_compared = fate_ok = fate_checked = 0
    per_verdict = {}
    per_decider = {}
    kinds = {"pfsense": 0, "iptables": 0}
    states = {"equivalent": 0, "differs": 0, "not compared": 0}

    def fail(msg):
        nonlocal bad
        bad += 1
        print("FAIL: " + msg)

    for i in range(nconf):
        kind = "pfsense" if i % 2 == 0 else "iptables"
        seed = seed0 + i // 2
        kinds[kind] += 1
        dd = os.path.join(work, f"c{i}")
        os.makedirs(dd, exist_ok=True)
        subprocess.run([gen, "gen", kind, str(seed), nflows, dd], check=True)
        src = os.path.join(dd, "source." + ("xml" if kind == "pfsense"
                                             else "rules"))
        conf = os.path.join(dd, "imported.conf")
        r = subprocess.run([moat, "import", kind, src, "-o", conf],
                           capture_output=True, text=True)
        where = f"config {i} ({kind} seed {seed}, {dd})"
        if r.returncode not in (0, 1):
            fail(f"{where}: moat import: {r.stderr}")
            continue
        applied = os.path.join(dd, "moat.conf")
        with open(conf) as f, open(applied, "w") as g:
            g.write(f.read())
        # The source's verdicts, and the report under the lab's
        # addresses (iptables' stand-ins are the lab's devices' here).
        x = subprocess.run([gen, "explain", kind, src,
                            os.path.join(dd, "flows.txt"), conf],
                           capture_output=True, text=True)
        if x.returncode != 0:
            fail(f"{where}: importgen explain: {x.stderr}")
            continue
        report_text = x.stderr
        cli_report = r.stderr[r.stderr.find("equivalence ("):]
        if kind == "pfsense" and cli_report != report_text:
            fail(f"{where}: moat import's report is not the one "
                 f"importgen's import gives:\n{cli_report}\n---\n"
                 f"{report_text}")
        report = parse_report(report_text)
        for st, _, _ in report.values():
            states[st] += 1
        said = [line.split(None, 3) for line in x.stdout.splitlines()]
        with open(os.path.join(dd, "flows.txt")) as f:
            flows = [line.split() for line in f]
        if len(said) != len(flows):
            fail(f"{where}: importgen explain gave {len(said)} answers "
                 f"for {len(flows)} flows")
            continue
        batch = "".join(f"{said[n][0]} {s} {ds} {p} {pt}\n"
                        for n, (_, s, ds, p, pt) in enumerate(flows))
        t = subprocess.run([moat, "test", "-f", applied, "--batch", "-",
                            "--json"] + LAB_ADDRS, input=batch,
                           capture_output=True, text=True)
        tested = [json.loads(line) for line in t.stdout.splitlines()]
        if i == liar and len(tested) == len(flows):
            print(f"{where}: MOAT_IMPDIFF_LIE: {lie(applied, tested)}")
            t = subprocess.run([moat, "test", "-f", applied, "--batch", "-",
                                "--json"] + LAB_ADDRS, input=batch,
                               capture_output=True, text=True)
            tested = [json.loads(line) for line in t.stdout.splitlines()]
        if len(tested) != len(flows) or any("error" in o for o in tested):
            fail(f"{where}: moat test --batch: {t.stderr} {t.stdout[:500]}")
            continue
        a = subprocess.run(["ip", "netns", "exec", gw, moat, "apply", "-f",
                            applied], capture_output=True, text=True)
        if a.returncode != 0:
            fail(f"{where}: apply: {a.stderr}")
            continue
        if not events:
            events.append(d.Events(gw, os.path.join(work, "conntrack.ev")))
        d.setns(gw)
        subprocess.run(["conntrack", "-F"], capture_output=True)
        events[0].forget()
        refused = []
        for n, (side, s, ds, proto, port) in enumerate(flows):
            o = tested[n]
            want = d.counter_of(o)
            verdict = ACTION[o["verdict"]]
            before = d.counters(gw)
            sock, key = d.send(prefix + side, s, ds, proto, int(port))
            got = []
            for _ in range(100):
                got = d.deciding(before, d.counters(gw))
                if got:
                    break
                time.sleep(0.005)
            sock.close()
            total += 1
            line = f"{where}: {side} {s} -> {ds} {proto}/{port}"
            if got != [want]:
                fail(f"{line}: moat test says {want} ({verdict}), the "
                     f"kernel counted {got or 'nothing'}")
                continue
            rule_agree += 1
            # The kernel's own word on its verdict: a connection entry
            # for what it accepted (checked now), none for the rest
            # (checked when the config's flows are sent).
            if verdict == "pass":
                fate_checked += 1
                if events[0].find(s, ds, proto, key) is not None:
                    fate_ok += 1
                else:
                    fail(f"{line}: accepted by {want}, and no connection "
                         f"entry in gw")
            else:
                refused.append((line, s, ds, proto, key))
            per_verdict[verdict] = per_verdict.get(verdict, 0) + 1
            dk = want.split("_")[0]
            per_decider[dk] = per_decider.get(dk, 0) + 1
            ifc, sv, mv, swhere = said[n]
            if sv == "-":
                not_compared += 1
                continue
            if ACTION.get(o["verdict"]) != mv and i != liar:
                fail(f"{line}: the report's view of moat says {mv}, "
                     f"moat test {verdict}")
            k = PROTO[proto] << 16 | int(port)
            st, regions, more = report.get(ifc, ["absent", [], 0])
            if sv == verdict:
                # and the report lists no region where both agree
                if st == "differs" and listed(regions, s, ds, k):
                    fail(f"{line}: the report on {ifc} lists it as "
                         f"differing; the source and the kernel both "
                         f"say {sv}")
                src_agree += 1
                continue
            if st == "differs" and listed(regions, s, ds, k):
                listed_diff += 1
            elif st == "differs" and more > 0:
                unshown += 1
            else:
                fail(f"{line}: the kernel says {verdict} ({want}), the "
                     f"source says {sv} ({swhere}), and the report "
                     f"on {ifc} does not list it ({st})")
        time.sleep(0.3)
        for line, s, ds, proto, key in refused:
            fate_checked += 1
            if events[0].find(s, ds, proto, key, timeout=0) is None:
                fate_ok += 1
            else:
                fail(f"{line}: refused by moat, and the kernel made a "
                     f"connection entry")
    print(f"import differential: {nconf} configs ({kinds['pfsense']} "
          f"pfSense, {kinds['iptables']} iptables); reports: "
          + ", ".join(f"{v} interfaces {k}" for k, v in states.items()))
    print(f"{total} flows sent for real: the kernel's deciding rule equals "
          f"moat test's for {rule_agree} (" +
          ", ".join(f"{k}: {v}" for k, v in sorted(per_decider.items())) +
          "); by the kernel's verdict: " +
          ", ".join(f"{k}: {v}" for k, v in sorted(per_verdict.items())))
    print(f"the connection table agrees for {fate_ok} of {fate_checked}")
    print(f"the source's verdict equals the kernel's for {src_agree}; "
          f"{listed_diff} differ, each in a region the report lists; "
          f"{unshown} differ on an interface whose report lists more "
          f"regions than it shows; {not_compared} on interfaces not "
          f"compared")
    if bad or total == 0 or src_agree == 0:
        print(f"{bad} failures")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
