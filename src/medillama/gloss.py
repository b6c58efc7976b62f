"""An English gloss of the symptoms a message states in Hindi words, written beside the message.

A small model knows English symptom words from its pre-training and the few Hindi phrasings its training rows use;
a patient writing Hinglish uses words it has hardly seen. What the lexicon knows in Hindi -- each symptom's Hinglish
phrasings, its variants (``hinglish_variants``: a failure that is the symptom, written with its negation, read here
only, never in training rows: "santulan nahi raha", also in "santulan nahi rahi"), and its keywords found in its
Hinglish phrasings but in none of its English ones -- is recognised however it is spelt (``textnorm.keys``, Devanagari
romanised first) and glossed with the symptom's first English phrasing, in brackets after the message or first, as an
English sentence (``STYLES``): "tez bukhar aur ulti ho rahi hai" -> "tez bukhar aur ulti ho rahi hai (a high fever,
vomiting)" or "I have a high fever, vomiting. tez bukhar aur ulti ho rahi hai". The message itself is kept as
written.

Latin-script Hindi collides with English and with other Hindi words once spelling is folded ("peeth" and "pit",
"honth" and "hota", "saans" and "saas"), so a reading is kept narrow:
- a term is read only inside one clause, and not where it is denied or no longer there ("ulti nahi hui", "no fever",
  "dard nahi raha": ``textnorm.denied``);
- a term whose words are all English (the lexicon's English phrasings use them: "loose motion") is left to the model;
- a term's last word may be the start of a longer word (an inflection: "sujan" in "sujana") only in a message with
  Hindi grammar words, and only when it has at least ``MIN_KEY`` letters, or, in a ``hinglish_gloss`` reading,
  ``MIN_STEM`` after its other words with a Hindi ending (``ENDINGS``: "kamra ghoom" in "kamra ghoomta hai", not
  "sardi lag" in "sardi lagbhag theek hai"); else it is read as a whole word;
- a one-word term shorter than that is read only in Hindi context, and only as it is spelt (doubled letters aside);
- in Hindi context, words that join or grade (``JOINING``, ``STRONG``, ``MILD``: "mein", "bhi", "karte waqt",
  "bahut", "tez") may stand between a term's words, and a joining word of the term may be missing or another:
  "chhati mein dard" is read in "chhaati me bahut tez dard", "peshab mein jalan" in "peshab karte waqt jalan"; a
  grade is never read past its opposite ("bahut tez bukhar" is not read in "bahut halka bukhar");
- a keyword taken from a phrasing is read alone only when it holds a word other than place words (``PLACES``), Hindi
  grammar and joining words: "ek taraf" of "ek taraf kamzori" is not one-sided weakness in "sir ke ek taraf dard";
- a word another symptom's terms use is read as the last word's inflection only with a Hindi ending after it
  (``ENDINGS``): "bukhar" is not an inflection of "bhookh";
- a pain's keyword that names only a body part ("peeth", "gardan mein") is read only with a word of pain near it
  (``BODY_PARTS``, ``PAIN``), and denied with it: a rash on the back is no back pain;
- two body parts joined by "aur" share what follows them (``COORDINATED``): "aankhen aur chamdi dono peeli" is yellow
  eyes and yellow skin, "gardan aur kamar dono mein dard" neck and back pain;
- in a message in Hindi, the banner's signs in ``SIGN_READINGS`` (redflags.py) are read as the symptoms they
  describe: "daayan haath aur pair kaam nahi kar raha" is weakness of one body side.
"""
from __future__ import annotations

import functools
import re

from . import config, knowledge, redflags, textnorm

