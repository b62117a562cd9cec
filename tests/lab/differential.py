#!/usr/bin/env python3
"""differential.py MOAT LABGEN PREFIX NPOLICIES NFLOWS WORKDIR [MOATD]

For each of NPOLICIES random lab policies (labgen): apply it in the gw
namespace, send every flow for real from the lan or wan namespace (one TCP
SYN, UDP datagram or ICMP echo request), and read which counter of
table inet moat counted it.  That counter names the rule that decided the
flow in the kernel; it must be the one `moat`'s evaluator names.

With MOATD: every rule and interface default logs, moatd runs in the gw
namespace, and for every flow a rule or a default decided, the firewall
log's record (moatd's, from NFLOG) and moat trace (the kernel's trace
events) must name that same rule or default.

NAT: the policies have 1:1 lines, nat source rules and masquerades too.
For every flow the kernel accepts, the connection table's entry in gw
(conntrack -L: its reply tuple holds the destination and source the
kernel translated to) must equal `moat test --json`'s "translated" (the
flow's own addresses when that is null: to the gateway).  MOAT_DIFF_LIE
changes moat's answer for one flow, to see that the test can fail.
Prints the agreement; exits 1 on any difference.

Also a module: the per-flow checks (check_flows), the kernel's counters
(counters, and status_counters: moat status's reading of them) and moat
test's answers (moat_said, counter_of) serve import-differential.py and
incremental-flows.py.
"""
import ctypes
import json
import os
import re
import socket
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nftcount  # noqa: E402

CLONE_NEWNET = 0x40000000
libc = ctypes.CDLL(None, use_errno=True)


def setns(name):
    fd = os.open(f"/run/netns/{name}", os.O_RDONLY)
    if libc.setns(fd, CLONE_NEWNET) != 0:
        raise OSError(ctypes.get_errno(), "setns " + name)
    os.close(fd)


def counters(gw):
    """Packets by counter name (nftcount.py: a rule's counter adds up its
    kernel rules' and map elements')."""
    setns(gw)
    out = subprocess.run(["nft", "-j", "list", "table", "inet", "moat"],
                         capture_output=True, text=True, check=True)
    return nftcount.table_counters(json.loads(out.stdout))


def status_counters(status):
    """The counters of table inet moat as moat's own reader gives them
    (`moat status --json`, its "counters"): packets by name, a rule's
    named rule_ID by the id moat status gives it, whatever the kernel
    calls its counter (as counter_of names it).  The one place that
    knows how moat status says them."""
    res = {}
    for c in status["counters"]:
        name = f"rule_{c['rule_id']}" if c.get("rule_id") else c["name"]
        res[name] = res.get(name, 0) + c["packets"]
    return res


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    s = (s >> 16) + (s & 0xffff)
    s += s >> 16
    return ~s & 0xffff


seq = 0


