#!/usr/bin/env python3
"""incremental-flows.py MOAT LABGEN PREFIX WORKDIR [EDITS] [FLOWS] [SEED] [ROUNDS]

The lab's random-flow differential after long sequences of incremental
applies (issue 27; doc/design/incremental.md): the gateway (namespace
PREFIXgw, the lab of scripts/lab.sh) starts from a random lab policy of
labgen's (a large one: source dispatch, NAT, 1:1, forwards), then, ROUNDS
times (default 3; every other round with the dispatch maps in pieces of a
few elements, MOAT_MAP_PIECE=2, the policy applied again when the layout
changes):

- EDITS random edits of it (default 100; incrlib.py's, in the lab's
  addresses: a rule added, changed, moved or deleted, an object's member
  added or removed, an object or a service added with a rule that uses
  it), each applied with `moat apply` and each required to go as a
  difference (MOAT_DELTA_MAX_PCT=100000: whatever its size), its
  fingerprint by parts checked against the whole table's.  An edit that
  makes the policy invalid is drawn again, and so is one that would
  change a set's or a map's head, which makes the apply whole (heads,
  below); both are counted.
- FLOWS random flows (default 300) that labgen draws for the policy as it
  is then, each sent for real through the gateway: the one counter the
  kernel moves must be the one `moat test --json` names for it, an
  accepted flow's connection entry must hold the addresses moat test
  translates it to, a denied one must make none (differential.py's
  check_flows, as the lab differential checks each of its policies).
  `moat status --json` must say that the kernel holds what the last apply
  recorded (no drift), and the packets its counters gained over the flows
  must be, rule by rule and default by default, the flows moat test says
  each decides (status_counters: moat's own reader, whatever the kernel
  calls a rule's counter; read in two halves, counters.c, and equal to
  one reader's).

Last, the same policy applied whole must leave the table as the
differences left it.

MOAT_INCRFLOWS_UNAPPLIED=N writes the last N edits of the last round to
the policy file without applying them (the kernel keeps the policy before
them), to see that the test can fail.  Prints the figures; exits 1 on any
difference.
"""
import collections
import json
import os
import random
import statistics
import subprocess
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import differential as d  # noqa: E402
from incrlib import Lab, Policy, differences, expressions, listing  # noqa: E402,E501

# A set's or map's head (every line of it but its elements: type, flags,
# counter) must not change in a difference; when it does, the whole goes
# ("changed its type or flags").  Random edits did that often while
# shared sets were named set_N in order of first use and a dispatch map
# counted only while a rule's own verdict was among its elements; now a
# dispatch map that grows past the size at which it goes in pieces, or
# shrinks below it, does (the top map, of jumps, does not count).  Such a
# draw is drawn again, and counted (heads, Sequence.edit).


def heads(nft):
    """The head of each set and map of a compiled ruleset: its lines but
    the elements."""
    res, name = {}, None
    for line in nft.splitlines():
        if line.startswith("\tset ") or line.startswith("\tmap "):
            name = line.split()[1]
            res[name] = []
        elif line == "\t}":
            name = None
        elif name is not None and line.startswith("\t\t") and \
                not line.startswith("\t\t\t") and \
                not line.startswith("\t\telements "):
            res[name].append(line.strip())
    return res


failed = 0


def fail(msg):
    global failed
    failed += 1
    print("FAIL: " + msg)


# The dispatch maps' layout of the round: every other round in pieces of
# a few elements (a test build's MOAT_MAP_PIECE; in moat, maps of 4,096
# and more), so that edits move elements between pieces, pieces come and
# go, and the rounds' first edits change the layout too.
layout = {}


def moat_env(env=None):
    e = dict(os.environ)
    e.pop("MOAT_MAP_PIECE", None)
    e.update(layout)
    e.update(env or {})
    return e


def show(moat, conf):
    return subprocess.run([moat, "show", "--nft", "-f", conf],
                          capture_output=True, text=True, env=moat_env())


def apply(moat, gw, conf, *extra, env=None):
    e = moat_env(env)
    t = time.monotonic()
    r = subprocess.run(["ip", "netns", "exec", gw, moat, "apply", "--timing",
                        *extra, "-f", conf], capture_output=True, text=True,
                       env=e)
    return r, (time.monotonic() - t) * 1000


