"""Rules applied to every answer the assistant gives, whatever the model said (from data/knowledge/triage.yaml):
an emergency banner for red-flag symptoms in the query, a triage floor set by the named condition, the five
sections always present, and the disclaimer always last. When the named condition is one of the 41, its
precautions and India notes are the sourced facts (the dataset's precautions, india_context.yaml), not the
model's words: a small model writes them fluently but invents programmes and names."""
from __future__ import annotations

import unicodedata

from . import DISCLAIMER, knowledge, redflags, textnorm
from .answer import format_answer, parse_answer, precaution_items

BANNER = "EMERGENCY: {what}. Call 108 now or go to the nearest hospital emergency department."


class EmptyQuery(ValueError):
    pass


def clean_query(text: str, max_chars: int) -> tuple[str, list[str]]:
    """Printable, NFC-normalised, whitespace-collapsed query, truncated to ``max_chars``; warnings say what changed.
    Raises EmptyQuery when nothing is left."""
    warnings = []
    t = unicodedata.normalize("NFC", str(text or ""))
    # control and format characters (NUL, escapes, zero-width) become spaces; letters in any script and emoji stay
    t = "".join(" " if unicodedata.category(c)[0] == "C" else c for c in t)
    t = " ".join(t.split())
    if not t:
        raise EmptyQuery("the query is empty: describe your symptoms, e.g. "
                         "medillama ask \"fever and joint pain for 3 days\"")
    if len(t) > max_chars:
        t = t[:max_chars].rsplit(" ", 1)[0] or t[:max_chars]
        warnings.append(f"query truncated to {len(t)} characters (limit {max_chars})")
    if textnorm.has_devanagari(t):  # the model was trained on Latin-script queries: it reads Hinglish
        t = textnorm.romanise(t)
        warnings.append(f"Devanagari written in Latin letters for the model: {t!r}")
    return t, warnings


def red_flags(query: str) -> list[dict]:
    """Red flags of triage.yaml a query states, in the patient's own words (any spelling; Devanagari
    transliterated): ``redflags.flags_in_text``."""
    ids = set(redflags.flags_in_text(query))
    return [rf for rf in knowledge.triage_rules().get("red_flags") or [] if rf["id"] in ids]


def banner_scores(queries, levels, fired=None) -> dict:
    """The red-flag banner alone (the query's words, no model) on a labelled set: the share of emergency rows it
    flags (recall; a miss is left to the model's triage and the named condition's floor) and of the other rows
    (false alarms), each with a Wilson 95% interval, and the missed queries. ``fired``: whether the banner fires
    on each query, when already known."""
    from .metrics import wilson_ci

    queries, levels = list(queries), list(levels)
    fired = [bool(red_flags(q)) for q in queries] if fired is None else list(fired)
    emergency = [f for f, lv in zip(fired, levels) if lv == "emergency"]
    other = [f for f, lv in zip(fired, levels) if lv != "emergency"]
    out = {"emergency_rows": len(emergency),
           "banner_on_emergency": sum(emergency) / len(emergency) if emergency else None,
           "other_rows": len(other), "banner_on_other": sum(other) / len(other) if other else None,
           "missed": [q for q, f, lv in zip(queries, fired, levels) if lv == "emergency" and not f]}
    out["banner_on_emergency_ci"] = wilson_ci(sum(emergency), len(emergency))
    out["banner_on_other_ci"] = wilson_ci(sum(other), len(other))
    return out


def red_flag_set_scores(path, split: str = "report") -> dict:
    """``banner_scores`` on one half of the labelled red-flag messages (data/redflags/messages.csv: the rules are
    written on ``dev``, scored on ``report``), overall and per language, with the false alarms listed."""
    import pandas as pd

    df = pd.read_csv(path)
    df = df[df["split"] == split].assign(fired=lambda d: [bool(red_flags(t)) for t in d["text"]])
    out = banner_scores(df["text"], df["label"], df["fired"])
    out["split"] = split
    out["by_language"] = {lang: {k: v for k, v in banner_scores(g["text"], g["label"], g["fired"]).items()
                                 if k != "missed"} for lang, g in df.groupby("language", sort=True)}
    out["false_alarms"] = df.loc[(df["label"] != "emergency") & df["fired"], "text"].tolist()
    return out


def grounded(condition_key: str | None, names=None) -> tuple[list[str] | None, str | None]:
    """The sourced precautions and India notes of a recognised condition (None where there are none)."""
    if condition_key is None:  # apply() finds a key only through names
        return None, None
    precautions = names.precautions.get(condition_key) or None
    notes = knowledge.india_notes(condition_key) if condition_key in knowledge.india()["diseases"] else None
    return precautions, notes


def apply(query: str, raw_answer: str, names=None) -> dict:
    """The answer as shown to the user, and what the safety layer changed."""
    p = parse_answer(raw_answer)
    changes = []
    flags = red_flags(query)
    condition_key = names.key(p["condition"]) if names is not None and p["condition"] else None
    levels = knowledge.triage_rules()["levels"]
    stated = knowledge.level_from_text(p["see_doctor"])
    floor = knowledge.triage_rules()["diseases"].get(condition_key) if condition_key else None
    level = stated
    if floor and (level is None or levels[level]["rank"] < levels[floor]["rank"]):
        changes.append(f"triage raised from {stated or 'none'} to {floor}, the default for {p['condition']}")
        level = floor
    if flags:
        if level != "emergency":
            changes.append(f"triage raised to emergency: red flag {', '.join(f['id'] for f in flags)}")
        level = "emergency"
    if level is None:
        level = "routine"
        changes.append("no readable triage advice: 'see a doctor' advice added")
    see = p["see_doctor"] if level == stated and p["see_doctor"] else knowledge.triage_advice(level)
    missing = [f for f in ("condition", "why", "precautions", "india_notes") if not p[f]]
    if missing:
        changes.append(f"sections missing from the model's answer: {', '.join(missing)}")
    precautions, notes = grounded(condition_key, names)
    if precautions is not None and precaution_items("; ".join(precautions)) != p["precaution_list"]:  # read alike
        changes.append(f"precautions: the dataset's list for {p['condition']}")
    if notes is not None and notes != p["india_notes"]:
        changes.append(f"India notes: india_context.yaml's facts for {p['condition']}")
    body = format_answer(
        p["condition"] or "Not clear from these symptoms; please see a doctor",
        p["why"] or "The model gave no explanation.",
        precautions or p["precaution_list"] or ["consult a doctor"],
        see,
        notes or p["india_notes"] or "For free primary care, visit your nearest Ayushman Arogya Mandir, PHC or CHC.",
        disclaimer=DISCLAIMER)
    banner = ""
    if flags:
        banner = BANNER.format(what="; ".join(f["description"] for f in flags))
        hindi = knowledge.triage_rules().get("banner_hindi")
        banner += f"\n{hindi}" if hindi else ""
    text = f"{banner}\n{body}" if banner else body
    return {"text": text, "banner": banner, "triage": level, "red_flags": [f["id"] for f in flags],
            "condition": p["condition"], "condition_key": condition_key, "changes": changes,
            "parsed": parse_answer(body)}
