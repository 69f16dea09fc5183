#!/usr/bin/env python3
"""clang-tidy over every src/ translation unit (with the checks in .clang-tidy, warnings as errors),
two at a time, remembering clean results.

A file's clean result is cached (in $XDG_CACHE_HOME/tessera-lint, else ~/.cache/tessera-lint) by a
hash of its preprocessed text (every header it includes), its compile flags with the checkout's
path taken out, .clang-tidy and the clang-tidy version. So a rerun only checks what changed, in
this checkout or a fresh clone of it: the first run takes ~10 minutes on 2 cores, a rerun seconds.

Usage: run_clang_tidy.py BUILD_DIR [-j N]     exit 0 when every file is clean.
"""
import argparse
import concurrent.futures
import hashlib
import json
import os
import shlex
import subprocess
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))


def compiler_args(entry):
    args = shlex.split(entry["command"]) if "command" in entry else list(entry["arguments"])
    while args and os.path.basename(args[0]) == "ccache":  # the launcher is not the compiler
        args = args[1:]
    return args


def preprocess_key(entry, tidy_version, tidy_config):
    """Hash of what clang-tidy would see: the file after preprocessing, plus flags and config."""
    args = compiler_args(entry)
    out = []
    skip = False
    for a in args:  # drop the object output; preprocess to stdout instead
        if skip:
            skip = False
            continue
        if a == "-o":
            skip = True
            continue
        if a == "-c":
            continue
        out.append(a)
    pre = subprocess.run(out + ["-E", "-P"], cwd=entry["directory"], capture_output=True)
    h = hashlib.sha256()
    h.update(tidy_version.encode())
    h.update(tidy_config)
    flags = " ".join(args).replace(ROOT, "<root>").replace(os.path.abspath(entry["directory"]), "<build>")
    h.update(flags.encode())
    h.update(pre.stdout if pre.returncode == 0 else os.urandom(16))  # no cache when -E fails
    return h.hexdigest()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build")
    ap.add_argument("-j", type=int, default=2)
    a = ap.parse_args()
    db_path = os.path.join(a.build, "compile_commands.json")
    if not os.path.exists(db_path):
        print(f"{db_path} not found: run `make build` first", file=sys.stderr)
        return 2
    with open(db_path) as f:
        entries = [e for e in json.load(f) if os.path.relpath(e["file"], ROOT).startswith("src" + os.sep)]
    tidy_version = subprocess.run(["clang-tidy", "--version"], capture_output=True, text=True).stdout
    with open(os.path.join(ROOT, ".clang-tidy"), "rb") as f:
        tidy_config = f.read()
    cache = os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "tessera-lint")
    os.makedirs(cache, exist_ok=True)

    def check(entry):
        key = preprocess_key(entry, tidy_version, tidy_config)
        stamp = os.path.join(cache, key)
        if os.path.exists(stamp):
            return entry["file"], True, "", True
        proc = subprocess.run(["clang-tidy", "-p", a.build, "--quiet", "--warnings-as-errors=*", entry["file"]],
                              capture_output=True, text=True)
        ok = proc.returncode == 0
        if ok:
            open(stamp, "w").close()
        return entry["file"], ok, proc.stdout + proc.stderr, False

    failed, cached = [], 0
    with concurrent.futures.ThreadPoolExecutor(max_workers=a.j) as pool:
        for path, ok, output, was_cached in pool.map(check, entries):
            cached += was_cached
            if not ok:
                failed.append(path)
                print(output.strip())
    rel = [os.path.relpath(p, ROOT) for p in failed]
    print(f"clang-tidy: {len(entries) - len(failed)}/{len(entries)} files clean ({cached} unchanged since a clean run)"
          + (f"; failing: {', '.join(rel)}" if rel else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
