"""Evaluation measures: ROUGE as `evaluate` computes it, disease accuracy through an alias table, format
compliance, triage safety, precaution recall, India notes, unsupported facts -- each with a bootstrap confidence
interval."""
from __future__ import annotations

import functools
import math
import re
from collections import Counter
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from . import DISCLAIMER, knowledge
from .answer import parse_answer
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


# --- unsupported facts: programmes, helplines and local names the knowledge does not give for the condition -----

# What anyone in India may be pointed to whatever the condition (issue 23's definition of the measure): the
# emergency ambulance 108, the 102 ambulance and 104 health helplines, Ayushman Arogya Mandirs and PM-JAY.
NATIONAL_NUMBERS = frozenset({"108", "102", "104"})
NATIONAL_PROGRAMMES = frozenset({"EMERGENCY_108", "AYUSHMAN_AROGYA_MANDIR", "PMJAY"})
# a programme-like name nobody listed: capitalised words (joined by of/for/and/the) ending in a programme word
_CAP = r"[A-Z][\w'-]*"
GENERIC_PROGRAMME = re.compile(rf"\b{_CAP}(?:\s+(?:(?:of|for|and|the)\s+)*{_CAP})*?\s+"
                               r"(?:Programme|Program|Yojana|Mission|Abhiyan|Scheme|Karyakram)\b")
_LEAD_WORDS = {"the", "under", "visit", "call", "contact", "use", "register", "through", "via", "ask", "try", "go",
               "see", "get", "a", "an", "your", "free", "also", "check", "join", "from", "by", "with", "in", "at"}
NUMBER = re.compile(r"(?<![\w.,₹])\+?\d(?:\d|[ -](?=\d))*(?![\w]|[.,]\d)")
_SAYS_NUMBER = re.compile(r"\b(?:helpline|toll[ -]?free|dial|call|phone|number|no\.?)\W{0,3}(?:number\W{0,3})?$",
                          re.IGNORECASE)
_AMOUNT_BEFORE = re.compile(r"(?:rs\.?|₹|inr|rupees?)\s*$", re.IGNORECASE)
_UNIT_AFTER = re.compile(r"\s*(?:%|per ?cent\b|(?:lakh|crore|rupees?|rs|mg|g|kg|ml|l|km|m|hours?|hrs?|days?|weeks?|"
                         r"months?|years?|yrs?|times|minutes?|mins?|seconds?|k?cal(?:ories)?|steps|people|patients|"
                         r"cases|beds|centres?|centers?|hospitals?|deaths|children|families)\b)", re.IGNORECASE)
_LOCAL_ITEMS = re.compile(r"\blocal names?\s*[:\-–]\s*(.+?)(?=\.\s|\.$|\n|$)", re.IGNORECASE)


def _fact_norm(text: str) -> str:
    """``names.normalise``, with 'programme' and 'program' one word."""
    return re.sub(r"\bprogramme\b", "program", _norm(text))


def _within(term: str, text_norm: str) -> bool:
    return bool(term) and f" {_fact_norm(term)} " in f" {text_norm} "


def _term_re(term: str) -> re.Pattern:
    """A term as written in free text: any case, any punctuation between its words, an optional plural 's'."""
    words = ["program(?:me)?" if w == "program" else re.escape(w) for w in _fact_norm(term).split()]
    return re.compile(r"(?<![a-z0-9])" + r"[^a-z0-9]+".join(words) + r"s?(?![a-z0-9])", re.IGNORECASE)


@functools.lru_cache(maxsize=None)
def _fact_vocabulary() -> dict:
    """What india_context.yaml names: programme forms (longest first) with their keys, and the local names worth
    looking for anywhere in an answer (those that are not also an English name of one of the 41: 'allergy' or
    'typhoid' in an answer is the disease, not a local name)."""
    ctx = knowledge.india()
    programmes = sorted(((form, key) for key, forms in knowledge.programme_names().items() for form in forms),
                        key=lambda fk: -len(fk[0]))
    english = {_fact_norm(a) for aliases in knowledge.load("disease_aliases.yaml")["aliases"].values()
               for a in aliases or []}
    english |= {_fact_norm(k.replace("_", " ")) for k in ctx["diseases"]}
    english |= {_fact_norm(e.get("display_name") or "") for e in ctx["diseases"].values()}
    local = {d: [n["name"] for n in e.get("local_names") or []] for d, e in ctx["diseases"].items()}
    everywhere = sorted({n for names in local.values() for n in names if _fact_norm(n) not in english},
                        key=lambda n: -len(n))
    return {"programmes": [(_term_re(f), f, k) for f, k in programmes],
            "programme_forms": {k: [_fact_norm(f) for f in forms] for k, forms in knowledge.programme_names().items()},
            "programme_label": {k: min(forms, key=len) for k, forms in knowledge.programme_names().items()},
            "everywhere": [(_term_re(n), n) for n in everywhere]}


