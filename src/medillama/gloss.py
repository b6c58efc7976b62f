"""An English gloss of the symptoms a message states in Hindi words, added in brackets after the message.

A small model knows English symptom words from its pre-training and the few Hindi phrasings its training rows use;
a patient writing Hinglish uses words it has hardly seen. What the lexicon knows in Hindi -- each symptom's Hinglish
phrasings, and its keywords found in those phrasings but in none of its English ones -- is recognised however it
is spelt (``textnorm.keys``, Devanagari romanised first) and glossed with the symptom's first English phrasing:
"tez bukhar aur ulti ho rahi hai" -> "tez bukhar aur ulti ho rahi hai (a high fever, vomiting)". The message itself
is kept as written.

Latin-script Hindi collides with English and with other Hindi words once spelling is folded ("peeth" and "pit",
"honth" and "hota", "saans" and "saas"), so a reading is kept narrow:
- a term is read only inside one clause, and not where it is denied ("ulti nahi hui", "no fever": ``textnorm.denied``);
- a term whose words are all English (the lexicon's English phrasings use them: "loose motion") is left to the model;
- a term's last word may be the start of a longer word (an inflection: "sujan" in "sujana") only in a message with
  Hindi grammar words, and only when it has at least ``MIN_KEY`` letters; else it is read as a whole word;
- a one-word term shorter than that is read only in Hindi context, and only as it is spelt (doubled letters aside).
"""
from __future__ import annotations

import functools
import re

from . import knowledge, textnorm

# Hindi grammar words, as written (lower case, Devanagari romanised), that no English sentence uses: a message holding
# one is written in Hindi. Compared as written, not by spelling key: keys fold 'been' into 'bhi' and 'she' into 'se'.
HINDI_WORDS = frozenset(
    "hai hain aur nahi nahin nhi mujhe mujhko muje mera meri raha rahi rahe rha rhi rhe hota hoti hote tha thi bahut "
    "bohot bahot bhot kuch kuchh ka ki ke ko se bhi wala wali wale liye kya hoon gaya gayi gya gyi lagta lagti lagte "
    "karta karti jata jati jaata jaati abhi mein hua hui".split())
MIN_KEY = 4  # letters of a key below which a word is read only whole (and, alone, only as spelt)
_DOUBLED = re.compile(r"(.)\1+")


def _spelt(word: str) -> str:
    return _DOUBLED.sub(r"\1", word.lower())


@functools.lru_cache(maxsize=None)
def _terms(folder) -> tuple[tuple[tuple[str, ...], str, str, str], ...]:
    """(term's word keys, its spelling for a short one-word term, symptom token, English gloss) for each Hindi term
    of the lexicon, longest first."""
    lex = knowledge.lexicon(folder)
    english = {kw for e in lex.values() for p in e.get("en") or [] for kw in textnorm.keyed_words(p)}
    english_keys, english_spelt = {k for k, _ in english if len(k) >= MIN_KEY}, {_spelt(w) for _, w in english}
    out = set()
    for token, e in lex.items():
        en = " ".join(e.get("en") or []).lower()
        hindi = [p.lower() for p in e.get("hinglish") or []]
        words = hindi + [k.lower() for k in e.get("keywords") or [] if k.lower() in " ".join(hindi) and k.lower() not in en]
        for w in words:
            pairs = [kw for kw in textnorm.keyed_words(w) if kw[0] != textnorm.BREAK]
            keys = tuple(k for k, _ in pairs)
            if keys and not all(k in english_keys or _spelt(x) in english_spelt for k, x in pairs):
                out.add((keys, _spelt(w) if len(keys) == 1 and len(keys[0]) < MIN_KEY else "", token, e["en"][0]))
    return tuple(sorted(out, key=lambda t: (-len(t[0]), t[0], t[2])))


def _at(term, spelt: str, ks: list[str], words: list[str], i: int, hindi: bool) -> bool:
    """Whether the term starts at word ``i`` of the message (keys ``ks``, the words as written ``words``)."""
    n, last = len(term), term[-1]
    if i + n > len(ks) or tuple(ks[i:i + n - 1]) != term[:-1]:
        return False
    if spelt:  # a short one-word term
        return hindi and _spelt(words[i]) == spelt
    word = ks[i + n - 1]
    return word == last or (hindi and len(last) >= MIN_KEY and word.startswith(last))


def glossed_symptoms(text: str, folder=None) -> list[tuple[str, str]]:
    """(symptom token, English gloss) of each symptom the message states in Hindi words, in the message's order."""
    pairs = textnorm.keyed_words(text, breaks=True)
    ks, words = [k for k, _ in pairs], [w for _, w in pairs]
    hindi = textnorm.has_devanagari(text) or any(w in HINDI_WORDS for w in words)
    first = {}
    for term, spelt, token, english in _terms(folder):
        if token in first:
            continue
        for i in range(len(ks)):
            if _at(term, spelt, ks, words, i, hindi) and not textnorm.denied(ks, i, i + len(term)):
                first[token] = (i, english)
                break
    return [(t, e) for t, (i, e) in sorted(first.items(), key=lambda kv: (kv[1][0], kv[0]))]


def hindi_gloss(text: str, folder=None) -> str:
    """The message with an English gloss of the symptoms it states in Hindi words, in brackets after it; a message
    without any, as written."""
    found = glossed_symptoms(text, folder)
    text = (text or "").strip()
    return f"{text} ({', '.join(dict.fromkeys(e for _, e in found))})" if found else text
