"""`tessera info` prints the parsed config as a config.json (model_config_to_json). Written back
as the checkpoint's config.json, it must describe the same model: for every family's tiny
checkpoint and every golden checkpoint, `info` on the rewritten checkpoint prints the same config,
parameter counts, bytes and valid TP sizes as on the original."""
import json
import os
import shutil

from tessera_testlib import DATA, Checks, make_checkpoint, run_json, work_dir

checks = Checks("config_roundtrip")
models = {f"tiny {family}": make_checkpoint(f"roundtrip-{family}", "--family", family, "--seed", "41")
          for family in ("qwen3_5_moe", "qwen3_5", "qwen3_next", "qwen3_moe")}
golden = os.path.join(DATA, "golden")
for name in sorted(os.listdir(golden)) if os.path.isdir(golden) else []:
    if os.path.exists(os.path.join(golden, name, "config.json")):
        models[f"golden {name}"] = os.path.join(golden, name)
checks.check(len(models) >= 8, f"4 families + 4 golden checkpoints (found {len(models)})")

for what, model in models.items():
    first = run_json(["info", "--model", model])
    copy = os.path.join(work_dir("config-roundtrip"), what.replace(" ", "-"))
    shutil.rmtree(copy, ignore_errors=True)
    os.makedirs(copy)
    for f in os.listdir(model):
        if f != "config.json":
            os.symlink(os.path.join(model, f), os.path.join(copy, f))
    with open(os.path.join(copy, "config.json"), "w") as f:
        json.dump(first["config"], f)
    second = run_json(["info", "--model", copy])
    checks.check(second == first, f"{what}: info after writing its config back is unchanged"
                 + ("" if second == first else f"\n{json.dumps(first)}\n{json.dumps(second)}"))
    checks.check(first["config"]["model_type"] == json.load(open(os.path.join(model, "config.json")))["model_type"],
                 f"{what}: model_type kept")

checks.done()
