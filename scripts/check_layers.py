#!/usr/bin/env python3
"""Checks every `#include "room/..."` under src/ against the room table in README.md.

The README's "Layout" table is the one statement of which room may use which (its "may use"
column), so the rule and its documentation cannot drift apart: a room whose row says
`util, tensor` may include headers from those rooms and from itself, nothing else.

Usage: check_layers.py [REPO_ROOT]   exit 0 when clean, 1 with one line per violation.
"""
import os
import re
import sys

ROW = re.compile(r"^\|\s*`src/([a-z_]+)/`\s*\|[^|]*\|\s*([^|]*?)\s*\|\s*$")
INCLUDE = re.compile(r'^[ \t]*#[ \t]*include[ \t]+"([a-z_]+)/[^"]+"', re.M)


def read_rules(readme_path):
    """{room: set of rooms it may use} from the README table rows `| `src/room/` | holds | may use |`."""
    rules = {}
    with open(readme_path, encoding="utf-8") as f:
        for line in f:
            m = ROW.match(line.strip())
            if m:
                uses = m.group(2).replace("`", "")
                allowed = {u.strip() for u in uses.split(",") if u.strip() and u.strip() not in ("—", "-")}
                rules[m.group(1)] = allowed
    return rules


def violations(root):
    rules = read_rules(os.path.join(root, "README.md"))
    if not rules:
        return [f"{root}/README.md: no Layout table rows of the form | `src/ROOM/` | holds | may use |"]
    found = []
    src = os.path.join(root, "src")
    for room in sorted(os.listdir(src)):
        room_dir = os.path.join(src, room)
        if not os.path.isdir(room_dir):
            continue
        if room not in rules:
            found.append(f"src/{room}/: room missing from README's Layout table")
            continue
        for dirpath, _, files in os.walk(room_dir):
            for name in sorted(files):
                if not name.endswith((".h", ".cpp")):
                    continue
                path = os.path.join(dirpath, name)
                with open(path, encoding="utf-8") as f:
                    text = f.read()
                for m in INCLUDE.finditer(text):
                    used = m.group(1)
                    if used != room and used in rules and used not in rules[room]:
                        line = text.count("\n", 0, m.start()) + 1
                        rel = os.path.relpath(path, root)
                        found.append(f"{rel}:{line}: {room}/ may not include {used}/ "
                                     f"(README allows: {', '.join(sorted(rules[room])) or 'nothing'})")
    return found


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
    found = violations(root)
    for v in found:
        print(v)
    if not found:
        print("layers: every #include follows README's Layout table")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
