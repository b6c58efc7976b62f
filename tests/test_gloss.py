"""The Hindi gloss: the symptoms a message states in Hindi words, glossed in English beside it; English unchanged."""
import pandas as pd
import pytest
import yaml

from medillama import ask, knowledge, paths
from medillama.answer import build_prompt
from medillama.generate import FakeBackend
from medillama.gloss import glossed_symptoms, hindi_gloss, reading
from medillama.training_data import to_prompt_completion
from conftest import edited_lexicon
from test_train import tokenizer  # noqa: F401  (a fixture)


def english(token):
    return knowledge.lexicon()[token]["en"][0]


def test_hinglish_symptoms_glossed_in_the_message_order():
    q = "mujhe 3 din se ulti ho rahi hai aur pet mein dard hai"
    assert [t for t, _ in glossed_symptoms(q)] == ["vomiting", "stomach_pain"]
    assert hindi_gloss(q) == f"{q} ({english('vomiting')}, {english('stomach_pain')})"


@pytest.mark.parametrize("spelling", ["tez bukhar hai", "tej bukhaar hai", "TEZ BUKHAR", "तेज़ बुखार है"])
def test_any_spelling_or_script_gets_the_same_gloss(spelling):
    assert [t for t, _ in glossed_symptoms(spelling)] == ["high_fever"]


@pytest.mark.parametrize("message", ["Burning pain in the pit of my stomach, rising after meals.",
                                     "Ultimately the cough has been better but my cheeks are red.",
                                     "I have been feeling hot all night and she can call me", "My gums have been bleeding",
                                     "My son has been having a risk of seizures", "I have loose motions since 12 h",
                                     "Is this pet safe? Skin pilling, gas. Banana", ""])
def test_english_messages_come_through_unchanged(message):
    # 'been', 'she', 'can', 'call', 'h' fold to the keys of Hindi grammar words (bhi, se, ka, kal, hai): Hindi context
    # is read from the words as written, so short Hindi terms ('peeth' ~ pit, 'honth' ~ hot, 'kaph') stay unread
    assert hindi_gloss(message) == message.strip()


def test_no_english_probe_message_is_glossed():
    probe = pd.read_csv(paths.ROOT / "data" / "probe" / "natural_queries.csv")
    assert [t for t in probe["text"] if glossed_symptoms(t)] == []


def test_a_short_hindi_word_is_read_only_whole_in_hindi_context_as_spelt():
    assert [t for t, _ in glossed_symptoms("peeth mein dard hai")] == ["back_pain"]  # peeth is spelt like 'pit'
    assert glossed_symptoms("a small pit on my nail") == []
    assert [t for t, _ in glossed_symptoms("mujhe sir dard hota hai")] == ["headache"]  # hota is not honth (lips)
    assert [t for t, _ in glossed_symptoms("kaafi dino se khansi hai")] == ["cough"]  # kaafi is not kaph (phlegm)
    assert glossed_symptoms("meri saas ko tez bukhar hai") == [("high_fever", english("high_fever"))]  # saas: not saans
    assert [t for t, _ in glossed_symptoms("mujhe saans lene mein dikkat hai")] == ["breathlessness"]


@pytest.mark.parametrize("message", ["mujhe ulti nahi hui", "kal ulti nahi thi", "no ulti, only khansi hai",
                                     "ulti nahi hai, sirf khansi"])
def test_a_denied_symptom_is_not_glossed(message):
    found = [t for t, _ in glossed_symptoms(message)]
    assert "vomiting" not in found and ("cough" in found) == ("khansi" in message)  # the denial stays in its clause


@pytest.mark.parametrize("message, token", [("ulti nahi hui thi, par aaj subah ulti hui", "vomiting"),
                                            ("kal tez bukhar nahi tha lekin aaj tez bukhar hai", "high_fever"),
                                            ("pehle khansi nahi thi, ab khansi bahut hai", "cough")])
def test_a_term_denied_where_it_first_stands_is_read_where_it_is_stated(message, token):
    # a term is tried at each place its first word stands, not only the first
    assert token in [t for t, _ in glossed_symptoms(message)]
    assert token not in [t for t, _ in glossed_symptoms(message.split(",")[0].split(" lekin")[0])]


def test_a_term_is_read_inside_one_clause():
    assert glossed_symptoms("gas. Bana hai") == glossed_symptoms("gas") == []


