"""Text in, text out through `tessera generate` on a tiny checkpoint that carries a real (truncated
Qwen3) tokenizer and chat template:
  - --prompt: the ids are the tokenizer's encoding of the text, and "text" is the decode of the ids;
  - --messages: the prompt is the template's rendering (`tessera template`), encoded;
  - EOS: an id listed in generation_config.json ends generation and never appears in the output;
  - --stop: a string that straddles a token boundary ends generation; the text is everything
    before it;
  - reasoning: with a template whose generation prompt opens <think>, output goes to "reasoning";
  - the same under mpirun -np 2 (only rank 0 reads the prompt)."""
import json
import os
import shutil

from tessera_testlib import DEMO_TOKENIZER, TOKENIZERS, Checks, make_checkpoint, run, run_json, work_dir

checks = Checks("text_generation")
model = make_checkpoint("text-qwen3_5_moe", "--family", "qwen3_5_moe", "--seed", "51", "--vocab", "8192",
                        "--tokenizer", DEMO_TOKENIZER)

prompt = "The quick brown fox jumps over the lazy dog. 12345"
ids = run_json(["tokenize", "--model", model, "--text", prompt])["ids"]
out = run_json(["generate", "--model", model, "--prompt", prompt, "--max-tokens", "24"])
checks.check(out["prompt_tokens"] == len(ids), f"--prompt encodes to the tokenizer's {len(ids)} ids")
same = run_json(["generate", "--model", model, "--tokens", ",".join(map(str, ids)), "--max-tokens", "24"])
checks.check(same["tokens"] == out["tokens"], "--prompt generates the same ids as --tokens of its encoding")
decoded = run_json(["detokenize", "--model", model, "--ids", ",".join(map(str, out["tokens"])), "--skip-special"])["text"]
checks.check(out["text"] == decoded, "text is the decode of the generated ids")

messages = os.path.join(work_dir("text"), "messages.json")
json.dump([{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Name a colour."}], open(messages, "w"))
rendered = run(["template", "--model", model, "--messages", messages]).stdout
rendered_ids = run_json(["tokenize", "--model", model, "--text", rendered])["ids"]
chat = run_json(["generate", "--model", model, "--messages", messages, "--max-tokens", "16"])
checks.check(chat["prompt_tokens"] == len(rendered_ids) and rendered.endswith("<|im_start|>assistant\n"),
             f"--messages renders the chat template ({len(rendered_ids)} tokens, ends with the generation prompt)")

# EOS: list the 4th generated id as an end-of-sequence id.
eos_model = os.path.join(work_dir("text"), "eos-model")
shutil.rmtree(eos_model, ignore_errors=True)
shutil.copytree(model, eos_model)
target = out["tokens"][3]
gen_cfg_path = os.path.join(eos_model, "generation_config.json")
gen_cfg = json.load(open(gen_cfg_path))
gen_cfg["eos_token_id"] = [target] + (gen_cfg["eos_token_id"] if isinstance(gen_cfg["eos_token_id"], list) else [gen_cfg["eos_token_id"]])
json.dump(gen_cfg, open(gen_cfg_path, "w"))
stopped = run_json(["generate", "--model", eos_model, "--prompt", prompt, "--max-tokens", "24"])
first = out["tokens"].index(target)
checks.check(stopped["finish_reason"] == "stop" and stopped["tokens"] == out["tokens"][:first] and target not in stopped["tokens"],
             f"EOS id {target} from generation_config.json stops generation after {first} tokens and is not output")

through = run_json(["generate", "--model", eos_model, "--prompt", prompt, "--max-tokens", "24", "--ignore-eos"])
checks.check(through["tokens"] == out["tokens"], "--ignore-eos generates through the EOS id")

# Stop string across a token boundary: the last 2 characters of one token's text plus the first 2 of the next.
pieces = [run_json(["detokenize", "--model", model, "--ids", str(t)])["text"] for t in out["tokens"]]
cut = next(i for i in range(2, len(pieces) - 1) if len(pieces[i].strip()) >= 2 and len(pieces[i + 1].strip()) >= 2)
stop = pieces[cut][-2:] + pieces[cut + 1][:2]
prefix = "".join(pieces[:cut]) + pieces[cut][:-2]
assert stop not in prefix, "pick a stop string that does not occur earlier"
res = run_json(["generate", "--model", model, "--prompt", prompt, "--max-tokens", "24", "--stop", stop])
checks.check(res["finish_reason"] == "stop" and res["text"] == prefix,
             f"--stop {stop!r} spanning tokens {cut}/{cut + 1} ends the text right before it")

# Reasoning: the Qwen3.5 template opens <think> in the generation prompt, so the answer is reasoning
# until the model writes </think> (a random model never does).
think_model = os.path.join(work_dir("text"), "think-model")
shutil.rmtree(think_model, ignore_errors=True)
shutil.copytree(model, think_model)
shutil.copy(os.path.join(TOKENIZERS, "qwen3.5", "chat_template.jinja"), think_model)
r = run_json(["generate", "--model", think_model, "--messages", messages, "--max-tokens", "12"])
checks.check(r.get("reasoning") and r["text"] == "", "Qwen3.5 template: output inside the open <think> is reasoning")
r2 = run_json(["generate", "--model", think_model, "--messages", messages, "--max-tokens", "12", "--enable-thinking", "false"])
checks.check("reasoning" not in r2 and r2["text"], "--enable-thinking false: output is the answer")

tp = run_json(["generate", "--model", model, "--messages", messages, "--max-tokens", "16"], np_ranks=2, threads=1)
checks.check(tp["tokens"] == chat["tokens"] and tp["text"] == chat["text"], "--messages under mpirun -np 2 gives the same text")

bad = run(["generate", "--model", model, "--messages", "/nonexistent.json"], check=False)
checks.check(bad.returncode == 1 and "/nonexistent.json" in bad.stderr, "a missing messages file is named in the error")
checks.done()
