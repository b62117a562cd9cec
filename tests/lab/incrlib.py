"""incrlib.py: what the incremental apply's lab tests share
(incremental.py, in namespaces without traffic; incremental-flows.py, in
the lab with traffic): a random policy held as lines (its head, objects,
services, rules and tail), random edits of it (a rule added, changed,
moved or deleted; an object's member added or removed; an object or a
service added with a rule that uses it), and the kernel's table inet moat
normalised for comparison.

What the addresses, interfaces and services are is a shape's: Bare, the
namespaces of incremental.py (no traffic: any addresses), and Lab, the
lab of scripts/lab.sh (its hosts, gateway and 1:1 addresses, and the
ports labgen's flows use), whose policies start as labgen's.
"""
import json
import re
import subprocess


class Bare:
    """Three interfaces on devices that need not exist; addresses from
    everywhere."""
    ifaces = ["LAN", "WAN", "DMZ"]
    services = ["HTTP", "HTTPS", "DNS", "SMTP", "PING", "SSH", "NTP"]
    log = 0.05          # the share of new rules that log

    def __init__(self, rng):
        self.rng = rng

    def head(self):
        return [
            "interface LAN device inc0 address 10.0.0.1/8 "
            "address 2001:db8:1::1/64",
            "interface WAN device inc1 address 192.0.2.2/24",
            "interface DMZ device inc2 address 172.16.0.1/12 default reject",
        ]

    def addr4(self, net=False):
        rng = self.rng
        if net and rng.random() < 0.2:
            return "%d.%d.%d.0/24" % (rng.randint(11, 200),
                                       rng.randint(0, 255),
                                       rng.randint(0, 255))
        return "%d.%d.%d.%d" % (rng.randint(11, 200), rng.randint(0, 255),
                                rng.randint(0, 255), rng.randint(1, 254))

    def addr6(self):
        return "2001:db8:%x::%x" % (self.rng.randint(0x100, 0xfff),
                                   self.rng.randint(1, 0xffff))

    def lan4(self):
        rng = self.rng
        return "10.%d.%d.%d" % (rng.randint(0, 255), rng.randint(0, 255),
                                rng.randint(1, 254))

    def inside(self, iface):
        return iface != "WAN"

    def member(self):
        """A member of a new object."""
        r = self.rng.random()
        return (self.lan4() if r < 0.6 else self.addr6() if r < 0.8
                else self.addr4(net=True))

    def added(self):
        """A member added to an object."""
        return self.lan4() if self.rng.random() < 0.7 else self.addr6()

    def host(self, inside):
        """A rule's side that is neither ANY nor an object."""
        if inside:
            return self.lan4() if self.rng.random() < 0.8 else self.addr6()
        return (self.addr4(net=True) if self.rng.random() < 0.8
                else self.addr6())

    def ports(self, proto):
        """A service's port or range for protocol proto."""
        lo = self.rng.randint(1024, 60000)
        return (str(lo) if self.rng.random() < 0.7 else
                "%d-%d" % (lo, lo + self.rng.randint(1, 300)))

    def object_rule(self, name):
        return "accept on LAN from %s to %s service HTTPS" % (name,
                                                             self.addr4())

    def service_rule(self, name):
        return "deny on DMZ from ANY to %s service %s" % (self.addr4(), name)


