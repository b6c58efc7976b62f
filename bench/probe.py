"""The probe (data/probe) for an adapter already trained: base, fine-tuned and TF-IDF accuracy, as step 04 scores
it, without training again. For comparing the adapters of earlier runs.

    python bench/probe.py outputs/cpu/04_finetune/adapter [--run cpu] [--probe data/probe/natural_queries.csv]
"""
import argparse

from common import save, splits


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("adapter")
    ap.add_argument("--run", default="cpu")
    ap.add_argument("--probe", default="data/probe/natural_queries.csv")
    a = ap.parse_args()

    import pandas as pd

    from medillama import config, io, paths
    from medillama.baselines import TfidfLogReg
    from medillama.evaluation import load_models, probe_accuracy
    from medillama.generate import HFBackend
    from medillama.metrics import DiseaseNames

    cfg = config.load_config(a.run)
    peft, tok = load_models(cfg["models"]["base"], paths.resolve(a.adapter), cfg["models"]["dtype"], "cpu")
    names = DiseaseNames(pd.read_parquet(paths.interim_dir(a.run) / "diseases.parquet"))
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
