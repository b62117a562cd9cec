#!/usr/bin/env python3
"""incremental.py MOAT NS_INCR NS_WHOLE TMP [RULES] [EDITS] [SEED]

The incremental apply's differential test (doc/design/incremental.md): a
random policy of RULES rules (default 1000) is applied in namespace
NS_INCR, then EDITS random edits (default 200: a rule added, changed,
moved or deleted, an object's member added or removed, an object or a
service added) one after the other, each applied there as a difference
(MOAT_DELTA_MAX_PCT=100000: whatever its size), its drift fingerprint
made from the parts it changed and checked against the whole table's
(MOAT_FINGERPRINT_CHECK).  After each, the same policy
goes whole into NS_WHOLE (moat apply --whole, a state of its own), and the
two kernels' table inet moat, as `nft -j list table` normalised (handles
dropped, counters zeroed, chains and sets by name, elements sorted), must
be equal.  Every edit must have gone as a difference.

Then, in NS_INCR: a rule added by hand makes the next apply whole (drift);
a difference the kernel refuses (MOAT_NFT_INJECT: a rule
for a chain that does not exist, in the same transaction) leaves the
ruleset and the history as they were; and a difference applied with
--confirm 2 and not confirmed is undone by the watchdog: the ruleset
before it is back, and the history says revert.  Last, the example configs
one after the other (forth, back, crosswise), each as a difference
compared with its whole apply.  The policy and its edits are
incrlib.py's (shape Bare), which incremental-flows.py shares.  Exit 0 or 1.
"""
import json
import os
import random
import re
import subprocess
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from incrlib import Bare, Policy, listing, same_tables  # noqa: E402

moat, ns_incr, ns_whole, tmp = sys.argv[1:5]
nrules = int(sys.argv[5]) if len(sys.argv) > 5 else 1000
nedits = int(sys.argv[6]) if len(sys.argv) > 6 else 200
seed = int(sys.argv[7]) if len(sys.argv) > 7 else 27
rng = random.Random(seed)
failed = False


def fail(msg):
    global failed
    print("FAIL: " + msg)
    failed = True


def apply(ns, state, conf, *extra, env=None):
    e = dict(os.environ)
    e["MOAT_STATE_DIR"] = state
    # Dispatch maps in pieces of about 4 elements (a test build's
    # MOAT_MAP_PIECE; in moat, maps of 4,096 and more): edits move
    # elements between pieces, and pieces come and go.
    e.setdefault("MOAT_MAP_PIECE", "4")
    # The whole applies compared with go through libnftables (a test
    # build's MOAT_WHOLE_NFT): NS_INCR's whole applies go over moat's
    # own batch, and this compares the two as well.
    if ns == ns_whole:
        e["MOAT_WHOLE_NFT"] = "1"
    if env:
        e.update(env)
    return subprocess.run(["ip", "netns", "exec", ns, moat, "apply",
                           "--timing", *extra, "-f", conf],
                          capture_output=True, text=True, env=e)


def compare(what):
    # The same listing, and the same to the kernel: each rule's
    # expressions as it holds them (a rule moat's batch sent, nfrule.c,
    # against libnftables' own).
    return same_tables(ns_incr, ns_whole, what, fail,
                       ("difference's", "whole's"))


def history(state):
    with open(os.path.join(state, "history.log")) as f:
        log = f.read()
    return log, sorted(os.listdir(os.path.join(state, "history")))


