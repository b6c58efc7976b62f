"""Text as patients type it, made comparable: Devanagari transliterated to Hinglish, and a spelling-tolerant key
for each word of romanised Hindi or English.

Romanised Hindi has no fixed spelling (paseena/pasina, munh/muh/moonh, saans/sans, bachcha/baccha), so a phrase
list cannot hold every form. Both sides -- the red-flag terms and the message -- are reduced to the same key
(``word_key``): long vowels written doubled are folded (ee -> i, oo -> u), aspiration ``h`` after a consonant is
dropped (kh -> k, chh -> c), doubled letters are collapsed, w -> v, z -> j, and a nasal ``n`` at a word's end is
dropped (mein/me, hain/hai). Devanagari is first transliterated with ``indic_transliteration`` (ITRANS), the
inherent vowel of a word's last consonant dropped as Hindi speech does, and ITRANS's capitals spelt the way
Hinglish writes them (सीने -> seene), so the model and the matcher read the same text.
"""
from __future__ import annotations

import functools
import re
import unicodedata

DEVANAGARI = re.compile(r"[\u0900-\u097F]+")
VIRAMA = "\u094D"

# ITRANS (capitals for long vowels and retroflexes) -> the way Hinglish is usually typed; longest first
_ITRANS_TO_HINGLISH = [
    ("RRi", "ri"), ("R^i", "ri"), ("kSh", "ksh"), ("j~n", "gy"), (".Dh", "dh"), (".D", "d"), (".N", "n"),
    ("~N", "n"), ("~n", "n"), ("Sh", "sh"), ("Th", "th"), ("Dh", "dh"), ("ch", "ch"), ("Ch", "chh"),
    ("A", "aa"), ("I", "ee"), ("U", "oo"), ("M", "n"), ("H", "h"), ("T", "t"), ("D", "d"), ("N", "n"),
    ("K", "kh"), ("G", "g"), ("q", "k"), (".a", ""), (".h", ""), ("^", ""), ("~", ""), (".", ""),
]


_DEVA_CONSONANT = set(chr(c) for c in range(0x0915, 0x093A)) | set(chr(c) for c in range(0x0958, 0x0960))
_NUKTA, _VOWEL_SIGNS = "\u093C", set(chr(c) for c in range(0x093E, 0x094D)) | {"\u0962", "\u0963"}


def _schwa_deleted(word: str) -> str:
    """A Devanagari word with the inherent vowels Hindi does not pronounce marked silent (a virama added): the
    last consonant's (दर्द -> dard), and a medial one between a vowel-consonant and a consonant-vowel
    (पहचान -> pahchaan, धड़कन -> dhadkan, झटके -> jhatke)."""
    units, i = [], 0  # [consonant or vowel text, has inherent schwa]
    while i < len(word):
        c = word[i]
        j = i + 1
        if c in _DEVA_CONSONANT:
            if j < len(word) and word[j] == _NUKTA:
                j += 1
            schwa = not (j < len(word) and (word[j] in _VOWEL_SIGNS or word[j] == VIRAMA))
            if not schwa:
                j += 1
            units.append([word[i:j], schwa, True])
        else:
            units.append([c, False, False])  # independent vowel, anusvara, chandrabindu, ...
        i = j
    if len(units) > 1 and units[-1][2] and units[-1][1]:
        units[-1][1] = None  # silent
    for k in range(len(units) - 2, 0, -1):
        prev, cur, nxt = units[k - 1], units[k], units[k + 1]
        prev_vowel = (prev[2] and prev[1] is not None and not prev[0].endswith(VIRAMA)) or not prev[2]
        if cur[2] and cur[1] and prev_vowel and nxt[2] and nxt[1] is not None and not nxt[0].endswith(VIRAMA):
            cur[1] = None
    return "".join(u[0] + (VIRAMA if u[1] is None else "") for u in units)


@functools.lru_cache(maxsize=4096)
def _deva_word(word: str) -> str:
    from indic_transliteration import sanscript

    word = word.replace("\u0949", "\u094B").replace("\u0945", "\u0947")  # candra o, e (कॉफी): as o, e
    t = sanscript.transliterate(_schwa_deleted(word), sanscript.DEVANAGARI, sanscript.ITRANS)
    for a, b in _ITRANS_TO_HINGLISH:
        t = t.replace(a, b)
    return t.lower()


def has_devanagari(text: str) -> bool:
    return bool(DEVANAGARI.search(text or ""))


def romanise(text: str) -> str:
    """Devanagari words spelt in Latin letters as Hinglish ("सीने में दर्द" -> "seene men dard"); other text as is."""
    if not has_devanagari(text):
        return text
    text = unicodedata.normalize("NFC", text)
    return DEVANAGARI.sub(lambda m: _deva_word(m.group(0)), text).replace("\u0964", ".")  # danda -> full stop


