"""Red flags in a patient's own words: does a message describe an emergency (call 108 now), and which red flag of
triage.yaml, however it is typed (English, Hinglish in any spelling, Devanagari).

Three readers, one decision (``flags_in_text``, ``decide``):
- a **classifier** (``emergency_probability``): TF-IDF of the message's spelling-tolerant keys and their character
  n-grams, logistic regression, fitted on the dev rows of the labelled messages (data/redflags/);
- the **signs** of each red flag (``signs_in_text``): patterns over the word groups of red_flag_words.yaml. A
  pattern is space-separated slots that must all hold; a slot is a group, ``a|b`` (either), ``a~b`` (both within
  ``NEAR`` words, either order: "seene mein bahut tez dard" is chest~pain) or ``!a`` (absent: "had a stroke last
  year" is history; ``!a~b``: not near each other, "mar jaunga lol" is joking~self_harm). A message that says the
  person is now fine states only a flag's ``lasting`` patterns (a swallowed poison). A flag's ``stated`` patterns
  are signs said outright ("mujhe marna hai"): they raise the banner whatever the classifier reads, where a short
  message gives it too few words to read. Words are compared by ``textnorm.word_key`` after Devanagari is
  transliterated; a word no group holds is matched to the nearest group word one edit away (two for long words)
  with the same first letter ("breatheing", "sweting"). A group word after a negation ("no fever") or before a
  Hindi "there is no" ("bukhar nahi hai") does not count, unless the group word itself holds it ("not responding",
  "hosh nahi");
- the **dataset's own phrasings** (``dataset_flags_in_text``): a message that states a red flag's dataset symptoms
  as the lexicon phrases them, so a query written like the dataset's gets the banner its case's triage asks for.
"""
from __future__ import annotations

import functools
import math
from collections import Counter, defaultdict
from pathlib import Path

from . import knowledge, textnorm
from .textnorm import NEGATED_AFTER, NEGATIONS, denied

CLASSIFIER_FLAG = "reads_as_emergency"  # the triage.yaml flag of a banner that no sign names
# The classifier's P(emergency) from which the banner is raised: on its own (THRESHOLD), when a sign names a red
# flag (SIGN_THRESHOLD), when a sign names a ``trusted`` red flag, one rarely said of anything else (one-sided
# weakness, unconsciousness, a fit, a child's danger signs, poisoning, self-harm, a severe allergic reaction), and
# for a message of everyday words only (CLEAR_THRESHOLD; red_flag_words.yaml: everyday_groups). Chosen on the dev rows, each writer's
# messages scored by a classifier fitted on the other writers' (``writer_out_scores``).
THRESHOLD, SIGN_THRESHOLD, TRUSTED_THRESHOLD, CLEAR_THRESHOLD = 0.6, 0.3, 0.05, 0.85
NEAR = 5  # words between two groups of an ``a~b`` slot, at most


def _fuzzy_limit(key: str) -> int:
    return 0 if len(key) < 6 else 1 if len(key) < 10 else 2


def _pattern(text: str) -> tuple:
    """A sign pattern as (absent?, alternatives of groups that must be near) per slot."""
    return tuple((slot.startswith("!"), tuple(tuple(alt.split("~")) for alt in slot.lstrip("!").split("|")))
                 for slot in str(text).split())


@functools.lru_cache(maxsize=None)
def _compiled(folder):
    """Built once per knowledge folder: (first key -> [(group, keys)], group words by first letter, [(flag id,
    patterns, the slots a pattern asks to be absent, ``lasting`` patterns, ``stated`` patterns)], the negation words'
    keys). A ``stated`` pattern is one of the flag's patterns too; the slots to be absent are the ``signs``' only."""
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
        signs = [_pattern(p) for p in rf.get("signs") or []]
        stated = [_pattern(p) for p in rf.get("stated") or []]
        unless = tuple({alts for p in signs for absent, alts in p if absent})
        flags.append((rf["id"], signs + stated, unless, [_pattern(p) for p in rf.get("lasting") or []], stated))
    return dict(index), {c: tuple(v) for c, v in vocab.items()}, flags, frozenset(negation_keys)


