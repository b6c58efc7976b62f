"""Quality gates for generated text. Each gate returns None (pass) or a short reason (reject).

The gates are cheap rules, one per kind of failure a reader rejects (data/gates/RUBRIC.md): they are written for
the kind, never for a particular text, and measured against labelled generations (``gatecheck.py``).
"""
from __future__ import annotations

import functools
import re

from . import textnorm
from .knowledge import is_latin, red_flags_in_symptoms
from .queries import PLACES

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


@functools.lru_cache(maxsize=None)
def _folded(keyword: str) -> str:
    return " ".join(textnorm.keys(keyword))


def stated_symptoms(text: str, symptoms, lexicon: dict) -> list[str]:
    """The row's symptoms recognisable in the text through the lexicon's keywords: as written, or word for word
    once both are spelt alike (``textnorm.keys``: 'sir me dard' holds 'sir mein dard', 'bukhaar' 'bukhar'; the
    keyword's last word may be the start of the text's, as 'thand lag' of 'thand lagna')."""
    t, folded = text.lower(), " " + " ".join(textnorm.keys(text))
    return [s for s in symptoms
            if any(k in t or (_folded(k) and " " + _folded(k) in folded) for k in lexicon[s]["keywords"])]


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


# --- clean text: what a message is not (RUBRIC.md 1.5, 1.8) ------------------------------------------------------

PREAMBLE = re.compile(r"^\W*(sure|certainly|of course|absolutely|okay|ok|alright|great|gladly|no problem|here is|"
                      r"here's|here are|below is|as requested|i can help|i'd be (happy|glad)|i would be (happy|glad)|"
                      r"happy to help)\b", re.IGNORECASE)
TASK_TALK = re.compile(r"\b(the|this|that|above|following|rewritten|original|sample|new|your) (message|text|rewrite|"
                       r"paraphrase|version|prompt|draft)\b|\brewritten\b|\bparaphras\w*|\bin (?:the )?first person\b|"
                       r"\bnote\s*:|\bp\.\s?s\b", re.IGNORECASE)


def first_found(text: str, rules) -> str | None:
    """The reason of the first (pattern, reason) rule whose pattern occurs in ``text``."""
    return next((reason for pattern, reason in rules if pattern.search(text)), None)


def no_preamble(text: str) -> str | None:
    """An assistant's opener ('Sure, I can help with that.') or talk about the text ('This message mentions...')."""
    return first_found(text, [(PREAMBLE, "assistant preamble"), (TASK_TALK, "talks about the text, not as the writer")])


# a label before a colon at the start of the text or of a sentence: "Patient:", "The message:", "Rewrite:"
LABEL = re.compile(r"(?:^|(?<=[.!?])\s+)\W*[A-Z][\w'.-]*(?:\s+[\w'.-]+){0,2}\s*:(?=\s|$)")
MARKUP = re.compile(r"[{}\[\]<>#*`|~^\\_•]|https?://|(?:^|\s)1[.)]\s.*\s2[.)]\s")
QUOTED = re.compile(r"[\"“”][^\"“”]*\w+\W+\w+\W+\w+[^\"“”]*[\"“”]")  # three words or more inside quotes


def no_markup(text: str) -> str | None:
    """Speaker or section labels, JSON/markdown/code characters, placeholders ('[Your Name]'), numbered lists,
    or a quoted message inside the text (a relayed message, not the writer's own)."""
    return first_found(text, [(LABEL, "speaker or section label"), (MARKUP, "markup, code or placeholder"),
                              (QUOTED, "quotes a message")])


def complete(text: str, finish_reason: str | None = None) -> str | None:
    """Cut off: stopped by the token limit, or not ending a sentence."""
    if finish_reason == "length":
        return "cut off at the token limit"
    return None if re.search(r"[.!?][^\w]*$", text) else "does not end a sentence (cut off)"


def row_words(symptoms, lexicon: dict) -> str:
    """Every phrasing and keyword of the row's symptoms, lower case: what the row itself asks a message to say."""
    return " | ".join(p.lower() for s in symptoms for k in ("en", "hinglish", "keywords")
                      for p in lexicon[s].get(k) or [])


SENSITIVE = re.compile(
    r"\b(sex|sexual\w*|intercourse|affairs?|extra[\s-]?marital|cheat(?:ed|ing) on|sex workers?|prostitut\w*|"
    r"porn\w*|condoms?|rape[ds]?|raping|molest\w*|abus(?:e|ed|ive|ing)|suicid\w*|kill (?:my|him|her)self|"
    r"end (?:my|his|her) life|self[\s-]?harm|cut(?:ting)? myself|overdose|pregnan\w*|abortion|miscarriage|"
    r"drugs?|cocaine|heroin|ganja|charas|marijuana|cannabis|caste|dalit|brahmin|untouchable|religio\w*|hindus?|"
    r"muslims?|christians?|sikhs?|mosque|masjid|church|politic\w*|elections?|fight with|fought|got into a fight|"
    r"stabb?ed|murder\w*|guns?|knife|assault\w*|violen\w*|police|arrest\w*|jail|prison|crime|criminal|stole|"
    r"theft|idiot|stupid|bastard)\b", re.IGNORECASE)