class Sequence:
    """The edits made so far, as the applies took them."""

    def __init__(self):
        self.n = 0
        self.kinds = collections.Counter()
        self.ms = []
        self.heads = {}         # the sets' and maps' heads in force
        self.moved = 0          # draws that changed a head
        self.invalid = 0        # draws that made the policy invalid

    def edit(self, moat, gw, p, conf, unapplied):
        """One edit of p, applied (unless unapplied); the policy after
        it, or None when the apply failed."""
        i = self.n
        self.n += 1
        for _ in range(50):
            q = p.copy()
            kind = q.edit()
            with open(conf, "w") as f:
                f.write(q.text())
            c = show(moat, conf)
            if c.returncode != 0:
                self.invalid += 1
                continue
            h = heads(c.stdout)
            if any(h[n] != self.heads[n] for n in set(h) & set(self.heads)):
                self.moved += 1
                continue
            self.heads = h
            break
        else:
            fail(f"edit {i}: 50 draws, none valid or none that keeps the "
                 f"sets' heads: {c.stderr[-300:]}")
            return None
        if unapplied:
            print(f"edit {i} ({kind}): written, not applied "
                  f"(MOAT_INCRFLOWS_UNAPPLIED)")
            return q
        r, t = apply(moat, gw, conf, env={"MOAT_DELTA_MAX_PCT": "100000",
                                          "MOAT_FINGERPRINT_CHECK": "1"})
        if r.returncode != 0:
            fail(f"edit {i} ({kind}): apply: {r.stderr[-500:]}")
            return None
        if "moat: test: the fingerprint" in r.stderr:
            fail(f"edit {i} ({kind}): {r.stderr[-500:]}")
        if "timing: incremental apply" in r.stderr:
            self.kinds[kind] += 1
            self.ms.append(t)
        else:
            fail(f"edit {i} ({kind}) went whole: " + "; ".join(
                l for l in r.stderr.splitlines() if "whole apply" in l))
        return q

    def report(self, nrules, p, secs):
        ms = self.ms
        print(f"edits {self.n}: {len(p.rules)} rules (from {nrules}), "
              f"{len(p.objects)} objects, {len(p.services)} services; "
              f"{sum(self.kinds.values())} applied as differences (" +
              ", ".join(f"{k} {v}" for k, v in sorted(self.kinds.items()))
              + ")" + (f", {statistics.median(ms):.0f} ms median, "
                       f"{max(ms):.0f} ms the longest" if ms else "") +
              f"; drawn again: {self.moved} draws that changed a set's or "
              f"map's head, {self.invalid} invalid; "
              f"{secs:.0f} s")


def status(moat, gw, split=False):
    """moat status --json; split: its counters read by two readers, each
    with half of the dumps (counters.c: on an idle core past 512 dumps,
    which the lab's tables are not)."""
    env = dict(os.environ)
    if split:
        env.update(MOAT_CORES_IDLE="1", MOAT_COUNTERS_SPLIT_FROM="1")
    r = subprocess.run(["ip", "netns", "exec", gw, moat, "status", "--json"],
                       capture_output=True, text=True, env=env)
    # (a test build says so when it split the dumps)
    if split and "by a second reader" not in r.stderr:
        fail(f"moat status: the counters were not read in two halves: "
             f"{r.stderr[-300:]}")
    try:
        return json.loads(r.stdout)
    except ValueError:
        fail(f"moat status --json: {r.stderr[-300:]}")
        return None


def flows_of(moat, labgen, seed, nflows, dd, conf):
    """labgen's flows for the policy in conf (in dd), each with the
    counter and verdict moat test gives it."""
    subprocess.run([labgen, str(seed), str(nflows), dd, "flows"], check=True)
    with open(os.path.join(dd, "flows.txt")) as f:
        drawn = [line.split() for line in f]
    flows = []
    for fl, o in zip(drawn, d.moat_said(moat, conf, drawn)):
        want, verdict = d.counter_of(o), o["verdict"]
        if (want, verdict) != tuple(fl[5:7]):
            fail(f"{' '.join(fl[:5])}: labgen's evaluator says {fl[5]} "
                 f"({fl[6]}), moat test {want} ({verdict})")
        flows.append(fl[:5] + [want, verdict])
    return flows


def send(moat, prefix, gw, events, conf, flows, where):
    """The flows for real, and moat status's counters over them."""
    before = status(moat, gw)
    if before is None:
        return
    if (before["applied"] or {}).get("drift") != "none":
        fail(f"{where}: moat status: drift: {before['applied']}")
    t = d.Tally()
    d.check_flows(moat, prefix, gw, events, conf, flows, t, where)
    after = status(moat, gw, split=True)
    if after is None:
        return
    # The same counters read by one reader (no traffic in between).
    one = status(moat, gw)
    if one is None:
        return
    if one["counters"] != after["counters"]:
        fail(f"{where}: moat status: the counters read in two halves "
             f"differ from one reader's")
    verdicts = collections.Counter(fl[6] for fl in flows)
    print(f"{where}: {t.total} flows sent for real (" +
          ", ".join(f"{k} {v}" for k, v in sorted(verdicts.items())) +
          f"): the kernel's deciding rule equals moat test's for {t.agree} ("
          + ", ".join(f"{k}: {v}" for k, v in sorted(t.by_kind.items())) +
          f"; {len({fl[5] for fl in flows})} deciding counters)")
    print(f"{where}: NAT: {t.nat_checked} accepted flows; the kernel's "
          f"translation equals moat test's for {t.nat_agree} (" +
          ", ".join(f"{k}: {v}" for k, v in sorted(t.nat_seen.items())) +
          f"); {t.drop_checked} denied flows, the kernel made no "
          f"connection of {t.drop_agree}")
    if not t.ok():
        fail(f"{where}: the flows do not all agree (above)")
    # moat's own reader of the counters: each deciding counter gained
    # the flows moat test says it decides.
    want = collections.Counter(fl[5] for fl in flows)
    a, b = d.status_counters(before), d.status_counters(after)
    got = {n: b[n] - a.get(n, 0) for n in d.deciding(a, b)}
    wrong = sorted(n for n in set(want) | set(got)
                   if want.get(n, 0) != got.get(n, 0))
    for n in wrong:
        fail(f"{where}: moat status: {n} gained {got.get(n, 0)} packets, "
             f"moat test says {want.get(n, 0)} flows")
    if not wrong:
        print(f"{where}: moat status: the {len(got)} deciding counters "
              f"that moved gained {sum(got.values())} packets, each the "
              f"flows moat test says it decides")