@functools.lru_cache(maxsize=65536)
def _canonical(key: str, folder) -> str:
    """The group word a message word stands for: itself when a group holds it, else the closest one within the
    edit limit that starts with the same letter (ties: the first in sorted order), else itself."""
    index, vocab, _, _ = _compiled(folder)
    limit = _fuzzy_limit(key)
    if key in index or not limit:
        return key
    from rapidfuzz import process
    from rapidfuzz.distance import Levenshtein

    known = {k for k in vocab.get(key[0], ())}
    if key in known:
        return key
    best = process.extractOne(key, sorted(known), scorer=Levenshtein.distance, score_cutoff=limit)
    return best[0] if best else key


def groups_in(text: str, folder=None) -> dict[str, list[tuple[int, int]]]:
    """Word groups found in a message, each with the (start, end) word spans where it occurs; words inside a phrase
    of a ``hiding_groups`` group do not stand for the groups it names ("theek se", properly, is no "ab theek", now
    fine)."""
    index, _, _, negations = _compiled(folder)
    hiding = knowledge.load("red_flag_words.yaml", folder).get("hiding_groups") or {}
    ks = [_canonical(k, folder) for k in textnorm.keys(text, breaks=True)]
    found = defaultdict(list)
    for i, k in enumerate(ks):
        for group, gks in index.get(k, ()):
            j = i + len(gks)
            if tuple(ks[i:j]) != gks:
                continue
            # a denied phrase states nothing ("no chest pain"), but "not responding" is itself the sign, and a hiding
            # phrase hides its words however the sentence ends ("koi jhatke wali bimari to nahi?")
            if group not in hiding and not any(g in negations for g in gks) and denied(ks, i, j):
                continue
            found[group].append((i, j))
    for hider, targets in hiding.items():
        for group in set(targets) & set(found) if hider in found else ():
            found[group] = [(s, e) for s, e in found[group] if not any(s < he and hs < e for hs, he in found[hider])]
            if not found[group]:
                del found[group]
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


@functools.lru_cache(maxsize=None)
def _words(phrase: str) -> tuple[str, ...]:
    """A phrasing's words as ``textnorm.keyed_words`` writes a message's ("won't" -> "wont"), punctuation dropped."""
    return tuple(w for _, w in textnorm.keyed_words(phrase))


def _denied_symptoms(text: str, folder=None) -> set[str]:
    """Lexicon symptoms a message states only where it denies them ("no chest pain", "bukhar nahi hai", "khoon kabhi
    nahi aaya"): each mention of the symptom's phrasings denied as ``textnorm.denied`` reads it. A phrasing is found
    across punctuation, as ``knowledge.symptoms_in_text`` finds it ("black, tar-like stools")."""
    kw = textnorm.keyed_words(text, breaks=True)
    ks = [k for k, _ in kw]
    at = [i for i, k in enumerate(ks) if k != textnorm.BREAK]  # the words' positions, breaks skipped
    words = [kw[i][1] for i in at]
    first = defaultdict(list)  # word -> its indices in ``words``
    for n, w in enumerate(words):
        first[w].append(n)
    out = set()
    for token, phrases in knowledge.symptom_phrasings(folder):
        spans = [(at[n], at[n + len(p) - 1] + 1) for p in map(_words, phrases) if p for n in first.get(p[0], ())
                 if tuple(words[n:n + len(p)]) == p]
        if spans and all(denied(ks, i, j) for i, j in spans):
            out.add(token)
    return out


def _char_ngrams(words: list[str], lo: int = 2, hi: int = 5) -> list[str]:
    """Character n-grams of ``lo`` to ``hi`` letters within each space-padded word (a short word gives itself)."""
    out = []
    for w in words:
        w = f" {w} "
        for n in range(lo, hi + 1):
            out += [w[i:i + n] for i in range(max(1, len(w) - n + 1))]
    return out


def _word_ngrams(words: list[str]) -> list[str]:
    return words + [f"{a} {b}" for a, b in zip(words, words[1:])]


class _Scorer:
    """A fitted TF-IDF + logistic regression reduced to dictionaries: the same probability as the scikit-learn
    pipeline it came from (a test checks), in a fraction of a millisecond a message."""

    def __init__(self, blocks, bias: float):
        self.blocks, self.bias = blocks, bias  # [(ngram function, {ngram: (idf, weight)})]

    def probability(self, keys: list[str]) -> float:
        z = self.bias
        for ngrams, table in self.blocks:
            counts = Counter(g for g in ngrams(keys) if g in table)
            tfidf = {g: (1 + math.log(c)) * table[g][0] for g, c in counts.items()}
            norm = math.sqrt(sum(v * v for v in tfidf.values()))
            if norm:
                z += sum(v * table[g][1] for g, v in tfidf.items()) / norm
        return 1 / (1 + math.exp(-z))


