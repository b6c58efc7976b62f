"""Whole answers to the probes' natural messages (data/probe/, English and Hinglish) by a run's fine-tuned model,
read as step 04 reads: is each answer's body the sourced one for the condition it names? Precaution recall and India
notes for the condition named, answers with unsupported facts (and which facts), format and EOS
(``evaluation.probe_answer_scores``). The test split's answers follow template-worded queries; these follow the
words people use. A measure for choosing recipes, like the probes themselves: never trained on.

    python bench/probe_answers.py [--profile cpu] [--run NAME]
"""
import argparse

from common import add_run_args, finetuned_reader, parse_run_args, save, splits


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_run_args(ap)
    a = parse_run_args(ap, argv)

    from medillama.config import PROBES
    from medillama.evaluation import probe_answer_scores

    r = finetuned_reader(a.profile, a.run)
    diseases = set(splits(a.run)["train"]["disease"])  # a run names only the diseases it trained on
    out = {"run": a.run, "gloss": r.gloss, "seed": r.seed}
    for label, key in PROBES.items():
        if r.tcfg.get(key):
            s, _ = probe_answer_scores(r.backend, r.tcfg[key], r.names, r.tcfg["prompt_style"], r.tok, **r.decoding,
                                       gloss=r.gloss, diseases=diseases)
            out[label] = s
            print(f"{label}: condition {s['condition_accuracy']:.3f}, precautions for the condition named "
                  f"{s['precaution_recall_named']:.3f}, India notes {s['india_notes_named']:.3f}, answers with "
                  f"unsupported facts {s['answers_with_unsupported_facts']} of {s['rows']}")
    save(f"probe_answers_{a.run}", out)


if __name__ == "__main__":
    from medillama import allocator

    allocator.reexec()  # as `python -m medillama` runs: torch's big tensors reused from the heap
    main()