def test_build_prompt_glosses_only_when_asked():
    q = "ulti ho rahi hai"
    assert english("vomiting") not in build_prompt(q)
    assert build_prompt(q, gloss=True).count(f"({english('vomiting')})") == 1
    assert build_prompt(q, gloss="brackets") == build_prompt(q, gloss=True)  # True: a run recorded before the styles
    assert f"I have {english('vomiting')}. {q}" in build_prompt(q, gloss="sentence")


def test_the_sentence_style_writes_the_same_gloss_first():
    q = "mujhe 3 din se ulti ho rahi hai aur pet mein dard hai"
    both = f"{english('vomiting')}, {english('stomach_pain')}"
    assert hindi_gloss(q, style="sentence") == f"I have {both}. {q}"
    assert hindi_gloss(q) == f"{q} ({both})"
    plain = "I have had a fever for two days"  # nothing glossed: as written in either style
    assert hindi_gloss(plain, style="sentence") == hindi_gloss(plain) == plain
    with pytest.raises(ValueError, match="train.gloss_style: 'first'"):
        hindi_gloss(q, style="first")


@pytest.mark.parametrize("tcfg, read", [({"hindi_gloss": False, "gloss_style": "sentence"}, False),
                                        ({"hindi_gloss": True}, "brackets"),  # recorded before gloss_style
                                        ({"hindi_gloss": True, "gloss_style": "sentence"}, "sentence"), ({}, False)])
def test_reading_follows_the_train_section(tcfg, read):
    assert reading(tcfg) == read


def test_an_unknown_gloss_style_is_refused_by_name():
    with pytest.raises(ValueError, match="train.gloss_style: 'after'.*brackets, sentence"):
        reading({"hindi_gloss": True, "gloss_style": "after"})


def test_training_rows_are_glossed_only_in_their_share(tokenizer):  # noqa: F811
    q = "ulti ho rahi hai"
    df = pd.DataFrame({"input_text": [q] * 20, "output_text": ["Likely condition: X"] * 20})
    plain = to_prompt_completion(df, "alpaca", tokenizer, df, 1, df)
    assert all(p == build_prompt(q) for p in plain["prompt"]) and len(plain) == 60  # the default: as written
    full = to_prompt_completion(df, "alpaca", tokenizer, df, 1, df, gloss_share=1.0)
    assert all(p == build_prompt(q, gloss=True) for p in full["prompt"])
    first = to_prompt_completion(df, "alpaca", tokenizer, df, 1, df, gloss_share=1.0, gloss_style="sentence")
    assert all(p == build_prompt(q, gloss="sentence") for p in first["prompt"])  # in the style the model reads
    half = [to_prompt_completion(df, "alpaca", tokenizer, df, 1, df, gloss_share=0.5, seed=s)["prompt"] for s in (1, 1, 2)]
    glossed = [sum(english("vomiting") in p for p in h) for h in half]
    assert half[0] == half[1] and half[0] != half[2]  # seeded
    assert all(15 <= g <= 45 for g in glossed)
    for kind in ("answer", "decision", "drill"):  # every kind of row gets its share
        assert 3 <= sum(english("vomiting") in p for p, k in zip(half[0], plain["kind"]) if k == kind) <= 17
    kept = to_prompt_completion(df, "alpaca", tokenizer, df, 1, df, gloss_share=0.5, seed=1)
    assert kept["completion"] == plain["completion"] and kept["kind"] == plain["kind"]  # only prompts change


def test_training_rows_glossed_in_part_write_a_seeded_share_of_their_symptoms(tokenizer):  # noqa: F811
    q = "tez bukhar, ulti aur sir dard ho raha hai"
    found = [e for _, e in glossed_symptoms(q)]
    assert len(found) == 3
    df = pd.DataFrame({"input_text": [q] * 40, "output_text": ["Likely condition: X"] * 40})

    def prompts(keep, seed=1):
        return list(to_prompt_completion(df, "alpaca", tokenizer, gloss_share=1.0, gloss_style="sentence",
                                         gloss_keep=keep, seed=seed)["prompt"])

    assert prompts(1.0) == [build_prompt(q, gloss="sentence")] * 40  # all, as the model reads
    assert prompts(0.0) == [build_prompt(q)] * 40  # none kept: as written
    half = prompts(0.5)
    assert half == prompts(0.5) and half != prompts(0.5, seed=2)  # seeded
    written = [[e for e in found if e in p] for p in half]
    assert all(p == build_prompt(f"I have {', '.join(w)}. {q}" if w else q) for p, w in zip(half, written))
    share = sum(map(len, written)) / (3 * len(half))
    assert 0.3 <= share <= 0.7 and len({len(w) for w in written}) >= 3  # rows differ in how much is glossed