def main():
    moat, labgen, prefix, work = sys.argv[1:5]
    nedits = int(sys.argv[5]) if len(sys.argv) > 5 else 100
    nflows = int(sys.argv[6]) if len(sys.argv) > 6 else 300
    seed = int(sys.argv[7]) if len(sys.argv) > 7 else 27
    rounds = int(sys.argv[8]) if len(sys.argv) > 8 else 3
    unapplied = int(os.environ.get("MOAT_INCRFLOWS_UNAPPLIED", "0"))
    gw = prefix + "gw"
    start = time.monotonic()

    # A large policy of labgen's (its seeds 2 mod 3): source dispatch.
    dd = os.path.join(work, "policy")
    os.makedirs(dd, exist_ok=True)
    subprocess.run([labgen, str(3 * seed + 2), "0", dd], check=True)
    conf = os.path.join(dd, "policy.conf")
    with open(conf) as f:
        p = Policy.parse(Lab(random.Random(seed)), f.read())
    nrules = len(p.rules)
    r, _ = apply(moat, gw, conf)
    if r.returncode != 0:
        fail("first apply: " + r.stderr[-500:])
        return
    seq = Sequence()
    seq.heads = heads(show(moat, conf).stdout)
    events = None
    try:
        for k in range(rounds):
            layout.clear()
            if k % 2:
                layout["MOAT_MAP_PIECE"] = "2"
            if k > 0:
                # The layout changed, and the top maps' heads with it
                # (such a change goes whole): the same policy again.
                r, _ = apply(moat, gw, conf, env={
                    "MOAT_DELTA_MAX_PCT": "100000",
                    "MOAT_FINGERPRINT_CHECK": "1"})
                if r.returncode != 0:
                    fail(f"the layout changed: apply: {r.stderr[-500:]}")
                    return
                print(f"after {seq.n} edits: the maps " +
                      ("in pieces" if layout else "whole") + ", applied " +
                      ("as a difference" if "timing: incremental apply" in
                       r.stderr else "whole: " + "; ".join(
                           l for l in r.stderr.splitlines()
                           if "moat: whole apply" in l)))
                seq.heads = heads(show(moat, conf).stdout)
            t = time.monotonic()
            for i in range(nedits):
                last = k == rounds - 1 and i >= nedits - unapplied
                if (p := seq.edit(moat, gw, p, conf, last)) is None:
                    return
            seq.report(nrules, p, time.monotonic() - t)
            nft = show(moat, conf).stdout
            pieces = sum(line.startswith("\tmap ") and ("_m4_" in line or
                                                         "_m6_" in line)
                         for line in nft.splitlines())
            print(f"after {seq.n} edits: the source dispatch's maps " +
                  (f"in {pieces} pieces" if pieces else "whole")
                  if "saddr vmap" in nft else
                  "note: the policy is not compiled to source dispatch")
            flows = flows_of(moat, labgen, seed + k, nflows, dd, conf)
            # The kernel tracks connections once a table asks for it.
            if events is None:
                events = d.Events(gw, os.path.join(work, "conntrack.events"))
            send(moat, prefix, gw, events, conf, flows,
                 f"after {seq.n} edits")
    finally:
        if events is not None:
            events.close()

    # The same policy whole: the table the differences left must be its.
    incr, err = listing(gw)
    xincr = expressions(gw)
    # (through libnftables: a test build's MOAT_WHOLE_NFT; moat's own
    # batch is what loaded the table first)
    r, _ = apply(moat, gw, conf, "--whole", env={"MOAT_WHOLE_NFT": "1"})
    whole, err2 = listing(gw)
    xwhole = expressions(gw)
    if r.returncode != 0 or incr is None or whole is None:
        fail(f"the whole apply at the end: {r.stderr[-300:]} {err} {err2}")
    else:
        for msg in differences(incr, whole):
            fail(f"after the edits, against the whole apply: {msg}")
        # and to the kernel: each rule's expressions, each set's
        # elements as it holds them (moat's batch against libnftables)
        if xincr is None or xwhole is None or xincr != xwhole:
            fail("after the edits, the kernel holds other expressions or "
                 "elements than after the whole apply: %s" % [
                     x for x in xincr or [] if x not in set(xwhole or [])
                 ][:2])
        elif incr == whole:
            print("the table after the edits equals the whole apply's, "
                  "expressions and elements too")
    print(f"incremental flows: {time.monotonic() - start:.0f} s")


main()
sys.exit(1 if failed else 0)