_ASPIRATED = re.compile(r"([bcdgjpstr])h+")  # kh stays: khali (empty) is not kaali (black)
_DOUBLED = re.compile(r"(.)\1+")
_NASAL = re.compile(r"(?<=.)([aeiou])n(?=[^aeiouyg]|$)")  # not -ing


# texting short forms of Hinglish, written out before the key is taken
SHORT_FORMS = {"nhi": "nahi", "nai": "nahi", "nahee": "nahi", "rha": "raha", "rhi": "rahi", "rhe": "rahe",
               "gya": "gaya", "gyi": "gayi", "gye": "gaye", "kr": "kar", "krna": "karna", "h": "hai", "hy": "hai",
               "bhot": "bahut", "bohot": "bahut", "bahot": "bahut", "bht": "bahut", "jyada": "zyada", "jada": "zyada",
               "pr": "par", "mai": "mein", "bhi": "bhi", "k": "ke", "ni": "nahi",
               # symptom words typed in a hurry, vowels dropped (blind writers' h8)
               "drd": "dard", "bkhr": "bukhar", "bkhar": "bukhar", "bukhr": "bukhar", "lgti": "lagti", "lgta": "lagta",
               "lgte": "lagte", "psina": "pasina", "thkan": "thakaan", "kmzori": "kamzori", "kmjori": "kamzori",
               "jln": "jalan", "sujn": "sujan", "mchlata": "machlata", "blgm": "balgam",
               "krte": "karte", "krta": "karta", "krti": "karti"}


@functools.lru_cache(maxsize=65536)
def word_key(word: str) -> str:
    """A spelling-tolerant key of one lower-case Latin word: paseena, pasina -> pasina; chhati, chaati -> cati;
    saans, saas -> sas; munh, moonh, muh -> mu; kamzori -> kamjori."""
    w = unicodedata.normalize("NFKD", SHORT_FORMS.get(word.lower(), word.lower()))
    w = "".join(c for c in w if c.isascii() and c.isalpha())
    if not w:
        return ""
    w = w.replace("ck", "k").replace("ee", "i").replace("oo", "u").replace("ei", "e")
    w = w.replace("ph", "f").replace("w", "v").replace("z", "j").replace("q", "k")
    w = re.sub(r"c(?![hc])", "k", w)  # c as in coffee, cough (not the ch, cch of chhati, baccha)
    w = _ASPIRATED.sub(r"\1", w)
    w = _DOUBLED.sub(r"\1", w)
    w = _NASAL.sub(r"\1", w)  # a nasalised vowel: saans/saas, munh/muh, mein/mei, hain/hai, nahin/nahi
    if len(w) > 2 and w.endswith("h") and w[-2] in "aeiou":  # muh/mu, koh/ko
        w = w[:-1]
    if len(w) > 2 and w.endswith("y") and w[-2] not in "aeiou":  # ulty/ulti
        w = w[:-1] + "i"
    return w


_TOKEN = re.compile(r"[^\W\d_]+|\d+|[,.;:!?\n|]+")
BREAK = "|"  # a clause boundary in ``keys(..., breaks=True)``


def _tokens(text: str) -> list[str]:
    t = romanise(unicodedata.normalize("NFC", text or "")).lower()
    t = re.sub(r"(\w)'(\w)", r"\1\2", t.replace("\u2019", "'"))  # can't -> cant, won't -> wont
    return _TOKEN.findall(t)


def keyed_words(text: str, breaks: bool = False) -> list[tuple[str, str]]:
    """(``word_key``, the word as written, lower case) of each word of a message (Devanagari romanised first;
    numbers as they are); with ``breaks``, punctuation that ends a clause is kept as one (``BREAK``, ``BREAK``)."""
    out = []
    for w in _tokens(text):
        k = (w if w.isdigit() else word_key(w)) if w[0].isalnum() else (BREAK if breaks else "")
        if k and not (k == BREAK and (not out or out[-1][0] == BREAK)):
            out.append((k, w if k != BREAK else BREAK))
    return out


def keys(text: str, breaks: bool = False) -> list[str]:
    """``word_key`` of each word of a message (``keyed_words``)."""
    return [k for k, _ in keyed_words(text, breaks)]


