"""The tessera binary starts on any x86-64 CPU: only the kernel bodies compiled from *_avx2.cpp and
*_avx512.cpp may use instructions beyond baseline x86-64 (src/kernels/kernel_set.h), and those are
called only when the CPU has them.

Every function in build/tessera is disassembled; one that uses a VEX/EVEX-encoded instruction (any
AVX form: a `v...` mnemonic, ymm/zmm registers) or a BMI/BMI2 one must be a function those object files
define themselves (strong or local symbols, per `nm`). A weak symbol -- an inline function or template
instance also compiled elsewhere -- fails the test: the linker may keep the AVX2 copy and call it
from baseline code, which would crash with an illegal instruction on an older CPU.

Needs binutils (objdump, nm), which build-essential brings."""
import os
import re
import subprocess
import sys

BIN = os.environ["TESSERA_BIN"]
BUILD = os.path.dirname(os.path.abspath(BIN))
OBJ_DIR = os.path.join(BUILD, "CMakeFiles", "tessera_core.dir", "src")

BEYOND_BASELINE = re.compile(r"^(v(?!err|erw)\w+|andn|bextr|blsi|blsmsk|blsr|bzhi|mulx|pdep|pext|rorx|sarx|shlx|shrx)$")


def isa_objects():
    out = []
    for root, _, files in os.walk(OBJ_DIR):
        out += [os.path.join(root, f) for f in files if re.search(r"_avx(2|512)\.cpp\.o$", f)]
    return out


def own_functions(objects):
    """Mangled names of the text symbols the ISA objects define strongly or locally (not weak)."""
    names = set()
    for obj in objects:
        res = subprocess.run(["nm", "--defined-only", obj], capture_output=True, text=True, check=True)
        for line in res.stdout.splitlines():
            parts = line.split()
            if len(parts) == 3 and parts[1] in ("T", "t"):
                names.add(parts[2])
    return names


def functions_beyond_baseline(binary):
    res = subprocess.run(["objdump", "-d", "--no-show-raw-insn", binary], capture_output=True, text=True, check=True)
    found, current = {}, None
    header = re.compile(r"^[0-9a-f]+ <(.+)>:$")
    for line in res.stdout.splitlines():
        m = header.match(line)
        if m:
            current = m.group(1)
            continue
        parts = line.split("\t")
        if current is None or len(parts) < 2:
            continue
        mnemonic = parts[1].split()[0] if parts[1].split() else ""
        if BEYOND_BASELINE.match(mnemonic) or "%ymm" in line or "%zmm" in line:
            found.setdefault(current, mnemonic)
    return found


def main():
    objects = isa_objects()
    if not objects:
        print(f"no *_avx2 / *_avx512 objects under {OBJ_DIR}")
        return 1
    allowed = own_functions(objects)
    used = functions_beyond_baseline(BIN)
    bad = sorted(name for name in used if name not in allowed and name.split("@")[0] not in allowed)
    print(f"{len(used)} functions in {BIN} use AVX/BMI instructions; {len(used) - len(bad)} are ISA kernel bodies")
    if not any(n in allowed for n in used):
        print("no kernel body found in the binary: the check is not looking at the right files")
        return 1
    if bad:
        demangled = subprocess.run(["c++filt"], input="\n".join(bad), capture_output=True, text=True).stdout.split("\n")
        for name, d in zip(bad, demangled):
            print(f"  outside the ISA files: {d}  (first: {used[name]})")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