class Lab(Bare):
    """The lab of scripts/lab.sh: LAN and WAN, its hosts and the
    gateway's addresses, the 1:1 lines' public addresses labgen maps, and
    the services and ports its flows use (tests/lab/labgen.c), so that
    the edits change what the lab's flows meet."""
    ifaces = ["LAN", "WAN"]
    services = ["SMTP", "HTTP", "SSH", "DNS", "PING", "NTP", "S0", "S1",
                "S2"]
    log = 0
    LAN = ["192.168.50.%d" % i for i in (10, 11, 12, 13)] + \
        ["2001:db8:50::%x" % i for i in (0x10, 0x11, 0x12, 0x13)] + \
        ["192.168.50.8/30", "2001:db8:50::8/126",
         "192.168.50.11-192.168.50.12", "LANNET", "LANIP", "192.168.50.1",
         "2001:db8:50::1"]
    WAN = ["198.51.100.%d" % i for i in (25, 26, 27, 28)] + \
        ["2001:db8:51::%x" % i for i in (0x25, 0x26, 0x27, 0x28)] + \
        ["198.51.100.24/30", "2001:db8:51::24/126",
         "198.51.100.26-198.51.100.28", "WANNET", "WANIP", "198.51.100.1",
         "2001:db8:51::1", "203.0.113.10", "203.0.113.8/30",
         "2001:db8:99::10"]
    PORTS = {"tcp": [22, 25, 80, 443, 3389, 8000, 8080],
             "udp": [53, 123, 5000]}

    def head(self):
        raise ValueError("a lab policy starts as labgen's (Policy.parse)")

    def inside(self, iface):
        return iface == "LAN"

    def member(self):
        return self.rng.choice(self.LAN + self.WAN)

    def added(self):
        # the hosts, most of the time: what the flows come from and go to
        return self.rng.choice(self.LAN[:8] + self.WAN[:8] + ["0.0.0.0/1",
                                                              "::/1"])

    def host(self, inside):
        return self.rng.choice(self.LAN if inside else self.WAN)

    def ports(self, proto):
        p = self.rng.choice(self.PORTS[proto])
        return (str(p) if self.rng.random() < 0.7 else
                "%d-%d" % (max(1, p - self.rng.randint(0, 30)),
                           p + self.rng.randint(1, 30)))

    def action(self):
        return self.rng.choice(["accept", "accept", "deny", "reject"])

    def object_rule(self, name):
        iface = self.rng.choice(self.ifaces)
        return "%s on %s from %s to %s service %s" % (
            self.action(), iface, name, self.host(iface == "WAN"),
            self.rng.choice(self.services))

    def service_rule(self, name):
        iface = self.rng.choice(self.ifaces)
        return "%s on %s from ANY to %s service %s" % (
            self.action(), iface, self.host(iface == "WAN"), name)