@pytest.mark.parametrize("gloss, style", [(True, None), (False, None), (True, "sentence")])
def test_ask_reads_as_the_run_was_evaluated(tmp_path, gloss, style):
    train = {"prompt_style": "alpaca", "hindi_gloss": gloss, **({"gloss_style": style} if style else {})}
    (tmp_path / "training_config.yaml").write_text(yaml.safe_dump({"train": train}))
    prompts = []
    diseases = pd.DataFrame({"key": ["malaria"], "display_name": ["Malaria"], "source_name": ["Malaria"],
                             "precautions": [["rest"]]})
    a = ask.Assistant(tmp_path, backend=FakeBackend(lambda p: prompts.append(p) or "Likely condition: Malaria"),
                      diseases=diseases)
    out = a.answer(["tez bukhar aur ulti ho rahi hai"])
    assert (english("vomiting") in prompts[0]) == gloss
    read = hindi_gloss(out[0]["query"], style=style or "brackets") if gloss else out[0]["query"]
    assert out[0]["read_as"] == read and read in prompts[0]  # shown in --json


@pytest.mark.parametrize("message, token", [("chhaati mein bahut tez dard hai", "chest_pain"),
                                            ("seene me dard hai", "chest_pain"),
                                            ("peshab karte waqt jalan hai", "burning_micturition"),
                                            ("pet mein bhi dard hai", "stomach_pain"),
                                            ("pet mein bahut hi zyada dard hai", "stomach_pain")])
def test_joining_and_intensifying_words_may_stand_inside_a_phrasing(message, token):
    assert [t for t, _ in glossed_symptoms(message)] == [token]
    assert glossed_symptoms(message.replace(" hai", " nahi hai")) == []  # and a denial after it is still read


def test_place_words_alone_are_no_symptom():
    found = [t for t, _ in glossed_symptoms("sir ke ek taraf dard hai")]
    assert "weakness_of_one_body_side" not in found  # 'ek taraf' alone is a fragment of 'ek taraf kamzori'
    assert [t for t, _ in glossed_symptoms("shareer ke ek taraf kamzori hai")] == ["weakness_of_one_body_side"]
    assert glossed_symptoms("chest me bahut dard hai") == []  # all-English terms stay unread


@pytest.mark.parametrize("message", ["purane daano ke daag reh gaye hain", "peshab me khoon ke halke daag hai",
                                     "pair pe bina chot ke neele daag padte hain", "gale me safed safed daag hai"])
def test_a_mark_alone_is_no_discoloured_patch(message):
    # 'daag' (a mark) is a scar, a bruise, blood spots or a throat's patches as often as a patch of skin
    assert "dischromic_patches" not in [t for t, _ in glossed_symptoms(message)]
    for skin in ("chamdi par daag ho gaye hai", "skin pe daag ho gaye hain"):  # with the skin
        assert "dischromic_patches" in [t for t, _ in glossed_symptoms(skin)]


@pytest.mark.parametrize("message, token", [("sir me bht drd h 2 din se", "headache"), ("tez bkhr h kal se", "high_fever"),
                                            ("bhuk nhi lgti 1 hafte se", "loss_of_appetite"),
                                            ("peshab krte waqt bht jln hoti h", "burning_micturition")])
def test_symptom_words_typed_without_vowels_are_read(message, token):
    assert token in [t for t, _ in glossed_symptoms(message)]


def test_a_grade_is_not_read_past_its_opposite():
    assert [t for t, _ in glossed_symptoms("bahut halka bukhar hai")] == ["mild_fever"]  # not 'bahut tez bukhar'
    assert [t for t, _ in glossed_symptoms("bahut tez bukhar hai")] == ["high_fever"]
    assert [t for t, _ in glossed_symptoms("pet mein halka halka dard hai")] == ["stomach_pain"]


@pytest.mark.parametrize("message", ["seene me dard bilkul nahi hai", "seene mein dard bhi nahi hai"])
def test_a_denial_is_read_past_a_particle(message):
    assert glossed_symptoms(message) == []


def test_a_word_of_another_symptom_is_an_inflection_only_with_a_hindi_ending():
    assert "excessive_hunger" not in [t for t, _ in glossed_symptoms("bahut bukhar hai")]  # bukhar is not bhookh
    assert [t for t, _ in glossed_symptoms("bahut bhookh lagti hai")] == ["excessive_hunger"]
    assert "stiff_neck" in [t for t, _ in glossed_symptoms("gardan akadpan ho gaya hai")]  # akad + -pan