def send(side, src, dst, proto, port):
    """Send the first packet of a new connection; return the socket and
    what tells its connection from the others: the source port, or the
    ICMP echo identifier."""
    global seq
    setns(side)
    fam = socket.AF_INET6 if ":" in src else socket.AF_INET
    seq += 1
    if proto == "tcp":
        s = socket.socket(fam, socket.SOCK_STREAM)
        s.setblocking(False)
        s.bind((src, 0))
        s.connect_ex((dst, port))
    elif proto == "udp":
        s = socket.socket(fam, socket.SOCK_DGRAM)
        s.bind((src, 0))
        s.sendto(b"moat", (dst, port))
    elif proto == "icmp":
        s = socket.socket(fam, socket.SOCK_RAW, socket.IPPROTO_ICMP)
        s.bind((src, 0))
        hdr = struct.pack("!BBHHH", 8, 0, 0, seq & 0xffff, 1) + b"moat"
        hdr = hdr[:2] + struct.pack("!H", checksum(hdr)) + hdr[4:]
        s.sendto(hdr, (dst, 0))
    else:
        s = socket.socket(fam, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
        s.bind((src, 0))
        s.sendto(struct.pack("!BBHHH", 128, 0, 0, seq & 0xffff, 1) + b"moat",
                 (dst, 0))
    if proto in ("tcp", "udp"):
        return s, s.getsockname()[1]
    return s, seq & 0xffff


def moat_said(moat, conf, flows):
    """What `moat test --json` says of each flow (side, src, dst, proto,
    port, ...) under the config conf."""
    lines = "".join(f"{side.upper()} {src} {dst} {proto} {port}\n"
                    for side, src, dst, proto, port, *_ in flows)
    r = subprocess.run([moat, "test", "-f", conf, "--batch", "-", "--json"],
                       input=lines, capture_output=True, text=True)
    out = [json.loads(l) for l in r.stdout.splitlines()]
    if r.returncode != 0 or len(out) != len(flows) or \
            any("error" in o for o in out):
        raise RuntimeError(f"moat test --batch: {r.stderr}")
    return out


def moat_translated(said):
    """Of what moat test says of each flow: its "translated", and the
    destination after the gateway's DNAT, whatever the verdict (a
    forward's or a 1:1's, which the firewall log records)."""
    return [(o["translated"], (o["forward"] or o["one_to_one"] or
                               {"to": None})["to"], nat_kind(o)) for o in said]


def counter_of(o):
    """The counter that decides a flow, from what moat test --json says
    of it: the deciding rule's (named by its id), the anti-lockout's, a
    forward's accept (named by the forward's id), or the interface's
    default."""
    by = o["decided_by"]
    if by == "rule":
        return f"rule_{o['rule_id']}"
    if by == "anti-lockout":
        return "anti_lockout"
    if by == "forward":
        return f"forward_{o['forward']['id']}_accept"
    return f"default_{o['interface']}"


def nat_kind(o):
    """What translated an accepted flow, in moat test's words."""
    kinds = []
    for what in ("forward", "one_to_one"):
        if o[what]:
            kinds.append(what.replace("_", "-") +
                         (" reflected" if o[what].get("reflected") else ""))
    if o["nat"] and o["nat"]["by"] != "none":
        kinds.append("nat " + o["nat"]["by"] +
                     (" " + o["nat"]["translate"] if o["nat"]["by"] == "rule"
                      else ""))
    return ", ".join(kinds) or "none"


class Events:
    """The connection table's new entries in gw, as `conntrack -E` says
    them, read as they come: each holds the reply tuple, whose destination
    and source are the addresses the kernel translated the flow to."""

    def __init__(self, gw, path):
        self.path = path
        self.pos = 0
        self.seen = []
        # It dies with this process, however that ends (PR_SET_PDEATHSIG).
        self.proc = subprocess.Popen(["ip", "netns", "exec", gw, "conntrack",
                                      "-E", "-e", "NEW"],
                                     stdout=open(path, "w"),
                                     stderr=subprocess.DEVNULL,
                                     preexec_fn=lambda: libc.prctl(1, 15))
        # Ready when it reports a datagram of gw's own loopback (a new
        # socket each time: a known connection makes no event).
        setns(gw)
        for _ in range(100):
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                s.bind(("127.0.0.1", 0))
                s.sendto(b"moat", ("127.0.0.1", 9))
                if self.find("127.0.0.1", "127.0.0.1", "udp",
                             s.getsockname()[1], 0.1):
                    break
        else:
            self.close()
            raise RuntimeError("conntrack -E reports nothing")

    def close(self):
        self.proc.terminate()
        self.proc.wait()

    def forget(self):
        """Forget the entries seen so far (another policy's: a source
        port used again must not find them)."""
        self.pos = os.path.getsize(self.path)
        self.seen = []

    def find(self, src, dst, proto, key, timeout=2.0):
        """The translated {src, dst} of a flow (its source port, or ICMP
        identifier key), or None."""
        end = time.time() + timeout
        while True:
            with open(self.path) as f:
                f.seek(self.pos)
                data = f.read()
            whole = data[:data.rfind("\n") + 1]
            self.pos += len(whole.encode())
            for line in whole.splitlines():
                w = line.split()
                if len(w) < 2:
                    continue
                kv = [x.split("=", 1) for x in w if "=" in x]
                srcs = [v for k, v in kv if k == "src"]
                dsts = [v for k, v in kv if k == "dst"]
                # its source port, or ICMP identifier (whichever comes
                # first: a listing may end with the entry's own id)
                keys = [v for k, v in kv if k in ("sport", "id")]
                if len(srcs) == 2 and len(dsts) == 2 and keys:
                    self.seen.append((w[1], srcs[0], dsts[0], keys[0],
                                      {"src": dsts[1], "dst": srcs[1]}))
            for e in self.seen:
                if e[:4] == (proto, src, dst, str(key)):
                    return e[4]
            if time.time() > end:
                return None
            time.sleep(0.01)


def deciding(before, after):
    """The counters a new connection moves: rules, defaults, anti-lockout,
    a forward's accept (its DNAT counter moves too, and does not decide,
    nor do the NAT rules' counters)."""
    return sorted(n for n in after
                  if after[n] != before.get(n, 0) and
                  (not n.startswith("forward_") or n.endswith("_accept"))
                  and not n.startswith("nat_source_") and
                  not n.startswith("one_to_one_"))


class Log:
    """The firewall log moatd writes, read as it grows."""

    def __init__(self, path):
        self.path = path
        self.pos = 0
        self.pending = []

    def record(self, src, dst, sport, timeout=3.0):
        """The next record of a packet from src (port sport, or to dst
        when it has no ports: dst after a forward's or a 1:1's DNAT, as
        the filter saw it), or None."""
        end = time.time() + timeout
        while True:
            for i, r in enumerate(self.pending):
                if r["src"] == src and (r["sport"] == sport if sport else
                                        r["dst"] == dst):
                    del self.pending[:i + 1]
                    return r
            try:
                with open(self.path) as f:
                    f.seek(self.pos)
                    data = f.read()
            except FileNotFoundError:
                data = ""
            whole = data[:data.rfind("\n") + 1]
            self.pos += len(whole.encode())
            self.pending += [json.loads(l) for l in whole.splitlines()]
            if not whole:
                if time.time() > end:
                    return None
                time.sleep(0.02)


def named(rec):
    """The counter a log record stands for."""
    if rec is None:
        return "no record"
    if rec.get("rule_id"):
        return f"rule_{rec['rule_id']}"
    if rec["rule"] is not None:
        return f"rule_{rec['rule']}"    # a prefix of before the ids
    return f"default_{rec['interface']}"


class Tally:
    """What the flows sent through one or more policies came to."""

    def __init__(self):
        self.total = self.agree = 0
        self.by_kind = {}
        self.nat_checked = self.nat_agree = 0
        self.nat_seen = {}
        self.drop_checked = self.drop_agree = 0

    def ok(self):
        """Every flow agreed, some were translated and some dropped."""
        return (self.total > 0 and self.agree == self.total and
                self.nat_agree == self.nat_checked and self.nat_seen != {} and
                self.drop_checked > 0 and self.drop_agree == self.drop_checked)


def check_flows(moat, prefix, gw, events, conf, flows, tally, where,
                watch=None, lie=-1):
    """Send each flow (side, src, dst, proto, port, want, verdict) for
    real through gw, where conf is in force: the one counter the kernel
    moves must be want; an accepted flow's connection entry must hold the
    addresses moat test says it is translated to (the flow's own when it
    is not; the lie-th of them, counted over the tally, is made a lie), a
    denied one must make none.  watch, if any, is told before and after
    each flow is sent (watch.before(flow), watch.after(flow, sport,
    dnat_to)).  Differences are printed, each led by where."""
    # The NAT of earlier policies' connections is theirs: a packet of a
    # known connection is not translated again.
    setns(gw)
    subprocess.run(["conntrack", "-F"], capture_output=True)
    # (and an earlier policy's entries: a source port used again must
    # not find one)
    events.forget()
    said_both = moat_translated(moat_said(moat, conf, flows))
    denied = []
    seen_from = len(events.seen)     # this policy's connections
    for n, flow in enumerate(flows):
        side, src, dst, proto, port, want, verdict = flow
        if watch is not None:
            watch.before(flow)
        before = counters(gw)
        s, key = send(prefix + side, src, dst, proto, int(port))
        sport = key if proto in ("tcp", "udp") else None
        got = []
        for _ in range(100):
            after = counters(gw)
            got = deciding(before, after)
            if got:
                break
            time.sleep(0.005)
        s.close()
        tally.total += 1
        if watch is not None:
            watch.after(flow, sport, said_both[n][1])
        if got == [want] and verdict == "accept":
            # The kernel passed it: its translation must be moat's.
            exp = said_both[n][0] or {"src": src, "dst": dst}
            if tally.nat_checked == lie:
                exp = {"src": "192.0.2.99", "dst": exp["dst"]}
            ker = events.find(src, dst, proto, key)
            tally.nat_checked += 1
            if ker == exp:
                tally.nat_agree += 1
                k = said_both[n][2]
                if k != "none":
                    tally.nat_seen[k] = tally.nat_seen.get(k, 0) + 1
            else:
                print(f"{where}: {side} {src} -> {dst} {proto}/{port} (id "
                      f"{key}): moat test says it becomes {exp['src']} -> "
                      f"{exp['dst']}, the kernel made it " +
                      (f"{ker['src']} -> {ker['dst']}" if ker else
                       "nothing (no conntrack entry)"))
        if got == [want] and verdict == "deny":
            # Dropped: the kernel must not have let it make a connection.
            denied.append((side, src, dst, proto, port, key))
        if got == [want]:
            tally.agree += 1
            kind = want.split("_")[0]
            tally.by_kind[kind] = tally.by_kind.get(kind, 0) + 1
        else:
            print(f"{where}: {side} {src} -> {dst} {proto}/{port}: moat "
                  f"test says {want} ({verdict}), the kernel counted "
                  f"{got or 'nothing'}")
    # An accepted flow's entry comes within milliseconds (the NAT check
    # waits for each); a dropped one's never.
    time.sleep(0.2)
    events.find("-", "-", "-", 0, 0)     # read what has come
    made = {e[:4] for e in events.seen[seen_from:]}
    for side, src, dst, proto, port, key in denied:
        tally.drop_checked += 1
        if (proto, src, dst, str(key)) not in made:
            tally.drop_agree += 1
        else:
            print(f"{where}: {side} {src} -> {dst} {proto}/{port} (id "
                  f"{key}): moat test says deny, the kernel made a "
                  f"connection of it")


class LogTrace:
    """For every flow a rule or a default decides: the firewall log's
    record of it (moatd's) and moat trace (the kernel's trace events)
    must name the rule that decides it."""

    def __init__(self, moat, gw, log):
        self.moat, self.gw, self.log = moat, gw, log
        self.logged = self.log_agree = self.traced = self.trace_agree = 0
        self.tracer = None
        self.where = ""
        self.rule_counter = {}  # a rule's number -> its counter

    def before(self, flow):
        side, src, dst, proto, port, want, verdict = flow
        self.tracer = None
        if want.startswith("rule_") or want.startswith("default_"):
            self.tracer = subprocess.Popen(
                ["ip", "netns", "exec", self.gw, self.moat, "trace", "--src",
                 src, "--dst", dst, "--count", "1", "--timeout", "3"],
                stdout=subprocess.PIPE, text=True)
            self.tracer.stdout.readline()   # "tracing ...": it is ready

    def after(self, flow, sport, dnat_to):
        side, src, dst, proto, port, want, verdict = flow
        if self.tracer is None:
            return
        out = self.tracer.communicate()[0]
        self.traced += 1
        m = re.search(r"matches rule (\d+) ", out)
        dm = re.search(r"no rule matches: the default of (\S+):", out)
        said = (self.rule_counter.get(m.group(1), "no such rule") if m else
                f"default_{dm.group(1)}" if dm else "nothing")
        if said == want:
            self.trace_agree += 1
        else:
            print(f"{self.where}: {side} {src} -> {dst} {proto}/{port}: moat "
                  f"test says {want}, moat trace says {said}:\n{out}")
        rec = self.log.record(src, dnat_to or dst, sport)
        self.logged += 1
        # The record names the device the packet came in on, VLAN-style
        # names included.
        landev = os.environ.get("MOAT_LAB_LANDEV", "gwl0")
        dev_ok = rec is None or rec.get("in_device") == \
            (landev if side == "lan" else "gww0")
        if not dev_ok:
            print(f"{self.where}: {side} {src} -> {dst}: the firewall log "
                  f"names device {rec.get('in_device')}")
        if named(rec) == want and dev_ok:
            self.log_agree += 1
        else:
            print(f"{self.where}: {side} {src} -> {dst} {proto}/{port}: moat "
                  f"test says {want}, the firewall log says {named(rec)}: "
                  f"{rec}")


def main():
    moat, labgen, prefix, npol, nflows, work = sys.argv[1:7]
    moatd = sys.argv[7] if len(sys.argv) > 7 else None
    gw = prefix + "gw"
    lie = int(os.environ.get("MOAT_DIFF_LIE", "-1"))
    events = []
    try:
        return run(moat, labgen, prefix, npol, nflows, work, moatd, gw,
                   events, lie)
    finally:
        for e in events:
            e.close()


def run(moat, labgen, prefix, npol, nflows, work, moatd, gw, events, lie):
    dispatched = cut = 0
    tally = Tally()
    watch = LogTrace(moat, gw, Log(os.path.join(
        os.environ.get("MOAT_LOG_DIR", work), "firewall.jsonl"))) \
        if moatd else None
    daemon = None
    for i in range(int(npol)):
        d = os.path.join(work, f"p{i}")
        os.makedirs(d, exist_ok=True)
        subprocess.run([labgen, str(i), nflows, d] + (["log"] if moatd else
                                                       []), check=True)
        if moatd and daemon is None:
            daemon = subprocess.Popen(["ip", "netns", "exec", gw, moatd,
                                       "-f", os.path.join(d, "policy.conf")],
                                      stdout=subprocess.DEVNULL,
                                      stderr=open(os.path.join(work,
                                                  "moatd.log"), "w"))
            for _ in range(100):
                time.sleep(0.1)
                with open(os.path.join(work, "moatd.log")) as f:
                    if "firewall log: NFLOG" in f.read():
                        break
            else:
                print("moatd did not start its firewall log")
                daemon.terminate()
                return 1
        # Every other policy's dispatch maps in pieces of a few elements
        # (a test build's MOAT_MAP_PIECE; in moat, maps of 4,096 and more).
        env = dict(os.environ)
        if i % 2:
            env["MOAT_MAP_PIECE"] = "2"
        r = subprocess.run(["ip", "netns", "exec", gw, moat, "apply", "-f",
                            os.path.join(d, "policy.conf")],
                           capture_output=True, text=True, env=env)
        if r.returncode != 0:
            print(f"policy {i}: apply failed: {r.stderr}")
            return 1
        nft = subprocess.run([moat, "show", "--nft", "-f",
                              os.path.join(d, "policy.conf")],
                             capture_output=True, text=True, env=env).stdout
        dispatched += "saddr vmap" in nft
        cut += "_m4_" in nft or "_m6_" in nft
        with open(os.path.join(d, "flows.txt")) as f:
            flows = [line.split() for line in f]
        if watch is not None:
            # A rule's counter is named by its id; moat trace says its
            # number.
            with open(os.path.join(d, "rules.txt")) as f:
                watch.rule_counter = dict(line.split() for line in f)
            watch.where = f"policy {i} ({d}/policy.conf)"
        # The kernel tracks connections once a table asks for it.
        if not events:
            events.append(Events(gw, os.path.join(work, "conntrack.events")))
        check_flows(moat, prefix, gw, events[0],
                    os.path.join(d, "policy.conf"), flows, tally,
                    f"policy {i} ({d}/policy.conf)", watch, lie)
    t = tally
    print(f"drops: {t.drop_checked} denied flows; the kernel made no "
          f"connection of {t.drop_agree}")
    print(f"differential: {npol} policies, {t.total} flows sent for real: "
          f"the kernel's deciding rule equals moat test's for {t.agree} "
          f"({', '.join(f'{k}: {v}' for k, v in sorted(t.by_kind.items()))})"
          f"; {dispatched} policies compiled to source dispatch, {cut} "
          f"with the dispatch map in pieces")
    print(f"NAT: {t.nat_checked} accepted flows; the kernel's translation "
          f"equals moat test's for {t.nat_agree} (translated: " +
          ", ".join(f"{k}: {v}" for k, v in sorted(t.nat_seen.items())) +
          ")")
    if daemon is not None:
        daemon.terminate()
        daemon.wait()
    if watch is not None:
        w = watch
        print(f"firewall log: {w.logged} flows decided by a rule or a "
              f"default; the record names moat test's rule for "
              f"{w.log_agree}")
        print(f"moat trace: {w.traced} of them traced; the trace names moat "
              f"test's rule for {w.trace_agree}")
        if w.logged < 200 or w.log_agree != w.logged or w.traced < 200 or \
                w.trace_agree != w.traced:
            return 1
    elif dispatched == 0 or cut == 0:
        print("no policy took the source-dispatch path, or none its map in "
              "pieces")
        return 1
    return 0 if t.ok() else 1


if __name__ == "__main__":
    sys.exit(main())