LEXICON_WEIGHT = 0.3  # each counts for this share of a labelled message in the fit
LEXICON_EXAMPLES = 1500  # messages written from the lexicon added to the classifier's examples


def lexicon_examples(n: int = LEXICON_EXAMPLES, seed: int = 0, folder=None) -> list[tuple[str, bool]]:
    """(message, is an emergency) written from the lexicon's phrasings: combinations of symptoms that make no red
    flag (vomiting alone, giddiness, fever and chills, a rash), and each dataset red flag's symptoms (``all_of``
    with one of ``any_of``), a fifth of them. The hard controls of the labelled set all share words with
    emergencies; these anchor the classifier to the dataset's own meaning of an ordinary complaint and of an
    emergency. Symptoms that are a red flag's only condition (``all_of`` without ``any_of``: coma, slurred speech)
    and chest pain are never in an ordinary message. Seeded; English and Hinglish."""
    import random

    rng = random.Random(seed)
    rules = [rf for rf in knowledge.triage_rules(folder).get("red_flags") or [] if rf.get("all_of")]
    alone = {t for rf in rules if not rf.get("any_of") for t in rf["all_of"]} | {"chest_pain"}
    lex = knowledge.lexicon(folder)
    tokens = sorted(t for t in lex if t not in alone)
    shapes = ["I have {}.", "{} since {} days", "mujhe {} hai", "{}, what should I do?", "my {} has {}",
              "i am having {} from {} days", "{} ho raha hai {} din se"]
    people = ["son", "mother", "father", "wife", "daughter", "grandmother", "husband"]

    def say(picks):
        body = " and ".join(rng.choice((lex[t].get("en") or []) + (lex[t].get("hinglish") or [])) for t in picks)
        shape = rng.choice(shapes)
        if shape.startswith("my"):
            return shape.format(rng.choice(people), body)
        return shape.format(body, rng.randint(2, 10)) if shape.count("{}") == 2 else shape.format(body)

    out = []
    while len(out) < n:
        if len(out) % 5 == 4:
            rf = rng.choice(rules)
            out.append((say(rf["all_of"] + ([rng.choice(rf["any_of"])] if rf.get("any_of") else [])), True))
            continue
        picks = rng.sample(tokens, rng.choice([1, 1, 2, 2, 3]))
        if not knowledge.red_flags_in_symptoms(picks, folder):
            out.append((say(picks), False))
    return out


@functools.lru_cache(maxsize=None)
def _classifier(path: str, with_lexicon: bool = True) -> _Scorer:
    """The fitted classifier (``_fit``), kept on disk under ``data/interim/redflag_classifier/`` keyed by what it
    is fitted from (the labelled messages, the knowledge files, this module and textnorm.py), so a new process
    reads it in a moment instead of fitting again."""
    from . import io, paths

    here = Path(__file__).parent
    import sklearn

    fitted_from = [path, here / "redflags.py", here / "textnorm.py", here / "knowledge.py",
                   paths.KNOWLEDGE / "symptom_lexicon.yaml", paths.KNOWLEDGE / "triage.yaml"]
    key = io.text_hash([io.file_hash(p) for p in fitted_from] + [with_lexicon, sklearn.__version__])
    folder = paths.cache_dir("redflag_classifier")
    cached = folder / f"{key[:20]}.json"
    if cached.exists():
        d = io.read_json(cached)
        return _Scorer([(_word_ngrams, d["words"]), (_char_ngrams, d["chars"])], d["bias"])
    scorer, _ = _fit(path, with_lexicon)
    (_, wt), (_, ct) = scorer.blocks
    io.write_json(cached, {"words": wt, "chars": ct, "bias": scorer.bias})
    for old in folder.glob("*.json"):  # one fit is kept: the others were fitted from files since changed
        if old != cached:
            old.unlink(missing_ok=True)
    return scorer