def test_a_variant_is_read_without_its_progressive_ending_only():
    from medillama.gloss import stem

    assert stem("pet saaf nahi ho raha hai") == "pet saaf nahi" and stem("santulan nahi rahi thi") == "santulan nahi"
    assert stem("periods nahi aa rahe") == "periods nahi aa"  # another verb is the statement and stays
    assert stem("bhookh khatam ho gayi hai") == "bhookh khatam ho gayi hai"  # so does a completive


@pytest.mark.parametrize("message, token", [("pet saaf nahi ho rahi thi", "constipation"),
                                            ("khaana hazam nahi ho raha", "indigestion"),
                                            ("chalte waqt santulan nahi rahi", "loss_of_balance"),
                                            ("kal se sudh-budh nahi rahi", "altered_sensorium"),
                                            ("do mahine se mahwari nahi ho rahi", "abnormal_menstruation")])
def test_a_failure_that_is_the_symptom_is_read_through_its_variant(message, token, tmp_path):
    # without the variants, the same words read as a denial
    read_only_through("hinglish_variants", message, token, tmp_path)


def read_only_through(field: str, message: str, token: str, tmp_path) -> None:
    """The message reads as the symptom, and does not once the lexicon's ``field`` is taken out."""
    assert token in [t for t, _ in glossed_symptoms(message)]
    folder = edited_lexicon(tmp_path / "knowledge", lambda symptoms: [e.pop(field, None) for e in symptoms.values()])
    assert token not in [t for t, _ in glossed_symptoms(message, folder)]


@pytest.mark.parametrize("message, stated, token", [("ji machal nahi raha", "ji machal raha", "nausea"),
                                                    ("seene mein dard nahi raha", "seene mein dard hai", "chest_pain"),
                                                    ("sar dard nahi ho raha", "sar dard ho raha", "headache"),
                                                    ("ulti nahi ho rahi", "ulti ho rahi", "vomiting"),
                                                    ("pet mein dard ab nahi hai", "pet mein dard ab bhi hai",
                                                     "stomach_pain")])
def test_a_symptom_no_longer_there_is_not_glossed(message, stated, token):
    assert token in [t for t, _ in glossed_symptoms(stated)] and glossed_symptoms(message) == []


def test_every_variant_alone_is_read_as_its_symptom():
    variants = [(t, v) for t, e in knowledge.lexicon().items() for v in e.get("hinglish_variants") or []]
    assert variants
    for token, v in variants:
        assert token in [t for t, _ in glossed_symptoms(v)], v


@pytest.mark.parametrize("message, token", [("saans nahi aa rahi", "breathlessness"),
                                            ("bhookh nahi lag rahi", "loss_of_appetite")])
def test_a_failure_stated_with_another_verb_is_not_a_denial(message, token):
    assert [t for t, _ in glossed_symptoms(message)] == [token]


@pytest.mark.parametrize("message, token", [("subah se ji machlata rehta hai", "nausea"),
                                            ("chalte waqt ladkhada jaati hoon", "unsteadiness"),
                                            ("chehre pe mawad wale daane nikal rahe", "pus_filled_pimples"),
                                            ("raat ko baar baar peshab ke liye uthna padta", "polyuria"),
                                            ("gale ke andar safed parat si hai", "patches_in_throat")])
def test_an_everyday_wording_is_read_through_the_gloss_readings(message, token, tmp_path):
    """``hinglish_gloss``: how people write a symptom beyond the lexicon's own Hinglish phrasings, read by the gloss
    (the verb's stem, so any person and tense); without them, the same message reads as no such symptom."""
    read_only_through("hinglish_gloss", message, token, tmp_path)


def test_gloss_readings_never_reach_a_training_query():
    """Training rows take the lexicon's ``hinglish`` phrasings only: a reading is the gloss's, so the model's training
    is the same with or without them."""
    from medillama.queries import symptom_phrases
    import random

    lex = knowledge.lexicon()
    readings = {p for e in lex.values() for p in e.get("hinglish_gloss") or []}
    assert readings
    rng = random.Random(0)
    drawn = {p for _ in range(300) for p in symptom_phrases(sorted(lex), lex, rng, 1.0)}
    assert drawn and not drawn & readings


