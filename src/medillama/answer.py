"""The answer format every model output is trained on, parsed by and scored against.

    Likely condition: <display name>
    See a doctor: <triage advice sentence>
    Why: <rationale>
    Precautions: <1-4 precautions, '; '-separated>
    India notes: <local names; programme or helpline; context>
    <disclaimer>
"""
from __future__ import annotations

import re

from . import DISCLAIMER
from .gloss import LEGACY_STYLE, hindi_gloss

# The decision first: what it likely is and how urgently to see a doctor, then why, what to do, and local notes.
SECTIONS = ("Likely condition", "See a doctor", "Why", "Precautions", "India notes")
FIELDS = ("condition", "see_doctor", "why", "precautions", "india_notes")
_FIELD_OF = {s.lower(): f for s, f in zip(SECTIONS, FIELDS)}
# a header at a line start (after optional markdown bullets/bold), e.g. "**Why:**", "- See a doctor -"
_HEADER = re.compile(r"^[\s>*#\-\d.)]*\**\s*(" + "|".join(re.escape(s) for s in SECTIONS) + r")\s*\**\s*[:\-–]\s*\**",
                     re.IGNORECASE | re.MULTILINE)


def format_decision(condition: str, see_doctor: str) -> str:
    """The answer's first two lines, each with its newline: what it likely is and how urgently to see a doctor."""
    return f"Likely condition: {condition.strip()}\nSee a doctor: {see_doctor.strip()}\n"


def format_answer(condition: str, why: str, precautions: list[str], see_doctor: str, india_notes: str,
                  disclaimer: str = DISCLAIMER) -> str:
    prec = "; ".join(p.strip().rstrip(".") for p in precautions if p.strip())
    lines = [f"Why: {why.strip()}", f"Precautions: {prec[:1].upper() + prec[1:]}.", f"India notes: {india_notes.strip()}"]
    return format_decision(condition, see_doctor) + "\n".join(lines) + f"\n{disclaimer}"


def parse_answer(text: str) -> dict:
    """Fields of an answer; tolerates missing, reordered, repeated (first wins) or markdown-decorated sections.

    Returns every field (None when missing) plus ``sections_found``, ``complete`` (all five present) and
    ``precaution_list``. Text after the last section's first line break that is not a section (e.g. the
    disclaimer) is kept in ``trailing``.
    """
    text = text or ""
    out: dict = {f: None for f in FIELDS}
    matches = list(_HEADER.finditer(text))
    for i, m in enumerate(matches):
        field = _FIELD_OF[m.group(1).lower()]
        end = matches[i + 1].start() if i + 1 < len(matches) else len(text)
        body = text[m.end():end].strip()
        if out[field] is None:
            out[field] = body
    trailing = ""
    last = next((f for f in reversed(FIELDS) if out[f]), None)
    if last and "\n" in out[last] and matches and _FIELD_OF[matches[-1].group(1).lower()] == last:
        body, trailing = out[last].split("\n", 1)
        out[last] = body.strip()
    for f in FIELDS:
        if out[f] is not None:
            out[f] = " ".join(out[f].split()) or None
    out["precaution_list"] = precaution_items(out["precautions"])
    out["sections_found"] = sum(out[f] is not None for f in FIELDS)
    out["complete"] = out["sections_found"] == len(FIELDS)
    out["trailing"] = trailing.strip()
    return out


ALPACA = "### Input:\n{input_text}\n\n### Output:\n"  # the original work's format; fits a base model


def precaution_items(text: str | None) -> list[str]:
    """The items of a Precautions section, as an answer's are read: split at ';', line breaks or ', ' before a
    lower-case word, stripped of dots, in lower case."""
    return [p.strip(" .").lower() for p in re.split(r";|\n|, (?=[a-z])", text or "") if p.strip(" .")]


def build_prompt(query: str, style: str = "alpaca", tokenizer=None, gloss: bool | str = False) -> str:
    """The prompt a model sees for a patient query; training, evaluation and `ask` all use this one function.
    ``gloss``: the symptoms the query states in Hindi words glossed in English beside it (``gloss.hindi_gloss``), in
    the style named (``gloss.reading``; True: brackets). ``train.hindi_gloss``: when the model reads a message;
    ``train.gloss_training_share``: in a share of training rows."""
    if gloss:
        query = hindi_gloss(query, style=LEGACY_STYLE if gloss is True else gloss)
    if style == "alpaca":
        return ALPACA.format(input_text=query.strip())
    if style == "chat":
        if tokenizer is None or not tokenizer.chat_template:
            raise ValueError("prompt style 'chat' needs a tokenizer with a chat template; use 'alpaca' for base models")
        return tokenizer.apply_chat_template([{"role": "user", "content": query.strip()}], tokenize=False,
                                             add_generation_prompt=True)
    raise ValueError(f"unknown prompt style {style!r}; use 'alpaca' or 'chat'")