# Hindi grammar words, as written (lower case, Devanagari romanised), that no English sentence uses: a message holding
# one is written in Hindi. Compared as written, not by spelling key: keys fold 'been' into 'bhi' and 'she' into 'se'.
HINDI_WORDS = frozenset(
    "hai hain aur nahi nahin nhi mujhe mujhko muje mera meri raha rahi rahe rha rhi rhe hota hoti hote tha thi bahut "
    "bohot bahot bhot kuch kuchh ka ki ke ko se bhi wala wali wale liye kya hoon gaya gayi gya gyi lagta lagti lagte "
    "karta karti jata jati jaata jaati abhi mein hua hui ne".split())
# Hindi words that join (postpositions, particles, "while doing") and that grade ("very", "severe"; "mild", "a
# little"), as keys: between a phrasing's words they say where or how much, not which symptom
JOINING = frozenset(textnorm.word_key(w) for w in
                    "mein me ke ki ka ko se par pe bhi hi sa si toh to bilkul ekdum karte karne waqt samay dono".split())
# (textnorm.SHORT_FORMS already reads 'bhot', 'bohot' as 'bahut' and 'jyada' as 'zyada')
STRONG = frozenset(textnorm.word_key(w) for w in "bahut tez zyada kaafi khub bhayankar".split())
MILD = frozenset(textnorm.word_key(w) for w in "halka halki halke thoda thodi".split())
MAX_INSIDE = 4  # such words between two words of a term
# Hindi words that place or time a symptom but name none alone (a side, walking), a body part whose one symptom in
# the lexicon is not what the word says (tongue: ulcers) and a shape or mark that several parts take (hollows: in the
# nails, the cheeks after pimples, sunken eyes; a mark: a pimple's scar, a bruise, blood spots in urine, white patches
# in the throat): a keyword made of these, Hindi grammar words and joining words is a fragment of a phrasing, left to
# the model
PLACES = frozenset("ek taraf chalne chalte jeebh gaddhe daag".split())
# A body part, or where on it, is no pain alone: a keyword of a pain's phrasings made of these ("peeth", "gardan mein",
# "naabhi") is read only with a word of pain (``PAIN``) after it in its clause, with at most ``MAX_INSIDE`` words and no
# other part of the body between ("jodon me itna dard", "kamar bhi dukhti hai"), not in "peeth pe laal dane" or
# "gardan me gilti"
_PARTS = ("kamar peeth naabhi nabhi jodo jodon ghutn ghutne ghutno honth koolhe kulhe pindli gardan maaspeshiyan naak "
          "chehre aankh aankhon maathe gaal naakhun pet sir sar chhati seena seene gala gale haath pair taang sharir "
          "badan").split()
BODY_PARTS = frozenset(_PARTS + "aas paas aage peeche nichle mein peshab thaili".split())  # as written, with places
PAIN = frozenset(textnorm.word_key(w) for w in "dard dardd durd peeda pida takleef taklif tees marod ainthan pain pains "
                 "paining ache aching hurt hurts hurting sore".split())