def _fit(path: str, with_lexicon: bool):
    """Logistic regression on TF-IDF of the messages' spelling-tolerant keys (words and word pairs, and character
    n-grams within words), fitted on the ``dev`` rows of the labelled set: emergency or not. It reads the whole
    message, so it learns what a word list cannot spell out (who is speaking, whether it is happening now, a
    question about symptoms in general). Deterministic. Returns the classifier as a ``_Scorer`` and, for checking,
    scikit-learn's own probability function of key lists."""
    import pandas as pd
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    df = pd.read_csv(path)
    df = df[df["split"] == "dev"]
    texts, labels = list(df["text"]), list(df["label"] == "emergency")
    pos = sum(labels)
    weights = [len(labels) / (2 * pos) if y else len(labels) / (2 * (len(labels) - pos)) for y in labels]  # balanced
    if with_lexicon:
        extra = lexicon_examples()
        texts, labels = texts + [t for t, _ in extra], labels + [y for _, y in extra]
        weights += [LEXICON_WEIGHT] * len(extra)
    docs = [textnorm.keys(t) for t in texts]
    vecs = [(_word_ngrams, TfidfVectorizer(analyzer=_word_ngrams, sublinear_tf=True)),
            (_char_ngrams, TfidfVectorizer(analyzer=_char_ngrams, min_df=2, sublinear_tf=True))]
    import scipy.sparse as sp

    x = sp.hstack([v.fit_transform(docs) for _, v in vecs]).tocsr()
    lr = LogisticRegression(C=8.0, max_iter=3000).fit(x, labels, sample_weight=weights)
    blocks, offset = [], 0
    for fn, v in vecs:
        vocab = v.vocabulary_
        blocks.append((fn, {g: (float(v.idf_[i]), float(lr.coef_[0, offset + i])) for g, i in vocab.items()}))
        offset += len(vocab)
    def sklearn_probability(key_lists):
        return lr.predict_proba(sp.hstack([v.transform(key_lists) for _, v in vecs]).tocsr())[:, 1]

    return _Scorer(blocks, float(lr.intercept_[0])), sklearn_probability


def emergency_probability(text: str, path=None) -> float:
    """The classifier's probability that a message describes an emergency (``_classifier``)."""
    from . import paths

    return _classifier(str(path or paths.RED_FLAG_MESSAGES)).probability(textnorm.keys(text))


def flags_in_text(text: str, folder=None) -> list[str]:
    """Ids of the red flags a message states (triage.yaml order); empty when it is no emergency.

    The banner's decision is mostly the classifier's: ``emergency_probability`` >= ``THRESHOLD``, or >=
    ``SIGN_THRESHOLD`` when a sign names a red flag (``TRUSTED_THRESHOLD`` for a ``trusted`` flag's sign), and
    ``CLEAR_THRESHOLD`` for a message of everyday complaints only ("a rash on my arm and chest"). Measured leaving
    one writer's messages out, the classifier carries over to a new writer's words far better than the signs,
    which flag too much and too little there. The signs name what was seen; when none does, the flag is
    ``CLASSIFIER_FLAG``. The dataset's own phrasings of a red flag, and a flag's ``stated`` signs (said outright),
    are flagged whatever the classifier says."""
    return decide(text, emergency_probability(text), folder)


def decide(text: str, probability: float, folder=None) -> list[str]:
    """``flags_in_text`` for a message whose classifier probability is given."""
    named = signs_in_text(text, folder)
    by_symptoms = dataset_flags_in_text(text, folder)
    trusted = {rf["id"] for rf in knowledge.triage_rules(folder).get("red_flags") or [] if rf.get("trusted")}
    everyday = set(knowledge.load("red_flag_words.yaml", folder).get("everyday_groups") or [])
    bar = THRESHOLD if named or set(groups_in(text, folder)) - everyday else CLEAR_THRESHOLD
    heard = probability >= bar or (named and probability >= SIGN_THRESHOLD) \
        or (set(named) & trusted and probability >= TRUSTED_THRESHOLD)
    if not heard:
        outright = signs_in_text(text, folder, stated=True)  # said outright: whatever the classifier reads
        if not outright:
            return by_symptoms
        named = outright
    ids = set(named + by_symptoms) or {CLASSIFIER_FLAG}
    return [rf["id"] for rf in knowledge.triage_rules(folder).get("red_flags") or [] if rf["id"] in ids]