def no_sensitive(text: str, asked: str = "") -> str | None:
    """Sexual content, affairs, pregnancy, self-harm, drugs, caste, religion, violence, crime, politics or insults
    that the row did not ask for. ``asked``: the row's own words (``row_words``); a word found there is the row's
    (an HIV row's symptoms include sexual contact), not invented."""
    word = unasked(SENSITIVE, text, asked)
    return f"sensitive content the row did not ask for ({word})" if word else None


def unasked(pattern: re.Pattern, text: str, asked: str) -> str | None:
    """The first word ``pattern`` finds in ``text`` that the row's own words (``asked``) do not hold."""
    return next((w for w in (m.group(0).lower() for m in pattern.finditer(text))
                 if not re.search(rf"\b{re.escape(w)}\b", asked)), None)


# --- a patient's message: voice and address (RUBRIC.md 1.1-1.4) ----------------------------------------------

THIRD_PERSON = re.compile(r"\b(he|she|his|him|her|hers|himself|herself|their|theirs|themselves)\b", re.IGNORECASE)
DESCRIBED = re.compile(r"\b(the|a|this|that|our|my|your) (patient|person|user|client)s?\b|\bpatients\b",
                       re.IGNORECASE)
TO_THE_PATIENT = re.compile(
    r"\byou(?:'ve|'re| have| are| were| had)\s+(?:been\s+|also\s+)?(?:had|having|experienc\w*|suffer\w*|dealing|"
    r"going through|feeling|got|facing)\b|\byour\s+(?!advice|help|opinion|guidance|suggestions?|clinic|hospital|"
    r"time|reply|response|answer|attention|kind|valuable|consultation|appointment|expert|medical)\w+",
    re.IGNORECASE)
RESPONDER = re.compile(r"\b(?:i'?m|i am) here to help\b|\bsorry to hear\b|\bi can imagine\b|\bi understand "
                       r"(?:your|how)\b|\bhope (?:this|that) helps\b|\blet me know\b|\bfeel free\b|\bi can help\b|"
                       r"\b(?:i'?m|i am) (?:a|an|your|the) (?:\w+ )?(?:doctor|physician|assistant|nurse|ai)\b|"
                       r"\bas (?:a|your) doctor\b|\bsorry (?:for|about) (?:what you|your|you(?:'re| are))\b",
                       re.IGNORECASE)
PERSONA = re.compile(r"\b(?:\d+\s*(?:-\s*\d+\s*|\+\s*)?(?:-\s*)?(?:years?|yrs?)(?:\s*-\s*|\s+)old|\d+[\s-]*something|"
                     r"young|elderly|old|middle[\s-]*aged|aged|adult|a|an)\s+(?:man|woman|male|female|lady|"
                     r"gentleman|boy|girl|guy)\b", re.IGNORECASE)
SELF_BEFORE = re.compile(r"\b(?:i am|i'm|im|i was|am|main|mai)\b(?:\s+[\w-]+){0,2}\s*$", re.IGNORECASE)


def without_row_words(text: str, asked: str) -> str:
    """``text`` less the row's own phrasings (``row_words``): a lexicon phrase may hold a 'their' or a 'man'."""
    for phrase in sorted(filter(None, asked.split(" | ")), key=len, reverse=True):
        text = re.sub(rf"\b{re.escape(phrase)}\b", " ", text, flags=re.IGNORECASE)
    return text


def patient_voice(text: str, asked: str = "") -> str | None:
    """The patient speaks for themselves to a doctor: not about someone else ('she has'), not a description ('The
    patient is...', 'A 41-year-old female from...'), not to the patient ('You've had...', 'your skin'), not a
    doctor's or assistant's reply ('I'm here to help'). ``asked``: the row's words, which are not the voice's."""
    text = without_row_words(text, asked)
    found = first_found(text, [(DESCRIBED, "describes a patient"), (RESPONDER, "speaks as a doctor or assistant"),
                               (TO_THE_PATIENT, "addresses the patient (second person)"),
                               (THIRD_PERSON, "speaks of someone else (third person)")])
    if found:
        return found
    described = any(not SELF_BEFORE.search(text[:m.start()]) for m in PERSONA.finditer(text))
    return "describes the person instead of 'I am ...'" if described else None


ADDRESS = {"hello", "hi", "hey", "dear", "respected", "good", "morning", "afternoon", "evening", "namaste",
           "namaskar", "namaskaram", "vanakkam", "salaam", "salam", "adaab", "greetings", "doctor", "doc", "dr",
           "sir", "madam", "maam", "ma'am", "mam", "ji", "sahab", "saheb", "sahib", "saab"}
OPENERS = {"well", "so", "also", "now", "please", "sorry", "yes", "today", "yesterday", "since", "for", "from",
           "after", "in", "on", "last", "this", "every", "help", "and", "but", "then", "again", "actually"}
