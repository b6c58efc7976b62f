"""The hand-written, sourced knowledge files in data/knowledge/: loading, validation, triage rules, India notes."""
from __future__ import annotations

import functools
import re
import unicodedata
from pathlib import Path

import yaml

from . import paths

FILES = ("symptom_lexicon.yaml", "india_context.yaml", "triage.yaml", "red_flag_words.yaml")


@functools.lru_cache(maxsize=None)
def _load(path: str) -> dict:
    return yaml.safe_load(Path(path).read_text(encoding="utf-8"))


def load(name: str, folder: Path | None = None) -> dict:
    return _load(str((folder or paths.KNOWLEDGE) / name))


def lexicon(folder=None) -> dict:
    return load("symptom_lexicon.yaml", folder)["symptoms"]


def india(folder=None) -> dict:
    return load("india_context.yaml", folder)


def triage_rules(folder=None) -> dict:
    return load("triage.yaml", folder)


def red_flag_words(folder=None) -> dict:
    """Word groups of red_flag_words.yaml: how patients write each part of a red flag (redflags.py)."""
    return load("red_flag_words.yaml", folder)["groups"]


def is_latin(text: str) -> bool:
    """True when every letter is Latin (digits, punctuation and emoji are not letters)."""
    return all(not unicodedata.category(c).startswith("L") or unicodedata.name(c, "").startswith("LATIN")
               for c in text)


def validate(disease_keys, symptom_tokens, folder=None) -> list[str]:
    """Problems with the knowledge files (empty list = valid): completeness, empty fields, source ids."""
    problems = []
    disease_keys, symptom_tokens = set(disease_keys), set(symptom_tokens)
    lex = lexicon(folder)
    for t in sorted(set(symptom_tokens) - set(lex)):
        problems.append(f"symptom_lexicon: no entry for {t}")
    for t in sorted(set(lex) - set(symptom_tokens)):
        problems.append(f"symptom_lexicon: unknown symptom {t}")
    for t, e in lex.items():
        en, hi, kw = e.get("en") or [], e.get("hinglish") or [], e.get("keywords") or []
        if len(set(en)) < 3:
            problems.append(f"symptom_lexicon: {t} has fewer than 3 English phrasings")
        if not kw:
            problems.append(f"symptom_lexicon: {t} has no keywords")
        for p in en + hi:
            if not p.strip() or not is_latin(p):
                problems.append(f"symptom_lexicon: {t}: empty or non-Latin phrasing {p!r}")
            elif not any(k in p.lower() for k in kw):
                problems.append(f"symptom_lexicon: {t}: phrasing {p!r} contains none of its keywords")
        flagged = e.get("states_red_flag") or []
        for p in sorted(set(flagged) - set(en + hi)):
            problems.append(f"symptom_lexicon: {t}: states_red_flag {p!r} is none of its phrasings")
        if flagged and not set(en) - set(flagged):
            problems.append(f"symptom_lexicon: {t}: every English phrasing states a red flag; a set without one "
                            "needs a plain phrasing")
    from .gloss import variant_problems  # the gloss is the one reader of the variants

    problems += variant_problems(lex)
    ctx = india(folder)
    sources = ctx.get("sources") or {}
    programmes = ctx.get("programmes") or {}
    dis = ctx.get("diseases") or {}
    for k in sorted(set(disease_keys) - set(dis)):
        problems.append(f"india_context: no entry for {k}")
    for k, e in dis.items():
        if k not in disease_keys:
            problems.append(f"india_context: unknown disease {k}")
        if not e.get("local_names") or not all(n.get("name") for n in e["local_names"]):
            problems.append(f"india_context: {k} has no local name")
        if not (e.get("access") or "").strip():
            problems.append(f"india_context: {k} has no access note")
        if not e.get("sources"):
            problems.append(f"india_context: {k} has no sources")
        problems += [f"india_context: {k}: unknown source {s}" for s in e.get("sources", []) if s not in sources]
        problems += [f"india_context: {k}: unknown programme {p}" for p in e.get("programmes", [])
                     if p not in programmes]
    for sid, s in sources.items():
        if not (s.get("title") and s.get("url")):
            problems.append(f"india_context: source {sid} needs a title and a url")
    tri = triage_rules(folder)
    levels = tri.get("levels") or {}
    for k in sorted(set(disease_keys) - set(tri.get("diseases") or {})):
        problems.append(f"triage: no default level for {k}")
    for k, lvl in (tri.get("diseases") or {}).items():
        if lvl not in levels:
            problems.append(f"triage: {k} has unknown level {lvl}")
    groups = red_flag_words(folder)
    for rf in tri.get("red_flags") or []:
        for t in (rf.get("all_of") or []) + (rf.get("any_of") or []):
            if t not in symptom_tokens:
                problems.append(f"triage: red flag {rf.get('id')} uses unknown symptom {t}")
        if not rf.get("signs") and not rf.get("classifier"):
            problems.append(f"triage: red flag {rf.get('id')} has no signs")
        if not rf.get("sources"):
            problems.append(f"triage: red flag {rf.get('id')} has no sources")
        problems += [f"triage: red flag {rf.get('id')}: unknown source {s}" for s in rf.get("sources") or []
                     if s not in (tri.get("sources") or {})]
        used = {g for p in [*(rf.get("signs") or []), *(rf.get("lasting") or []), *(rf.get("stated") or [])]
                for slot in str(p).split()
                for alt in slot.lstrip("!").split("|") for g in alt.split("~")}
        problems += [f"triage: red flag {rf.get('id')}: sign uses unknown word group {g}" for g in sorted(used - set(groups))]
    rfw = load("red_flag_words.yaml", folder)
    hiding = rfw.get("hiding_groups") or {}
    named = [(key, g) for key in ("everyday_groups", "asked_in_earnest") for g in rfw.get(key) or []] + \
        [("hiding_groups", g) for hider, targets in hiding.items() for g in [hider, *targets]]
    problems += [f"red_flag_words: {key}: {g} is not a group" for key, g in named if g not in groups]
    for g, words in groups.items():
        problems += [f"red_flag_words: {g}: unbalanced braces in {w!r}" for w in words or []
                     if any(c in e for e in expand(str(w)) for c in "{}")]
        if not words:
            problems.append(f"red_flag_words: group {g} is empty")
    return problems


