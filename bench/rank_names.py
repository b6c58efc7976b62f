"""Rank classification of the condition line on the probe: every disease name scored by the adapter's
log-probability after "Likely condition:", against greedy decoding (bench/probe.py). Tells whether the gap to the
bag of words is in decoding or in what the model learned.

    python bench/rank_names.py outputs/cpu/04_finetune/adapter [--profile cpu] [--run NAME] [--base] [--limit N]
"""
import argparse

from common import adapter_setup, add_run_args, parse_run_args, save


def name_tokens(tok, names: list[str], prompt: str) -> list[list[int]]:
    """Token ids of ' <name>\\n' for every name, tokenized once for all rows. Checked on one prompt: the prompt's
    tokens followed by these are the tokens of the whole text (no merge across 'Likely condition:')."""
    conts = tok([f" {n}\n" for n in names], add_special_tokens=False)["input_ids"]
    prefix = tok(prompt + "Likely condition:", add_special_tokens=False)["input_ids"]
    for n, c in zip(names, conts):
        assert tok(prompt + f"Likely condition: {n}\n", add_special_tokens=False)["input_ids"] == prefix + c, n
    return conts


def name_scores(model, tok, prompt: str, conts: list[list[int]]):
    """Summed log-probability of each continuation (``name_tokens``) after the prompt and 'Likely condition:'. The
    prompt runs once; its cache is repeated for the names."""
    import torch

    prefix = tok(prompt + "Likely condition:", add_special_tokens=False)["input_ids"]
    width = max(map(len, conts))
    batch = torch.full((len(conts), width), tok.pad_token_id or 0)
    for i, c in enumerate(conts):
        batch[i, :len(c)] = torch.tensor(c)
    with torch.no_grad():
        out = model(input_ids=torch.tensor([prefix]), use_cache=True)
        first = out.logits[0, -1].log_softmax(-1)
        cache = out.past_key_values
        cache.batch_repeat_interleave(len(conts))
        mask = torch.ones(len(conts), len(prefix) + width, dtype=torch.long)
        rest = model(input_ids=batch, past_key_values=cache, attention_mask=mask).logits.log_softmax(-1)
    return [first[c[0]].item() + sum(rest[i, j - 1, c[j]].item() for j in range(1, len(c)))
            for i, c in enumerate(conts)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("adapter")
    add_run_args(ap)
    ap.add_argument("--probe", default="data/probe/natural_queries.csv")
    ap.add_argument("--base", action="store_true", help="also the base model (adapter off)")
    ap.add_argument("--limit", type=int, default=0, help="first N probe rows only (a quick check)")
    a = parse_run_args(ap)

    import numpy as np

    from medillama import io, paths
    from medillama.answer import build_prompt
    from medillama.evaluation import load_external

    cfg, systems, tok, diseases, names = adapter_setup(a.profile, a.run, a.adapter)
    rows = load_external(a.probe, names)[0]
    rows = rows.head(a.limit) if a.limit else rows
    keys, display = diseases["key"].tolist(), diseases["display_name"].tolist()
    prompts = [build_prompt(q, cfg["train"]["prompt_style"], tok) for q in rows["text"]]
    conts = name_tokens(tok, display, prompts[0])
    result = {"adapter": a.adapter, "adapter_hash": io.file_hash(paths.resolve(a.adapter))[:12], "rows": len(rows)}
    for label in ("finetuned", "base") if a.base else ("finetuned",):
        with systems.use(label) as model:
            scores = np.array([name_scores(model, tok, p, conts) for p in prompts])
        top = [[keys[j] for j in r] for r in (-scores).argsort(1)[:, :3]]
        result[label] = {"accuracy": float(np.mean([t[0] == d for t, d in zip(top, rows["disease"])])),
                         "top3": float(np.mean([d in t for t, d in zip(top, rows["disease"])]))}
    save("rank_names", result)


if __name__ == "__main__":
    from medillama import allocator

    allocator.reexec()  # as `python -m medillama` runs: torch's big tensors reused from the heap
    main()