class Policy:
    """A policy as lines: head (interfaces and what else comes first),
    objects (name -> members), services (name -> text), rules, tail (NAT,
    forwards).  New objects are OBJn, new services SVCn."""

    def __init__(self, shape, head=None, tail=None):
        self.shape = shape
        self.rng = shape.rng
        self.head = head if head is not None else shape.head()
        self.tail = tail if tail is not None else []
        self.objects = {}       # in the order they are declared
        self.services = {}
        self.rules = []
        self.nobj = 0
        self.nsvc = 0

    @classmethod
    def parse(cls, shape, text):
        """A policy of labgen's (a statement a line; objects, services
        and rules in the order the language needs them)."""
        head, tail = [], []
        p = cls(shape, head, tail)
        for line in text.splitlines():
            w = line.split(None, 2)
            if not w:
                continue
            if w[0] == "object":
                v = w[2].strip()
                p.objects[w[1]] = ([m.strip() for m in v[1:-1].split(",")]
                                   if v.startswith("{") else [v])
            elif w[0] == "service":
                p.services[w[1]] = w[2]
            elif w[0] in ("accept", "deny", "reject"):
                p.rules.append(line)
            elif w[0] in ("nat", "forward"):
                tail.append(line)
            elif p.objects or p.services or p.rules or tail:
                raise ValueError("a head line after the objects: " + line)
            else:
                head.append(line)
        return p

    def copy(self):
        q = Policy(self.shape, list(self.head), list(self.tail))
        q.objects = {k: list(v) for k, v in self.objects.items()}
        q.services = dict(self.services)
        q.rules = list(self.rules)
        q.nobj, q.nsvc = self.nobj, self.nsvc
        return q

    def new_object(self):
        name = "OBJ%d" % self.nobj
        self.nobj += 1
        self.objects[name] = [self.shape.member()
                              for _ in range(self.rng.randint(1, 6))]
        return name

    def new_service(self):
        rng = self.rng
        name = "SVC%d" % self.nsvc
        self.nsvc += 1
        parts = []
        for _ in range(rng.randint(1, 3)):
            proto = rng.choice(["tcp", "udp"])
            ports = []
            for _ in range(rng.randint(1, 3)):
                ports.append(self.shape.ports(proto))
            parts.append(proto + " " + ",".join(ports))
        self.services[name] = " ".join(parts)
        return name

    def side(self, inside):
        r = self.rng.random()
        if r < 0.15:
            return "ANY"
        if r < 0.4 and self.objects:
            return self.rng.choice(sorted(self.objects))
        return self.shape.host(inside)

    def new_rule(self):
        rng = self.rng
        iface = rng.choice(self.shape.ifaces)
        action = rng.choice(["accept", "accept", "deny", "reject"])
        inside = self.shape.inside(iface)
        text = "%s on %s from %s" % (action, iface, self.side(inside))
        if rng.random() < 0.8:
            text += " to %s" % self.side(not inside)
        if rng.random() < 0.7:
            if self.services and rng.random() < 0.3:
                text += " service " + rng.choice(sorted(self.services))
            else:
                text += " service " + rng.choice(self.shape.services)
        if rng.random() < self.shape.log:
            text += " log"
        return text

    def text(self):
        lines = list(self.head)
        for name, members in self.objects.items():
            lines.append("object %s %s" % (name, members[0]
                                           if len(members) == 1 else
                                           "{ %s }" % ", ".join(members)))
        for name, svc in self.services.items():
            lines.append("service %s %s" % (name, svc))
        return "\n".join(lines + self.rules + self.tail) + "\n"

    def edit(self):
        """One random edit; returns its kind."""
        rng = self.rng
        kinds = ["add", "change", "move", "delete", "member+", "member-",
                 "object", "service"]
        kind = rng.choice(kinds)
        n = len(self.rules)
        if kind == "add":
            self.rules.insert(rng.randint(0, n), self.new_rule())
        elif kind == "change":
            i = rng.randrange(n)
            words = self.rules[i].split()
            words[0] = rng.choice([w for w in ["accept", "deny", "reject"]
                                   if w != words[0]])
            self.rules[i] = (" ".join(words) if rng.random() < 0.5 else
                             self.new_rule())
        elif kind == "move":
            i = rng.randrange(n)
            r = self.rules.pop(i)
            self.rules.insert(rng.randint(0, n - 1), r)
        elif kind == "delete":
            self.rules.pop(rng.randrange(n))
        elif kind == "member+":
            o = rng.choice(sorted(self.objects))
            self.objects[o].append(self.shape.added())
        elif kind == "member-":
            o = rng.choice([o for o in sorted(self.objects)
                            if len(self.objects[o]) > 1] or
                           sorted(self.objects))
            if len(self.objects[o]) > 1:
                self.objects[o].pop(rng.randrange(len(self.objects[o])))
        elif kind == "object":
            o = self.new_object()
            self.rules.insert(rng.randint(0, n), self.shape.object_rule(o))
        elif kind == "service":
            s = self.new_service()
            self.rules.insert(rng.randint(0, n), self.shape.service_rule(s))
        return kind


def listing(ns):
    """Table inet moat in namespace ns, normalised, or None and the
    error."""
    out = subprocess.run(["ip", "netns", "exec", ns, "nft", "-j", "list",
                          "table", "inet", "moat"], capture_output=True,
                         text=True)
    if out.returncode != 0:
        return None, out.stderr
    return normalise(json.loads(out.stdout)), ""


