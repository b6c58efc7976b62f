"""One prepared GPU check (under 10 minutes on one GPU): the smoke profile on CUDA in fp16, then the t4 recipe's
step 04 settings (fp16, 8-bit base, paged AdamW 8-bit) with the offline model standing in for Llama-3.2-1B (the
GPU machine reaches no hub). Writes outputs/bench/gpu_check.json: wall times, peak GPU memory
(torch.cuda.max_memory_allocated), train tokens/s, and the preflight's memory estimate for the same settings, so the
two can be compared (target: the estimate within 25% of the measured peak).

    python bench/gpu_check.py                 # both parts
    python bench/gpu_check.py --skip-smoke    # only the step 04 measurement (about a minute)

Part 1 runs ``python -m medillama run --profile smoke`` (the Kaggle CSVs: MEDILLAMA_RAW_DIR, or the tests' fixture
copy) with ``models.device cuda``, ``sft.fp16 true`` in a temporary project root, and reads each step's manifest.
Part 2 trains ``--steps`` LoRA steps of the t4 recipe on rows that all reach ``sft.max_length`` tokens, so the
measured batch is the one the estimate assumes (batch x max_length). 8-bit needs bitsandbytes; without it (or
with --no-8bit) part 2 runs the same settings with quantization none and adamw_torch, and says so.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))
sys.path.insert(0, str(HERE))

from common import OUT, machine  # noqa: E402
from medillama import config, paths, preflight  # noqa: E402
from medillama.models import OFFLINE_MODEL  # noqa: E402

STEPS = ("01_ingest", "02_severity_balance", "03_synthesize", "04_finetune", "05_evaluate")
sys.path.insert(0, str(HERE.parent / "tests"))
from conftest import fixture_raw_dir  # noqa: E402  (the tests' fixture CSVs under the names step 01 reads)


def smoke_on_cuda(timeout: int) -> dict:
    """The smoke profile end to end on CUDA in fp16, in a temporary project root; each step's wall time and peak."""
    repo = HERE.parent
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        raw = os.environ.get("MEDILLAMA_RAW_DIR") or str(fixture_raw_dir(root / "raw"))
        for d in ("notebooks", "configs", "data/knowledge", "data/probe", "data/redflags"):
            (root / d).parent.mkdir(parents=True, exist_ok=True)
            (root / d).symlink_to(repo / d, target_is_directory=True)
        env = {**os.environ, "MEDILLAMA_ROOT": str(root), "MEDILLAMA_MODELS": str(paths.MODELS),
               "PYTHONPATH": os.pathsep.join([str(repo / "src"), os.environ.get("PYTHONPATH", "")])}
        args = [sys.executable, "-m", "medillama", "run", "--profile", "smoke", "--run", "gpu-smoke",
                "-p", "raw_dir", raw, "-p", "device", "cuda", "-p", "fp16", "true"]
        t0 = time.perf_counter()
        res = subprocess.run(args, env=env, cwd=root, capture_output=True, text=True, timeout=timeout)
        wall = time.perf_counter() - t0
        out = {"command": " ".join(args[1:]), "returncode": res.returncode, "wall_s": round(wall, 1), "steps": {}}
        for step in STEPS:
            m = root / "outputs" / "gpu-smoke" / step / "manifest.json"
            if m.exists():
                man = json.loads(m.read_text())
                out["steps"][step] = {"wall_s": man["wall_seconds"], "metrics": man["metrics"]}
        if res.returncode:
            out["stderr_tail"] = res.stderr[-3000:]
        return out


def long_rows(tokenizer, n: int, max_length: int):
    """``n`` alpaca rows, each longer than ``max_length`` tokens (the trainer truncates them to it)."""
    from medillama.answer import format_answer
    from medillama.training_data import to_prompt_completion
    import pandas as pd

    why = " ".join(["Fever with chills and sweating that returns every other day fits malaria."] * 40)
    ans = format_answer("Malaria", why, ["consult nearest hospital", "avoid mosquito bites"],
                        "See a doctor within 24 hours.", "Local name: malaria bukhar.")
    df = pd.DataFrame({"input_text": [f"fever and chills for {i % 7 + 2} days, body ache" for i in range(n)],
                       "output_text": [ans] * n})
    ds = to_prompt_completion(df, "alpaca", tokenizer)
    assert min(len(x) for x in ds["input_ids"]) > max_length
    return ds


