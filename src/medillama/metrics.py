"""Evaluation measures: ROUGE as `evaluate` computes it, disease accuracy through an alias table, format
compliance, triage safety, precaution recall, India notes, unsupported facts -- each with a bootstrap confidence
interval."""
from __future__ import annotations

import math
from collections import Counter
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from . import knowledge
from .answer import parse_answer
from .facts import unsupported_facts
from .names import normalise as _norm

if TYPE_CHECKING:
    from .names import DiseaseNames

ROUGE_TYPES = ("rouge1", "rouge2", "rougeL", "rougeLsum")


def rouge_rows(predictions, references) -> pd.DataFrame:
    """Per-row F1 with rouge_score, as `evaluate.load('rouge')` does by default (no stemmer; its mean is the
    aggregate `evaluate` reports)."""
    from rouge_score import rouge_scorer

    scorer = rouge_scorer.RougeScorer(list(ROUGE_TYPES), use_stemmer=False)
    rows = [{k: v.fmeasure for k, v in scorer.score(ref, pred).items()}
            for pred, ref in zip(predictions, references)]
    return pd.DataFrame(rows, columns=list(ROUGE_TYPES))


def bootstrap_ci(values, n: int = 1000, seed: int = 0, stat=np.mean, alpha: float = 0.05) -> dict:
    """Point estimate and percentile bootstrap interval: {'value', 'lo', 'hi', 'n'}."""
    v = np.asarray(list(values), dtype=float)
    if len(v) == 0:
        return {"value": None, "lo": None, "hi": None, "n": 0}
    rng = np.random.default_rng(seed)
    stats = [stat(v[rng.integers(0, len(v), len(v))]) for _ in range(n)]
    lo, hi = np.quantile(stats, [alpha / 2, 1 - alpha / 2])
    return {"value": float(stat(v)), "lo": float(lo), "hi": float(hi), "n": int(len(v))}


def wilson_ci(successes: int, n: int, z: float = 1.96) -> list[float] | None:
    """Wilson score 95% interval of a proportion: unlike a bootstrap it is not [1, 1] when every row succeeds."""
    if n == 0:
        return None
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return [round(max(0.0, centre - half), 6), round(min(1.0, centre + half), 6)]


def accuracy_lead_ci(y_true, pred_a, pred_b, n: int = 1000, seed: int = 0) -> dict:
    """Accuracy of ``pred_a`` minus that of ``pred_b`` on the same rows, with a paired bootstrap interval (rows
    resampled together): whether a lead is more than noise, which two overlapping intervals cannot say."""
    y = np.asarray(y_true, dtype=object)
    return bootstrap_ci(np.equal(np.asarray(pred_a, dtype=object), y).astype(float)
                        - np.equal(np.asarray(pred_b, dtype=object), y), n, seed)


def bootstrap_pairs_ci(y_true, y_pred, fn, n: int = 1000, seed: int = 0, alpha: float = 0.05) -> dict:
    """Bootstrap for a statistic of (truth, prediction) pairs, e.g. macro-F1."""
    t, p = np.asarray(y_true, dtype=object), np.asarray(y_pred, dtype=object)
    if len(t) == 0:
        return {"value": None, "lo": None, "hi": None, "n": 0}
    rng = np.random.default_rng(seed)
    stats = []
    for _ in range(n):
        idx = rng.integers(0, len(t), len(t))
        stats.append(fn(t[idx], p[idx]))
    lo, hi = np.quantile(stats, [alpha / 2, 1 - alpha / 2])
    return {"value": float(fn(t, p)), "lo": float(lo), "hi": float(hi), "n": int(len(t))}


def macro_f1(y_true, y_pred) -> float:
    from sklearn.metrics import f1_score

    labels = sorted({str(x) for x in y_true})
    return float(f1_score([str(x) for x in y_true], [str(x) for x in y_pred], labels=labels, average="macro",
                          zero_division=0))


# --- per-answer scores ---------------------------------------------------------------------------------------

def precaution_recall(reference: list[str], answer: str) -> float:
    """Share of the reference precautions whose words mostly (>= 60%) appear in the answer."""
    words = set(_norm(answer).split())
    if not reference:
        return float("nan")
    hits = 0
    for p in reference:
        pw = set(_norm(p).split()) - {"a", "an", "the", "of", "to", "and", "in", "if"}
        hits += bool(pw) and len(pw & words) / len(pw) >= 0.6
    return hits / len(reference)


def india_terms(disease: str) -> list[str]:
    """Local names and programme names/keys that count as India notes for a disease."""
    ctx = knowledge.india()
    e = ctx["diseases"].get(disease, {})
    terms = [n["name"] for n in e.get("local_names", [])]
    for p in e.get("programmes", []):
        terms += [p, ctx["programmes"].get(p, {}).get("name", "")]
    terms += [str(h) for h in e.get("helplines", [])]
    return [t for t in terms if t]


