"""Patient queries from templates: personas (age band, sex, place, duration), the lexicon's symptom phrasings, and
the sentence frames around them. Step 02 draws personas; step 03 falls back to ``template_query`` when a
generation fails a gate (and writes Hinglish paraphrases with it); step 04 asks training queries anew with
``persona_query``."""
from __future__ import annotations

import random

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
    out = []
    for s in symptoms:
        e = lexicon[s]
        use_hi = e.get("hinglish") and rng.random() < hinglish_share
        out.append(rng.choice(e["hinglish"] if use_hi else e["en"]))
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
    return (body + " " + ask).strip()


HINGLISH_SHARE = 0.2  # share of persona_query's queries in Hinglish, as in the dataset (synth.hinglish_rate)


def persona_query(symptoms: list[str], lexicon: dict, key: str, varied: bool = False) -> str:
    """A patient query for ``symptoms`` from a persona seeded by ``key``: ``template_query``, or in one of
    ``varied_query``'s shapes; a seeded HINGLISH_SHARE of them in Hinglish."""
    age, sex, place, _, duration = random_persona(random.Random(f"{key}:persona"))
    row = {"symptoms": symptoms, "age_band": age, "sex": sex, "place": place, "duration": duration}
    hinglish = random.Random(f"{key}:query").random() < HINGLISH_SHARE
    return (varied_query if varied else template_query)(row, lexicon, f"{key}:query", hinglish=hinglish)