@functools.lru_cache(maxsize=None)
def supported(disease: str | None) -> dict:
    """What the knowledge gives for a disease: its programmes, its helplines and numbers, its local names, and its
    own India text (local names, seasonality, access, caution), all normalised; the national ones for any
    disease, and only those for a disease outside india_context.yaml (or none)."""
    ctx = knowledge.india()
    e = ctx["diseases"].get(disease) if disease else None
    out = {"programmes": set(NATIONAL_PROGRAMMES), "numbers": set(NATIONAL_NUMBERS), "local_names": set(), "text": ""}
    if e is None:
        return out
    own = [n["name"] for n in e.get("local_names") or []]
    text = _fact_norm(" ; ".join(own + [e.get("display_name") or ""]
                                 + [e.get(f) or "" for f in ("seasonality", "access", "caution")]))
    forms = _fact_vocabulary()["programme_forms"]
    out["programmes"] |= set(e.get("programmes") or [])
    out["programmes"] |= {k for k, fs in forms.items() if any(_within(f, text) for f in fs)}
    out["numbers"] |= {re.sub(r"\D", "", str(h)) for h in e.get("helplines") or []}
    out["numbers"] |= {re.sub(r"\D", "", str(h)) for p in e.get("programmes") or []
                       for h in (ctx["programmes"].get(p) or {}).get("helplines") or []}
    out["numbers"] |= {re.sub(r"\D", "", m.group()) for f in ("seasonality", "access", "caution")
                       for m in NUMBER.finditer(e.get(f) or "")}
    out["local_names"] = {_fact_norm(n) for n in own + [e.get("display_name") or ""]}
    out["text"] = text
    return out


def _overlaps(span, taken) -> bool:
    return any(span[0] < b and a < span[1] for a, b in taken)


def _number_facts(body: str) -> list[tuple[int, str, str]]:
    """(position, digits, as written) of every phone or helpline number in the text: 3 digits or more, or 2 right
    after 'call', 'dial', 'helpline'...; amounts (Rs 1000), quantities (2000 ml, 48 hours) and years are not."""
    out = []
    for m in NUMBER.finditer(body):
        digits, before, after = re.sub(r"\D", "", m.group()), body[:m.start()], body[m.end():]
        said = bool(_SAYS_NUMBER.search(before[-20:]))
        if _AMOUNT_BEFORE.search(before[-8:]) or _UNIT_AFTER.match(after):
            continue
        if len(digits) < 2 or (len(digits) < 3 and not said):
            continue
        if len(digits) == 4 and 1900 <= int(digits) <= 2099 and not said:
            continue
        out.append((m.start(), digits, m.group().strip()))
    return out


def _local_name_items(body: str) -> list[tuple[int, str]]:
    """(position, item) of every item of a 'Local name: a, b.' list, without brackets, quotes or a trailing
    'in Hindi'."""
    items = []
    for m in _LOCAL_ITEMS.finditer(body):
        cuts = [(0, 0)] + [sep.span() for sep in re.finditer(r"[,;/]|\bor\b", m.group(1))] + [(None, None)]
        for (_, start), (end, _) in zip(cuts, cuts[1:]):
            item = re.sub(r"\([^)]*\)?|[\"'‘’“”]", " ", m.group(1)[start:end])
            item = re.sub(r"\s+in\s+[A-Z][a-z]+\s*$", "", item.strip()).strip(" .:-")
            if _fact_norm(item):
                items.append((m.start(1) + start, item))
    return items


