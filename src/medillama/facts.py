"""Unsupported facts: the programmes, helplines, phone numbers and local names an answer's Precautions and India
notes state that ``india_context.yaml`` and the dataset's precaution list do not give for the condition the answer
names (an answer naming no known condition is held to the national ones: 108, 102, 104, Ayushman Arogya Mandir,
PM-JAY). ``metrics.score_answer`` counts them per answer; ``unsupported_fact_counts`` tabulates them per system."""
from __future__ import annotations

import functools
import re
from collections import Counter

import pandas as pd

from . import DISCLAIMER, knowledge
from .answer import parse_answer
from .names import normalise as _norm

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
