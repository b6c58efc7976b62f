"""Training: tokens/s of the cpu profile's LoRA training step on the real model, and the share of this
machine's fp32 matmul peak it reaches (the peak is measured in the same run with a large torch.matmul).

    python bench/training.py [--run cpu] [--steps 50] [--stock] [--set sft.bf16=false ...]

Both recipes train on the profile's rows (answers and decision drill rows). group_by_length sorts each
megabatch of 50 batches longest first, so fewer than 50 steps would measure only the longest rows.
"""
import argparse
import time

from common import save

from medillama import config, train
from medillama.models import resolve_model  # noqa: F401  (converts the offline model once if needed)


def matmul_peak(n=2048, repeats=10, dtype="float32") -> float:
    import torch

    a, b = torch.randn(n, n, dtype=getattr(torch, dtype)), torch.randn(n, n, dtype=getattr(torch, dtype))
    torch.matmul(a, b)
    t = time.perf_counter()
    for _ in range(repeats):
        torch.matmul(a, b)
    return 2 * n ** 3 * repeats / (time.perf_counter() - t)


# The stock recipe, before this CPU's measurements: TRL's fused LM head, fp32, LoRA dropout, batch 4 x 2, random order.
STOCK = {"train.fused_lm_head": True, "train.decision_weight": 1.0, "sft.bf16": False, "lora.lora_dropout": 0.05,
         "sft.per_device_train_batch_size": 4, "sft.gradient_accumulation_steps": 2,
         "sft.train_sampling_strategy": "random"}


def measure(overrides: dict, run: str, steps: int) -> dict:
    import tempfile

    import pandas as pd
    from trl import SFTTrainer

    from medillama import paths

    cfg = config.load_config("cpu", overrides)
    split = pd.read_json(paths.processed_dir(run) / "dataset.jsonl", lines=True)
    split = split[split["split"] == "train"]
    df = train.select_rows(split, cfg["train"]["rows_per_disease"], 0)
    model, tok = train.load_for_training(cfg["models"]["base"], "float32", "cpu")
    n_params = sum(p.numel() for p in model.parameters())
    sft = {**cfg["sft"], "max_steps": steps, "eval_strategy": "no", "save_strategy": "no",
           "load_best_model_at_end": False, "logging_steps": 1}
    seen = {"tokens": 0, "labelled": 0}  # counted per batch: group_by_length's first batches are its longest rows
    with tempfile.TemporaryDirectory() as d:
        # The profile's training rows: its answers and its decision drill rows, as step 04 builds them.
        rows = train.to_prompt_completion(df, "alpaca", tok, split, cfg["train"]["decision_copies"])
        trainer = train.make_trainer(model, tok, rows, None, sft,
                                     cfg["lora"], d, fused_lm_head=cfg["train"]["fused_lm_head"],
                                     decision_weight=cfg["train"]["decision_weight"])
        compute_loss = trainer.compute_loss

        def counting(model, inputs, *args, **kwargs):
            seen["tokens"] += int(inputs["attention_mask"].sum())
            seen["labelled"] += int((inputs["labels"][:, 1:] != -100).sum())
            return compute_loss(model, inputs, *args, **kwargs)

        trainer.compute_loss = counting
        res = trainer.train()
    tokens, labelled = seen["tokens"], seen["labelled"]
    tps = tokens / res.metrics["train_runtime"]
    # LoRA: forward (2N) + backward through frozen weights for activations (2N); adapter weights are negligible.
    # The plain loss projects only labelled positions onto the vocabulary, so the LM head counts only there.
    head = model.get_output_embeddings().weight.numel()
    head_tokens = tokens if type(trainer) is SFTTrainer else labelled
    flops = 4 * (n_params - head) * tokens + 4 * head * head_tokens
    return {"overrides": {k: str(v) for k, v in overrides.items()}, "steps": res.global_step, "tokens": tokens,
            "labelled_tokens": labelled, "seconds": res.metrics["train_runtime"], "train_tokens_per_s": tps,
            "model_parameters": n_params, "lm_head_parameters": head,
            "achieved_gflops": flops / res.metrics["train_runtime"] / 1e9,
            "settings": {"bf16": sft["bf16"], "batch": sft["per_device_train_batch_size"],
                         "gradient_accumulation_steps": sft["gradient_accumulation_steps"],
                         "sampling": sft["train_sampling_strategy"], "lora_dropout": cfg["lora"]["lora_dropout"],
                         "fused_lm_head": cfg["train"]["fused_lm_head"],
                         "activation_checkpointing": sft["activation_checkpointing"]}}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--run", default="cpu")
    ap.add_argument("--steps", type=int, default=50)
    ap.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE",
                    help="config overrides for the measured run, as ./run_all.sh -p KEY VALUE takes them")
    ap.add_argument("--stock", action="store_true", help="also measure the stock recipe (STOCK), side by side")
    ap.add_argument("--name", default="training", help="result file name under outputs/bench/")
    a = ap.parse_args()
    peak_before = matmul_peak()
    runs = {"cpu_profile": measure(dict(kv.split("=", 1) for kv in a.set), a.run, a.steps)}
    if a.stock:
        runs["stock"] = measure(STOCK, a.run, a.steps)
    peak = max(peak_before, matmul_peak())
    peak_bf16 = matmul_peak(dtype="bfloat16")  # what bf16 autocast can reach on a CPU with AMX
    for r in runs.values():
        r["share_of_fp32_peak"] = r["achieved_gflops"] * 1e9 / peak
        r["share_of_bf16_peak"] = r["achieved_gflops"] * 1e9 / peak_bf16
    result = {"runs": runs, "flops_per_token_estimate": "4 x parameters (LoRA: no weight gradients for frozen layers); the LM head's "
                                          "share only on labelled tokens when the plain loss skips the prompt",
              "matmul_peak_fp32_gflops": peak / 1e9, "matmul_peak_bf16_gflops": peak_bf16 / 1e9, "target_share": 0.5}
    if a.stock:
        result["speedup_vs_stock"] = runs["cpu_profile"]["train_tokens_per_s"] / runs["stock"]["train_tokens_per_s"]
    save(a.name, result)


if __name__ == "__main__":
    main()
