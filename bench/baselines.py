"""Both TF-IDF baselines refitted on a finished run, with the fine-tuned model's paired lead over each, as step 05
now reports them: for runs evaluated before step 05 fitted the all-training-queries baseline. Reads the run's
dataset and step 05's predictions; no model is loaded.

    python bench/baselines.py [--run cpu] [--probe data/probe/natural_queries.csv]
"""
import argparse

from common import save


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--run", default="cpu")
    ap.add_argument("--probe", default="data/probe/natural_queries.csv")
    a = ap.parse_args()

    import pandas as pd
    from datasets import load_from_disk

    from medillama import config, metrics as M, paths, train
    from medillama.baselines import TfidfLogReg
    from medillama.evaluation import load_external

    cfg = config.load_config(a.run)
    data = load_from_disk(str(paths.processed_dir(a.run) / "dataset"))  # as steps 04 and 05 read it
    sp = {name: data[name].to_pandas() for name in data}
    ev = paths.run_dir(a.run) / "05_evaluate"
    if not (ev / "predictions.jsonl").exists():
        raise SystemExit(f"{ev}/predictions.jsonl not found: run step 05 of run {a.run!r} first")
    names = M.DiseaseNames(pd.read_parquet(paths.interim_dir(a.run) / "diseases.parquet"))
    probe, _, _ = load_external(a.probe, names)
    test = pd.read_json(ev / "predictions.jsonl", lines=True)
    ext_path = ev / "external_predictions.jsonl"
    ext = pd.read_json(ext_path, lines=True) if ext_path.exists() else None
    queries = {"tfidf": sp["train"][["input_text", "disease"]],
               "tfidf_all": train.training_queries(sp, cfg["train"], paths.interim_dir(a.run), cfg["sft"]["seed"])}
    n, seed, out = cfg["evaluate"]["bootstrap"], cfg["seed"], {"run": a.run}
    for b, q in queries.items():
        m = TfidfLogReg().fit(q["input_text"], q["disease"], seed)
        pred = m.predict(test["input_text"])
        r = {"train_queries": len(q), "test": float((pd.Series(pred) == test["disease"]).mean()),
             "probe": m.score(probe["text"], probe["disease"]),
             "finetuned_lead_test": M.accuracy_lead_ci(test["disease"], test["finetuned_pred_disease"], pred, n, seed)}
        if ext is not None:
            pe = m.predict(ext["text"])
            r["external"] = float((pd.Series(pe) == ext["disease"]).mean())
            r["finetuned_lead_external"] = M.accuracy_lead_ci(ext["disease"], ext["finetuned_pred"], pe, n, seed)
        out[b] = r
    save(f"baselines_{a.run}", out)


if __name__ == "__main__":
    main()
