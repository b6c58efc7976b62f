"""Training: tokens/s of the cpu profile's LoRA training step on the real model, and the share of this
machine's fp32 matmul peak it reaches (the peak is measured in the same run with a large torch.matmul).

    python bench/training.py [--run cpu] [--steps 6] [--set sft.bf16=true ...]
"""
import argparse
import time

from common import save

from medillama import config, train
from medillama.models import resolve_model  # noqa: F401  (converts the offline model once if needed)


def matmul_peak(n=2048, repeats=10) -> float:
    import torch

    a, b = torch.randn(n, n), torch.randn(n, n)
    torch.matmul(a, b)
    t = time.perf_counter()
    for _ in range(repeats):
        torch.matmul(a, b)
    return 2 * n ** 3 * repeats / (time.perf_counter() - t)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--run", default="cpu")
    ap.add_argument("--steps", type=int, default=6)
    ap.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE",
                    help="config overrides, as ./run_all.sh -p KEY VALUE takes them")
    ap.add_argument("--name", default="training", help="result file name under outputs/bench/")
    a = ap.parse_args()
    import tempfile

    import pandas as pd

    from medillama import paths

    cfg = config.load_config("cpu", dict(kv.split("=", 1) for kv in a.set))
    df = pd.read_json(paths.processed_dir(a.run) / "dataset.jsonl", lines=True)
    df = train.select_rows(df[df["split"] == "train"], cfg["train"]["rows_per_disease"], 0)
    model, tok = train.load_for_training(cfg["models"]["base"], "float32", "cpu")
    n_params = sum(p.numel() for p in model.parameters())
    sft = {**cfg["sft"], "max_steps": a.steps, "eval_strategy": "no", "save_strategy": "no",
           "load_best_model_at_end": False, "logging_steps": 1}
    peak_before = matmul_peak()
    with tempfile.TemporaryDirectory() as d:
        trainer = train.make_trainer(model, tok, train.to_prompt_completion(df, "alpaca", tok), None, sft,
                                     cfg["lora"], d, fused_lm_head=cfg["train"]["fused_lm_head"],
                                     first_line_weight=cfg["train"]["first_line_weight"])
        res = trainer.train()
    per_row = train.train_tokens(trainer) / len(trainer.train_dataset)
    tokens = res.global_step * sft["per_device_train_batch_size"] * sft["gradient_accumulation_steps"] * per_row
    tps = tokens / res.metrics["train_runtime"]
    peak = max(peak_before, matmul_peak())
    # LoRA: forward (2N) + backward through frozen weights for activations (2N); adapter weights are negligible
    achieved = 4 * n_params * tps
    save(a.name, {"overrides": a.set, "sft": {k: sft[k] for k in ("per_device_train_batch_size",
                   "gradient_accumulation_steps", "bf16", "learning_rate")}, "steps": res.global_step, "tokens": tokens, "seconds": res.metrics["train_runtime"],
                      "train_tokens_per_s": tps, "model_parameters": n_params,
                      "flops_per_token_estimate": "4 x parameters (LoRA: no weight gradients for frozen layers)",
                      "achieved_gflops": achieved / 1e9, "matmul_peak_gflops": peak / 1e9,
                      "share_of_peak": achieved / peak, "target_share": 0.5,
                      "activation_checkpointing": sft["activation_checkpointing"]})


if __name__ == "__main__":
    main()
