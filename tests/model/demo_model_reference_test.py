"""The trained demo model (data/demo-model, bf16) and its MLX 6-bit copy (data/demo-model-mlx6)
against the independent NumPy reference (tools/reference_forward.py) at every position of real chat
prompts, rendered by `tessera template` and tokenized by `tessera tokenize`.

Trained weights have structure random ones lack (peaky attention, large gates, confident routing),
so this pins the engine on the weights the demo and the accuracy tests actually use.
Tolerance: max |engine - reference| <= 1e-4 * max |reference logit| (as for the random checkpoints).
Prompts with a top-k routing gap below 1e-5 would be reported, not hidden: the trained router is
expected to be decisive."""
import json
import os
import sys

import reference_forward
from tessera_testlib import Checks, SOURCE, engine_logits, max_rel_diff, run, run_json, work_dir

sys.path.insert(0, os.path.join(SOURCE, "tools"))
import arithmetic_chat  # noqa: E402

TOL = 1e-4
checks = Checks("demo_model_reference")

CONVERSATIONS = [
    [{"role": "user", "content": "What is 2+2?"}],
    [{"role": "system", "content": "You are a helpful assistant."},
     {"role": "user", "content": "Compute 91 - 29."}],
    # A multi-turn chat (~100 tokens): prior answers in the history, the question last.
    [m for q in arithmetic_chat.heldout_questions(6)
     for m in ({"role": "user", "content": q["question"]}, {"role": "assistant", "content": q["answer"]})][:-1],
]


def prompt_tokens(model, messages, name):
    path = os.path.join(work_dir("demo-reference"), name + ".json")
    with open(path, "w") as f:
        json.dump(messages, f)
    text = run(["template", "--model", model, "--messages", path]).stdout
    return run_json(["tokenize", "--model", model, "--text", text])["ids"]


for model_name in ["demo-model", "demo-model-mlx6"]:
    model = os.path.join(SOURCE, "data", model_name)
    for i, messages in enumerate(CONVERSATIONS):
        tokens = prompt_tokens(model, messages, f"{model_name}-{i}")
        ref, gap = reference_forward.forward(model, tokens)
        got = engine_logits(model, tokens)
        d = max_rel_diff(got, ref)
        gap_text = "n/a" if gap is None else f"{gap:.1e}"
        checks.check(gap is None or gap > 1e-5, f"{model_name} prompt {i} ({len(tokens)} tokens): routing gap {gap_text} > 1e-5")
        checks.check(got.shape == ref.shape and d <= TOL,
                     f"{model_name} prompt {i} ({len(tokens)} tokens): max rel diff {d:.2e} <= {TOL}")

checks.done()
