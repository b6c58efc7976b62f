"""Red flags in a patient's own words: the emergency signs of triage.yaml found in free text, however it is typed.

Each red flag lists ``signs``: patterns over word groups of ``red_flag_words.yaml`` (chest, pain, sweat, saans,
...). A pattern is space-separated slots that must all be in the message; a slot is one group or ``a|b`` (either
group); ``!a`` asks that the group is absent ("had a stroke last year" is history); ``a~b`` asks for the two groups within ``NEAR`` words of each other, in either order, so
"seene mein bahut tez dard" is chest~pain. Words are compared by their spelling-tolerant key
(``textnorm.word_key``) after Devanagari is transliterated, and a word no group holds is matched to the nearest
group word when it is one edit away (two for long words) and starts with the same letter: typing slips
("breatheing", "sweting", "durd"). A group word preceded by a negation ("no fever", "without sweating") or followed by a Hindi "there is no"
("bukhar nahi hai") does not count, unless the group word itself holds it ("not responding", "hosh nahi").
A red flag is also found when the message states its dataset symptoms in the lexicon's own phrasings, so a
query written like the dataset's gets the banner its case's triage asks for.
"""
from __future__ import annotations

import functools
import re
from collections import defaultdict

from . import knowledge, textnorm

NEAR = 5  # words between two groups of an ``a~b`` slot, at most
NEGATIONS = {"no", "without", "nor", "denies", "never", "koi"}  # koi ... nahi: "koi daura nahi aaya"  # before a group word: "no fever"
# after a group word, a Hindi "there is no ...": "bukhar nahi hai", "sujan nahi," (not "saans nahi aa rahi")
NEGATED_AFTER = {"nahi", "nahin", "nhi", "na"}
NEGATION_ENDS = {"hai", "h", "he", "tha", "thi", "hain", "hua", "hui", textnorm.BREAK}


def _fuzzy_limit(key: str) -> int:
    return 0 if len(key) < 6 else 1 if len(key) < 10 else 2


@functools.lru_cache(maxsize=None)
def _compiled(folder):
    """(index: first key -> [(group, keys)], vocabulary by first letter, flags: [(id, patterns, groups that must be absent)]): once per folder."""
    groups = knowledge.red_flag_words(folder)
    index = defaultdict(list)
    for group, words in groups.items():
        for w in words:
            for spelt in knowledge.expand(str(w)):
                ks = tuple(textnorm.keys(spelt))
                if ks and (group, ks) not in index[ks[0]]:
                    index[ks[0]].append((group, ks))
    vocab = defaultdict(list)
    for k in {k for entries in index.values() for _, ks in entries for k in ks}:
        vocab[k[0]].append(k)
    negation_keys = {textnorm.word_key(n) for n in NEGATIONS | NEGATED_AFTER}
    flags = []
    for rf in knowledge.triage_rules(folder).get("red_flags") or []:
        patterns = [tuple((slot.startswith("!"), tuple(tuple(alt.split("~")) for alt in slot.lstrip("!").split("|")))
                          for slot in str(p).split()) for p in rf.get("signs") or []]
        unless = frozenset(g for p in patterns for absent, alts in p if absent for alt in alts for g in alt)
        flags.append((rf["id"], patterns, unless))
    return dict(index), {c: tuple(v) for c, v in vocab.items()}, flags, frozenset(negation_keys)


@functools.lru_cache(maxsize=65536)
def _canonical(key: str, folder) -> str:
    """The group word a message word stands for: itself when a group holds it, else the closest one within the
    edit limit that starts with the same letter (ties: the first in sorted order), else itself."""
    index, vocab, _, _ = _compiled(folder)
    limit = _fuzzy_limit(key)
    if key in index or not limit:
        return key
    from rapidfuzz.distance import Levenshtein
    from rapidfuzz import process

    known = {k for k in vocab.get(key[0], ())}
    if key in known:
        return key
    best = process.extractOne(key, sorted(known), scorer=Levenshtein.distance, score_cutoff=limit)
    return best[0] if best else key


