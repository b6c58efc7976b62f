"""Training: tokens/s of a profile's training step on the real model, and the share of this
machine's matmul peak it reaches, fp32 and bf16 (each measured in the same run with a large torch.matmul).

    python bench/training.py [--profile cpu] [--run NAME] [--steps 50] [--stock] [--set models.autocast=fp32 ...]
                             [--profile-steps N]

Both recipes train on the profile's rows (answers, decision rows and drill rows). group_by_length sorts each
megabatch of 50 batches longest first, so fewer than 50 steps would measure only the longest rows.

This VM's matmul speed drifts by a third within minutes, so besides the peak before and after, the peak is
sampled every ``--peak-every`` steps during training, in the precision the training's matmuls run in (bf16 under
autocast; that time is left out of the training time), and the share is also given against the median of those
samples (``share_of_peak_during``): the machine as fast as it was while training. Step 04 records the same share
for its whole training (``throughput.py``).

``--set train.compile=layers`` (or ``none``) measures step 04's ``train.compile`` (``train.compile_layers``): the
first step then includes the compile time, so ``step_seconds`` and ``step_tokens`` list every step, and
``share_of_peak_during_after_first_step`` leaves the first step out.

``--profile-steps N`` runs torch.profiler over the N steps after the first three and lists the
operators by their share of the profiled CPU time (``top_operators``): where a step's time goes. The profiled
steps run slower, so read the shares, not that run's tokens/s.
"""
import argparse
import time

from common import add_run_args, parse_run_args, save, splits

from medillama import config, precision, throughput, train
from medillama.models import load_for_training, resolve_model  # noqa: F401  (resolve_model: converts the offline model once if needed)
from medillama.training_data import training_rows


# The stock recipe, before this CPU's measurements: LoRA, TRL's fused LM head, fp32, LoRA dropout, batch 4 x 2,
# random order, eager.
STOCK = {"train.use_peft": True, "train.fused_lm_head": True, "train.decision_weight": 1.0, "models.autocast": "fp32",
         "lora.lora_dropout": 0.05,
         "sft.per_device_train_batch_size": 4, "sft.gradient_accumulation_steps": 2,
         "sft.train_sampling_strategy": "random", "train.compile": "none"}


def top_operators(prof, n: int = 12) -> list[dict]:
    """The ``n`` operators with the most self CPU time in a finished torch.profiler run, with their shares."""
    ops = sorted(prof.key_averages(), key=lambda e: e.self_cpu_time_total, reverse=True)
    total = sum(e.self_cpu_time_total for e in ops)
    return [{"operator": e.key, "self_cpu_share": round(e.self_cpu_time_total / total, 3), "calls": e.count}
            for e in ops[:n]]


def measure(overrides: dict, profile: str, run: str, steps: int, peak_every: int = 10, profile_steps: int = 0) -> dict:
    import statistics
    import tempfile

    import torch
    from transformers import TrainerCallback
    from medillama import paths

    cfg = config.load_config(profile, overrides)
    chosen = precision.use(precision.for_config(cfg))  # as step 04 does: bf16 autocast where this CPU has native bf16
    print(chosen.describe())
    model, tok = load_for_training(cfg["models"]["base"], "float32", "cpu",
                                   attn_implementation=cfg["train"]["attn_implementation"])
    sft = {**cfg["sft"], "max_steps": steps, "eval_strategy": "no", "save_strategy": "no",
           "load_best_model_at_end": False, "logging_steps": 1}
    # per step: its seconds and the trainer's counts after it (group_by_length's first batches are its longest rows)
    step_seconds, counts = [], []
    # started and stopped by the callback around steps 4..3+N (a profiler schedule stepped from a Trainer callback
    # recorded no operator inside the steps with torch 2.13)
    prof = torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) if profile_steps else None

    with tempfile.TemporaryDirectory() as d:
        # The profile's training rows, as step 04 builds them.
        _, drill, rows = training_rows(splits(run), cfg["train"], tok, paths.interim_dir(run), cfg["sft"]["seed"])
        trainer = train.make_trainer(model, tok, rows, None, sft,
                                     cfg["lora"], d, fused_lm_head=cfg["train"]["fused_lm_head"],
                                     decision_weight=cfg["train"]["decision_weight"],
                                     use_peft=cfg["train"]["use_peft"],
                                     embedding_lr_scale=cfg["train"]["embedding_lr_scale"],
                                     curriculum=cfg["train"]["curriculum"], compile_how=cfg["train"]["compile"],
                                     peak_every=peak_every)
        sampler = getattr(trainer, "peak_sampler", None)
        if sampler is None:
            raise SystemExit("bench/training.py measures a CPU's training: this run trained on a GPU")

        class StepLog(TrainerCallback):
            def on_step_begin(self, args, state, control, **kw):
                if prof is not None and state.global_step == 3:
                    prof.start()
                self.started = time.perf_counter()

            def on_step_end(self, args, state, control, **kw):
                step_seconds.append(round(time.perf_counter() - self.started, 2))
                counts.append((trainer.tokens_seen, trainer.labelled_seen, trainer.pairs_seen))
                if prof is not None and state.global_step == 3 + profile_steps:
                    prof.stop()

        # just before the peak sampler: a step's seconds leave its peak sample out
        callbacks = trainer.callback_handler.callbacks
        callbacks.insert(callbacks.index(sampler), StepLog())
        res = trainer.train()
        model = trainer.model
        trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
        total = throughput.training_flops(model, *counts[-1])
        # the steps after the first: its compile (train.compile) and first allocations left out
        later = total - throughput.training_flops(model, *counts[0])
        attention = throughput.attention_flops(model, counts[-1][2])
    tokens, labelled = counts[-1][0], counts[-1][1]
    seconds = res.metrics["train_runtime"] - sampler.train_seconds
    later_seconds = sum(step_seconds[1:])
    peak = statistics.median(sampler.peaks) if sampler.peaks else None
    return {"overrides": {k: str(v) for k, v in overrides.items()}, "steps": res.global_step, "tokens": tokens,
            "labelled_tokens": labelled, "drill_rows": len(drill), "seconds": seconds,
            "peak_sampling_seconds": sampler.seconds, "train_tokens_per_s": tokens / seconds,
            "model_parameters": sum(p.numel() for p in model.parameters()),
            "lm_head_parameters": model.get_output_embeddings().weight.numel(), "trainable_parameters": trainable,
            "full_fine_tuning": not cfg["train"]["use_peft"],
            "attention_share_of_flops": attention / total,
            "achieved_gflops": total / seconds / 1e9,
            "peak_dtype_during": sampler.dtype, "peaks_during_gflops": [p / 1e9 for p in sampler.peaks],
            "share_of_peak_during": total / seconds / peak if peak else None,
            "share_of_peak_during_after_first_step": later / later_seconds / peak if peak and later_seconds else None,
            "precision": chosen.as_dict(), "compile": cfg["train"]["compile"], "step_seconds": step_seconds,
            "step_tokens": [c[0] - p[0] for c, p in zip(counts, [(0, 0, 0), *counts[:-1]])],
            "top_operators": top_operators(prof) if prof is not None else None,
            "settings": {"bf16": trainer.args.bf16, "batch": sft["per_device_train_batch_size"],
                         "gradient_accumulation_steps": sft["gradient_accumulation_steps"],
                         "sampling": sft["train_sampling_strategy"], "lora_dropout": cfg["lora"]["lora_dropout"],
                         "fused_lm_head": cfg["train"]["fused_lm_head"],
                         "activation_checkpointing": sft["activation_checkpointing"]}}