def drifted(p, conf, si, sw):
    """A rule added by hand: the next apply must go whole, say why, and
    leave the kernel as a whole apply does."""
    subprocess.run(["ip", "netns", "exec", ns_incr, "nft", "add", "rule",
                    "inet", "moat", "forward", "meta", "mark", "0x1234",
                    "accept"], check=True)
    p.rules.insert(len(p.rules) // 4, p.new_rule())
    with open(conf, "w") as f:
        f.write(p.text())
    r = apply(ns_incr, si, conf, env={"MOAT_DELTA_MAX_PCT": "100000"})
    if r.returncode != 0 or "timing: whole apply" not in r.stderr or \
            "(drift)" not in r.stderr:
        fail("a rule added by hand: not a whole apply for drift: " +
             r.stderr[-400:])
        return
    w = apply(ns_whole, sw, conf, "--whole")
    if w.returncode != 0:
        fail("drift: whole apply: " + w.stderr[-300:])
        return
    if compare("after drift"):
        print("incremental: a rule added by hand made the next apply whole "
              "(drift), and the kernel equals the whole apply's")


def anonymous_drift(p, conf, si, sw):
    """An anonymous map replaced by hand in two steps: the kernel gives the
    new one the old one's name, so the rule is the same bytes; only the
    map's contents differ (here the WAN's traffic sent to another zone).
    The fingerprint reads an anonymous set with its rule's chain: status
    must say drift, and the next apply go whole and put it right."""
    r = subprocess.run(["ip", "netns", "exec", ns_incr, "nft", "-a", "list",
                        "chain", "inet", "moat", "input"],
                       capture_output=True, text=True)
    m = re.search(r"iifname vmap \{ (.*) \} # handle (\d+)", r.stdout)
    if m is None:
        fail("anonymous drift: no vmap in the input chain: " + r.stdout)
        return
    def lookup_set():
        d = subprocess.run(["ip", "netns", "exec", ns_incr, "nft",
                            "--debug=netlink", "list", "chain", "inet",
                            "moat", "input"], capture_output=True, text=True)
        return re.findall(r"lookup reg \d+ set (__map\d+)", d.stdout)
    before = lookup_set()
    pairs = m.group(1).split(", ")
    zones = [x.split(" : ")[1] for x in pairs]
    swapped = ", ".join("%s : %s" % (x.split(" : ")[0], zones[-1])
                        for x in pairs)
    for how in ('iifname "lo" accept', "iifname vmap { %s }" % swapped):
        subprocess.run(["ip", "netns", "exec", ns_incr, "nft", "replace",
                        "rule", "inet", "moat", "input", "handle",
                        m.group(2)] + how.split(), check=True)
    # (the premise: the new map has the old one's name, so that the rule
    # is the same bytes; with another name the rule alone would show it)
    if not before or lookup_set() != before:
        fail("an anonymous map replaced by hand: its name was not reused "
             "(%s, then %s): the case is not made" % (before, lookup_set()))
        return
    st = subprocess.run(["ip", "netns", "exec", ns_incr, moat, "status"],
                        capture_output=True, text=True,
                        env=dict(os.environ, MOAT_STATE_DIR=si))
    if "was changed since" not in st.stdout:
        fail("an anonymous map replaced by hand: status says no drift: " +
             st.stdout[-300:])
        return
    p.rules.insert(len(p.rules) // 5, p.new_rule())
    with open(conf, "w") as f:
        f.write(p.text())
    r = apply(ns_incr, si, conf, env={"MOAT_DELTA_MAX_PCT": "100000"})
    w = apply(ns_whole, sw, conf, "--whole")
    if r.returncode != 0 or "timing: whole apply" not in r.stderr or \
            "(drift)" not in r.stderr or w.returncode != 0:
        fail("an anonymous map replaced by hand: the next apply not whole "
             "for drift: " + r.stderr[-300:])
        return
    if compare("after an anonymous map replaced by hand"):
        print("incremental: an anonymous map replaced by hand (same name, "
              "same rule) was drift: status said so, the next apply went "
              "whole and the kernel equals the whole apply's")


def other_boot(conf, si):
    """The generation starts again at every boot: a record whose
    generation is the kernel's now, but of another boot, must not be
    taken for 'nothing changed'.  The table is deleted (one commit: the
    generation recorded plus one, as a reboot may give) and the record
    made to say that generation with another boot's id; the apply of the
    same config must load the table whole."""
    r = apply(ns_incr, si, conf)
    if r.returncode != 0:
        fail("another boot: apply: " + r.stderr[-300:])
        return
    hist = os.path.join(si, "history")
    seq = max(int(n.split(".")[0]) for n in os.listdir(hist)
              if n.endswith(".kernel"))
    kfile = os.path.join(hist, "%d.kernel" % seq)
    with open(kfile) as f:
        lines = f.read().splitlines()
    g = [l.split() for l in lines if l.startswith("nfgen ")]
    if not g or len(g[0]) != 3:
        fail("another boot: no generation with its boot recorded: %s" %
             lines)
        return
    subprocess.run(["ip", "netns", "exec", ns_incr, "nft", "delete", "table",
                    "inet", "moat"], check=True)
    lines = [l for l in lines if not l.startswith("nfgen ")] + [
        "nfgen %d 00000000-0000-0000-0000-000000000000/1" % (int(g[0][1]) + 1)]
    with open(kfile, "w") as f:
        f.write("\n".join(lines) + "\n")
    r = apply(ns_incr, si, conf)
    t = subprocess.run(["ip", "netns", "exec", ns_incr, "nft", "list",
                        "table", "inet", "moat"], capture_output=True)
    if r.returncode != 0 or t.returncode != 0 or \
            "timing: whole apply" not in r.stderr:
        fail("another boot's generation taken for this one's: the table "
             "is %s after the apply (%s)" % (
                 "there" if t.returncode == 0 else "missing",
                 r.stderr[-300:]))
        return
    print("incremental: a generation recorded in another boot is not "
          "trusted: the table was loaded whole")


def refused(p, conf, si):
    before, _ = listing(ns_incr)
    hist = history(si)
    p.rules.insert(len(p.rules) // 2, p.new_rule())
    with open(conf, "w") as f:
        f.write(p.text())
    r = apply(ns_incr, si, conf, env={
        "MOAT_DELTA_MAX_PCT": "100000",
        "MOAT_NFT_INJECT": "add rule inet moat no_such_chain accept"})
    if r.returncode == 0:
        fail("a refused difference: the apply succeeded")
    if "the kernel refused the difference" not in r.stderr:
        fail("a refused difference: not said: " + r.stderr[-300:])
    after, _ = listing(ns_incr)
    if after != before:
        fail("a refused difference changed the kernel's ruleset")
    if history(si) != hist:
        fail("a refused difference changed the history")
    print("incremental: a refused difference left the ruleset and the "
          "history as they were")


def lapsed(p, conf, si):
    import time
    before, _ = listing(ns_incr)
    p.rules.insert(len(p.rules) // 3, p.new_rule())
    with open(conf, "w") as f:
        f.write(p.text())
    r = apply(ns_incr, si, conf, "--confirm", "2",
              env={"MOAT_DELTA_MAX_PCT": "100000"})
    if r.returncode != 0 or "timing: incremental apply" not in r.stderr:
        fail("apply --confirm: not applied as a difference: " +
             r.stderr[-300:])
        return
    during, _ = listing(ns_incr)
    if during == before:
        fail("apply --confirm: the ruleset did not change")
    h = table_handle(ns_incr)
    for _ in range(100):
        time.sleep(0.1)
        log, _ = history(si)
        if log.splitlines()[-1].split()[3] == "revert":
            break
    else:
        fail("apply --confirm: no revert in the history after 10 s")
    after, _ = listing(ns_incr)
    if after != before:
        fail("apply --confirm: the ruleset before it is not back")
    elif table_handle(ns_incr) != h:
        fail("apply --confirm: the watchdog's revert loaded the whole "
             "ruleset where a difference would do")
    else:
        print("incremental: an unconfirmed difference was undone by the "
              "watchdog, as a difference: the ruleset before it is back")
    # The watchdog gone (killed, or the machine was down): the next
    # command past the deadline reverts, as a difference too.
    p.rules.insert(len(p.rules) // 3, p.new_rule())
    with open(conf, "w") as f:
        f.write(p.text())
    # (a deadline the watchdog is killed well before, even in a slow
    # sanitizer build: one killed while reverting would leave drift)
    r = apply(ns_incr, si, conf, "--confirm", "4",
              env={"MOAT_DELTA_MAX_PCT": "100000"})
    with open(os.path.join(si, "pending")) as f:
        pid = int(f.read().split()[1])
    os.kill(pid, 9)
    time.sleep(4.5)
    e = dict(os.environ, MOAT_STATE_DIR=si, MOAT_DELTA_MAX_PCT="100000")
    c = subprocess.run(["ip", "netns", "exec", ns_incr, moat, "confirm"],
                       capture_output=True, text=True, env=e)
    after, _ = listing(ns_incr)
    if r.returncode != 0 or "ran out unconfirmed" not in c.stdout or \
            "moat: incremental:" not in c.stdout or after != before or \
            table_handle(ns_incr) != h:
        fail("an overdue confirm settled by the next command: not put back "
             "as a difference: %s %s" % (c.stdout[-300:], c.stderr[-300:]))
    else:
        print("incremental: an overdue confirm whose watchdog was gone was "
              "put back by the next command, as a difference")


def table_handle(ns):
    """table inet moat's handle: a whole load deletes the table and makes
    it anew (another handle); a difference keeps it."""
    r = subprocess.run(["ip", "netns", "exec", ns, "nft", "-j", "list",
                        "tables"], capture_output=True, text=True)
    for o in json.loads(r.stdout or '{"nftables": []}')["nftables"]:
        t = o.get("table")
        if t and t["family"] == "inet" and t["name"] == "moat":
            return t["handle"]
    return None


def rollback(si, *extra, env=None):
    e = dict(os.environ)
    e["MOAT_STATE_DIR"] = si
    e["MOAT_DELTA_MAX_PCT"] = "100000"
    if env:
        e.update(env)
    return subprocess.run(["ip", "netns", "exec", ns_incr, moat, "rollback",
                           *extra], capture_output=True, text=True, env=e)


def rollbacks(texts, conf, si, sw):
    """moat rollback after the edits, three times over (each goes back
    one entry more: the texts the edits applied, newest last), each as a
    difference from the entry in force, the kernel equal after each to
    the whole apply of the config it went back to.  Then the apply of
    the newest config goes as a difference again (what the rollback
    recorded of the kernel holds).  A rollback the kernel refuses as a
    difference (MOAT_NFT_INJECT) and one after a rule added by hand
    (drift) go whole, say why, and leave the kernel as a whole apply of
    the config they go back to."""
    back = os.path.join(tmp, "back.conf")
    if len(texts) < 5:
        print("incremental: too few edits for the rollbacks (left out)")
        return
    for k in range(3):
        h = table_handle(ns_incr)
        r = rollback(si)
        if r.returncode != 0 or "moat: incremental:" not in r.stdout or \
                table_handle(ns_incr) != h:
            fail("rollback %d: not as a difference: %s %s" % (
                k + 1, r.stdout[-300:], r.stderr[-300:]))
            return
        with open(back, "w") as f:
            f.write(texts[-2 - k])
        w = apply(ns_whole, sw, back, "--whole")
        if w.returncode != 0:
            fail("rollback %d: whole apply: %s" % (k + 1, w.stderr[-300:]))
            return
        if not compare("rollback %d" % (k + 1)):
            return
    r = apply(ns_incr, si, conf, env={"MOAT_DELTA_MAX_PCT": "100000",
                                      "MOAT_FINGERPRINT_CHECK": "1"})
    if r.returncode != 0 or "timing: incremental apply" not in r.stderr or \
            "moat: test: the fingerprint" in r.stderr:
        fail("the apply after the rollbacks: not a difference: " +
             r.stderr[-400:])
        return
    print("incremental: three rollbacks went as differences, the kernel "
          "equal to the whole apply of the config each went back to; the "
          "apply after them went as a difference")
    for how, env, said in (
            ("refused", {"MOAT_NFT_INJECT":
                         "add rule inet moat no_such_chain accept"},
             "moat: whole: the kernel refused the difference"),
            ("drift", None, "(drift)"),
            ("dormant", None, "(drift)")):
        if how == "drift":
            subprocess.run(["ip", "netns", "exec", ns_incr, "nft", "add",
                            "rule", "inet", "moat", "forward", "meta",
                            "mark", "0x1234", "accept"], check=True)
        if how == "dormant":
            # (none of the table's rules runs: the fingerprint, which
            # reads what the table holds, does not see it; status must)
            subprocess.run(["ip", "netns", "exec", ns_incr, "nft", "add",
                            "table", "inet", "moat", "{ flags dormant; }"],
                           check=True)
            st = subprocess.run(["ip", "netns", "exec", ns_incr, moat,
                                 "status"], capture_output=True, text=True,
                                env=dict(os.environ, MOAT_STATE_DIR=si))
            if "was changed since" not in st.stdout:
                fail("moat status: a dormant table not said as drift: " +
                     st.stdout[-300:])
        r = rollback(si, env=env)
        flags = subprocess.run(["ip", "netns", "exec", ns_incr, "nft",
                                "list", "table", "inet", "moat"],
                               capture_output=True, text=True).stdout
        if "dormant" in flags.split("\n", 2)[1]:
            fail("a rollback (%s) left the table dormant" % how)
            return
        if r.returncode != 0 or "moat: incremental:" in r.stdout or \
                said not in r.stdout:
            fail("a rollback (%s): not whole, or not said why: %s %s" % (
                how, r.stdout[-300:], r.stderr[-300:]))
            return
        # (the entry before the apply after the three rollbacks: the
        # third's, texts[-4])
        with open(back, "w") as f:
            f.write(texts[-4])
        w = apply(ns_whole, sw, back, "--whole")
        if w.returncode != 0 or not compare("rollback (%s)" % how):
            return
        r = apply(ns_incr, si, conf)
        if r.returncode != 0:
            fail("apply after the rollback (%s): %s" % (how,
                                                        r.stderr[-300:]))
            return
    print("incremental: a rollback refused as a difference, one after a "
          "rule added by hand and one of a table made dormant by hand went "
          "whole, said why, and left the kernel as the whole apply")
    # The same config applied twice: the rollback between the two has
    # nothing to change, and what it records of the kernel lets the next
    # apply go as a difference.
    r = apply(ns_incr, si, conf)
    b = rollback(si)
    with open(back, "w") as f:
        f.write(texts[-2])
    a = apply(ns_incr, si, back, env={"MOAT_DELTA_MAX_PCT": "100000"})
    if r.returncode != 0 or b.returncode != 0 or \
            "moat: incremental: nothing to change" not in b.stdout or \
            a.returncode != 0 or "timing: incremental apply" not in a.stderr:
        fail("a rollback with nothing to change: %s %s %s" % (
            r.stderr[-200:], b.stdout[-200:], a.stderr[-300:]))
        return
    print("incremental: a rollback with nothing to change changed nothing, "
          "and the apply after it went as a difference")


def examples():
    """The example configs one after the other, forth, back and crosswise
    (NAT, forwards, two links, the anti-virus's interception, logging,
    dynamic addresses): each as a difference from the one before, equal
    to its whole apply, its fingerprint by parts the table's."""
    top = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                       "examples")
    confs = sorted(os.path.join(top, f) for f in os.listdir(top)
                   if f.endswith(".conf") and f != "moat.conf.default")
    confs += sorted(os.path.join(top, "lab", f)
                    for f in os.listdir(os.path.join(top, "lab"))
                    if f.endswith(".conf"))
    si = os.path.join(tmp, "state-examples-incr")
    sw = os.path.join(tmp, "state-examples-whole")
    n = incr = 0
    applied = confs + confs[::-1] + confs[::2] + confs[1::2]
    for c in applied:
        r = apply(ns_incr, si, c, env={"MOAT_DELTA_MAX_PCT": "100000",
                                       "MOAT_FINGERPRINT_CHECK": "1"})
        w = apply(ns_whole, sw, c, "--whole")
        if r.returncode != 0 or w.returncode != 0:
            fail("example %s: apply: %s %s" % (c, r.stderr[-300:],
                                               w.stderr[-300:]))
            return
        n += 1
        incr += "timing: incremental apply" in r.stderr
        if "moat: test: the fingerprint" in r.stderr:
            fail("example %s: %s" % (c, r.stderr))
        if not compare("example %s" % os.path.basename(c)):
            return
    print("incremental: %d applies of the example configs, %d as "
          "differences; the kernel equals the whole apply after each" % (
              n, incr))
    if incr < n // 2:
        fail("too few differences among the examples")
    # Rolled back through them (a config with dynamic addresses among
    # them: its sets refilled in the difference's transaction), each as
    # the whole apply of the config it went back to.
    back = incr = 0
    for k in range(1, min(8, len(applied))):
        r = rollback(si)
        w = apply(ns_whole, sw, applied[-1 - k], "--whole")
        if r.returncode != 0 or w.returncode != 0:
            fail("example rollback %d: %s %s" % (k, r.stdout[-300:],
                                                 r.stderr[-300:]))
            return
        back += 1
        incr += "moat: incremental:" in r.stdout
        if not compare("example rollback %d (to %s)" % (
                k, os.path.basename(applied[-1 - k]))):
            return
    print("incremental: %d rollbacks through the example configs, %d as "
          "differences; the kernel equals the whole apply after each" % (
              back, incr))
    if incr < back:
        fail("a rollback of the examples went whole")


def main():
    p = Policy(Bare(rng))
    for _ in range(max(5, nrules // 30)):
        p.new_object()
    for _ in range(max(3, nrules // 100)):
        p.new_service()
    while len(p.rules) < nrules:
        p.rules.append(p.new_rule())
    conf = os.path.join(tmp, "policy.conf")
    si, sw = os.path.join(tmp, "state-incr"), os.path.join(tmp, "state-whole")
    with open(conf, "w") as f:
        f.write(p.text())
    r = apply(ns_incr, si, conf)
    if r.returncode != 0:
        fail("first apply: " + r.stderr)
        return
    incr = kinds = netlink = 0
    counts, libnft = {}, {}
    texts = [p.text()]
    for i in range(nedits):
        kind = p.edit()
        texts.append(p.text())
        with open(conf, "w") as f:
            f.write(p.text())
        r = apply(ns_incr, si, conf, env={"MOAT_DELTA_MAX_PCT": "100000",
                                          "MOAT_FINGERPRINT_CHECK": "1"})
        if r.returncode != 0:
            fail("edit %d (%s): apply: %s" % (i, kind, r.stderr[-500:]))
            return
        if "moat: test: the fingerprint" in r.stderr:
            fail("edit %d (%s): %s" % (i, kind, r.stderr))
        if "timing: incremental apply" in r.stderr:
            incr += 1
            counts[kind] = counts.get(kind, 0) + 1
            # moat's own netlink batch (nfdelta.c), not libnftables.
            netlink += "(over netlink)" in r.stdout + r.stderr
            m = re.search(r"\(through libnftables: (.*)\)", r.stdout)
            if m:
                why = re.sub(r"^(set|map) \S+ \{", r"\1 NAME {",
                             " ".join(m.group(1).split()[:4]))
                libnft[why] = libnft.get(why, 0) + 1
        else:
            fail("edit %d (%s) went whole: %s" % (i, kind, [
                l for l in r.stderr.splitlines() if "whole apply" in l]))
        w = apply(ns_whole, sw, conf, "--whole")
        if w.returncode != 0:
            fail("edit %d: whole apply: %s" % (i, w.stderr[-500:]))
            return
        if not compare("edit %d (%s)" % (i, kind)):
            with open(conf) as f:
                open(os.path.join(tmp, "failed.conf"), "w").write(f.read())
            return
        kinds += 1
    # The dispatch maps went in pieces (MOAT_MAP_PIECE, apply()), when
    # the policy has one (a small MOAT_INCR_RULES may not dispatch).
    got, _ = listing(ns_incr)
    maps = [k for k in (got[0] if got else {}) if k.startswith("map zone_")]
    pieces = len([k for k in maps if "_m4_" in k or "_m6_" in k])
    if maps and pieces == 0:
        fail("no dispatch map went in pieces")
    else:
        print("incremental: after the edits, %d pieces of dispatch maps"
              % pieces)
    rollbacks(texts, conf, si, sw)
    drifted(p, conf, si, sw)
    anonymous_drift(p, conf, si, sw)
    other_boot(conf, si)
    refused(p, conf, si)
    lapsed(p, conf, si)
    examples()
    print("incremental: %d of %d edits applied as differences (%s), %d "
          "of them over moat's netlink batch; the kernel equals the whole "
          "apply after each, rules and expressions" % (
              incr, nedits, ", ".join("%s %d" % kv for kv in
                                      sorted(counts.items())), netlink))
    if libnft:
        print("incremental: through libnftables for lines of %s" % ", ".join(
            "%s (%d)" % kv for kv in sorted(libnft.items(),
                                            key=lambda kv: -kv[1])))
    # Rules, chains and map elements go over moat's batch too; only a
    # set or map declared (a new object, service or port list, a new
    # piece of a dispatch map), or a rule outside nfrule.c's words, do
    # not: about a third of these random edits.
    if netlink < incr // 2:
        fail("only %d of %d differences went over moat's netlink batch" %
             (netlink, incr))


main()
sys.exit(1 if failed else 0)
