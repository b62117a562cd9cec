#!/usr/bin/env python3
"""bench_ha.py [BUILD] [RUNS] [cut|kill]: failover of an HA pair, measured
(root; builds its own lab with scripts/halab.sh; prints, never fails on
time).

Each run: 20 established TCP streams and a UDP ticker (one datagram every
2 ms) go from lan to wan through the master, gwa; then gwa dies:
  cut   its links go down, the sync cable first (a power cut);
  kill  kill -9 of its keepalived and its moatd (its conntrackd dies with
        moatd); its kernel keeps the VIPs, as after a crash of the daemons.
Printed: the failover time (from the death to the first datagram the
backup forwards, in ms), the longest silence during the fail back (gwa
mended, or restarted, takes over again after its preempt delay; 0: no
datagram late by more than 20 ms), and how many of the streams survived
both (every byte, in order, no reset).  The median over the runs last.
"""
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(TOP, sys.argv[1] if len(sys.argv) > 1 else "build-release")
RUNS = int(sys.argv[2]) if len(sys.argv) > 2 else 5
MODE = sys.argv[3] if len(sys.argv) > 3 else "cut"
LAB = os.path.join(TOP, "scripts", "halab.sh")
HASTREAM = os.path.join(TOP, "tests", "lab", "hastream.py")
P = "benchha-"
ENV = dict(os.environ, MOAT_LAB=P)
STREAMS = 20


def sh(*a, check=True):
    return subprocess.run(list(a), env=ENV, check=check,
                          capture_output=True, text=True).stdout


def ns(n):
    return ["ip", "netns", "exec", P + n]


CONF = """interface LAN device gwl0 address 192.168.50.{me}/24
interface WAN device gww0 address 198.51.100.{me}/24
interface SYNC device gws0 address 10.99.0.{sync}/24
nat masquerade on WAN
console off
ha {{
    peer 10.99.0.{peer}
    sync-interface SYNC
    vip LAN 192.168.50.1/24
    vip WAN 198.51.100.1/24
    priority {prio}
    secret "bench secret"
    preempt-delay 2
}}
"""


class Node:
    def __init__(self, tmp, name, me, sync, peer, prio):
        self.name, self.dir = name, os.path.join(tmp, name)
        os.makedirs(self.dir)
        self.conf = os.path.join(self.dir, "moat.conf")
        with open(self.conf, "w") as f:
            f.write(CONF.format(me=me, sync=sync, peer=peer, prio=prio))
        os.chmod(self.conf, 0o600)
        self.env = dict(ENV, MOAT_STATE_DIR=self.dir + "/state",
                        MOAT_RUN_DIR=self.dir + "/run",
                        MOAT_LOG_DIR=self.dir + "/log")
        self.proc = None

    def start(self):
        log = open(os.path.join(self.dir, "moatd.log"), "a")
        self.proc = subprocess.Popen(ns("gw" + self.name) + [
            os.path.join(BUILD, "moatd"), "-f", self.conf], env=self.env,
            stdout=log, stderr=log)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait()

    def state(self):
        try:
            with open(self.dir + "/run/ha.json") as f:
                return json.load(f)["state"]
        except (OSError, ValueError, KeyError):
            return None

    def wait(self, state, secs=20):
        t0 = time.time()
        while time.time() - t0 < secs:
            if self.state() == state:
                return True
            time.sleep(0.05)
        return False

    def engine_pid(self, name):
        with open(self.dir + "/state/ha/" + name + ".pid") as f:
            return int(f.read().split()[0])


def gap_after(arrivals, t, until=None):
    """The longest silence that begins after t - 0.05 (and before until):
    (its length, the time from t to its end), in ms; (0, 0) when no
    datagram was missing for more than 20 ms."""
    best, end, prev = 0.0, None, None
    for a in arrivals:
        if prev is not None and prev >= t - 0.05 and \
                (until is None or prev < until) and a - prev > best:
            best, end = a - prev, a
        prev = a
    if end is None or best < 0.02:
        return 0.0, 0.0
    return best * 1000, (end - t) * 1000


