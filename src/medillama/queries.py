"""Patient queries from templates: personas (age band, sex, place, duration), the lexicon's symptom phrasings, and
the sentence frames around them. Step 02 draws personas; step 03 falls back to ``template_query`` when a
generation fails a gate (and writes Hinglish paraphrases with it); step 04 asks training queries anew with
``persona_query``."""
from __future__ import annotations

import random
import re

from .knowledge import red_flags_in_symptoms

AGE_BANDS = ["18-25", "26-40", "41-60", "60+"]
SEXES = ["female", "male"]
PLACES = [  # (place, setting)
    ("Mumbai", "urban"), ("Delhi", "urban"), ("Bengaluru", "urban"), ("Chennai", "urban"), ("Kolkata", "urban"),
    ("Hyderabad", "urban"), ("Lucknow", "urban"), ("Patna", "urban"), ("Jaipur", "urban"), ("Bhopal", "urban"),
    ("Guwahati", "urban"), ("Kochi", "urban"), ("a village near Nashik", "rural"),
    ("a village in Bihar", "rural"), ("a village near Varanasi", "rural"), ("a small town in Odisha", "rural"),
    ("a village in Rajasthan", "rural"), ("a tea-estate village in Assam", "rural"),
    ("a village near Madurai", "rural"), ("a small town in Madhya Pradesh", "rural"),
]
DURATIONS = ["since yesterday", "for 2 days", "for 3 days", "for about a week", "for two weeks", "for a month"]


def random_persona(rng: random.Random) -> tuple:
    place, setting = rng.choice(PLACES)
    return rng.choice(AGE_BANDS), rng.choice(SEXES), place, setting, rng.choice(DURATIONS)


