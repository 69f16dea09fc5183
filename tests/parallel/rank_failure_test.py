"""A rank that dies mid-generation must end the whole job: the other ranks exit non-zero with an
error message within 10 s instead of waiting forever in a collective. Both directions: a worker is
killed (rank 0 is inside a forward pass), and rank 0 is killed (the worker waits for a command)."""
import os
import signal
import subprocess
import time

from tessera_testlib import BIN, MPIRUN, Checks, make_checkpoint

checks = Checks("rank_failure")
model = make_checkpoint("tp-qwen3_5_moe", "--family", "qwen3_5_moe", "--seed", "31",
                        "--heads", "4", "--kv-heads", "2", "--linear-key-heads", "4", "--linear-value-heads", "8")


def find_rank(marker, rank):
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            env = open(f"/proc/{pid}/environ", "rb").read().split(b"\0")
            cmd = open(f"/proc/{pid}/cmdline", "rb").read()
        except OSError:
            continue
        if f"TESSERA_FAILURE_TEST={marker}".encode() in env and f"OMPI_COMM_WORLD_RANK={rank}".encode() in env \
                and cmd.startswith(BIN.encode()):
            return int(pid)
    return None


for victim in [1, 0]:
    marker = f"{os.getpid()}-{victim}"
    env = dict(os.environ, TESSERA_FAILURE_TEST=marker)
    proc = subprocess.Popen([*MPIRUN, "-np", "2", BIN, "bench", "--model", model, "--prompt-tokens", "16",
                             "--gen-tokens", "100000000", "--threads", "1"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    pid = None
    deadline = time.time() + 60
    while pid is None and time.time() < deadline and proc.poll() is None:
        time.sleep(0.2)
        pid = find_rank(marker, victim)
    checks.check(pid is not None, f"found rank {victim}'s process")
    time.sleep(2.0)  # let it get well into generation
    checks.check(proc.poll() is None, "the job is still generating before the kill")
    os.kill(pid, signal.SIGKILL)
    killed = time.time()
    try:
        _, err = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
    elapsed = time.time() - killed
    checks.check(proc.returncode != 0, f"rank {victim} killed: job exit status {proc.returncode} is non-zero")
    checks.check(elapsed < 10, f"rank {victim} killed: whole job ended {elapsed:.1f}s after the kill (< 10 s)")
    checks.check("signal 9" in err or "Killed" in err or "rank" in err.lower(),
                 f"rank {victim} killed: an error message names what happened")
    time.sleep(0.5)
    checks.check(find_rank(marker, 1 - victim) is None, f"rank {victim} killed: no rank of the job is left running")
checks.done()
