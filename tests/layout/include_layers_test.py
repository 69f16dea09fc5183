#!/usr/bin/env python3
"""The room rule of README's Layout table holds for every #include under src/, and the checker
really catches a violation (a synthetic tree where kernels/ includes model/, and a room the table
does not list)."""
import os
import subprocess
import sys
import tempfile

SOURCE = os.environ.get("TESSERA_SOURCE", os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
CHECKER = os.path.join(SOURCE, "scripts", "check_layers.py")
PY = "/usr/bin/python3"


def run_checker(root):
    return subprocess.run([PY, CHECKER, root], capture_output=True, text=True)


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def main():
    failures = []
    real = run_checker(SOURCE)
    if real.returncode != 0:
        failures.append("src/ breaks the Layout table:\n" + real.stdout)

    with tempfile.TemporaryDirectory() as tmp:
        write(os.path.join(tmp, "README.md"),
              "| folder | holds | may use |\n|---|---|---|\n"
              "| `src/util/` | x | — |\n| `src/kernels/` | x | util |\n| `src/model/` | x | kernels, util |\n")
        write(os.path.join(tmp, "src/util/log.h"), "#pragma once\n")
        write(os.path.join(tmp, "src/model/m.h"), '#include "kernels/k.h"\n#include "util/log.h"\n')
        write(os.path.join(tmp, "src/kernels/k.h"), '#include "util/log.h"\n\n#include "model/m.h"\n')
        write(os.path.join(tmp, "src/extra/e.h"), "#pragma once\n")
        bad = run_checker(tmp)
        if bad.returncode != 1:
            failures.append(f"checker exit {bad.returncode} on a violating tree, expected 1")
        if "src/kernels/k.h:3: kernels/ may not include model/" not in bad.stdout:
            failures.append("checker did not name src/kernels/k.h:3 including model/:\n" + bad.stdout)
        if "src/extra/: room missing" not in bad.stdout:
            failures.append("checker did not report the room missing from the table:\n" + bad.stdout)
        if "src/model/m.h" in bad.stdout:
            failures.append("checker flagged an allowed include (model/ -> kernels/):\n" + bad.stdout)

    for f in failures:
        print("FAIL:", f)
    print("include layers:", "ok" if not failures else f"{len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