def unsupported_facts(text: str, disease: str | None, precautions=()) -> list[tuple[str, str]]:
    """(kind, fact as written) for every programme, helpline or phone number, and local name in an answer's
    Precautions and India notes that the knowledge does not give for ``disease``, the condition the answer names:
    supported are the disease's programmes, helplines and local names in india_context.yaml (and what its own India
    text names), its dataset ``precautions``, and the national services (NATIONAL_NUMBERS, NATIONAL_PROGRAMMES),
    which are all an answer naming no disease of the 41 is measured against. The disclaimer is not a fact."""
    p = parse_answer(text)
    body = "\n".join(s for s in (p["precautions"], p["india_notes"]) if s)
    for d in (DISCLAIMER, knowledge.india().get("disclaimer") or ""):
        body = body.replace(" ".join(d.split()), " ") if d else body
    sup, vocab = supported(disease), _fact_vocabulary()
    prec = _fact_norm(" ; ".join(str(x) for x in precautions or []))

    def given(fact: str) -> bool:  # in the disease's own India text or its precautions
        return _within(fact, sup["text"]) or _within(fact, prec)

    facts, taken = [], []  # (position, kind, fact)
    for rx, form, key in vocab["programmes"]:
        for m in rx.finditer(body):
            if not _overlaps(m.span(), taken):
                taken.append(m.span())
                if key not in sup["programmes"] and not given(form):
                    facts.append((m.start(), "programme", vocab["programme_label"][key]))  # one fact a programme
    for m in GENERIC_PROGRAMME.finditer(body):
        if _overlaps(m.span(), taken):
            continue
        words = m.group().split()
        while len(words) > 2 and words[0].lower() in _LEAD_WORDS:
            words.pop(0)
        phrase = " ".join(words)
        keys = {k for k, fs in vocab["programme_forms"].items() if any(_within(phrase, f) for f in fs)}
        if not keys & sup["programmes"] and not given(phrase):
            facts.append((m.start(), "programme", phrase))
    facts += [(at, "helpline", shown) for at, digits, shown in _number_facts(body)
              if digits not in sup["numbers"] and not given(digits)]
    facts += [(at, "local name", item) for at, item in _local_name_items(body)
              if _fact_norm(item) not in sup["local_names"] and not _within(item, prec)]
    for rx, name in vocab["everywhere"]:
        m = rx.search(body)
        if m and not given(name):
            facts.append((m.start(), "local name", name))
    seen, out = set(), []
    for _, kind, fact in sorted(facts, key=lambda f: f[0]):  # in the order the answer states them
        if (kind, _fact_norm(fact)) not in seen:
            seen.add((kind, _fact_norm(fact)))
            out.append((kind, fact))
    return out


def unsupported_fact_counts(scores: dict) -> pd.DataFrame:
    """Every unsupported fact found, per system (``scores``: {system: per-row frame with 'unsupported_facts'}):
    kind, fact, system, and the number of answers stating it; most frequent first within each system."""
    rows = []
    for system, df in scores.items():
        counts = Counter((kind, fact) for facts in df.get("unsupported_facts", []) for kind, fact in facts)
        rows += [{"kind": k, "fact": f, "system": system, "answers": n}
                 for (k, f), n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]
    return pd.DataFrame(rows, columns=["kind", "fact", "system", "answers"])


def triage_scores(see_doctor: str | None, ref_level: str) -> dict:
    """The advice's level against the reference level: agreement, under- and over-triage."""
    pred_level = knowledge.level_from_text(see_doctor)
    pred_rank = knowledge.level_rank(pred_level) if pred_level else None
    ref_rank = knowledge.level_rank(ref_level)
    return {"pred_triage": pred_level, "triage_agree": pred_level == ref_level,
            # no readable advice counts as under-triage: silence is not safe
            "under_triage": pred_rank is None or pred_rank < ref_rank,
            "over_triage": pred_rank is not None and pred_rank > ref_rank}


def score_answer(text: str, finish_reason: str, ref: dict, names: DiseaseNames) -> dict:
    """All per-row measures of one model answer against its reference row."""
    p = parse_answer(text)
    pred_key = names.key(p["condition"]) if p["condition"] else None
    facts = unsupported_facts(text, pred_key, names.precautions.get(pred_key) or ())
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