def one_run(a, b, tmp, run):
    # The datagrams' arrival times, written in wan.
    watcher = subprocess.Popen(ns("wan") + [sys.executable, "-c", """
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("198.51.100.25", 9100))
s.settimeout(30)
out = open(sys.argv[1], "w")
try:
    while True:
        s.recv(64)
        out.write("%.6f\\n" % time.time())
except socket.timeout:
    pass
""", os.path.join(tmp, "udp%d" % run)], env=ENV)
    ticker = subprocess.Popen(ns("lan") + [sys.executable, "-c", """
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
end = time.time() + 16
while time.time() < end:
    try:
        s.sendto(b"tick", ("198.51.100.25", 9100))
    except OSError:
        pass
    time.sleep(0.002)
"""], env=ENV)
    streams = os.path.join(tmp, "streams%d" % run)
    server = subprocess.Popen(ns("wan") + [sys.executable, HASTREAM, "serve",
                                           "9000", streams], env=ENV)
    time.sleep(0.5)
    sender = subprocess.Popen(ns("lan") + [sys.executable, HASTREAM, "send",
                                           "198.51.100.25", "9000", "13",
                                           str(STREAMS)],
                              env=ENV, stdout=subprocess.PIPE, text=True)
    time.sleep(3)
    t_death = time.time()
    if MODE == "cut":
        sh("ip", "-n", P + "gwa", "link", "set", "gws0", "down")
        sh("sh", LAB, "cut", "gwa")
    else:
        os.kill(a.engine_pid("keepalived"), signal.SIGKILL)
        a.proc.kill()
        a.proc.wait()
    b.wait("master", 10)
    time.sleep(4)
    t_back = time.time()
    if MODE == "cut":
        sh("sh", LAB, "mend", "gwa")
    else:
        a.start()
    a.wait("master", 20)
    sender.wait()
    server.terminate()
    ticker.wait()
    watcher.wait()
    with open(os.path.join(tmp, "udp%d" % run)) as f:
        arrivals = [float(x) for x in f]
    got = []
    if os.path.exists(streams):
        with open(streams) as f:
            got = [json.loads(x) for x in f]
    sent = [json.loads(x) for x in sender.stdout.read().split("\n") if x]
    if os.environ.get("BENCH_HA_VERBOSE"):
        prev = None
        for x in arrivals:
            if prev and x - prev > 0.05:
                print("  silence from %+.0f to %+.0f ms (death at 0, mend "
                      "at %+.0f)" % ((prev - t_death) * 1000,
                                     (x - t_death) * 1000,
                                     (t_back - t_death) * 1000))
            prev = x
    alive = sum(1 for g in got if g["pattern"] and g["end"] == "closed" and
                g["bytes"] in [s["sent"] for s in sent if not s["error"]])
    return gap_after(arrivals, t_death, t_back)[1], \
        gap_after(arrivals, t_back)[0], alive


def main():
    if os.geteuid() != 0 or not shutil.which("keepalived"):
        sys.exit("bench_ha: needs root, keepalived and conntrackd")
    tmp = tempfile.mkdtemp()
    os.chmod(tmp, 0o755)
    sh("sh", LAB, "up")
    a = Node(tmp, "a", 2, 1, 2, 150)
    b = Node(tmp, "b", 3, 2, 1, 100)
    results = []
    try:
        a.start()
        b.start()
        if not (a.wait("master") and b.wait("backup")):
            sys.exit("bench_ha: the pair did not form")
        for run in range(1, RUNS + 1):
            fo, fb, alive = one_run(a, b, tmp, run)
            results.append((fo, fb, alive))
            print("run %d (%s): failover %s ms, fail back silence %s ms, "
                  "%d of %d "
                  "streams survived" % (run, MODE, "%.0f" % fo,
                                        "%.0f" % fb, alive,
                                        STREAMS), flush=True)
            time.sleep(2)
    finally:
        a.stop()
        b.stop()
        sh("sh", LAB, "down", check=False)
        shutil.rmtree(tmp, ignore_errors=True)
    fos = [r[0] for r in results if r[0] is not None]
    fbs = [r[1] for r in results if r[1] is not None]
    print("median over %d runs (%s): failover %.0f ms, fail back silence "
          "%.0f ms; "
          "streams that survived: %d of %d" % (
              len(results), MODE, statistics.median(fos) if fos else -1,
              statistics.median(fbs) if fbs else -1,
              sum(r[2] for r in results), STREAMS * len(results)))


main()
