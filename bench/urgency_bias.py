"""The urgency line's operating point, on validation only: the fine-tuned model's decision lines decoded with each
log-odds bias on the emergency advice's first token where the urgency line starts (``evaluate.urgency_bias``), and
for each the under-triage of emergency rows against the rows advised emergency that are none. How
``evaluate.urgency_bias`` is chosen, by a rule written before the read (docs/experiments.md, row 69); the test split is
never read here.

    python bench/urgency_bias.py [--profile cpu] [--run NAME] [--biases 0 0.5 1 1.5 2 3 4]
"""
import argparse

from common import add_run_args, finetuned_reader, parse_run_args, save, splits


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_run_args(ap)
    ap.add_argument("--biases", type=float, nargs="+", default=[0, 0.5, 1, 1.5, 2, 3, 4])
    a = parse_run_args(ap, argv)

    from medillama.evaluation import decision_scores

    r = finetuned_reader(a.profile, a.run)
    val = splits(a.run)["validation"]
    out = {"run": a.run, "seed": r.seed, "validation": {}}
    for b in a.biases:
        s, _ = decision_scores(r.backend, val["input_text"], val["disease"], val["triage"], r.names,
                               r.tcfg["prompt_style"], r.tok, gloss=r.gloss, urgency_bias=b)
        out["validation"][f"{b:g}"] = s
        missed = round((s["under_triage_emergency"] or 0) * s["emergency_rows"])
        print(f"bias {b:g}: emergencies under-triaged {missed}/{s['emergency_rows']}, others advised emergency "
              f"{s['emergency_advised_to_others']}/{s['rows'] - s['emergency_rows']}, disease accuracy "
              f"{s['disease_accuracy']:.3f}, triage agreement {s['triage_agreement']:.3f}", flush=True)
    save("urgency_bias" if a.run == a.profile else f"urgency_bias_{a.run}", out)


if __name__ == "__main__":
    from medillama import allocator

    allocator.reexec()  # as `python -m medillama` runs: torch's big tensors reused from the heap
    main()