def main():
    ap = argparse.ArgumentParser()
    add_run_args(ap)
    ap.add_argument("--steps", type=int, default=50)
    ap.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE",
                    help="config overrides for the measured run, as ./run_all.sh -p KEY VALUE takes them")
    ap.add_argument("--stock", action="store_true", help="also measure the stock recipe (STOCK), side by side")
    ap.add_argument("--name", default="training", help="result file name under outputs/bench/")
    ap.add_argument("--peak-every", type=int, default=10, help="sample the matmul peak every N steps (0: never)")
    ap.add_argument("--profile-steps", type=int, default=0,
                    help="profile this many steps with torch.profiler (after 3) and list the operators' shares")
    a = parse_run_args(ap)
    if a.profile_steps and a.steps < a.profile_steps + 3:
        ap.error(f"--profile-steps {a.profile_steps} needs --steps of at least {a.profile_steps + 3}")
    peak_before = throughput.matmul_peak()
    runs = {"cpu_profile": measure(dict(kv.split("=", 1) for kv in a.set), a.profile, a.run, a.steps, a.peak_every,
                                   a.profile_steps)}
    if a.stock:
        runs["stock"] = measure(STOCK, a.profile, a.run, a.steps, a.peak_every)
    peak = max(peak_before, throughput.matmul_peak())
    # what bf16 autocast can reach on a CPU with AMX; where bf16 is emulated (slower than fp32 in the precision
    # probe) an emulated 2048-wide bf16 matmul takes most of a minute, so it is measured only if a run trained in bf16
    speed, in_bf16 = precision.probe(), any(r["peak_dtype_during"] == "bfloat16" for r in runs.values())
    bf16_fast = in_bf16 or speed["bf16_gflops"] >= speed["fp32_gflops"]
    peak_bf16 = throughput.matmul_peak(dtype="bfloat16") if bf16_fast else None
    for r in runs.values():
        r["share_of_fp32_peak"] = r["achieved_gflops"] * 1e9 / peak
        r["share_of_bf16_peak"] = r["achieved_gflops"] * 1e9 / peak_bf16 if peak_bf16 else None
    result = {"runs": runs, "flops_estimate": "a trained weight 6 per token, a frozen one 4 (every weight trained: "
                                         "6 x parameters; LoRA: 4 x frozen + 6 x adapters); the LM head on labelled "
                                         "tokens only (both trainers project only those); an untied input embedding "
                                         "(a lookup) not counted; + causal attention (fwd + bwd), throughput.py",
              "matmul_peak_fp32_gflops": peak / 1e9,
              "matmul_peak_bf16_gflops": peak_bf16 / 1e9 if peak_bf16 else None,
              "target_share": throughput.TARGET_SHARE}
    if a.stock:
        result["speedup_vs_stock"] = runs["cpu_profile"]["train_tokens_per_s"] / runs["stock"]["train_tokens_per_s"]
    save(a.name, result)


if __name__ == "__main__":
    from medillama import allocator

    allocator.reexec()  # as `python -m medillama` runs: torch's big tensors reused from the heap
    main()