NEGATIONS = {"no", "without", "nor", "denies", "never"}  # before a word, in its clause: "no fever"
# after a word, a Hindi "there is no ...": "bukhar nahi hai", "sujan nahi," (not "saans nahi aa rahi")
NEGATED_AFTER = {"nahi", "nahin", "nhi", "na"}
# what may follow a Hindi "there is no": a verb's end, the clause's end, or "only"/"but" ("khoon nahi bas balgam": no
# blood, only phlegm)
NEGATION_ENDS = {"hai", "h", "he", "tha", "thi", "hain", "hua", "hui", "bas", "sirf", "lekin", "but", BREAK}
NEGATION_PARTICLES = {"bhi", "hi", "bilkul", "toh", "koi"}  # may stand before it: "dard bhi nahi hai", "bilkul nahi"
# "never" after a word denies it where an occurrence follows ("khoon kabhi nahi aaya": blood never came), where a bare
# "nahi aayi" may be the sign itself ("saans nahi aayi": could not breathe); "never stopped" or "never went" is the
# symptom lasting ("khoon kabhi nahi ruk raha", "dard kabhi nahi gaya"), so only these verbs end it
NEVER = {"kabhi"}
NEVER_ENDS = NEGATION_ENDS | {"hue", "aaya", "aayi", "aaye", "aya", "ayi", "aye"}
# A symptom no longer there ("dard nahi raha", "ulti nahi ho rahi", "dard ab nahi hai"), read as denied by the gloss
# only (``denied(..., lapsed=True)``): in the red flags "bol nahi rahe" (not speaking) and "saans nahi ho rahi" are the
# sign itself, and where a failure is the symptom for the gloss ("pet saaf nahi ho raha") the lexicon's phrasing
# holds the negation.
LAPSED_ENDS = {"raha", "rahi", "rahe"}
LAPSED_PARTICLES = {"ab", "abhi"}
_NEGATION_KEYS = ({word_key(n) for n in NEGATIONS}, {word_key(n) for n in NEGATED_AFTER},  # keys: 'tha' is read as 'ta'
                  {word_key(n) for n in NEGATION_ENDS - {BREAK}} | {BREAK}, {word_key(n) for n in NEGATION_PARTICLES})
_LAPSED_KEYS = {word_key(n) for n in LAPSED_ENDS}, {word_key(n) for n in LAPSED_PARTICLES}
_NEVER_KEYS = {word_key(n) for n in NEVER}, {word_key(n) for n in NEVER_ENDS - {BREAK}} | {BREAK}


_OR_KEYS = {word_key("or"), word_key("nor")}


def _negated_before(ks: list[str], i: int, before: set, or_ok: bool = False) -> bool:
    """A negation up to two words before ``ks[i]`` in its clause; with ``or_ok``, also one before the item an "or"
    joins it to in the same clause ("no sweating or breathlessness", "no chest pain or breathlessness")."""
    window = ks[max(0, i - 2):i]
    if BREAK in window:  # a denial stays in its clause
        window = window[len(window) - window[::-1].index(BREAK):]
    if any(w in before for w in window):
        return True
    return (or_ok and i >= 2 and ks[i - 1] in _OR_KEYS and ks[i - 2] != BREAK
            and _negated_before(ks, i - 2, before, or_ok))


def denied(ks: list[str], i: int, j: int, lapsed: bool = False) -> bool:
    """Whether the words ``ks[i:j]`` of a message's keys (``keys(..., breaks=True)``) are denied: a negation up to two
    words before them in their clause ("no fever"; "Fever? No. Chest pain": not the chest pain) or, where they end the
    clause, before what an "or" joins them to ("no sweating or breathlessness"), or a Hindi "there
    is no" after them, particles aside ("bukhar nahi hai", "ulti nahi hui", "dard bilkul nahi hai"); with ``lapsed``,
    also "no longer" ("dard nahi raha", "ulti nahi ho rahi", "dard ab nahi hai")."""
    before, after, ends, particles = _NEGATION_KEYS
    if lapsed:
        ends, particles = ends | _LAPSED_KEYS[0], particles | _LAPSED_KEYS[1]
    # an "or" carries the negation only to an item that ends its clause: in Hinglish "or" is often "aur" (and), and
    # "no bukhar or saans phool rahi hai" states the breathlessness
    if _negated_before(ks, i, before, or_ok=j == len(ks) or ks[j] == BREAK):
        return True
    while j < len(ks) and ks[j] in particles:
        j += 1
    never, never_ends = _NEVER_KEYS
    if j + 1 < len(ks) and ks[j] in never and ks[j + 1] in after:
        return j + 2 == len(ks) or ks[j + 2] in never_ends
    if not (j < len(ks) and ks[j] in after):
        return False
    if lapsed and ks[j + 1:j + 2] == ["ho"] and ks[j + 2:j + 3] and ks[j + 2] in _LAPSED_KEYS[0]:
        return True  # "nahi ho rahi", as "nahi rahi"
    return j + 1 == len(ks) or ks[j + 1] in ends
