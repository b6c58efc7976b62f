"""Re-read: step 04's scoring of a trained run (validation decision lines, both probes, the whole validation answers)
with a reading setting changed and no new training -- how a change to what the model reads (``train.hindi_gloss``,
``train.gloss_style``) is judged on the models of a recipe already trained (docs/experiments.md, rows 42, 45, 52).

    python bench/reread.py [--profile cpu] [--run NAME] [--gloss | --no-gloss] [--gloss-style brackets|sentence]

Without the flags, the run's own settings (``train.hindi_gloss``, ``train.gloss_style``). The same functions as
step 04, in the precision step 04 chooses here, so with the run's settings it gives the numbers of the run's
manifest.
"""
import argparse

from common import add_run_args, finetuned_reader, parse_run_args, save, splits

from medillama.config import CHOICES


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_run_args(ap)
    ap.add_argument("--gloss", action=argparse.BooleanOptionalAction, default=None,
                    help="read with the Hindi gloss (default: the run's train.hindi_gloss)")
    ap.add_argument("--gloss-style", default=None, choices=CHOICES["train.gloss_style"],
                    help="how the gloss is written (default: the run's train.gloss_style)")
    a = parse_run_args(ap, argv)

    from medillama.config import PROBES
    from medillama.evaluation import answer_content_scores, decision_scores, probe_accuracy
    from medillama.gloss import LEGACY_STYLE
    from medillama.splits import stratified_sample

    r = finetuned_reader(a.profile, a.run, a.gloss, a.gloss_style)
    tcfg, gloss, backend, tok, names, seed = r.tcfg, r.gloss, r.backend, r.tok, r.names, r.seed
    sp = splits(a.run)
    val, style = sp["validation"], tcfg["prompt_style"]

    s, _ = decision_scores(backend, val["input_text"], val["disease"], val["triage"], names, style, tok, gloss=gloss)
    out = {"run": a.run, "gloss": gloss, "seed": seed, "validation": s}
    for label, key in PROBES.items():
        if tcfg.get(key):
            out[label] = probe_accuracy(backend, tcfg[key], names, style, tok, diseases=set(sp["train"]["disease"]),
                                        gloss=gloss)[0]
    sub = stratified_sample(val, "disease", tcfg["validation_answer_rows"], seed)
    s, rows = answer_content_scores(backend, sub, names, style, tok, **r.decoding, gloss=gloss)
    out["validation_answers"] = {**s, "answers_with_unsupported_facts": int((rows["n_unsupported_facts"] > 0).sum())}
    read = "as_written" if not gloss else "gloss" if gloss == LEGACY_STYLE else f"gloss_{gloss}"
    save(f"reread_{a.run}_{read}", out)


if __name__ == "__main__":
    from medillama import allocator

    allocator.reexec()  # as `python -m medillama` runs: torch's big tensors reused from the heap
    main()
