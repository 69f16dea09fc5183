#!/usr/bin/env python3
"""The benchmark harness (issue: CPU speed). One command:

    /usr/bin/python3 bench/run_bench.py [--model DIR] [--prompt 512] [--gen 128] [--quick]

builds the memory-bandwidth probe (bench/membw.c), measures read bandwidth in this run,
writes the benchmark checkpoint with tools/make_bench_model.py if DIR has none, then runs
`tessera bench` for bf16, q8 and q4 with 1 and 2 threads, and tensor-parallel over loopback
(mpirun -np 2, 1 thread per rank), and prints a table: decode and prefill tok/s, the bandwidth the
decode speed implies (weight bytes read per token x tok/s), that as a % of the measured bandwidth,
peak RSS, and the thread-pool barrier wait per decoded token (rank 0's caller waiting for the last
chunk of each parallel region). Rows "x8" decode 8 sequences together (batched decode, as the
server does for concurrent requests): decode tok/s is then the total over the 8. Bandwidth is
re-measured right before each row because the host is noisy. After the table: tensor-parallel
speed relative to one process, and q4 decode after 1024 tokens of context against after 8."""
import argparse
import json
import os
import subprocess
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
BIN = os.path.join(ROOT, "build", "tessera")
MPIRUN = ["mpirun", "--allow-run-as-root", "--oversubscribe", "--mca", "mpi_yield_when_idle", "1"]


def sh(cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw).stdout


def bandwidth(probe, threads):
    out = sh([probe, "1024", "5"], env=dict(os.environ, OMP_NUM_THREADS=str(threads)))
    return float(out.split("read_best=")[1].split()[0])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default=os.path.join(ROOT, "build", "bench-model"))
    ap.add_argument("--prompt", type=int, default=512)
    ap.add_argument("--gen", type=int, default=128)
    ap.add_argument("--quick", action="store_true", help="bf16 and q4 at 2 threads only")
    ap.add_argument("--only", default="", help="comma-separated row names to run, e.g. 'q8,q4'")
    a = ap.parse_args()
    probe = os.path.join(ROOT, "build", "membw")
    sh(["gcc", "-O3", "-march=native", "-fopenmp", os.path.join(ROOT, "bench", "membw.c"), "-o", probe])
    if not os.path.exists(os.path.join(a.model, "config.json")):
        print(f"writing the benchmark checkpoint to {a.model} (~2.5 min, 6.8 GB)", flush=True)
        subprocess.run(["/usr/bin/python3", os.path.join(ROOT, "tools", "make_bench_model.py"), a.model], check=True)
    cpu = sh(["sh", "-c", "grep -m1 'model name' /proc/cpuinfo | cut -d: -f2"]).strip()
    print(f"machine: {cpu}, {os.cpu_count()} cores; prompt {a.prompt}, generate {a.gen}")
    rows = []
    # (row name, --quantize, threads, mpirun ranks, sequences decoded together, prompt length)
    P = a.prompt
    configs = [("bf16", "", 1, 0, 1, P), ("bf16", "", 2, 0, 1, P), ("q8", "q8", 1, 0, 1, P), ("q8", "q8", 2, 0, 1, P),
               ("q4", "q4", 1, 0, 1, P), ("q4", "q4", 2, 0, 1, P), ("bf16 TP=2", "", 1, 2, 1, P),
               ("q4 TP=2", "q4", 1, 2, 1, P), ("bf16 x8", "", 2, 0, 8, P), ("q4 x8", "q4", 2, 0, 8, P)]
    if a.quick:
        configs = [c for c in configs if (c[2] == 2 or c[3] == 2) and c[4] == 1 and c[5] == P][:2] + \
                  [("bf16 TP=2", "", 1, 2, 1, P)]
    if a.only:
        wanted = set(a.only.split(","))
        configs = [c for c in configs if c[0] in wanted]
    header = f"{'format':<10} {'threads':>7} {'ranks':>5} {'decode tok/s':>12} {'prefill tok/s':>13} {'GB/token':>8} " \
             f"{'implied GB/s':>12} {'probe GB/s':>10} {'% of bw':>7} {'peak RSS GB':>11} {'barrier us/tok':>14}"
    print(header)
    for name, quant, threads, ranks, batch, prompt in configs:
        info_args = [BIN, "info", "--model", a.model] + (["--quantize", quant] if quant else [])
        per_token = json.loads(sh(info_args))["weight_bytes_per_token"] / 1e9
        bw = bandwidth(probe, threads * max(ranks, 1))
        cmd = [BIN, "bench", "--model", a.model, "--prompt-tokens", str(prompt), "--gen-tokens", str(a.gen),
               "--threads", str(threads), "--batch", str(batch)] + (["--quantize", quant] if quant else [])
        if ranks:
            cmd = MPIRUN + ["-np", str(ranks)] + cmd
        r = json.loads([l for l in sh(cmd).splitlines() if l.startswith("{")][-1])
        # A batch reads the weights once per step for all its sequences: the bandwidth it implies
        # is steps/s x bytes per step; decode tok/s is the total over the batch.
        implied = r.get("per_sequence_gen_tps", r["gen_tps"]) * per_token
        row = f"{name:<10} {threads:>7} {max(ranks, 1):>5} {r['gen_tps']:>12.2f} {r['prompt_tps']:>13.1f} {per_token:>8.3f} " \
              f"{implied:>12.1f} {bw:>10.1f} {100 * implied / bw:>6.0f}% {r['peak_rss_bytes'] / 1e9:>11.2f} " \
              f"{r.get('barrier_wait_us_per_token', 0):>14.0f}"
        print(row, flush=True)
        rows.append((name, r))
    by_name = dict(rows)
    for single, tp in [("bf16", "bf16 TP=2"), ("q4", "q4 TP=2")]:
        if tp in by_name and single in by_name:
            two_threads = [r for n, r in rows if n == single and r["threads"] == 2]
            if two_threads:
                print(f"{tp}: {by_name[tp]['gen_tps'] / two_threads[0]['gen_tps']:.2f}x the decode speed of one process "
                      f"with 2 threads")
    if not a.only and not a.quick:
        # Context depth: q4 decode after 8 and after 1024 tokens, one step of each in turn within one
        # process, so both see the same machine (sequential rows differ by the host's noise).
        cmd = [BIN, "bench", "--model", a.model, "--prompt-tokens", "8", "--gen-tokens", str(a.gen), "--threads", "2",
               "--quantize", "q4", "--compare-depth", "1024"]
        d = json.loads([l for l in sh(cmd).splitlines() if l.startswith("{")][-1])["depth_compare"]
        print(f"q4 decode at context {d['deep_depth']} vs {d['shallow_depth']} (interleaved): "
              f"{d['deep_gen_tps']:.2f} vs {d['shallow_gen_tps']:.2f} tok/s = {100 * (1 - d['deep_over_shallow']):.1f} % slower")
    return 0


if __name__ == "__main__":
    sys.exit(main())