# --- triage ------------------------------------------------------------------------------------------------

def level_rank(level: str, folder=None) -> int:
    return triage_rules(folder)["levels"][level]["rank"]


def red_flags_in_symptoms(symptoms, folder=None) -> list[str]:
    s = set(symptoms)
    hits = []
    for rf in triage_rules(folder).get("red_flags") or []:
        if rf.get("scope") == "query":
            continue
        all_of, any_of = set(rf.get("all_of") or []), set(rf.get("any_of") or [])
        if all_of <= s and (not any_of or any_of & s) and (all_of or any_of):
            hits.append(rf["id"])
    return hits


def normalise(text: str) -> str:
    """Lower case, punctuation to spaces, single spaces: for phrase matching in free text."""
    return " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())


ALTERNATIVES = re.compile(r"\{([^{}]*)\}")


def expand(phrase: str) -> list[str]:
    """Every plain phrase a red-flag word stands for: ``{a|b}`` is either alternative, an empty one drops the part.
    "{left|right} side {is|feels} weak" -> 4 phrases; "{|very }weak" -> "weak", "very weak"."""
    m = ALTERNATIVES.search(phrase)
    if not m:
        return [phrase]
    return [e for alt in m.group(1).split("|") for e in expand(phrase[:m.start()] + alt + phrase[m.end():])]


def _padded(phrases) -> tuple[str, ...]:
    """Phrases normalised and space-padded, to find as whole words in a padded normalised text."""
    return tuple(f" {n} " for n in map(normalise, phrases) if n)


@functools.lru_cache(maxsize=None)
def _symptom_phrasings(folder) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """(symptom token, its lexicon phrasings normalised and padded): built once per knowledge folder."""
    return tuple((token, _padded((e.get("en") or []) + (e.get("hinglish") or []))) for token, e in lexicon(folder).items())


def symptom_phrasings(folder=None) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """(symptom token, its lexicon phrasings, English and Hinglish, normalised and space-padded)."""
    return _symptom_phrasings(folder)


def symptoms_in_text(text: str, folder=None) -> set[str]:
    """Symptom tokens whose lexicon phrasings (English or Hinglish) free text contains, as whole words: how the
    dataset's own queries state them."""
    t = f" {normalise(text)} "
    return {token for token, phrases in _symptom_phrasings(folder) if any(p in t for p in phrases)}


def case_level(disease: str, symptoms, weights: dict, folder=None) -> tuple[str, list[str]]:
    """``triage_level`` of a symptom list, its severity total from the Kaggle weights ({token: weight})."""
    from .balance import severity_total  # here, not at the top: balance imports pandas, ask's start-up needs none

    return triage_level(disease, symptoms, severity_total(symptoms, weights), folder)