def expressions(ns):
    """The kernel's own dump of table inet moat in namespace ns as nft
    prints it with --debug=netlink (each rule's expressions, each set's
    elements as bytes), normalised: handles dropped, counters zeroed,
    anonymous sets' names dropped, rules and sets sorted (the order of a
    chain's rules is listing()'s to check).  None when nft failed.  Two
    rules equal here are the same rule to the kernel, however they were
    sent (libnftables or moat's own batch, nfrule.c)."""
    out = subprocess.run(["ip", "netns", "exec", ns, "nft", "--debug=netlink",
                          "list", "table", "inet", "moat"],
                         capture_output=True, text=True)
    if out.returncode != 0:
        return None
    blocks, cur = [], []
    for line in out.stdout.splitlines():
        if line.startswith("table "):
            break       # the ruleset as text: listing()'s
        line = re.sub(r"^(inet moat \S+)( \d+)+$", r"\1", line)
        line = re.sub(r"counter pkts \d+ bytes \d+", "counter", line)
        line = re.sub(r"__set\d+", "__set", line)
        if line and not line[0].isspace():
            if cur:
                blocks.append(cur)
            cur = [line]
        elif line.strip():
            cur.append(line)
    if cur:
        blocks.append(cur)
    return sorted("\n".join(b[:1] + (sorted(b[1:]) if b[0].startswith(
        "inet moat @") else b[1:])) for b in blocks)


def zeroed(x):
    """x with every counter's figures 0 (counter objects, a rule's own
    counter, a map element's)."""
    if isinstance(x, list):
        return [zeroed(y) for y in x]
    if not isinstance(x, dict):
        return x
    return {k: (dict(v, packets=0, bytes=0) if k == "counter" and
                isinstance(v, dict) and "packets" in v else zeroed(v))
            for k, v in x.items()}


def normalise(doc):
    """Handles dropped, counters zeroed, elements sorted; chains, sets and
    counters by name; a chain's rules in order."""
    units, rules = {}, {}
    for o in zeroed(doc["nftables"]):
        (kind, v), = o.items()
        if kind == "metainfo":
            continue
        v = dict(v)
        v.pop("handle", None)
        if kind == "rule":
            rules.setdefault(v["chain"], []).append(
                json.dumps(v, sort_keys=True))
            continue
        if kind == "counter":
            v["packets"] = v["bytes"] = 0
        if "elem" in v:
            v["elem"] = sorted(json.dumps(e, sort_keys=True)
                               for e in v["elem"])
        units["%s %s" % (kind, v.get("name"))] = json.dumps(v, sort_keys=True)
    return units, rules


def differences(a, b):
    """The first unit and the first chain in which two normalised
    listings differ, as messages (none when they are equal)."""
    out = []
    ua, ra = a
    ub, rb = b
    for k in sorted(set(ua) | set(ub)):
        if ua.get(k) != ub.get(k):
            out.append("%s: incremental %s, whole %s" % (
                k, (ua.get(k) or "none")[:300], (ub.get(k) or "none")[:300]))
            break
    for c in sorted(set(ra) | set(rb)):
        if ra.get(c) != rb.get(c):
            out.append("rules of chain %s differ: incremental %d, whole %d"
                       % (c, len(ra.get(c, [])), len(rb.get(c, []))))
            break
    return out


def same_tables(ns_a, ns_b, what, fail, names=("moat's", "libnftables'")):
    """Whether the tables of namespaces ns_a and ns_b are the same: the
    listing (normalised) and each rule's and element's expressions as the
    kernel holds them.  Each difference is said through fail(msg), what
    first; names say whose each side is."""
    a, ea = listing(ns_a)
    b, eb = listing(ns_b)
    if a is None or b is None:
        fail("%s: listing failed: %s %s" % (what, ea, eb))
        return False
    if a != b:
        for msg in differences(a, b):
            fail("%s: %s" % (what, msg))
        return False
    xa, xb = expressions(ns_a), expressions(ns_b)
    if xa is None or xb is None:
        fail("%s: nft --debug=netlink list failed" % what)
        return False
    if xa != xb:
        only_a = [x for x in xa if x not in set(xb)]
        only_b = [x for x in xb if x not in set(xa)]
        fail("%s: the kernel holds other expressions: %s %s, %s %s" % (
            what, names[0], only_a[:2], names[1], only_b[:2]))
        return False
    return True