def step04_t4_settings(steps: int, eight_bit: bool) -> dict:
    """The t4 recipe's step 04 on the offline model: peak memory, tokens/s, and the preflight's estimate."""
    import torch

    from medillama import train
    from medillama.models import load_for_training

    over = {"base": OFFLINE_MODEL, "generator": OFFLINE_MODEL, "max_steps": str(steps), "eval_strategy": "no",
            "save_strategy": "no", "load_best_model_at_end": "false", "logging_steps": "5"}
    if not eight_bit:
        over.update({"quantization": "none", "optim": "adamw_torch"})
    cfg = config.load_config("t4", over)
    mcfg, tcfg, sft = cfg["models"], cfg["train"], cfg["sft"]
    torch.cuda.reset_peak_memory_stats()
    t0 = time.perf_counter()
    model, tok = load_for_training(mcfg["base"], mcfg["dtype"], mcfg["device"], tcfg["quantization"])
    load_s = time.perf_counter() - t0
    after_load = torch.cuda.max_memory_allocated()
    ds = long_rows(tok, sft["per_device_train_batch_size"] * sft["gradient_accumulation_steps"] * steps,
                   sft["max_length"])
    with tempfile.TemporaryDirectory() as tmp:
        trainer = train.make_trainer(model, tok, ds, None, sft, cfg["lora"], Path(tmp),
                                     fused_lm_head=tcfg["fused_lm_head"], decision_weight=tcfg["decision_weight"])
        torch.cuda.synchronize()
        t1 = time.perf_counter()
        result = trainer.train()
        torch.cuda.synchronize()
        train_s = time.perf_counter() - t1
    tokens = result.global_step * sft["per_device_train_batch_size"] * sft["gradient_accumulation_steps"] * sft[
        "max_length"]
    peak = torch.cuda.max_memory_allocated()
    est = preflight.memory_estimate(cfg, preflight.architecture(OFFLINE_MODEL))
    est_alloc = est["gib"]["total"] * preflight.GIB  # comparable to max_memory_allocated (no CUDA context)
    return {"settings": {"quantization": tcfg["quantization"], "optim": sft["optim"], "fp16": sft["fp16"],
                         "dtype": mcfg["dtype"], "batch": sft["per_device_train_batch_size"],
                         "max_length": sft["max_length"], "lora_dropout": cfg["lora"]["lora_dropout"],
                         "stand_in_for": config.load_config("t4")["models"]["base"]},
            "load_s": round(load_s, 2), "train_s": round(train_s, 2), "steps": result.global_step,
            "train_tokens_per_s": round(tokens / train_s, 1),
            "peak_allocated_gib": round(peak / preflight.GIB, 3),
            "peak_after_load_gib": round(after_load / preflight.GIB, 3),
            "peak_reserved_gib": round(torch.cuda.max_memory_reserved() / preflight.GIB, 3),
            "estimate": est, "estimate_over_measured": round(est_alloc / peak, 3),
            "within_25_percent": abs(est_alloc / peak - 1) <= 0.25,
            "time_estimate_tokens_per_s": preflight.time_estimate(cfg, preflight.probe_env())["steps"][
                "04_finetune"]["tokens_per_s"]}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--skip-smoke", action="store_true", help="only the step 04 measurement")
    ap.add_argument("--steps", type=int, default=20, help="training steps of the step 04 measurement")
    ap.add_argument("--no-8bit", action="store_true", help="quantization none and adamw_torch in part 2")
    ap.add_argument("--smoke-timeout", type=int, default=420)
    args = ap.parse_args(argv)
    import torch

    if not torch.cuda.is_available():
        print("bench/gpu_check.py needs a CUDA GPU (none found)", file=sys.stderr)
        return 2
    result = {"machine": machine(), "gpu_memory_gib": round(torch.cuda.get_device_properties(0).total_memory
                                                            / preflight.GIB, 1)}
    if not args.skip_smoke:
        result["smoke_fp16"] = smoke_on_cuda(args.smoke_timeout)
        print(json.dumps({k: v for k, v in result["smoke_fp16"].items() if k != "stderr_tail"}, indent=1))
    eight_bit = not args.no_8bit and importlib.util.find_spec("bitsandbytes") is not None
    if not eight_bit and not args.no_8bit:
        print("bitsandbytes is not installed: part 2 runs with quantization none and adamw_torch", file=sys.stderr)
    result["step04_t4_settings"] = step04_t4_settings(args.steps, eight_bit)
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / "gpu_check.json"
    path.write_text(json.dumps(result, indent=1, default=str))
    s4 = result["step04_t4_settings"]
    print(f"step 04 (t4 settings, {s4['settings']['quantization']}, {s4['settings']['optim']}): peak "
          f"{s4['peak_allocated_gib']} GiB measured vs {s4['estimate']['gib']['total']} GiB estimated "
          f"(ratio {s4['estimate_over_measured']}); {s4['train_tokens_per_s']} train tok/s\nwrote {path}")
    smoke_ok = args.skip_smoke or result["smoke_fp16"]["returncode"] == 0
    return 0 if smoke_ok else 1


if __name__ == "__main__":
    sys.exit(main())