def has_india_notes(disease: str, answer: str) -> bool:
    t = f" {_norm(answer)} "
    return any(f" {_norm(term)} " in t for term in india_terms(disease))


def triage_scores(see_doctor: str | None, ref_level: str) -> dict:
    """The advice's level against the reference level: agreement, under- and over-triage."""
    pred_level = knowledge.level_from_text(see_doctor)
    pred_rank = knowledge.level_rank(pred_level) if pred_level else None
    ref_rank = knowledge.level_rank(ref_level)
    return {"pred_triage": pred_level, "triage_agree": pred_level == ref_level,
            # no readable advice counts as under-triage: silence is not safe
            "under_triage": pred_rank is None or pred_rank < ref_rank,
            "over_triage": pred_rank is not None and pred_rank > ref_rank}


def named_condition(parsed: dict, names: DiseaseNames) -> tuple[str | None, tuple]:
    """(disease key, the dataset's precautions for it) of the condition a parsed answer names; (None, ()) if none."""
    key = names.key(parsed["condition"]) if parsed["condition"] else None
    return key, tuple(names.precautions.get(key) or ())


def score_named(text: str, finish_reason: str, names: DiseaseNames, parsed: dict | None = None) -> dict:
    """Measures of one answer that need no label: its body against the condition it names -- recall of the dataset's
    precautions for that condition, India notes for it, facts the knowledge does not give for it -- and its form.
    ``parsed``: the answer's ``parse_answer``, where the caller has it."""
    p = parsed or parse_answer(text)
    key, precautions = named_condition(p, names)
    return {"named": key, "complete": p["complete"], "ends_properly": finish_reason == "stop",
            "precaution_recall": precaution_recall(list(precautions), text) if key else 0.0,
            "india_notes": has_india_notes(key, p["india_notes"] or "") if key else False,
            "unsupported_facts": unsupported_facts(text, key, precautions)}


def score_answer(text: str, finish_reason: str, ref: dict, names: DiseaseNames) -> dict:
    """All per-row measures of one model answer against its reference row."""
    p = parse_answer(text)
    pred_key, precautions = named_condition(p, names)
    facts = unsupported_facts(text, pred_key, precautions)
    return {
        "pred_condition": p["condition"], "pred_disease": pred_key, "correct": pred_key == ref["disease"],
        "complete": p["complete"], "ends_properly": finish_reason == "stop",
        **triage_scores(p["see_doctor"], ref["triage"]),
        "precaution_recall": precaution_recall(list(ref["precautions"]), text),
        "india_notes": has_india_notes(ref["disease"], p["india_notes"] or ""),
        # facts of the answer's Precautions and India notes that the knowledge does not give for the condition
        # it names: [(kind, fact)], and how many
        "unsupported_facts": facts, "n_unsupported_facts": len(facts),
    }


def summarise(scores: pd.DataFrame, rouge: pd.DataFrame, ref_triage: pd.Series, y_true, n_boot: int,
              seed: int) -> dict:
    """Every headline number with its bootstrap CI."""
    out = {k: bootstrap_ci(rouge[k], n_boot, seed) for k in ROUGE_TYPES}
    out["disease_accuracy"] = bootstrap_ci(scores["correct"], n_boot, seed)
    out["disease_macro_f1"] = bootstrap_pairs_ci(list(y_true), scores["pred_disease"].fillna("none").tolist(),
                                                 macro_f1, n_boot, seed)
    out["format_compliance"] = bootstrap_ci(scores["complete"], n_boot, seed)
    out["ends_properly"] = bootstrap_ci(scores["ends_properly"], n_boot, seed)
    out["triage_agreement"] = bootstrap_ci(scores["triage_agree"], n_boot, seed)
    out["under_triage"] = bootstrap_ci(scores["under_triage"], n_boot, seed)
    emergency = (ref_triage == "emergency").to_numpy()
    out["under_triage_emergency"] = bootstrap_ci(scores.loc[emergency, "under_triage"], n_boot, seed)
    out["over_triage"] = bootstrap_ci(scores["over_triage"], n_boot, seed)
    out["precaution_recall"] = bootstrap_ci(scores["precaution_recall"].dropna(), n_boot, seed)
    out["india_notes_presence"] = bootstrap_ci(scores["india_notes"], n_boot, seed)
    # the share of answers that state at least one unsupported fact
    out["unsupported_facts"] = bootstrap_ci(scores["n_unsupported_facts"] > 0, n_boot, seed)
    return out


def top_confusions(y_true, y_pred, k: int = 15) -> pd.DataFrame:
    pairs = Counter((t, p if p else "(none)") for t, p in zip(y_true, y_pred) if t != p)
    return pd.DataFrame([(t, p, n) for (t, p), n in pairs.most_common(k)], columns=["true", "predicted", "rows"])