def groups_in(text: str, folder=None) -> dict[str, list[tuple[int, int]]]:
    """Word groups found in a message, each with the (start, end) word spans where it occurs."""
    index, _, _, negations = _compiled(folder)
    ks = [_canonical(k, folder) for k in textnorm.keys(text, breaks=True)]
    before, after = {textnorm.word_key(n) for n in NEGATIONS}, {textnorm.word_key(n) for n in NEGATED_AFTER}
    found = defaultdict(list)
    for i, k in enumerate(ks):
        for group, gks in index.get(k, ()):
            j = i + len(gks)
            if tuple(ks[i:j]) != gks:
                continue
            if not any(g in negations for g in gks):  # "not responding" is itself the sign
                if any(w in before for w in ks[max(0, i - 2):i]):
                    continue
                if j < len(ks) and ks[j] in after and (j + 1 == len(ks) or ks[j + 1] in NEGATION_ENDS):
                    continue
            found[group].append((i, j))
    return dict(found)


def _near(a: list, b: list) -> bool:
    return any(max(s1, s2) - min(e1, e2) <= NEAR for s1, e1 in a for s2, e2 in b)


def _slot_holds(slot, found) -> bool:
    absent, alts = slot
    return _any_alt(alts, found) != absent


def _any_alt(alts, found) -> bool:
    for alt in alts:
        if not all(g in found for g in alt):
            continue
        if len(alt) == 1 or all(_near(found[alt[0]], found[g]) for g in alt[1:]):
            return True
    return False


_DENIED_BEFORE = re.compile(r"\b(?:" + "|".join(sorted(NEGATIONS)) + r")\s+((?:[^\W_]+['\s]*){1,3})")
_DENIED_AFTER = re.compile(r"([^\W_]+)\s+(?:" + "|".join(sorted(NEGATED_AFTER)) +
                           r")\b(?=\s*(?:hai|h|he|tha|thi|hain|hua|hui)\b|\s*[,.;:!?|\n]|\s*$)")


def _denied_symptoms(text: str, folder=None) -> set[str]:
    """Lexicon symptoms stated only in what a message denies ("no chest pain", "bukhar nahi hai")."""
    t = text.lower()
    spans = [m.group(1) for m in _DENIED_BEFORE.finditer(t)] + [m.group(1) for m in _DENIED_AFTER.finditer(t)]
    return knowledge.symptoms_in_text(" . ".join(spans), folder) if spans else set()


def flags_in_text(text: str, folder=None) -> list[str]:
    """Ids of the red flags a message states (triage.yaml order): by their ``signs``, or by their dataset symptoms
    (``all_of``/``any_of``) in the lexicon's phrasings, as the dataset's own queries state them, unless the message
    speaks of the past ("had a stroke in 2019")."""
    _, _, flags, _ = _compiled(folder)
    found = groups_in(text, folder)
    if "general_question" in found:  # "what are the signs of a stroke?", "how is CPR given?": no one to send
        return []
    by_signs = {fid for fid, patterns, _ in flags if any(all(_slot_holds(s, found) for s in p) for p in patterns)}
    unless = {fid: u for fid, _, u in flags}
    roman = textnorm.romanise(text)
    mentioned = set() if "history" in found else (knowledge.symptoms_in_text(roman, folder)
                                                   - _denied_symptoms(roman, folder))
    hits = []
    for rf in knowledge.triage_rules(folder).get("red_flags") or []:
        all_of, any_of = set(rf.get("all_of") or []), set(rf.get("any_of") or [])
        by_symptoms = bool(all_of or any_of) and all_of <= mentioned and (not any_of or bool(any_of & mentioned))
        by_symptoms = by_symptoms and not unless.get(rf["id"], frozenset()) & set(found)  # "black stool on iron"
        if rf["id"] in by_signs or by_symptoms:
            hits.append(rf["id"])
    return hits