NOT_NAMES = ("ly", "ness", "ing", "ache", "tion")  # adverbs and nouns: 'Lately,', 'Dizziness,', 'Vomiting,'
NOT_THE_DOCTOR = re.compile(r"\bmy dear\b|\bdear\s+(?!doctor|doc\b|dr\b|sir\b|madam|ma'?am|mam\b)\w+",
                            re.IGNORECASE)
TITLE_NAME = re.compile(r"\b(?i:dr|mr|mrs|ms|miss|mister|shri|smt)\.?\s+(?!(?i:please|sir|madam|sahab|saheb|ji|"
                        r"good|hello|namaste|i)\b)[A-Z][a-z]+")


def addresses_doctor(text: str, asked: str = "") -> str | None:
    """A message opens, if with a name at all, by addressing the doctor: not 'Tara,' or 'Mummy,' (a name the row did
    not give, someone else), not 'dear friend', and no invented person ('Dr. Alex Johnson'). An opening word of
    the row's own (``asked``: 'Fever, ...') or an adverb or a noun of a list ('Lately,', 'Breathlessness,') is no
    name."""
    m = re.match(r"\W*([^,.!?:;]{1,40})[,.!?:;]", text)
    words = m.group(1).split() if m else []
    if 1 <= len(words) <= 3 and all(w[:1].isupper() for w in words):
        low = [w.lower().strip("'") for w in words]
        named = not (set(low) <= ADDRESS or low[0] in OPENERS or low[0].endswith(NOT_NAMES)
                     or re.search(rf"\b{re.escape(' '.join(low))}\b", asked))
        if named:
            return "addresses someone other than the doctor"
    if NOT_THE_DOCTOR.search(text):
        return "addresses someone other than the doctor"
    if TITLE_NAME.search(text):
        return "names a person the row did not give"
    return None


DIAGNOSIS = re.compile(r"\b(disease|diseases|syndrome|disorder|infection|infections|infected|virus|viral|bacteria|"
                       r"bacterial|cancer|tumou?r|diagnos\w*)\b", re.IGNORECASE)


def no_diagnosis(text: str, asked: str = "") -> str | None:
    """A patient message states problems; it does not name a kind of disease ('a viral infection', 'some
    disease') unless the row's own words do."""
    word = unasked(DIAGNOSIS, text, asked)
    return f"guesses a diagnosis ({word})" if word else None


SEX_OF_NOUN = {"man": "male", "male": "male", "gentleman": "male", "boy": "male", "guy": "male",
               "woman": "female", "female": "female", "lady": "female", "girl": "female"}
PLACE_NAMES = sorted({n for p, _ in PLACES for n in re.findall(r"[A-Z][a-z]+(?: [A-Z][a-z]+)*", p)})
# an age ('45 years old', '45-year-old', '41-60 year old'), not a duration ('for 2 years')
AGE = re.compile(r"\b(\d{1,3})(\s*-\s*\d{1,3})?(?:\s*-\s*|\s+)(?:years?|yrs?)(?:\s*-\s*|\s+)(?:old|of age)\b",
                 re.IGNORECASE)


def stated_sexes(text: str) -> set[str]:
    """The sexes a text gives its writer: the noun of each 'I am a 30-year-old woman' (``PERSONA``)."""
    return {SEX_OF_NOUN[m.group(0).split()[-1].lower()] for m in PERSONA.finditer(text)}


def persona_matches(text: str, sex: str, place: str, age_band: str) -> str | None:
    """Nothing invented about the writer: the row's sex, its place (no other place of the persona list), an age
    inside its band, and not the band itself ('41-60 year old' is the prompt's wording)."""
    if stated_sexes(text) - {sex}:
        return "contradicts the row's sex"
    for name in PLACE_NAMES:
        if name not in place and re.search(rf"\b{name}\b", text):
            return f"a place the row did not give ({name})"
    lo, _, hi = age_band.rstrip("+").partition("-")
    lo, hi = int(lo), int(hi or 150)
    for m in AGE.finditer(text):
        if m.group(2) or not lo <= int(m.group(1)) <= hi:
            return "an age outside the row's age band"
    return None


def persona_words(text: str, place: str) -> set[str]:
    """The persona a text states: the row's place names and the writer's sex."""
    found = {n for n in re.findall(r"[A-Z][a-z]+(?: [A-Z][a-z]+)*", place) if re.search(rf"\b{n}\b", text)}
    return found | stated_sexes(text)


def keeps_source(text: str, source: str, symptoms, lexicon: dict, place: str) -> str | None:
    """A paraphrase keeps what its source message says: every symptom recognisable there, and its persona."""
    lost = set(stated_symptoms(source, symptoms, lexicon)) - set(stated_symptoms(text, symptoms, lexicon))
    if lost:
        return f"drops symptoms of its source ({', '.join(sorted(lost))})"
    lost_persona = persona_words(source, place) - persona_words(text, place)
    if lost_persona:
        return f"drops the persona of its source ({', '.join(sorted(lost_persona))})"
    return None


def not_a_copy(text: str, source: str, threshold: float) -> str | None:
    """A paraphrase is reworded, not its source with a word or two changed."""
    return f"copies its source (ROUGE-L > {threshold})" if lcs_f1(text, source) > threshold else None


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
