"""The probe (data/probe) for an adapter already trained: base, fine-tuned and TF-IDF accuracy, as step 04 scores
it, without training again. For comparing the adapters of earlier runs.

    python bench/probe.py outputs/cpu/04_finetune/adapter [--run cpu] [--probe data/probe/natural_queries.csv]
"""
import argparse

from common import adapter_setup, save, splits


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("adapter")
    ap.add_argument("--run", default="cpu")
    ap.add_argument("--probe", default="data/probe/natural_queries.csv")
    a = ap.parse_args()

    from medillama import io, paths
    from medillama.baselines import TfidfLogReg
    from medillama.evaluation import probe_accuracy
    from medillama.generate import HFBackend

    cfg, peft, tok, _, names = adapter_setup(a.run, a.adapter)
    backend = HFBackend(peft, tok, batch_size=32, chat=False)
    style = cfg["train"]["prompt_style"]
    tuned, rows = probe_accuracy(backend, a.probe, names, style, tok)
    with peft.disable_adapter():
        base, _ = probe_accuracy(backend, a.probe, names, style, tok)
    tr = splits(a.run)["train"]
    tfidf = TfidfLogReg().fit(tr["input_text"], tr["disease"], cfg["seed"]).score(rows["text"], rows["disease"])
    save("probe", {"adapter": a.adapter, "adapter_hash": io.file_hash(paths.resolve(a.adapter))[:12],
                   "rows": tuned["rows"], "finetuned": tuned["accuracy"], "base": base["accuracy"],
                   "tfidf": tfidf})


if __name__ == "__main__":
    main()