PAIN_STEMS = tuple(textnorm.word_key(w) for w in ("dukh", "dukkh"))  # dukhta, dukhti, dukhte, dukhna, dukhe
# the window for a body part's pain ends at another part, whose pain it would be
PARTS = frozenset(map(textnorm.word_key, _PARTS))
# Two parts joined by "aur" share what is said after them ("aankhen aur chamdi dono peeli", "gardan aur kamar dono mein
# dard"): a term that starts with a part is read past "aur" and another part right after it
COORDINATED = PARTS | frozenset(map(textnorm.word_key, "aankhen chamdi twacha skin jod".split()))
AND = frozenset(map(textnorm.word_key, ("aur", "or")))  # "or" as Hinglish often spells "aur", in Hindi context only
# Signs of the banner (redflags.py: patterns over red_flag_words.yaml's groups, written and checked on many blind
# writers' messages) that describe a dataset symptom itself, as (symptom, the lexicon's English phrasing of it, the
# patterns): in a message in Hindi, one stated is read as that symptom ("daayan haath aur pair kaam nahi kar raha",
# "khoon ki ulti"). Signs that infer a symptom (a stroke named, sudden weakness of a limb, not answering) are not.
SIGN_READINGS = (
    ("weakness_of_one_body_side", "weakness on one side of my body", ("one_side~weak_numb !history !dental",)),
    ("stomach_bleeding", "blood in my vomit", ("nausea_vomit~blood !history", "nausea_vomit~black !history",
                                               "nausea_vomit~coffee !history")),
    ("stomach_bleeding", "black, tar-like stools", ("stool~black !iron !history",)),
)
ENDINGS = frozenset("a i e o na ni ne no ta ti te ya yi ye pa".split())  # of inflected words, as keys
# A variant (a failure that is the symptom, written with its negation: "pet saaf nahi ho raha hai") is read without its
# progressive ending, the auxiliary after it and a light "ho" before it: a patient writes it in any person, gender and
# tense ("pet saaf nahi ho rahi thi").
PROGRESSIVE = frozenset(textnorm.word_key(w) for w in "raha rahi rahe".split())
AUXILIARIES = frozenset(textnorm.word_key(w) for w in "hai hain hoon hu hun tha thi the".split())
MIN_KEY = 4  # letters of a key below which a word is read only whole (and, alone, only as spelt)
MIN_STEM = 3  # the same for the last word of a gloss reading of several words, which the words before it place,
# and only with a Hindi ending after it
_DOUBLED = re.compile(r"(.)\1+")


def _spelt(word: str) -> str:
    return _DOUBLED.sub(r"\1", word.lower())


def stem(phrase: str) -> str:
    """A Hinglish variant as the gloss reads it: without a trailing progressive ending ("pet saaf nahi ho raha hai"
    -> "pet saaf nahi"; "santulan nahi raha" -> "santulan nahi")."""
    words = (phrase or "").lower().split()
    if len(words) > 2 and textnorm.word_key(words[-1]) in AUXILIARIES and textnorm.word_key(words[-2]) in PROGRESSIVE:
        words = words[:-1]
    if len(words) > 1 and textnorm.word_key(words[-1]) in PROGRESSIVE:
        words = words[:-1]
        if len(words) > 1 and words[-1] == "ho":  # "nahi ho raha hai": the light verb goes with it
            words = words[:-1]
    return " ".join(words)


def _listed(lex: dict, field: str, problems: list[str]):
    """(symptom token, phrasing) for each phrasing of the lexicon's optional list ``field``; a value that is no list of
    strings is added to ``problems`` instead."""
    for token, e in lex.items():
        phrasings = e.get(field)
        if phrasings is None:
            continue
        if not isinstance(phrasings, list) or not all(isinstance(v, str) for v in phrasings):
            problems.append(f"symptom_lexicon: {token}: {field} must be a list of strings")
            continue
        for v in phrasings:
            yield token, v


