#!/usr/bin/env python3
"""nftcount.py [NAME]: the counters of table inet moat, read from
`nft -j list table inet moat` on stdin, by the names moat gives them
(doc/design/rule-ids.md): a counter object by its name (anti_lockout,
default_IF, forward_ID, nat_source_ID...); a rule's counter, rule_ID, is the sum of the
counters of the kernel rules whose comment is "rule ID" and of the
dispatch maps' elements with that comment.  With NAME, its packets (empty
when there is none); without, every counter as NAME PACKETS lines.

The lab's tests read the kernel here, apart from moat's own reader
(src/enforce/counters.c), which moat status uses."""
import json
import re
import sys

RULE = re.compile(r"^rule ([0-9a-f]{16})$")


def add(res, name, c):
    res[name] = res.get(name, 0) + c["packets"]


def table_counters(doc):
    """Packets by counter name, from nft's JSON listing of the table."""
    res = {}
    for o in doc["nftables"]:
        (kind, v), = o.items()
        if kind == "counter":
            add(res, v["name"], v)
        elif kind == "rule":
            m = RULE.match(v.get("comment", ""))
            for e in v.get("expr", []):
                if m and isinstance(e, dict) and "counter" in e and \
                        isinstance(e["counter"], dict):
                    add(res, "rule_" + m.group(1), e["counter"])
        elif kind in ("map", "set"):
            for el in v.get("elem", []):
                key = el[0] if isinstance(el, list) else el
                if not isinstance(key, dict) or "elem" not in key:
                    continue
                m = RULE.match(key["elem"].get("comment", ""))
                if m and "counter" in key["elem"]:
                    add(res, "rule_" + m.group(1), key["elem"]["counter"])
    return res


def main():
    res = table_counters(json.load(sys.stdin))
    if len(sys.argv) > 1:
        if sys.argv[1] in res:
            print(res[sys.argv[1]])
        return
    for k, n in res.items():
        print(k, n)


if __name__ == "__main__":
    main()
