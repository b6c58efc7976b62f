"""Rank classification of the condition line on the probe: every disease name scored by the adapter's
log-probability after "Likely condition:", against greedy decoding (bench/probe.py). Tells whether the gap to the
bag of words is in decoding or in what the model learned.

    python bench/rank_names.py outputs/cpu/04_finetune/adapter [--run cpu] [--base] [--limit N]
"""
import argparse

from common import adapter_setup, save


def name_scores(model, tok, prompt: str, names: list[str]):
    """Summed log-probability of ' <name>\\n' after the prompt and 'Likely condition:', for every name. The prompt
    runs once; its cache is repeated for the names."""
    import torch

    prefix = tok(prompt + "Likely condition:", add_special_tokens=False)["input_ids"]
    conts = []
    for n in names:
        ids = tok(prompt + f"Likely condition: {n}\n", add_special_tokens=False)["input_ids"]
        assert ids[:len(prefix)] == prefix, "the name changed the prefix's tokens"
        conts.append(ids[len(prefix):])
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
    ap.add_argument("--run", default="cpu")
    ap.add_argument("--probe", default="data/probe/natural_queries.csv")
    ap.add_argument("--base", action="store_true", help="also the base model (adapter off)")
    ap.add_argument("--limit", type=int, default=0, help="first N probe rows only (a quick check)")
    a = ap.parse_args()

    import contextlib

    import numpy as np

    from medillama import io, paths
    from medillama.answer import build_prompt
    from medillama.evaluation import load_external

    cfg, peft, tok, diseases, names = adapter_setup(a.run, a.adapter)
    rows = load_external(a.probe, names)[0]
    rows = rows.head(a.limit) if a.limit else rows
    keys, display = diseases["key"].tolist(), diseases["display_name"].tolist()
    result = {"adapter": a.adapter, "adapter_hash": io.file_hash(paths.resolve(a.adapter))[:12], "rows": len(rows)}
    for label in ("finetuned", "base") if a.base else ("finetuned",):
        off = peft.disable_adapter() if label == "base" else contextlib.nullcontext()
        with off:
            scores = np.array([name_scores(peft, tok, build_prompt(q, cfg["train"]["prompt_style"], tok), display)
                               for q in rows["text"]])
        top = [[keys[j] for j in r] for r in (-scores).argsort(1)[:, :3]]
        result[label] = {"accuracy": float(np.mean([t[0] == d for t, d in zip(top, rows["disease"])])),
                         "top3": float(np.mean([d in t for t, d in zip(top, rows["disease"])]))}
    save("rank_names", result)


if __name__ == "__main__":
    main()