def triage_level(disease: str, symptoms, severity_total: int, folder=None) -> tuple[str, list[str]]:
    """The reference level of a case and why: disease default, raised by red flags (-> emergency) or by a
    high severity total (a routine/self-care disease becomes urgent at the threshold)."""
    rules = triage_rules(folder)
    level = rules["diseases"][disease]
    reasons = [f"default for {disease}: {level}"]
    flags = red_flags_in_symptoms(symptoms, folder)
    if flags:
        reasons.append(f"red flags: {', '.join(flags)}")
        return "emergency", reasons
    threshold = (rules.get("severity_thresholds") or {}).get("escalate_to_urgent_at")
    if threshold is not None and severity_total >= threshold and level_rank(level, folder) < level_rank("urgent", folder):
        reasons.append(f"severity {severity_total} >= {threshold}: urgent")
        return "urgent", reasons
    return level, reasons


def triage_advice(level: str, folder=None) -> str:
    return triage_rules(folder)["levels"][level]["advice"]


def level_from_text(text: str, folder=None) -> str | None:
    """The triage level a 'See a doctor' sentence expresses: its exact advice text, else keyword cues."""
    if not text:
        return None
    levels = triage_rules(folder)["levels"]
    t = normalise(text)
    for name, lv in levels.items():
        if normalise(lv["advice"]) in t or t in normalise(lv["advice"]):
            return name
    cues = [("emergency", ("108", "emergency", "immediately", "right away")),
            ("urgent", ("24 hours", "today", "urgent", "as soon as possible")),
            ("self_care", ("at home", "manage this", "self care", "home care")),
            ("routine", ("few days", "not better", "if symptoms", "routine"))]
    for name, words in cues:
        if name in levels and any(w in t for w in words):
            return name
    return None


# --- India notes -------------------------------------------------------------------------------------------

ACRONYM = re.compile(r"[A-Z][A-Z0-9-]{1,9}")  # a programme key that is also how the programme is written (NTEP)


def india_notes(disease: str, fields=("local_names", "seasonality", "access", "programmes", "helplines"),
                folder=None) -> str:
    """Compose the India notes of an answer from the knowledge file only (facts, no generation)."""
    ctx = india(folder)
    e = ctx["diseases"][disease]
    parts = []
    if "local_names" in fields:
        sure = [n["name"] for n in e["local_names"] if not n.get("uncertain")]
        names = sure or [f"{e['local_names'][0]['name']} (colloquial)"]
        parts.append(f"Local name: {', '.join(names[:2])}.")
    for f in ("seasonality", "access", "caution"):
        if f in fields and e.get(f):
            parts.append(e[f].strip())
    if "programmes" in fields and e.get("programmes"):
        progs = []
        for p in e["programmes"]:
            name = ctx["programmes"][p].get("name") or p
            acronym = ACRONYM.fullmatch(p) and p not in name and "(" not in name
            progs.append(f"{p} ({name})" if acronym else name)
        parts.append(f"Programme: {'; '.join(progs)}.")
    if "helplines" in fields and e.get("helplines"):
        parts.append(f"Helpline: {', '.join(str(h) for h in e['helplines'])}.")
    return " ".join(parts)


def programme_names(folder=None) -> dict[str, list[str]]:
    """{programme key: every way india_context.yaml writes it}: the key when it is an acronym, the name without
    its brackets and what the brackets hold ('formerly' dropped), and the programme's ``aliases``."""
    out = {}
    for key, p in (india(folder).get("programmes") or {}).items():
        name = p.get("name") or ""
        forms = [key] if ACRONYM.fullmatch(key) else []
        forms.append(re.sub(r"\s*\([^)]*\)", "", name).strip())
        forms += [re.sub(r"^formerly\s+", "", inner.strip()) for inner in re.findall(r"\(([^)]*)\)", name)]
        forms += [str(a) for a in p.get("aliases") or []]
        out[key] = list(dict.fromkeys(f for f in forms if f))
    return out


def disease_aliases(disease: str, display: str, folder=None) -> list[str]:
    """Names of a disease a patient query must not contain: display name and local names."""
    names = {display.lower()}
    names |= {n["name"].lower() for n in india(folder)["diseases"].get(disease, {}).get("local_names", [])}
    return sorted(names)