def test_a_gloss_reading_that_reads_as_another_symptom_is_a_lexicon_problem(tmp_path):
    from medillama.gloss import variant_problems

    lex = knowledge.lexicon()
    lex = {**lex, "nausea": {**lex["nausea"], "hinglish_gloss": ["sir dard", "जी मिचलाना", 3]},
           "vomiting": {**lex["vomiting"], "hinglish_gloss": "ulti jaisa"}}
    problems = variant_problems(lex)
    assert "symptom_lexicon: nausea: hinglish_gloss must be a list of strings" in problems
    assert "symptom_lexicon: vomiting: hinglish_gloss must be a list of strings" in problems
    lex["nausea"]["hinglish_gloss"] = ["sir dard", "जी मिचलाना"]
    problems = variant_problems(lex)
    assert "symptom_lexicon: nausea: Hinglish gloss reading 'sir dard' reads as headache's 'sir dard'" in problems
    assert "symptom_lexicon: nausea: empty or non-Latin Hinglish gloss reading 'जी मिचलाना'" in problems
    assert variant_problems(knowledge.lexicon()) == []


def test_a_gloss_reading_made_of_english_words_is_a_lexicon_problem():
    """The gloss leaves a term of English words to the model, so such a reading is never read: the lexicon check
    names it, and a reading with one Hindi word passes."""
    from medillama.gloss import variant_problems

    lex = knowledge.lexicon()
    lex = {**lex, "stomach_pain": {**lex["stomach_pain"], "hinglish_gloss": ["stomach pain", "stomach mein marod"]}}
    problems = variant_problems(lex)
    assert problems == ["symptom_lexicon: stomach_pain: Hinglish gloss reading 'stomach pain' is made of words the "
                        "lexicon's English phrasings use: the gloss never reads it (the model reads English as written)"]


def test_a_gloss_readings_last_word_is_read_inflected_from_three_letters_with_a_hindi_ending(monkeypatch):
    """'kamra ghoom' reads 'kamra ghumta hai' (``gloss.MIN_STEM``, a ``hinglish_gloss`` reading); a three-letter stem
    is no prefix of another word ('sardi lag' is not 'sardi lagbhag'), and older terms keep MIN_KEY ('paani bhar' of
    fluid overload is not 'paani bharne jaata hoon')."""
    from medillama import gloss

    assert "spinning_movements" in [t for t, _ in glossed_symptoms("uthte hi kamra ghumta hai")]
    for message in ("sardi lagbhag theek ho gayi hai", "main roz paani bharne jaata hoon", "main roz office tak jaata hoon",
                    "hum sab ghumte hain shaam ko", "mujhe wajan ghatana hai"):
        assert glossed_symptoms(message) == [], message
    # with the stem's minimum at MIN_KEY, the inflected reading is lost: the rule is what reads it
    assert any(len(t[0]) > 1 and len(t[0][-1]) == gloss.MIN_STEM and t[4] for t in gloss._terms(None))
    monkeypatch.setattr(gloss, "MIN_STEM", gloss.MIN_KEY)
    assert glossed_symptoms("uthte hi kamra ghumta hai") == []


def test_grading_words_are_read_in_their_everyday_spellings():
    """'bhot', 'bohot' (textnorm's short forms of 'bahut') and 'khub' grade as 'bahut' does: they may stand inside a
    phrasing."""
    for grade in ("bahut", "bhot", "bohot", "khub"):
        assert "high_fever" in [t for t, _ in glossed_symptoms(f"kal se bukhar {grade} tez hai")], grade


@pytest.mark.parametrize("message, token", [
    ("jodon me itna dard ki uth nahi paata", "joint_pain"),       # the pain words after the place
    ("gardan me lagataar dard rehta hai", "neck_pain"),
    ("kamar bhi dukhti hai roz", "back_pain"),                      # an inflected 'dukh'
    ("दादी के घुटनों में हर समय दर्द रहता है", "knee_pain"),          # Devanagari, romanised first
])
def test_a_body_part_is_read_as_its_pain_with_a_word_of_pain_near(message, token):
    assert token in [t for t, _ in glossed_symptoms(message)]


@pytest.mark.parametrize("message, token", [
    ("bete ke chehre aur peeth pe laal rash hai", "back_pain"),      # a rash on the back is no back pain
    ("kamar pe belt wali jagah khujli hoti hai", "back_pain"),
    ("gardan me gilti nikal aayi hai", "neck_pain"),                 # a lump in the neck is no neck pain
    ("papa ke ghutne sooj gaye hai", "knee_pain"),
    ("kamar pe rash hai. dard bhi", "back_pain"),                   # the pain is another clause's
    ("gardan me gilti hai aur sir dard bhi", "neck_pain"),           # ... or another part's
    ("sir dard hai peeth pe daane hai", "back_pain"),
    ("kamar mein dard nahi hai, bas bukhar", "back_pain"),           # denied with its pain
    ("ghutno me dard nahi hai", "knee_pain"),
])
def test_a_body_part_alone_is_no_pain(message, token):
    assert token not in [t for t, _ in glossed_symptoms(message)]