def variant_problems(lex: dict) -> list[str]:
    """Problems with the lexicon's gloss-only Hinglish (empty list = valid). ``hinglish_variants``: lists of Latin
    phrasings, each a failure written with its negation after a first word that is no grammar word ("santulan nahi
    raha"), and not written the same (as word keys) as another Hinglish phrasing or variant. ``hinglish_gloss``: lists
    of Latin readings, none written as another symptom's phrasing, variant or reading, none made only of English
    words (never read).
    Whether a variant is also read as another symptom is left to the lexicon's review."""
    problems, seen = [], {}
    grammar = HINDI_WORDS | JOINING | STRONG | MILD | PROGRESSIVE | AUXILIARIES
    negation = {textnorm.word_key(n) for n in textnorm.NEGATED_AFTER}
    for token, e in lex.items():
        for p in e.get("hinglish") or []:
            seen.setdefault(tuple(textnorm.keys(p)), (token, p))
    for token, v in _listed(lex, "hinglish_variants", problems):
        pairs = textnorm.keyed_words(stem(v))
        key = tuple(k for k, _ in pairs)
        if not v.strip() or not knowledge.is_latin(v) or not key:
            problems.append(f"symptom_lexicon: {token}: empty or non-Latin Hinglish variant {v!r}")
        elif not (negation & set(key[1:])) or all(w in grammar or k in grammar for k, w in pairs[:1]):
            problems.append(f"symptom_lexicon: {token}: Hinglish variant {v!r} is no failure written with its "
                            "negation ('santulan nahi raha'): the gloss reads other Hinglish from `hinglish`")
        elif key in seen:
            other, p = seen[key]
            problems.append(f"symptom_lexicon: {token}: Hinglish variant {v!r} reads as {other}'s {p!r}")
        else:
            seen[key] = (token, v)
    english = _english_words(lex)
    for token, v in _listed(lex, "hinglish_gloss", problems):
        key = tuple(textnorm.keys(v))
        if not v.strip() or not knowledge.is_latin(v) or not key:
            problems.append(f"symptom_lexicon: {token}: empty or non-Latin Hinglish gloss reading {v!r}")
        elif _is_english(_pairs(v), *english):
            problems.append(f"symptom_lexicon: {token}: Hinglish gloss reading {v!r} is made of words the lexicon's "
                            "English phrasings use: the gloss never reads it (the model reads English as written)")
        elif key in seen and seen[key][0] != token:
            other, p = seen[key]
            problems.append(f"symptom_lexicon: {token}: Hinglish gloss reading {v!r} reads as {other}'s {p!r}")
        else:
            seen.setdefault(key, (token, v))
    return problems


def _english_words(lex: dict) -> tuple[set[str], set[str]]:
    """The keys (of ``MIN_KEY`` letters or more) and the spellings of the words the lexicon's English phrasings use: a
    term made only of these is English, left to the model."""
    english = {kw for e in lex.values() for p in e.get("en") or [] for kw in textnorm.keyed_words(p)}
    return {k for k, _ in english if len(k) >= MIN_KEY}, {_spelt(w) for _, w in english}


def _pairs(phrase: str) -> list[tuple[str, str]]:
    """(key, word as written) of each word of a lexicon phrasing, punctuation breaks left out."""
    return [kw for kw in textnorm.keyed_words(phrase) if kw[0] != textnorm.BREAK]


def _is_english(pairs, english_keys: set[str], english_spelt: set[str]) -> bool:
    return all(k in english_keys or _spelt(x) in english_spelt for k, x in pairs)


@functools.lru_cache(maxsize=None)
def _terms(folder) -> tuple[tuple[tuple[str, ...], str, str, str, bool, bool], ...]:
    """(term's word keys, its spelling for a short one-word term, symptom token, English gloss, whether it is one of
    the lexicon's ``hinglish_gloss`` readings, whether it is a pain's keyword naming only a body part, read only with
    a word of pain near it) for each Hindi term of the lexicon, longest first."""
    lex = knowledge.lexicon(folder)
    english_keys, english_spelt = _english_words(lex)
    out = set()
    for token, e in lex.items():
        en = " ".join(e.get("en") or []).lower()
        hindi = [p.lower() for p in e.get("hinglish") or []]
        keywords = [k.lower() for k in e.get("keywords") or [] if k.lower() in " ".join(hindi) and k.lower() not in en]
        read = [p.lower() for p in e.get("hinglish_gloss") or []]
        hindi += [stem(v) for v in e.get("hinglish_variants") or []] + read
        for w in hindi + [k for k in keywords if k not in hindi]:
            pairs = _pairs(w)
            keys = tuple(k for k, _ in pairs)
            fragment = w not in hindi and all(x in PLACES or x in HINDI_WORDS or k in JOINING for k, x in pairs)
            where_only = (w not in hindi and "pain" in e["en"][0].lower()
                          and all(x in BODY_PARTS or x in HINDI_WORDS or k in JOINING for k, x in pairs))
            if keys and not fragment and not _is_english(pairs, english_keys, english_spelt):
                out.add((keys, _spelt(w) if len(keys) == 1 and len(keys[0]) < MIN_KEY else "", token, e["en"][0],
                         w in read, where_only))
    return tuple(sorted(out, key=lambda t: (-len(t[0]), t[0], t[2])))


