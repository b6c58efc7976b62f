"""Does the answer body get learnt? Train on whole-answer rows only, for a few diseases, then score whole answers.

The body of an answer (precautions, India notes, the disclaimer) is one fixed text per condition; this measures how
many passes over the answers a recipe needs to write it, without the decision rows or the rest of step 04:

    python bench/answer_body.py --use-peft false --lr 2e-4 --diseases 10 --passes 2   # every weight
    python bench/answer_body.py --use-peft true --lr 1e-3 --diseases 10 --passes 1    # the LoRA recipe's settings

``--diseases N`` takes every (41 // N)-th disease of the run's train split, in key order; the scores are those of
step 04's validation answers (``evaluation.answer_content_scores``) on the validation rows of those diseases.
"""
import argparse
import tempfile
import time

from common import add_run_args, parse_run_args, save, splits


def main():
    ap = argparse.ArgumentParser()
    add_run_args(ap)
    ap.add_argument("--use-peft", choices=["true", "false"], default="false", help="LoRA (true) or every weight")
    ap.add_argument("--lr", type=float, default=2e-4)
    ap.add_argument("--diseases", type=int, default=10)
    ap.add_argument("--passes", type=int, default=2, help="passes over the answer rows")
    ap.add_argument("--name", default="answer_body", help="result file name under outputs/bench/")
    a = parse_run_args(ap)

    import pandas as pd
    from datasets import concatenate_datasets

    from medillama import config, paths, train
    from medillama.evaluation import answer_content_scores
    from medillama.generate import HFBackend
    from medillama.models import load_for_training
    from medillama.names import DiseaseNames
    from medillama.training_data import to_prompt_completion

    cfg = config.load_config(a.profile, {"use_peft": a.use_peft})
    sp = splits(a.run)
    keys = sorted(sp["train"]["disease"].unique())
    keep = keys[::max(1, len(keys) // a.diseases)][:a.diseases]
    tr, val = (sp[s][sp[s]["disease"].isin(keep)] for s in ("train", "validation"))
    model, tok = load_for_training(cfg["models"]["base"], cfg["models"]["dtype"], "cpu")
    style = cfg["train"]["prompt_style"]
    rows = concatenate_datasets([to_prompt_completion(tr, style, tok)] * a.passes)
    sft = {**cfg["sft"], "learning_rate": a.lr, "num_train_epochs": 1.0, "max_steps": -1, "eval_strategy": "no",
           "save_strategy": "no", "load_best_model_at_end": False}
    with tempfile.TemporaryDirectory() as d:
        trainer = train.make_trainer(model, tok, rows, None, sft, cfg["lora"], d, fused_lm_head=False,
                                     use_peft=cfg["train"]["use_peft"])
        t = time.perf_counter()
        res = trainer.train()
        seconds = time.perf_counter() - t
    losses = [(h["step"], h["loss"]) for h in trainer.state.log_history if "loss" in h]
    tok.padding_side = "left"
    names = DiseaseNames(pd.read_parquet(paths.interim_dir(a.run) / "diseases.parquet"))
    backend = HFBackend(trainer.model.eval(), tok, batch_size=32, chat=False)
    ecfg = cfg["evaluate"]
    scores, _ = answer_content_scores(backend, val, names, style, tok, ecfg["max_new_tokens"],
                                      ecfg["no_repeat_ngram_size"])
    save(a.name, {"use_peft": cfg["train"]["use_peft"], "learning_rate": a.lr, "diseases": keep,
                  "passes": a.passes, "answer_rows": len(tr), "steps": res.global_step,
                  "train_seconds": seconds, "train_tokens_per_s": trainer.tokens_seen / seconds,
                  "loss_every_logging_steps": losses, "validation_answers": scores})


if __name__ == "__main__":
    from medillama import allocator

    allocator.reexec()  # as `python -m medillama` runs: torch's big tensors reused from the heap
    main()
