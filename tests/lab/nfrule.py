#!/usr/bin/env python3
"""nfrule.py MOAT NFSEND LABGEN NS_A NS_B TMP [NPOLICIES]

moat's own rule encoder (src/enforce/nfrule.c) against libnftables, rule
by rule, in the kernel.  For each config of a corpus (the example configs,
the golden ok-*.conf files, NPOLICIES random lab policies of labgen's,
default 40), its compiled ruleset (`moat show --nft`) is loaded with
`nft -f` into NS_B, and into NS_A through moat's batch as a whole apply
sends it (nfsend: nfdelta.c reading the whole text; by `nft -f` when a
line is outside its vocabulary, the line's first words counted).  The two
kernels must then hold the same thing: each rule's expressions as the
kernel dumps them (`nft --debug=netlink list table`, incrlib
expressions()) and the table as `nft -j` lists it, normalised (listing(),
which also checks each chain's order).  Then in NS_A, every chain whose
rules nfdelta can all send is flushed and its rules added again through
moat's batch (the incremental apply's path), one transaction for the
config, and the two kernels compared again.  At least half of the whole
rulesets, and 90% of the rules outside the base chains (those a rule's
edit changes), must have gone through moat's batch; the rule words that
did not are printed.
Exit 0 or 1.
"""
import os
import re
import subprocess
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from incrlib import same_tables  # noqa: E402

moat, nfsend, labgen, ns_a, ns_b, tmp = sys.argv[1:7]
npol = int(sys.argv[7]) if len(sys.argv) > 7 else 40
top = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
failed = False


def fail(msg):
    global failed
    print("FAIL: " + msg)
    failed = True


def corpus():
    ex = os.path.join(top, "examples")
    confs = [os.path.join(ex, f) for f in sorted(os.listdir(ex))
             if f.endswith(".conf") and f != "moat.conf.default"]
    confs += [os.path.join(ex, "lab", f)
              for f in sorted(os.listdir(os.path.join(ex, "lab")))
              if f.endswith(".conf")]
    gold = os.path.join(top, "tests", "golden")
    confs += [os.path.join(gold, f) for f in sorted(os.listdir(gold))
              if f.startswith("ok-") and f.endswith(".conf")]
    for i in range(npol):
        d = os.path.join(tmp, "lab%d" % i)
        os.makedirs(d, exist_ok=True)
        subprocess.run([labgen, str(1000 + i), "10", d], check=True,
                       capture_output=True)
        confs.append(os.path.join(d, "policy.conf"))
    return confs


def chains(text):
    """{chain: [rule lines]} of the compiled ruleset's table, and the set
    of its base chains (those with a hook)."""
    out, base, cur, name = {}, set(), None, None
    for line in text.splitlines():
        m = re.match(r"^\tchain (\S+) \{$", line)
        if m:
            name = m.group(1)
            cur = out.setdefault(name, [])
            continue
        if line == "\t}":
            cur = None
            continue
        if cur is None or not line.startswith("\t\t"):
            continue
        s = line.strip()
        if s.startswith("type ") and " hook " in s:
            base.add(name)
            continue
        cur.append(s)
    return out, base


def nft(ns, path):
    return subprocess.run(["ip", "netns", "exec", ns, "nft", "-f", path],
                          capture_output=True, text=True)


def same(name):
    """Whether the two namespaces' tables are the same (failing the test
    if not)."""
    return same_tables(ns_a, ns_b, name, fail)


