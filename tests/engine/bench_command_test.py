"""`tessera bench` options beyond the basic run: --batch (decode several sequences in one pass per
step, the path the server takes for concurrent requests), --compare-depth (decode after 8 tokens
and after N, interleaved), both single-process and under mpirun -np 2 (rank 0 alone prints), and
their bad values, which must fail with a message naming the option. Speeds are not asserted
(they belong to bench/, not to tests); the structure and the work done are."""
import json

from tessera_testlib import Checks, make_checkpoint, run, run_json

checks = Checks("bench_command")
model = make_checkpoint("bench-qwen3_5_moe", "--family", "qwen3_5_moe", "--seed", "71")

for ranks in [0, 2]:
    where = "under -np 2" if ranks else "single process"
    r = run_json(["bench", "--model", model, "--prompt-tokens", "5", "--gen-tokens", "6", "--batch", "3",
                  "--compare-depth", "40"], np_ranks=ranks, threads=1 if ranks else None)
    checks.check(r["batch"] == 3 and r["gen_tokens"] == 6, f"--batch 3 reported ({where})")
    checks.check(abs(r["gen_tps"] - 3 * r["per_sequence_gen_tps"]) <= 1e-6 * r["gen_tps"],
                 f"gen_tps is the total over the batch ({where})")
    checks.check(r["parallel_regions_per_token"] >= 0 and r["barrier_wait_us_per_token"] >= 0,
                 f"thread-pool barrier figures present ({where})")
    d = r["depth_compare"]
    checks.check(d["shallow_depth"] == 8 and d["deep_depth"] == 40 and d["shallow_gen_tps"] > 0 and d["deep_gen_tps"] > 0
                 and abs(d["deep_over_shallow"] - d["deep_gen_tps"] / d["shallow_gen_tps"]) < 1e-9,
                 f"--compare-depth 40 reports both depths ({where})")
    checks.check(len(r["peak_rss_bytes_per_rank"]) == max(ranks, 1), f"one peak RSS per rank ({where})")

plain = run_json(["bench", "--model", model, "--prompt-tokens", "5", "--gen-tokens", "2"])
checks.check(plain["batch"] == 1 and plain["depth_compare"] is None, "defaults: one sequence, no depth comparison")

for args, option in [(["--batch", "0"], "--batch"), (["--batch", "65"], "--batch"), (["--compare-depth", "3"], "--compare-depth")]:
    proc = run(["bench", "--model", model, "--prompt-tokens", "4", "--gen-tokens", "2", *args], check=False)
    checks.check(proc.returncode != 0 and option in proc.stderr, f"{' '.join(args)} is refused naming {option}: {proc.stderr.strip()[-120:]}")
checks.done()
