"""Decoding speed of the project's batched generator in three precisions, in one run, alternating the order:
fp32 weights, fp32 weights under bf16 autocast (what training uses), bf16 weights (``precision.for_inference``).

    python bench/decoding_precision.py [--run NAME] [--rows 64] [--max-new-tokens 128] [--batch-size 64] [--rounds 2]
"""
import argparse
import time

from common import add_generation_args, add_run_args, parse_run_args, queries, save

from medillama import precision
from medillama.answer import build_prompt
from medillama.generate import HFBackend
from medillama.models import load_model

MODES = ["fp32", "bf16 autocast", "bf16 weights"]


def main():
    import torch

    ap = argparse.ArgumentParser()
    add_run_args(ap)
    add_generation_args(ap, max_new_tokens=128)
    a = parse_run_args(ap)
    model, tok = load_model(a.model)
    prompts = [build_prompt(q, "alpaca") for q in queries(a.run, a.rows * a.rounds)]
    bf16 = precision.Precision("bf16", "measured here")
    totals = {m: [0, 0.0] for m in MODES}
    for r in range(a.rounds):
        for mode in (MODES if r % 2 == 0 else MODES[::-1]):  # alternate to cancel drift
            model.to(torch.bfloat16 if mode == "bf16 weights" else torch.float32)
            precision.use(bf16 if mode != "fp32" else None)
            backend = HFBackend(model, tok, batch_size=a.batch_size, chat=False)
            t = time.perf_counter()
            out = backend.generate(prompts[r * a.rows:(r + 1) * a.rows], max_new_tokens=a.max_new_tokens)
            s, n = time.perf_counter() - t, sum(o.completion_tokens for o in out)
            totals[mode][0] += n
            totals[mode][1] += s
            print(f"round {r}: {mode} {n} tokens in {s:.1f} s = {n / s:.1f} tok/s", flush=True)
    tps = {m: v[0] / v[1] for m, v in totals.items()}
    save("decoding_precision", {"model": a.model, "rows_per_round": a.rows, "rounds": a.rounds,
                                "max_new_tokens": a.max_new_tokens, "batch_size": a.batch_size,
                                "native_bf16": precision.choose("auto").bf16, "tokens_per_s": tps,
                                "speedup_over_fp32": {m: v / tps["fp32"] for m, v in tps.items()}})


if __name__ == "__main__":
    from medillama import allocator

    allocator.reexec()  # as `python -m medillama` runs: torch's big tensors reused from the heap
    main()
