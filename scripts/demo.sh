#!/usr/bin/env bash
# End-to-end demo on the trained demo model committed in data/demo-model: a 4-layer Qwen3.5-MoE
# (Gated DeltaNet + gated attention, 8 experts + shared expert) trained by
# tools/train_demo_model.py to answer arithmetic questions, in the real Hugging Face layout with
# its own byte-level BPE tokenizer and Qwen3.5's chat template. The same question goes through one
# process, tensor parallelism under `mpirun -np 2`, and `tessera serve` as a streamed chat completion.
set -euo pipefail
BUILD=${1:-build}
MODEL=${2:-data/demo-model}
BIN=$BUILD/tessera
PY=/usr/bin/python3
MPIRUN="mpirun --allow-run-as-root --oversubscribe --mca mpi_yield_when_idle 1"
QUESTION=${QUESTION:-What is 2+2?}
WORK=$BUILD/demo
mkdir -p "$WORK"
MESSAGES="$WORK/question.json"
$PY -c 'import json, sys; print(json.dumps([{"role": "user", "content": sys.argv[1]}]))' "$QUESTION" > "$MESSAGES"

answer() {  # the "text" field of tessera generate's JSON
  $PY -c 'import json, sys; print(json.load(sys.stdin)["text"])'
}

echo "== model: $MODEL"
$BIN info --model "$MODEL" | $PY -c '
import json, sys
d = json.load(sys.stdin)
c = d["config"].get("text_config", d["config"])
print("   %s, %d layers, %.2f M parameters (%.2f M active per token)" % (d["family"], c["num_hidden_layers"],
      d["parameters_total"] / 1e6, d["parameters_active_per_token"] / 1e6))'

echo "== one process:            Q: $QUESTION"
echo "                           A: $($BIN generate --model "$MODEL" --messages "$MESSAGES" --max-tokens 16 2>/dev/null | answer)"

echo "== mpirun -np 2 (tensor-parallel, each rank holds half of every layer)"
echo "                           A: $($MPIRUN -np 2 $BIN generate --model "$MODEL" --messages "$MESSAGES" --max-tokens 16 --threads 1 2>/dev/null | answer)"

# The same model as an mlx-community MLX 6-bit checkpoint (written by `tessera quantize`), when
# it sits beside the demo model.
if [ -d "$MODEL-mlx6" ]; then
  echo "== MLX 6-bit checkpoint ($MODEL-mlx6, one process)"
  echo "                           A: $($BIN generate --model "$MODEL-mlx6" --messages "$MESSAGES" --max-tokens 16 2>/dev/null | answer)"
fi

echo "== tessera serve, streamed chat completion (POST /v1/chat/completions, stream: true)"
LOG="$WORK/serve.log"
$BIN serve --model "$MODEL" --port 0 > "$LOG" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
PORT=""
for _ in $(seq 1 300); do
  PORT=$(sed -n 's/.*listening on http:\/\/[^:]*:\([0-9]*\).*/\1/p' "$LOG" | head -1)
  if [ -n "$PORT" ] && curl -sf "localhost:$PORT/health" >/dev/null 2>&1; then break; fi
  sleep 0.1
done
BODY=$($PY -c 'import json, sys; print(json.dumps({"messages": [{"role": "user", "content": sys.argv[1]}],
  "max_tokens": 16, "temperature": 0, "stream": True}))' "$QUESTION")
curl -sN "localhost:$PORT/v1/chat/completions" -H 'Content-Type: application/json' -d "$BODY" | $PY -c '
import json, sys
content, finish, chunks = "", None, 0
for line in sys.stdin:
    line = line.strip()
    if not line.startswith("data: ") or line == "data: [DONE]":
        continue
    chunk = json.loads(line[6:])
    for choice in chunk.get("choices", []):
        chunks += 1
        content += choice["delta"].get("content") or ""
        finish = choice.get("finish_reason") or finish
print("                           A: %s   (%d chunks, finish_reason %s)" % (content, chunks, finish))'
kill $SERVER 2>/dev/null || true
wait $SERVER 2>/dev/null || true
trap - EXIT

echo "== a few more questions (one process)"
for q in "Compute 17 - 5." "What is 38 + 45?" "How much is 91 - 29?" "Hello!"; do
  $PY -c 'import json, sys; print(json.dumps([{"role": "user", "content": sys.argv[1]}]))' "$q" > "$MESSAGES"
  printf '   Q: %-24s A: %s\n' "$q" "$($BIN generate --model "$MODEL" --messages "$MESSAGES" --max-tokens 40 2>/dev/null | answer)"
done