def main():
    sent = total = configs = bsent = btotal = whole = 0
    refused_words = {}
    whole_left = {}
    for conf in corpus():
        r = subprocess.run([moat, "show", "--nft", "-f", conf],
                           capture_output=True, text=True)
        if r.returncode != 0:
            continue    # a golden that needs what this lab lacks
        ruleset = os.path.join(tmp, "ruleset.nft")
        with open(ruleset, "w") as f:
            f.write(r.stdout)
        lb = nft(ns_b, ruleset)
        if lb.returncode != 0:
            continue    # needs a device this namespace lacks
        name = os.path.relpath(conf, top)
        # The whole ruleset through moat's batch (the whole apply's
        # path), when nfdelta reads all of it; else nft -f.
        w = subprocess.run(["ip", "netns", "exec", ns_a, nfsend, ruleset],
                           capture_output=True, text=True)
        if w.returncode == 0:
            whole += 1
            if not same(name + " (whole)"):
                continue
        elif w.returncode == 2:
            words = " ".join(w.stdout.split()[:2])
            whole_left[words] = whole_left.get(words, 0) + 1
            if nft(ns_a, ruleset).returncode != 0:
                fail("%s: nft -f in the first namespace" % name)
                continue
        else:
            fail("%s: nfsend of the whole ruleset: %s %s" % (
                name, w.stdout, w.stderr))
            continue
        ch, base = chains(r.stdout)
        lines = {c: ["add rule inet moat %s %s" % (c, x) for x in rules]
                 for c, rules in ch.items()}
        probe = os.path.join(tmp, "probe.nft")
        with open(probe, "w") as f:
            f.write("".join(l + "\n" for ls in lines.values() for l in ls))
        bad = set(subprocess.run([nfsend, "-c", probe], capture_output=True,
                                 text=True, check=True).stdout.splitlines())
        script = []
        for c, ls in lines.items():
            if c in base:
                btotal += len(ls)
            else:
                total += len(ls)
            if any(l in bad for l in ls):
                for l in ls:
                    if l in bad:
                        w = " ".join(l.split()[4:7])
                        refused_words[w] = refused_words.get(w, 0) + 1
                continue
            if not ls:
                continue
            script.append("flush chain inet moat %s" % c)
            script += ls
            if c in base:
                bsent += len(ls)
            else:
                sent += len(ls)
        # A base chain's rules that moat can send, in a chain of their
        # own (not hooked: the kernel checks a chain's type only when a
        # hook reaches it), when their chain as a whole cannot go.
        probe_lines = ["add rule inet moat nfrule_probe %s" %
                       l.split(" ", 5)[5] for c, ls in lines.items()
                       if c in base and any(x in bad for x in ls)
                       for l in ls if l not in bad]
        if probe_lines:
            script.append("table inet moat {\n\tchain nfrule_probe {\n\t}"
                          "\n}")
            script += probe_lines
            bsent += len(probe_lines)
            pb = os.path.join(tmp, "probe-nft.nft")
            with open(pb, "w") as f:
                f.write("add chain inet moat nfrule_probe\n" + "".join(
                    l + "\n" for l in probe_lines))
            nb = nft(ns_b, pb)
            if nb.returncode != 0:
                fail("%s: nft -f of the probe chain: %s" % (conf,
                                                            nb.stderr))
        path = os.path.join(tmp, "resend.nft")
        with open(path, "w") as f:
            f.write("".join(l + "\n" for l in script))
        s = subprocess.run(["ip", "netns", "exec", ns_a, nfsend, path],
                           capture_output=True, text=True)
        if s.returncode != 0:
            fail("%s: nfsend: %s %s" % (name, s.stdout, s.stderr))
            continue
        same(name)
        configs += 1
        for ns in (ns_a, ns_b):
            subprocess.run(["ip", "netns", "exec", ns, "nft", "delete",
                            "table", "inet", "moat"], capture_output=True)
    print("nfrule: %d configs; sent by moat's encoder, each the same to the "
          "kernel as libnftables' (expressions, order): %d of %d rules of "
          "the chains an edit changes, %d of %d of the base chains" % (
              configs, sent, total, bsent, btotal))
    print("nfrule: %d of %d whole rulesets sent by moat's batch (the whole "
          "apply's path), each the same to the kernel as nft -f's" % (
              whole, configs))
    if whole_left:
        print("nfrule: whole rulesets left to libnftables, by the first "
              "line's words: " + ", ".join(
                  "%s (%d)" % kv for kv in sorted(whole_left.items(),
                                                  key=lambda kv: -kv[1])))
    if configs and whole < configs // 2:
        fail("only %d of %d whole rulesets went through moat's batch" % (
            whole, configs))
    if refused_words:
        print("nfrule: left to libnftables, by first words: " + ", ".join(
            "%s (%d)" % kv for kv in sorted(refused_words.items(),
                                            key=lambda kv: -kv[1])[:12]))
    # The kernel's refusal names the message's object, read back from
    # the batch (nfset.c describe()).
    for script, want in (
            ("table inet moat\nadd rule inet moat nosuch accept\n",
             "the kernel refused a rule of chain nosuch: No such file"),
            ("table inet moat\ndelete set inet moat nosuch\n",
             "the kernel refused set nosuch: No such file")):
        path = os.path.join(tmp, "refused.nft")
        with open(path, "w") as f:
            f.write(script)
        r = subprocess.run(["ip", "netns", "exec", ns_a, nfsend, path],
                           capture_output=True, text=True)
        if r.returncode != 1 or want not in r.stderr:
            fail("a refused batch: %r, not %r" % (r.stderr, want))
    subprocess.run(["ip", "netns", "exec", ns_a, "nft", "delete", "table",
                    "inet", "moat"], capture_output=True)
    if configs < 20:
        fail("only %d configs could be loaded" % configs)
    if total == 0 or sent < total * 9 // 10:
        fail("only %d of %d rules went through moat's encoder" % (sent,
                                                                  total))


main()
sys.exit(1 if failed else 0)
