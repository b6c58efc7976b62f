"""How often the quality gates are right: the gates re-applied to labelled generations (data/gates/).

``labelled.csv`` holds real generations of step 03, each labelled acceptable or not by a reader
(data/gates/RUBRIC.md); ``rows.csv`` the base row each was made from (persona, symptoms, disease). ``measure``
runs today's gates (``synth.Task.format_output``) on every labelled text with its prompt and row, and counts:

- precision of acceptance: of the texts the gates accept, the share labelled acceptable (None when they accept
  none: then no accepted text is bad, but there is no share to give);
- recall: of the texts labelled acceptable, the share the gates accept (None when none is labelled acceptable).

Not re-applied: the near-duplicate gate against the other accepted queries of a disease (it depends on what else
a run accepted), so the measure is of every gate a text meets on its own.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from . import knowledge, paths
from .synth import Task, forbidden_names

LABELLED = paths.GATES / "labelled.csv"
ROWS = paths.GATES / "rows.csv"
LABELLED_COLUMNS = ("id", "task", "row_id", "prompt", "text", "finish_reason", "verdict")
ROW_COLUMNS = ("row_id", "disease", "condition", "age_band", "sex", "place", "duration", "symptoms")
VERDICTS = ("acceptable", "not")


def _read(path: Path, columns) -> pd.DataFrame:
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: the labelled generations and their rows live in data/gates/ "
                                "(data/gates/README.md says how they were made)")
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(f"{path} lacks the column(s) {', '.join(missing)}; data/gates/README.md lists them")
    return df


def load(labelled=LABELLED, rows=ROWS) -> pd.DataFrame:
    """The labelled generations, each with its base row's fields (``symptoms`` as a list of tokens)."""
    lab, base = _read(labelled, LABELLED_COLUMNS), _read(rows, ROW_COLUMNS)
    bad = sorted(set(lab["verdict"]) - set(VERDICTS))
    if bad:
        raise ValueError(f"{labelled}: verdict must be one of {VERDICTS}; found {bad}")
    unknown = sorted(set(lab["row_id"]) - set(base["row_id"]))
    if unknown:
        raise ValueError(f"{labelled}: row_id(s) {unknown[:5]} are not in {rows}; add their base rows there")
    base = base.assign(symptoms=base["symptoms"].str.split(";"))
    return lab.merge(base, on="row_id", how="left", validate="many_to_one")


def regate(labelled: pd.DataFrame, cfg: dict) -> pd.DataFrame:
    """``labelled`` with ``accepted`` and ``reason``: today's gates on each text, with the synth config's gate
    settings (``cfg``: the ``synth`` section)."""
    lexicon = knowledge.lexicon()
    diseases = labelled[["disease", "condition"]].drop_duplicates().rename(
        columns={"disease": "key", "condition": "display_name"})
    names = forbidden_names(diseases)
    words = {"query": tuple(cfg["query_words"]), "rationale": tuple(cfg["rationale_words"])}
    tasks = {t: Task(t, 0, words["query" if t.endswith("query") else "rationale"]) for t in labelled["task"].unique()}
    reasons = []
    for r in labelled.to_dict("records"):
        task = tasks[r["task"]]
        row = {**r, **task.fields_of_input(r["prompt"])}  # a paraphrase's source is in its prompt
        _, reason = task.format_output(r["text"], row, lexicon, names[r["disease"]], cfg["min_symptom_share"],
                                       r["finish_reason"] or None,
                                       cfg["near_duplicate_rouge_l"] if task.is_paraphrase else None)
        reasons.append(reason)
    return labelled.assign(accepted=[x is None for x in reasons], reason=reasons)


def _counts(df: pd.DataFrame) -> dict:
    good = df["verdict"] == "acceptable"
    acc = df["accepted"]
    n_acc, n_good = int(acc.sum()), int(good.sum())
    return {"labelled": len(df), "acceptable": n_good, "accepted": n_acc,
            "accepted_acceptable": int((acc & good).sum()), "accepted_not": int((acc & ~good).sum()),
            "precision": round((acc & good).sum() / n_acc, 4) if n_acc else None,
            "recall": round((acc & good).sum() / n_good, 4) if n_good else None}


def measure(labelled: pd.DataFrame, cfg: dict) -> dict:
    """Precision and recall of the gates on ``labelled`` (from ``load``), overall and per task:
    {"all": counts, "tasks": {task: counts}}, counts as ``_counts`` gives them."""
    df = regate(labelled, cfg)
    return {"all": _counts(df), "tasks": {t: _counts(g) for t, g in df.groupby("task")}}


def manifest_metrics(result: dict) -> dict:
    """``measure``'s result as flat manifest metrics: gates_precision, gates_recall, gates_accepted (and the
    ``_<task>`` of each); a precision or recall with nothing to count is None."""
    out = {}
    for suffix, c in [("", result["all"])] + [(f"_{t}", c) for t, c in result["tasks"].items()]:
        out.update({f"gates_precision{suffix}": c["precision"], f"gates_recall{suffix}": c["recall"],
                    f"gates_accepted{suffix}": c["accepted"], f"gates_labelled{suffix}": c["labelled"],
                    f"gates_labelled_acceptable{suffix}": c["acceptable"]})
    return out


def describe(counts: dict) -> str:
    """One line: 'precision 0.97 (29 of 30 accepted are acceptable), recall 0.81 (29 of 36)'."""
    p = (f"precision {counts['precision']:.3f} ({counts['accepted_acceptable']} of {counts['accepted']} accepted "
         "are acceptable)" if counts["accepted"] else "precision undefined (the gates accept none)")
    r = (f"recall {counts['recall']:.3f} ({counts['accepted_acceptable']} of {counts['acceptable']} acceptable "
         "accepted)" if counts["acceptable"] else "recall undefined (none labelled acceptable)")
    return f"{p}, {r}; {counts['labelled']} labelled"
