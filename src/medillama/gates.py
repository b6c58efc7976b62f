"""Quality gates for generated text. Each gate returns None (pass) or a short reason (reject)."""
from __future__ import annotations

import re

from .knowledge import is_latin, red_flags_in_symptoms

ROLE_MARKERS = re.compile(r"<\|[^>]*\|>|</?s>|\[/?INST\]|^\s*(assistant|user|system|patient|doctor)\s*:",
                          re.IGNORECASE | re.MULTILINE)
AI_TALK = re.compile(r"\bas an ai\b|\blanguage model\b|\bi am an ai\b|\bi'm an ai\b|\bi cannot provide\b",
                     re.IGNORECASE)


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", text.lower())


def no_disease_name(text: str, names) -> str | None:
    """Reject a patient query that names a disease (the model must infer it, not read it)."""
    t = f" {' '.join(_words(text))} "
    for n in names:
        w = " ".join(_words(n))
        if w and f" {w} " in t:
            return f"names the disease ({n})"
    return None


def stated_symptoms(text: str, symptoms, lexicon: dict) -> list[str]:
    """The row's symptoms recognisable in the text through the lexicon's keywords."""
    t = text.lower()
    return [s for s in symptoms if any(k in t for k in lexicon[s]["keywords"])]


def symptom_coverage(text: str, symptoms, lexicon: dict) -> float:
    """Share of the row's symptoms recognisable in the text."""
    return len(stated_symptoms(text, symptoms, lexicon)) / max(len(symptoms), 1)


def enough_symptoms(text: str, symptoms, lexicon: dict, min_share: float = 0.6) -> str | None:
    share = symptom_coverage(text, symptoms, lexicon)
    return None if share >= min_share else f"symptoms recognisable {share:.0%} < {min_share:.0%}"


def states_red_flags(text: str, symptoms, lexicon: dict) -> str | None:
    """A case that is an emergency because of red-flag symptoms must state them: the reference answer says 'call
    108', and no reader (model, safety layer or clinician) could get there from a query that leaves them out."""
    flags = red_flags_in_symptoms(symptoms)
    if not flags:
        return None
    if red_flags_in_symptoms(stated_symptoms(text, symptoms, lexicon)):
        return None
    return f"red-flag symptoms not stated ({', '.join(flags)})"


def length_ok(text: str, min_words: int, max_words: int) -> str | None:
    n = len(text.split())
    return None if min_words <= n <= max_words else f"length {n} words outside [{min_words}, {max_words}]"


def latin_only(text: str) -> str | None:
    return None if is_latin(text) else "non-Latin script"


def no_artifacts(text: str, prompt: str = "") -> str | None:
    """Role tokens, 'As an AI' talk, or an echo of the instruction."""
    if ROLE_MARKERS.search(text):
        return "role token or speaker label"
    if AI_TALK.search(text):
        return "AI disclaimer talk"
    pw, tw = _words(prompt), _words(text)
    grams = {tuple(pw[i:i + 8]) for i in range(len(pw) - 7)}
    if grams and any(tuple(tw[i:i + 8]) in grams for i in range(len(tw) - 7)):
        return "echoes the prompt"
    return None


FIRST_PERSON = re.compile(r"\b(i|i'm|i've|me|my|mujhe|mera|meri|mere)\b", re.IGNORECASE)


def first_person(text: str) -> str | None:
    """A patient message speaks for the patient ('The patient is a 41-year-old...' is a description)."""
    if re.match(r"\s*(the|this|a|our|my) patient\b", text, re.IGNORECASE) or not FIRST_PERSON.search(text):
        return "not a first-person message"
    return None


def no_repetition(text: str, n: int = 3, max_repeats: int = 2) -> str | None:
    """Runaway loops ('a thready cough, a thready cough, ...'): an n-gram repeated more than max_repeats times."""
    w = _words(text)
    counts: dict = {}
    for i in range(len(w) - n + 1):
        g = tuple(w[i:i + n])
        counts[g] = counts.get(g, 0) + 1
        if counts[g] > max_repeats:
            return "repetition loop"
    return None


def lcs_f1(a: str, b: str) -> float:
    """ROUGE-L F1 on lowercase word tokens (the measure AlpaCare uses to drop near-duplicates)."""
    x, y = _words(a), _words(b)
    if not x or not y:
        return 0.0
    prev = [0] * (len(y) + 1)
    for xi in x:
        cur = [0]
        for j, yj in enumerate(y):
            cur.append(prev[j] + 1 if xi == yj else max(prev[j + 1], cur[j]))
        prev = cur
    lcs = prev[-1]
    if lcs == 0:
        return 0.0
    p, r = lcs / len(y), lcs / len(x)
    return 2 * p * r / (p + r)


def not_near_duplicate(text: str, others, threshold: float = 0.7) -> str | None:
    for o in others:
        if lcs_f1(text, o) > threshold:
            return f"near-duplicate (ROUGE-L > {threshold})"
    return None


def clean(raw: str) -> str:
    """Tidy a raw generation before the gates: first paragraph, no wrapping quotes or 'Message:' labels."""
    text = (raw or "").strip()
    text = re.sub(r"^(here is|here's)[^:\n]*:\s*", "", text, flags=re.IGNORECASE)
    text = re.sub(r"^(message|rewritten message|rewrite|paraphrase|answer|explanation)\s*:\s*", "", text,
                  flags=re.IGNORECASE)
    text = text.split("\n\n")[0].strip()
    if len(text) >= 2 and text[0] in "\"'“" and text[-1] in "\"'”":
        text = text[1:-1].strip()
    return " ".join(text.split())
