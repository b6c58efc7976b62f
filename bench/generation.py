"""Generation: the project's batched generator vs a per-row transformers pipeline() call (the original's way),
same prompts, model, weights and max_new_tokens, in one run, alternating which goes first. ``--precision auto``
(default) holds the weights as a pipeline step would (bf16 where the CPU computes it natively:
precision.for_inference), ``fp32`` keeps them fp32; both sides use the same weights.

    python bench/generation.py [--profile cpu] [--run NAME] [--rows 64] [--max-new-tokens 64] [--batch-size 64]
        [--rounds 2] [--precision auto|fp32] [--name generation]
"""
import argparse
import time

from common import add_generation_args, add_run_args, parse_run_args, queries, save

from medillama import precision
from medillama.answer import build_prompt
from medillama.generate import HFBackend
from medillama.models import load_model


def main():
    ap = argparse.ArgumentParser()
    add_run_args(ap)
    add_generation_args(ap, max_new_tokens=64)
    ap.add_argument("--precision", choices=["auto", "fp32"], default="auto")
    ap.add_argument("--name", default="generation", help="the JSON's name under outputs/bench/")
    a = parse_run_args(ap)
    from transformers import pipeline

    chosen = precision.use(precision.choose(a.precision))
    print(chosen.describe(), flush=True)
    model, tok = load_model(a.model)
    precision.for_inference(model)
    prompts = [build_prompt(q, "alpaca") for q in queries(a.run, a.rows * a.rounds)]
    batched = HFBackend(model, tok, batch_size=a.batch_size, chat=False)
    pipe = pipeline("text-generation", model=model, tokenizer=tok)
    totals = {"batched": [0, 0.0], "per_row": [0, 0.0]}

    def run_batched(ps):
        t = time.perf_counter()
        out = batched.generate(ps, max_new_tokens=a.max_new_tokens)
        return sum(r.completion_tokens for r in out), time.perf_counter() - t

    def run_per_row(ps):
        t, n = time.perf_counter(), 0
        for p in ps:
            out = pipe(p, max_new_tokens=a.max_new_tokens, do_sample=False, return_full_text=False)[0]["generated_text"]
            n += len(tok(out, add_special_tokens=False)["input_ids"])
        return n, time.perf_counter() - t

    for r in range(a.rounds):
        chunk = prompts[r * a.rows:(r + 1) * a.rows]
        order = [("batched", run_batched), ("per_row", run_per_row)]
        for name, fn in (order if r % 2 == 0 else order[::-1]):  # alternate to cancel drift
            n, s = fn(chunk)
            totals[name][0] += n
            totals[name][1] += s
            print(f"round {r}: {name} {n} tokens in {s:.1f} s = {n / s:.1f} tok/s", flush=True)
    tps = {k: v[0] / v[1] for k, v in totals.items()}
    save(a.name, {"model": a.model, "precision": chosen.as_dict(), "weights": str(model.dtype),
                  "rows_per_round": a.rows, "rounds": a.rounds, "max_new_tokens": a.max_new_tokens,
                  "batch_size": a.batch_size, "tokens": {k: v[0] for k, v in totals.items()},
                  "seconds": {k: v[1] for k, v in totals.items()}, "tokens_per_s": tps,
                  "ratio": tps["batched"] / tps["per_row"], "target_ratio": 8})


if __name__ == "__main__":
    from medillama import allocator

    allocator.reexec()  # as `python -m medillama` runs: torch's big tensors reused from the heap
    main()