def join_phrases(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


OPENINGS = ["Doctor, I am a {age} {sex_word} from {place}.", "Hello doctor, I'm {age_a} {sex_word} living in {place}.",
            "I am {age_a} {sex_word} from {place} and I need advice.", "Namaste doctor. I am from {place}."]
CLOSINGS = ["What could this be?", "What should I do?", "Is this serious?", "Please tell me what to do."]
HINGLISH_CLOSINGS = ["Kya karun?", "Kya yeh serious hai?", "Please batayiye kya karna chahiye."]


def _persona_words(row: dict) -> dict:
    sex_word = {"female": "woman", "male": "man"}[row["sex"]]
    age = {"18-25": "young", "26-40": "30-something", "41-60": "middle-aged", "60+": "elderly"}[row["age_band"]]
    return {"sex_word": sex_word, "age": age, "age_a": ("an " if age[0] in "aeiou" else "a ") + age,
            "place": row["place"]}


def symptom_phrases(symptoms, lexicon: dict, rng: random.Random, hinglish_share: float = 0.0) -> list[str]:
    """One lexicon phrasing per symptom, Hinglish for a seeded ``hinglish_share`` where the lexicon has one. A
    phrasing that states a red flag on its own (the lexicon's ``states_red_flag``: a crushing chest pain) is used only
    when the set holds a red flag: the reference urgency comes from the symptom tokens, so a query must not describe
    an emergency that its answer calls routine."""
    tagged = any(lexicon[s].get("states_red_flag") for s in symptoms)
    flagged = tagged and bool(red_flags_in_symptoms(symptoms))  # the rules are read only where a phrasing is tagged
    out = []
    for s in symptoms:
        e = lexicon[s]
        banned = set() if flagged else set(e.get("states_red_flag") or [])
        hinglish = [p for p in e.get("hinglish") or [] if p not in banned]
        use_hi = hinglish and rng.random() < hinglish_share
        out.append(rng.choice(hinglish if use_hi else [p for p in e["en"] if p not in banned]))
    return out


def template_query(row: dict, lexicon: dict, seed: str, hinglish: bool = False) -> str:
    rng = random.Random(seed)
    phrases = symptom_phrases(row["symptoms"], lexicon, rng, 0.7 if hinglish else 0.0)
    opening = rng.choice(OPENINGS).format(**_persona_words(row))
    closing = rng.choice(HINGLISH_CLOSINGS if hinglish else CLOSINGS)
    return f"{opening} {row['duration'].capitalize()} I have had {join_phrases(phrases)}. {closing}"


# Sentence frames for ``varied_query``: each takes noun phrases that read after "I have" (the lexicon's rule).
FIRST = ["I have {}.", "I've been having {}.", "It started with {}.", "The main problem is {}.", "I am suffering from {}."]
MORE = ["I also have {}.", "There is also {}.", "Along with that, {}.", "Now I have {} as well.", "And {} too."]
ASKS = CLOSINGS + ["Should I see a doctor?", "Do I need any tests?", "What can I take for this?", ""]


def varied_query(row: dict, lexicon: dict, seed: str, hinglish: bool = False) -> str:
    """A template query in one of several shapes, for training rows only: the lexicon template's single list, the
    symptoms spread over sentences, a terse note, with or without persona, duration and a closing question. The
    dataset's queries share one frame; these vary what surrounds the symptoms, so the decision has to rest on them."""
    rng = random.Random(seed)
    if hinglish and rng.random() < 0.75:  # the rest: English frames around Hinglish phrasings, as code-mixing goes
        return hinglish_query(row, lexicon, rng)
    phrases = symptom_phrases(row["symptoms"], lexicon, rng, 0.7 if hinglish else 0.0)
    rng.shuffle(phrases)
    shape = rng.randrange(4)
    if shape == 0:
        return template_query(row, lexicon, seed, hinglish)
    duration = row["duration"]
    if shape == 3:  # terse: "fever, headache and chills for 2 days. what should i do?"
        body = f"{join_phrases(phrases)} {duration}."
        body = body if rng.random() < 0.5 else body[:1].upper() + body[1:]
    else:
        cut = rng.randint(1, max(1, len(phrases) - 1))
        body = rng.choice(FIRST).format(join_phrases(phrases[:cut]))
        rest = phrases[cut:]
        while rest:
            take = rest[:rng.randint(1, 2)]
            rest = rest[len(take):]
            body += " " + rng.choice(MORE).format(join_phrases(take))
        when = rng.choice([f" It has been like this {duration}.", f" {duration.capitalize()} now.", ""])
        body += when
        if shape == 2:
            body = rng.choice(OPENINGS).format(**_persona_words(row)) + " " + body
    ask = rng.choice(HINGLISH_CLOSINGS if hinglish else ASKS)
    return typed((body + " " + ask).strip(), rng, 0.3, vowels=hinglish)


# Romanised Hindi frames for ``varied_query``'s Hinglish queries: people type Hindi grammar around the symptoms
# ("2 din se bukhar aur sar dard, kya karun?"), not an English sentence with Hindi nouns in it.
HINGLISH_DURATIONS = {"since yesterday": "kal se", "for 2 days": "2 din se", "for 3 days": "teen din se",
                      "for about a week": "ek hafte se", "for two weeks": "do hafte se", "for a month": "ek mahine se"}
HINGLISH_OPENINGS = ["Doctor sahab,", "Namaste doctor ji.", "Sir,", "Hello doctor,", "Doctor,", ""]
HINGLISH_MORE = ["Saath mein {}.", "Aur {}.", "Uske baad {}.", "Ab {} bhi."]


def join_hinglish(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " aur " + items[-1]


def hinglish_query(row: dict, lexicon: dict, rng: random.Random) -> str:
    """A query in romanised Hindi: a terse note, 'mujhe ... se ye problem hai', or the symptoms spread over short
    sentences; the lexicon's Hinglish phrasings (its English ones where it has none)."""
    phrases = symptom_phrases(row["symptoms"], lexicon, rng, 0.9)
    rng.shuffle(phrases)
    since = HINGLISH_DURATIONS.get(row["duration"], row["duration"])
    ask = rng.choice(HINGLISH_CLOSINGS + ["Kya karna chahiye?", "Kya ho sakta hai?", "Doctor ko dikhana padega?", ""])
    shape = rng.randrange(3)
    if shape == 0:
        body = rng.choice([f"{since} {join_hinglish(phrases)}.", f"{join_hinglish(phrases)}, {since}."])
    elif shape == 1:
        body = f"Mujhe {since} ye problem hai: {join_hinglish(phrases)}."
    else:
        cut = rng.randint(1, max(1, len(phrases) - 1))
        body = f"{since} {join_hinglish(phrases[:cut])}."
        for p in phrases[cut:]:
            body += " " + rng.choice(HINGLISH_MORE).format(p)
    opening = rng.choice(HINGLISH_OPENINGS)
    first = body[:1].upper() if opening in ("",) or opening.endswith(".") else body[:1].lower()
    text = f"{opening} {first + body[1:]} {ask}".strip()
    return typed(text, rng)


# How people type on a phone: respellings of romanised Hindi (no fixed spelling: bukhaar/bukhar, nahi/nhi)
# and English texting forms; applied word by word to a share of the queries ``typed`` touches.
RESPELL = {"nahi": ["nhi", "nahin"], "bahut": ["bhot", "bohot", "bahot"], "raha": ["rha"], "rahi": ["rhi"],
           "rahe": ["rhe"], "hai": ["h", "he"], "hain": ["hai", "h"], "mein": ["me", "mai"], "kya": ["kia"],
           "karun": ["karu", "kru"], "mujhe": ["muje", "mjhe"], "se": ["sy"], "aur": ["or", "aur"],
           "you": ["u"], "please": ["pls", "plz"], "are": ["r"], "and": ["n", "and"], "days": ["dys", "days"]}


def typed(text: str, rng: random.Random, share: float = 0.5, vowels: bool = True) -> str:
    """``text`` as typed on a phone, for ``share`` of calls: all lower case or not, texting forms, the final
    punctuation dropped, and (``vowels``: romanised Hindi) long vowels written single or doubled."""
    if rng.random() >= share:
        return text
    words = []
    for w in text.split():
        core = w.rstrip(".,?!:")
        low = core.lower()
        if low in RESPELL and rng.random() < 0.6:
            core = rng.choice(RESPELL[low])
        elif vowels and len(core) > 3 and rng.random() < 0.15:  # bukhaar/bukhar, dard/dardd: no fixed spelling
            core = re.sub(r"aa", "a", core, count=1) if "aa" in core else re.sub(r"([aeiou])", r"\1\1", core, count=1)
        words.append(core + w[len(w.rstrip(".,?!:")):])
    out = " ".join(words)
    if rng.random() < 0.5:
        out = out.lower()
    if rng.random() < 0.4:
        out = out.rstrip(".?!")
    return out


def persona_query(symptoms: list[str], lexicon: dict, key: str, varied: bool = False,
                  hinglish_share: float = 0.2) -> str:
    """A patient query for ``symptoms`` from a persona seeded by ``key``: ``template_query``, or in one of
    ``varied_query``'s shapes; a seeded ``hinglish_share`` of them in Hinglish (``train.hinglish_share``)."""
    age, sex, place, _, duration = random_persona(random.Random(f"{key}:persona"))
    row = {"symptoms": symptoms, "age_band": age, "sex": sex, "place": place, "duration": duration}
    hinglish = random.Random(f"{key}:query").random() < hinglish_share
    return (varied_query if varied else template_query)(row, lexicon, f"{key}:query", hinglish=hinglish)