@pytest.mark.parametrize("message, tokens", [
    ("aankhen aur chamdi dono peeli ho gayi hain", {"yellowing_of_eyes", "yellowish_skin"}),
    ("बहू की आँखें और चमड़ी दोनों पीली पड़ गई हैं", {"yellowing_of_eyes", "yellowish_skin"}),
    ("maa ki gardan aur kamar dono me dard", {"neck_pain", "back_pain"}),   # two parts share their pain
    ("gardan aur peeth me durd rehta h", {"neck_pain", "back_pain"}),
    ("seene aur pet mein dard hai", {"chest_pain", "stomach_pain"}),      # past a joining word of the phrasing
    ("chehre aur aankhon mein sujan hai", {"puffy_face_and_eyes"}),       # a phrasing whose own word is 'aur'
])
def test_two_parts_joined_by_aur_share_what_follows(message, tokens):
    assert tokens <= {t for t, _ in glossed_symptoms(message)}


@pytest.mark.parametrize("message, token", [
    ("aankhen aur chamdi dono theek hai, bas bukhar", "yellowing_of_eyes"),
    ("aankhen aur chamdi dono peeli nahi hai", "yellowing_of_eyes"),        # denied
    ("gardan me gilti hai aur kamar pe daane", "neck_pain"),                # no pain word after the parts
    ("gardan aur kamar pe laal rash hai", "back_pain"),
])
def test_joined_parts_read_nothing_without_their_symptom(message, token):
    assert token not in [t for t, _ in glossed_symptoms(message)]


def test_a_body_part_keyword_is_read_only_by_that_rule(monkeypatch):
    """Without the pain-word rule, a pain's body-part keyword reads alone: the rule is what keeps it out."""
    from medillama import gloss

    message = "bete ke chehre aur peeth pe laal rash hai"
    assert "back_pain" not in [t for t, _ in glossed_symptoms(message)]
    monkeypatch.setattr(gloss, "BODY_PARTS", frozenset())
    gloss._terms.cache_clear()
    try:
        assert "back_pain" in [t for t, _ in glossed_symptoms(message)]
    finally:
        monkeypatch.undo()
        gloss._terms.cache_clear()


@pytest.mark.parametrize("message, token, english", [
    ("papa ka achanak daayan haath aur pair kaam nahi kar raha, sar me tez dard", "weakness_of_one_body_side",
     "weakness on one side of my body"),
    ("मेरी माँ के शरीर का बायाँ हिस्सा अचानक कमजोर हो गया है", "weakness_of_one_body_side",
     "weakness on one side of my body"),
    ("chacha ko khoon wali ulti hui hai subah se", "stomach_bleeding", "blood in my vomit"),
    ("3 din se kaali potty aa rahi hai", "stomach_bleeding", "black, tar-like stools"),
])
def test_a_red_flag_sign_in_hindi_is_read_as_its_symptom(message, token, english):
    assert (token, english) in glossed_symptoms(message)
    assert english in knowledge.lexicon()[token]["en"]  # the lexicon's own phrasing, not a new one
    assert hindi_gloss(message, style="sentence").startswith("I have ")


@pytest.mark.parametrize("message", [
    "stroke ka risk hai kya? BP 160 hai",                                    # a stroke named is no weakness stated
    "mere dost ko stroke aaya tha, mujhe bhi dar lag raha hai",
    "achanak haath pair dheele pad gaye, sugar low thi",                     # weak limbs, no side: low sugar too
    "sugar ki dawai ke baad achanak kamzori, pasina aur haath kaanp rahe hain",
])
def test_a_sign_that_does_not_state_the_symptom_is_not_read_as_it(message):
    assert "weakness_of_one_body_side" not in [t for t, _ in glossed_symptoms(message)]


@pytest.mark.parametrize("message", ["My father suddenly cannot move his right arm and leg.",
                                     "He vomited blood this morning and his stool is black."])
def test_a_red_flag_sign_in_english_is_left_to_the_model(message):
    assert glossed_symptoms(message) == []
