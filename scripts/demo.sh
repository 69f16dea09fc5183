#!/usr/bin/env bash
# End-to-end demo on a small random checkpoint written in the real on-disk format
# (nested config.json, bf16 safetensors with Hugging Face names, a real byte-level BPE tokenizer).
set -euo pipefail
BUILD=${1:-build}
DIR=${2:-$BUILD/demo-model}
BIN=$BUILD/tessera
PY=/usr/bin/python3
MPIRUN="mpirun --allow-run-as-root --oversubscribe --mca mpi_yield_when_idle 1"

if [ ! -f "$DIR/config.json" ]; then
  $PY tools/make_tiny_checkpoint.py "$DIR" --family qwen3_5_moe --seed 1 \
    --hidden 256 --layers 8 --heads 8 --kv-heads 2 --head-dim 64 \
    --linear-key-heads 4 --linear-value-heads 8 --linear-key-dim 64 --linear-value-dim 64 \
    --experts-count 16 --top-k 4 --moe-inter 128 --shared-inter 128 \
    --vocab 8192 --tokenizer data/tokenizer-qwen3-demo >/dev/null
fi
echo "== model"
$BIN info --model "$DIR" | $PY -c '
import json, sys
d = json.load(sys.stdin)
print("%s: %.1f M parameters, %.1f M active per token" % (d["family"], d["parameters_total"] / 1e6, d["parameters_active_per_token"] / 1e6))'
MESSAGES="$DIR/demo-messages.json"
echo '[{"role": "user", "content": "Write a haiku about tensor parallelism."}]' > "$MESSAGES"
echo "== tessera generate --messages (1 process; random weights, so the words are nonsense)"
$BIN generate --model "$DIR" --messages "$MESSAGES" --max-tokens 32
echo "== mpirun -np 2 tessera generate --messages (tensor-parallel, 1 thread per rank: same tokens)"
$MPIRUN -np 2 $BIN generate --model "$DIR" --messages "$MESSAGES" --max-tokens 32 --threads 1 2>/dev/null
echo "== tessera bench (prompt 64, generate 32)"
$BIN bench --model "$DIR" --prompt-tokens 64 --gen-tokens 32 2>/dev/null