@functools.lru_cache(maxsize=None)
def _term_words(folder) -> dict[str, frozenset[str]]:
    """The symptoms whose terms use each word key."""
    out = {}
    for term, _, token, _, _, _ in _terms(folder):
        for k in term:
            out.setdefault(k, set()).add(token)
    return {k: frozenset(v) for k, v in out.items()}


def _same(k: str, t: str, last: int, hindi: bool, others: set[str]) -> bool:
    """Whether a message's word key ``k`` reads as the term's word ``t``; its last word also as an inflection (``last``:
    the fewest letters such a stem has), and a word of another symptom's terms (``others``) only with a Hindi ending
    after it."""
    return k == t or (bool(last) and hindi and len(t) >= last and k.startswith(t)
                      and (k[len(t):] in ENDINGS or (k not in others and len(t) >= MIN_KEY)))


def _end(term, spelt: str, ks: list[str], words: list[str], i: int, hindi: bool, others: set[str],
         stems: bool = False) -> int | None:
    """Where the term read from word ``i`` of the message ends (keys ``ks``, the words as written ``words``), or None
    when it is not there. ``stems``: a ``hinglish_gloss`` reading, whose last word may be a shorter stem."""
    if spelt:  # a short one-word term
        return i + 1 if hindi and _spelt(words[i]) == spelt else None
    between = JOINING | (STRONG if not MILD & set(term) else set()) | (MILD if not STRONG & set(term) else set())
    j, n = i, len(term)
    for m, t in enumerate(term):
        # the last word may be inflected: in a gloss reading, after its other words, a stem of MIN_STEM letters with
        # a Hindi ending ("kamra ghoom" in "kamra ghoomta hai"); else from MIN_KEY letters
        last = (MIN_STEM if stems and n > 1 else MIN_KEY) if m == n - 1 else 0
        if m == 1 and hindi and term[0] in COORDINATED and t not in AND and _joined_part(ks, j):
            j += 2  # "aankhen aur chamdi (dono) peeli": the first part's reading, past the second
        if hindi and 0 < m < n - 1 and t in JOINING:
            continue  # a joining word of the phrasing may be missing or another ('me' for 'mein')
        skipped = 0
        while m and hindi and j < len(ks) and ks[j] in between and skipped < MAX_INSIDE \
                and not _same(ks[j], t, last, hindi, others):
            j, skipped = j + 1, skipped + 1
        if j >= len(ks) or not _same(ks[j], t, last, hindi, others):
            return None
        j += 1
    return j


def _joined_part(ks: list[str], j: int) -> bool:
    """Whether "aur" and another body part stand at word ``j``."""
    return j + 1 < len(ks) and ks[j] in AND and ks[j + 1] in COORDINATED


def _is_pain(k: str) -> bool:
    return k in PAIN or k.startswith(PAIN_STEMS)


def _pain_at(ks: list[str], end: int) -> int | None:
    """Where a word of pain stands for the body part whose words end at ``end``: after it, in its clause, with at most
    ``MAX_INSIDE`` words between and no other part of the body ("gardan me gilti hai aur sir dard" is no neck pain);
    None if none does. Only after it: in Hindi the part comes first ("kamar dukhti hai"), and a pain before a part is
    most often another part's ("sir dard hai, peeth pe daane")."""
    if _joined_part(ks, end):  # "gardan aur kamar dono mein dard": both parts' pain
        end += 2
    for j in range(end, min(end + MAX_INSIDE + 1, len(ks))):
        if ks[j] == textnorm.BREAK or ks[j] in PARTS:
            return None
        if _is_pain(ks[j]):
            return j
    return None