def writer_out_scores(path=None) -> dict:
    """How the banner carries over to a writer it has not read: for each writer of the dev rows, the classifier is
    fitted on the other writers' rows and the banner decided on this writer's, as on a new set of messages.
    {writer: {"recall", "false_alarms", "emergency_rows", "other_rows"}}, a rate None where the writer wrote no such
    row: how the thresholds were chosen."""
    import tempfile

    import pandas as pd

    from . import paths

    df = pd.read_csv(path or paths.RED_FLAG_MESSAGES)
    dev = df[df["split"] == "dev"]
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        for writer, rows in dev.groupby("writer", sort=True):
            others = Path(tmp) / f"without-{writer}.csv"
            dev[dev["writer"] != writer].to_csv(others, index=False)
            scorer, _ = _fit(str(others), with_lexicon=True)
            fired = [bool(decide(t, scorer.probability(textnorm.keys(t)))) for t in rows["text"]]
            em = [f for f, lab in zip(fired, rows["label"]) if lab == "emergency"]
            ct = [f for f, lab in zip(fired, rows["label"]) if lab != "emergency"]
            out[writer] = {"recall": sum(em) / len(em) if em else None,  # a writer of ordinary messages only
                           "false_alarms": sum(ct) / len(ct) if ct else None,
                           "emergency_rows": len(em), "other_rows": len(ct)}
    return out


def signs_in_text(text: str, folder=None, stated: bool = False) -> list[str]:
    """Ids of the red flags whose ``signs`` a message states (for a question about symptoms in general, only signs
    that hold an ``asked_in_earnest`` group, how surely a means kills), or,
    with ``stated``, only those whose ``stated`` signs it says outright. A message that says the person is now fine
    ("ab theek", group ``resolved``) states only the ``lasting`` signs (a swallowed poison's harm can come hours
    later), and nothing outright."""
    _, _, flags, _ = _compiled(folder)
    found = groups_in(text, folder)
    # "what are the signs of a stroke?" states none, but asking how soon a means kills is no idle question
    asked_only = "general_question" in found
    earnest = set(knowledge.load("red_flag_words.yaml", folder).get("asked_in_earnest") or [])
    if asked_only and not earnest & set(found):
        return []
    now_fine = "resolved" in found
    if stated and now_fine:
        return []
    out = []
    for fid, patterns, _, lasting, outright in flags:
        if stated:
            said = outright
        elif now_fine:
            said = lasting
        else:
            said = patterns
        if asked_only:  # a question stands only where a sign holds an earnest group
            said = [p for p in said if any(not absent and _any_alt(tuple(a for a in alts if set(a) & earnest), found)
                                           for absent, alts in p)]
        if any(all(_slot_holds(s, found) for s in p) for p in said):
            out.append(fid)
    return out


def states(text: str, patterns, folder=None) -> bool:
    """Whether a message states one of ``patterns`` (sign patterns written as triage.yaml writes a flag's ``signs``),
    read as ``signs_in_text`` reads them: not in a question about symptoms in general, nor where the person is said to
    be fine now."""
    found = groups_in(text, folder)
    if "general_question" in found or "resolved" in found:
        return False
    return any(all(_slot_holds(s, found) for s in _pattern(p)) for p in patterns)


def dataset_flags_in_text(text: str, folder=None) -> list[str]:
    """Ids of the red flags whose dataset symptoms a message states in the lexicon's phrasings, unless it denies
    them ("no chest pain"), speaks of the past ("had a stroke in 2019") or holds what a sign of the flag excludes
    ("black stool since the iron tablets", a group or two near each other)."""
    _, _, flags, _ = _compiled(folder)
    found = groups_in(text, folder)
    if "history" in found:
        return []
    roman = textnorm.romanise(text)
    mentioned = knowledge.symptoms_in_text(roman, folder) - _denied_symptoms(roman, folder)
    unless = {fid: u for fid, _, u, _, _ in flags}  # the signs' absent slots: "!iron", "!puzzle~confused"
    hits = []
    for rf in knowledge.triage_rules(folder).get("red_flags") or []:
        all_of, any_of = set(rf.get("all_of") or []), set(rf.get("any_of") or [])
        if (all_of or any_of) and all_of <= mentioned and (not any_of or any_of & mentioned) \
                and not any(_any_alt(alts, found) for alts in unless.get(rf["id"], ())):
            hits.append(rf["id"])
    return hits
