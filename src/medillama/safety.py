"""Rules applied to every answer the assistant gives, whatever the model said (from data/knowledge/triage.yaml):
an emergency banner for red-flag symptoms in the query, a triage floor set by the named condition, the five
sections always present, and the disclaimer always last. When the named condition is one of the 41, its
precautions and India notes are the sourced facts (the dataset's precautions, india_context.yaml), not the
model's words: a small model writes them fluently but invents programmes and names."""
from __future__ import annotations

import unicodedata

from . import DISCLAIMER, knowledge
from .knowledge import normalise
from .answer import format_answer, parse_answer

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
    return t, warnings


def red_flags(query: str) -> list[dict]:
    """Red flags of triage.yaml found in a query: by their own phrases, or by their symptoms' lexicon phrasings."""
    mentioned = knowledge.symptoms_in_text(query)
    by_phrase = set(knowledge.red_flags_in_text(query))
    hits = []
    for rf in knowledge.triage_rules().get("red_flags") or []:
        all_of, any_of = set(rf.get("all_of") or []), set(rf.get("any_of") or [])
        by_symptoms = bool(all_of or any_of) and all_of <= mentioned and (not any_of or bool(any_of & mentioned))
        if rf["id"] in by_phrase or by_symptoms:
            hits.append(rf)
    return hits


def banner_scores(queries, levels) -> dict:
    """The red-flag banner alone (the query's words, no model) on a labelled set: the share of emergency rows it
    flags (a miss is left to the model's triage and the named condition's floor) and of the other rows (false
    alarms), with the missed queries."""
    fired = [bool(red_flags(q)) for q in queries]
    emergency = [f for f, lv in zip(fired, levels) if lv == "emergency"]
    other = [f for f, lv in zip(fired, levels) if lv != "emergency"]
    return {"emergency_rows": len(emergency), "banner_on_emergency": sum(emergency) / len(emergency) if emergency else None,
            "other_rows": len(other), "banner_on_other": sum(other) / len(other) if other else None,
            "missed": [q for q, f, lv in zip(queries, fired, levels) if lv == "emergency" and not f]}


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
    if precautions is not None and precautions != p["precaution_list"]:
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
    banner = BANNER.format(what="; ".join(f["description"] for f in flags)) if flags else ""
    text = f"{banner}\n{body}" if banner else body
    return {"text": text, "banner": banner, "triage": level, "red_flags": [f["id"] for f in flags],
            "condition": p["condition"], "condition_key": condition_key, "changes": changes,
            "parsed": parse_answer(body)}