def _positions(items) -> dict[str, list[int]]:
    """The places each item stands in a sequence, in order."""
    out = {}
    for i, x in enumerate(items):
        out.setdefault(x, []).append(i)
    return out


def glossed_symptoms(text: str, folder=None) -> list[tuple[str, str]]:
    """(symptom token, English gloss) of each symptom a message in Hindi states: those in Hindi words in the
    message's order, then those the banner's signs read (``SIGN_READINGS``, whatever words state them)."""
    pairs = textnorm.keyed_words(text, breaks=True)
    ks, words = [k for k, _ in pairs], [w for _, w in pairs]
    hindi = textnorm.has_devanagari(text) or any(w in HINDI_WORDS for w in words)
    first, known = {}, _term_words(folder)
    # where each word key and spelling of the message stands: a term is tried only where its first word can be read
    at, spelt_at = _positions(ks), _positions(map(_spelt, words))
    for term, spelt, token, english, stems, where_only in _terms(folder):
        if token in first:
            continue
        if spelt:
            starts = spelt_at.get(spelt, []) if hindi else []
        elif len(term) > 1:  # a first word of several is read only as itself
            starts = at.get(term[0], [])
        else:  # one word, maybe inflected
            starts = sorted(i for k, where in at.items() if k.startswith(term[0]) for i in where)
        if not starts:
            continue
        others = {k for k in ks if token not in known.get(k, {token})}
        for i in starts:
            end = _end(term, spelt, ks, words, i, hindi, others, stems)
            if end is None:
                continue
            if where_only:  # the part and its pain read as one: "kamar mein dard nahi hai" denies both
                p = _pain_at(ks, end)
                if p is None:
                    continue
                end = p + 1
            if not textnorm.denied(ks, i, end, lapsed=True):
                first[token] = (i, english)
                break
    if hindi:  # after the lexicon's readings, in their order
        for token, english, patterns in SIGN_READINGS:
            if token not in first and redflags.states(text, patterns, folder):
                first[token] = (len(ks), english)
    return [(t, e) for t, (i, e) in sorted(first.items(), key=lambda kv: (kv[1][0], kv[0]))]


# How the gloss is written beside the message (``train.gloss_style``): in brackets after it, or first, in the English
# frame the training queries use (row 52); a run recorded before the key read in brackets
STYLES = config.CHOICES["train.gloss_style"]
LEGACY_STYLE = "brackets"


def check_style(style: str) -> str:
    """``style`` if it is one of ``STYLES``; else a ValueError naming the config key."""
    return config.check_choice("train.gloss_style", style)


def hindi_gloss(text: str, folder=None, style: str = LEGACY_STYLE, keep=None) -> str:
    """The message with an English gloss of the symptoms it states in Hindi words; a message without any, as written.
    ``style``: ``brackets`` after it ("tez bukhar aur ulti ho rahi hai (a high fever, vomiting)") or ``sentence``
    first ("I have a high fever, vomiting. tez bukhar aur ulti ho rahi hai"). ``keep``: a draw called once per symptom
    found, which writes it only where true (training rows glossed in part, ``train.gloss_training_keep``)."""
    check_style(style)
    found = glossed_symptoms(text, folder)
    if keep is not None:
        found = [f for f in found if keep()]
    text = (text or "").strip()
    if not found:
        return text
    english = ", ".join(dict.fromkeys(e for _, e in found))
    return f"I have {english}. {text}" if style == "sentence" else f"{text} ({english})"


def reading(tcfg: dict) -> str | bool:
    """How a model trained with the ``train`` section ``tcfg`` reads a message: False (as written) or the gloss's
    style; a run recorded before ``gloss_style`` existed read in brackets."""
    return check_style(tcfg.get("gloss_style", LEGACY_STYLE)) if tcfg.get("hindi_gloss", False) else False
