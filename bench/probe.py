"""The probe (data/probe) for an adapter already trained: base, fine-tuned and TF-IDF accuracy, as step 04 scores
it, without training again, and the TF-IDF fitted on all training queries (step 05's second baseline). For
comparing the adapters of earlier runs.

    python bench/probe.py outputs/cpu/04_finetune/adapter [--profile cpu] [--run NAME] [--probe data/probe/natural_queries.csv]
"""
import argparse

from common import adapter_setup, add_run_args, parse_run_args, save, splits


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("adapter")
    add_run_args(ap)
    ap.add_argument("--probe", default="data/probe/natural_queries.csv")
    a = parse_run_args(ap)

    from medillama import io, paths, training_data
    from medillama.ask import training_config
    from medillama.baselines import TfidfLogReg
    from medillama.evaluation import probe_accuracy
    from medillama.gloss import reading

    cfg, systems, tok, _, names = adapter_setup(a.profile, a.run, a.adapter)
    style = cfg["train"]["prompt_style"]
    gloss = reading(training_config(paths.resolve(a.adapter)).get("train", {}))  # as step 04 read
    tuned, rows = probe_accuracy(systems.backend("finetuned", tok, "finetuned", 32), a.probe, names, style, tok,
                                 gloss=gloss)
    base, _ = probe_accuracy(systems.backend("base", tok, "base", 32), a.probe, names, style, tok, gloss=gloss)
    sp = splits(a.run)
    # step 05's two baselines: the train split's queries, and every query step 04 trains on
    queries = {"tfidf": sp["train"],
               "tfidf_all": training_data.training_queries(sp, cfg["train"], paths.interim_dir(a.run), cfg["sft"]["seed"])}
    tfidf = {b: TfidfLogReg().fit(q["input_text"], q["disease"], cfg["seed"]).score(rows["text"], rows["disease"])
             for b, q in queries.items()}
    save("probe", {"adapter": a.adapter, "adapter_hash": io.file_hash(paths.resolve(a.adapter))[:12],
                   "rows": tuned["rows"], "finetuned": tuned["accuracy"], "base": base["accuracy"], **tfidf})


if __name__ == "__main__":
    from medillama import allocator

    allocator.reexec()  # as `python -m medillama` runs: torch's big tensors reused from the heap
    main()
