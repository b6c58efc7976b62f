"""An English gloss of the symptoms a message states in Hindi words, added in brackets after the message.

A small model knows English symptom words from its pre-training and the few Hindi phrasings its training rows use;
a patient writing Hinglish uses many more ("ji machlata hai", "sar ghoom raha"). What the lexicon knows in Hindi --
each symptom's Hinglish phrasings, and its keywords found in those phrasings but in none of its English ones -- is
recognised however it is spelt (``textnorm.keys``, Devanagari romanised first) and glossed with the symptom's first
English phrasing: "tez bukhar aur ulti ho rahi hai" -> "tez bukhar aur ulti ho rahi hai (high fever, vomiting)".
The message itself is kept as written.

English messages must come through unchanged, and Latin-script Hindi words can look like English ones ("peeth" is
spelt like "pit", "riss" starts "rising"): a one-word term is matched as a whole word, and one whose key is shorter
than four letters, or only as the start of a longer word, is matched only in a message with Hindi grammar words.
"""
from __future__ import annotations

import functools

from . import knowledge, textnorm

# Hindi grammar words (as ``textnorm.word_key`` spells them) that no English sentence uses: a message holding one is
# written in Hindi, where a short or inflected Hindi word may be read
HINDI_WORDS = frozenset(textnorm.word_key(w) for w in (
    "hai", "hain", "aur", "nahi", "mujhe", "mera", "meri", "mere", "raha", "rahi", "rahe", "hota", "hoti", "hote",
    "tha", "thi", "bahut", "kuch", "ka", "ki", "ke", "ko", "se", "bhi", "wala", "wali", "liye",
    "kya", "hoon", "gaya", "gayi", "lagta", "lagti", "karta", "karti", "jata", "jati", "abhi", "kal", "din"))
MIN_KEY = 4  # a one-word term's key shorter than this is read only in Hindi context


@functools.lru_cache(maxsize=None)
def _terms(folder) -> tuple[tuple[tuple[str, ...], str, str], ...]:
    """(term's word keys, symptom token, its English gloss) for each Hindi term of the lexicon, longest first."""
    out = set()
    for token, e in knowledge.lexicon(folder).items():
        en = " ".join(e.get("en") or []).lower()
        hindi = [p.lower() for p in e.get("hinglish") or []]
        words = hindi + [k.lower() for k in e.get("keywords") or [] if k.lower() in " ".join(hindi) and k.lower() not in en]
        for w in words:
            keys = tuple(textnorm.keys(w))
            if keys:
                out.add((keys, token, e["en"][0]))
    return tuple(sorted(out, key=lambda t: (-len(t[0]), t[0], t[1])))


def _found(term: tuple[str, ...], words: list[str], hindi: bool) -> int | None:
    """Position of the term's first word in the message's word keys, or None; the last word of a term of several
    words (or of one, in Hindi context) may be the start of the message's (an inflection: 'ghoom' in 'ghoomne')."""
    n = len(term)
    if n == 1 and len(term[0]) < MIN_KEY and not hindi:
        return None
    prefix = n > 1 or hindi
    for i in range(len(words) - n + 1):
        if words[i:i + n - 1] == list(term[:-1]) and (
                words[i + n - 1] == term[-1] or (prefix and words[i + n - 1].startswith(term[-1]))):
            return i
    return None


def glossed_symptoms(text: str, folder=None) -> list[tuple[str, str]]:
    """(symptom token, English gloss) of each symptom the message states in Hindi words, in the message's order."""
    words = textnorm.keys(text)
    hindi = any(w in HINDI_WORDS for w in words)
    first = {}
    for term, token, english in _terms(folder):
        i = _found(term, words, hindi)
        if i is not None and (token not in first or i < first[token][0]):
            first[token] = (i, english)
    return [(t, e) for t, (i, e) in sorted(first.items(), key=lambda kv: (kv[1][0], kv[0]))]


def hindi_gloss(text: str, folder=None) -> str:
    """The message with an English gloss of the symptoms it states in Hindi words, in brackets after it; a message
    without any, as written."""
    found = glossed_symptoms(text, folder)
    text = (text or "").strip()
    return f"{text} ({', '.join(dict.fromkeys(e for _, e in found))})" if found else text
