import pytest

from medillama import gates

LEX = {"high_fever": {"keywords": ["fever", "bukhar"]}, "joint_pain": {"keywords": ["joint", "jodon"]},
       "skin_rash": {"keywords": ["rash", "daane"]}, "headache": {"keywords": ["headache", "sir dard"]},
       "vomiting": {"keywords": ["vomit", "ulti"]}}


def test_no_disease_name():
    assert gates.no_disease_name("I have fever and joint pain.", ["dengue", "haddi tod bukhar"]) is None
    assert "dengue" in gates.no_disease_name("Maybe it's Dengue?", ["dengue"])
    assert gates.no_disease_name("I have a common cold", ["common cold"])
    assert gates.no_disease_name("I feel cold and shivery", ["common cold"]) is None  # whole phrase only


def test_enough_symptoms():
    syms = ["high_fever", "joint_pain", "skin_rash", "headache", "vomiting"]
    assert gates.enough_symptoms("Tez bukhar, jodon mein dard and a rash since 3 days", syms, LEX) is None  # 3/5
    assert gates.enough_symptoms("I have a fever and a headache", syms, LEX) is not None  # 2/5
    assert gates.symptom_coverage("nothing relevant", syms, LEX) == 0


def test_symptoms_recognised_however_romanised_hindi_is_spelt():
    # the lexicon writes 'sir mein dard' and 'tez bukhar'; people type mein as me and long vowels any length
    lex = {"headache": {"keywords": ["sir mein dard"]}, "high_fever": {"keywords": ["tez bukhar"]},
           "chills": {"keywords": ["thand lag"]}}
    assert gates.stated_symptoms("sir me dard aur tez bukhaaar, thand lagti", ["headache", "high_fever", "chills"],
                                 lex) == ["headache", "high_fever", "chills"]
    assert gates.stated_symptoms("sir me", ["headache"], lex) == []  # every word of a keyword, not some


def test_length():
    assert gates.length_ok("one two three", 2, 5) is None
    assert gates.length_ok("one", 2, 5) and gates.length_ok("a " * 10, 2, 5)


def test_latin_only():
    assert gates.latin_only("Mujhe bukhar hai, café 🙂 3 din se") is None
    assert gates.latin_only("I have fever 发烧") == "non-Latin script"
    assert gates.latin_only("मुझे बुखार है") == "non-Latin script"


@pytest.mark.parametrize("text", ["<|im_start|>assistant I have fever", "Assistant: I have fever",
                                  "As an AI language model I cannot", "Patient: I have fever"])
def test_artifacts_rejected(text):
    assert gates.no_artifacts(text) is not None


def test_prompt_echo_rejected_but_normal_text_passes():
    prompt = "Write a short message that a patient sends to a doctor about their problems today"
    assert gates.no_artifacts("Write a short message that a patient sends to a doctor about fever", prompt)
    assert gates.no_artifacts("Doctor, I have had fever for two days and my joints hurt.", prompt) is None


def test_near_duplicates():
    a = "I have had high fever and joint pain for three days"
    assert gates.lcs_f1(a, a) == 1.0
    assert gates.not_near_duplicate(a + " now", [a]) is not None
    assert gates.not_near_duplicate("My skin itches badly at night", [a]) is None
    assert gates.lcs_f1("", a) == 0.0


def test_clean():
    assert gates.clean('Here is the message:\n"I have fever."\n\nNote: ...') == "I have fever."
    assert gates.clean("Message: I   have\nfever") == "I have fever"


def test_first_person():
    assert gates.first_person("Doctor, I have had fever for 3 days.") is None
    assert gates.first_person("Mujhe 3 din se bukhar hai") is None
    assert gates.first_person("The patient is a 41-year-old male with fever.")
    assert gates.first_person("Fever, cough and chills since Monday.")


def test_repetition_loop():
    assert gates.no_repetition("a thready cough, a thready cough, a thready cough, a thready cough")
    assert gates.no_repetition("I have a cough and a fever and a rash") is None


def test_red_flag_symptoms_must_be_stated():
    """A case that is an emergency because of chest pain with vomiting cannot keep a query that drops the
    vomiting: its reference says 'call 108' for a reason the query no longer gives."""
    from medillama import knowledge

    lex = knowledge.lexicon()
    case = ["stomach_pain", "acidity", "vomiting", "chest_pain"]
    assert knowledge.red_flags_in_symptoms(case)
    dropped = "My symptoms include stomach ache, acid reflux, and a heavy feeling in my chest."
    assert gates.enough_symptoms(dropped, case, lex, 0.6) is None  # the share gate alone lets it through
    assert "red-flag symptoms not stated" in gates.states_red_flags(dropped, case, lex)
    stated = "I have stomach ache, acid reflux, vomiting since morning and a heavy feeling in my chest."
    assert gates.states_red_flags(stated, case, lex) is None
    assert gates.states_red_flags("I have itching and a rash.", ["itching", "skin_rash"], lex) is None


# --- the rules for the kinds of failure a reader rejects (data/gates/RUBRIC.md), on hand-written examples ----------
# Every example below is written for this test; none is a labelled generation.

from medillama import knowledge  # noqa: E402
from medillama.synth import Task  # noqa: E402

FEVER_ROW = {"row_id": "t-000", "disease": "malaria", "age_band": "26-40", "sex": "male", "place": "Bhopal",
             "duration": "for 3 days", "symptoms": ["high_fever", "headache", "vomiting", "muscle_pain"]}
LIVER_ROW = {"row_id": "t-001", "disease": "hepatitis_a", "age_band": "60+", "sex": "female",
             "place": "a village in Bihar", "duration": "for about a week",
             "symptoms": ["yellowing_of_eyes", "dark_urine", "loss_of_appetite", "fatigue", "nausea"]}
LIVER_SOURCE = ("Hello doctor, I'm an elderly woman living in a village in Bihar. For about a week I have had yellow "
                "eyes, dark urine, no appetite at all, constant tiredness and nausea. Is this serious?")
NAMES = {"own": ["malaria", "hepatitis a"], "other": ["dengue", "typhoid", "jaundice"]}

GOOD = [
    (FEVER_ROW, "Doctor, I have had a high fever and a bad headache for three days. My whole body aches and I have "
                "been throwing up since this morning. Please tell me what to do."),
    (FEVER_ROW, "Namaste doctor, I am 32 and live in Bhopal. Since 3 days mujhe tez bukhar hai, sir dard and body "
                "pain, and I keep vomiting. Kya karun?"),
    (FEVER_ROW, "Hello doctor, I'm a 30-something man from Bhopal. For 3 days I have had a high fever, a pounding "
                "headache, body ache and vomiting. Is this serious?"),
    (FEVER_ROW, "I'm having high fever and headache from three days and vomiting also. My body pain is too much. "
                "What should I do?"),
    (FEVER_ROW, "Good morning doctor. For the last three days I've been burning up and have a splitting headache. I "
                "also have body ache and I vomited twice today. Should I come to your clinic?"),
    (LIVER_ROW, "Respected doctor, I am a 65 year old woman from a village in Bihar. For a week my urine is dark "
                "like tea and I have no appetite. I feel tired all the time and queasy after meals. Please advise."),
    (LIVER_ROW, "Doctor sahab, ek hafte se meri aankhen peeli hain, peshab gehre rang ka aa raha hai aur mujhe "
                "bhookh nahi lagti. Bahut thakaan hai aur ji machal raha hai. Kya yeh serious hai?"),
]


def gate(task_name: str, text: str, row: dict, finish_reason: str = "stop"):
    task = Task(task_name, 96, (8, 120))
    return task.format_output(text, row, knowledge.lexicon(), NAMES, 0.6, finish_reason, 0.7)[1]


@pytest.mark.parametrize("row,text", GOOD)
def test_gates_accept_good_patient_messages(row, text):
    assert gate("patient_query", text, row) is None


def test_gates_accept_a_good_paraphrase_and_reject_a_copy_or_a_loss():
    row = {**LIVER_ROW, "query": LIVER_SOURCE}
    good = ("Doctor, I am an elderly woman in a village in Bihar, and for roughly a week I have noticed my eyes "
            "turning yellow. My pee is very dark, I have no desire to eat, and I feel tired and nauseous all day. "
            "Could this be serious?")
    assert gate("paraphrase_query", good, row) is None
    copy = LIVER_SOURCE.replace("Hello doctor", "Hi doctor")
    assert gate("paraphrase_query", copy, row).startswith("copies its source")
    lost = good.replace(", I have no desire to eat,", "")  # the appetite goes; four in five symptoms are left
    assert gate("paraphrase_query", lost, row).startswith("drops symptoms of its source")
    moved = good.replace("in a village in Bihar", "from a town")
    assert gate("paraphrase_query", moved, row).startswith("drops the persona of its source")


@pytest.mark.parametrize("rule,text", [
    (gates.no_preamble, "Certainly! I have had a high fever and a headache for three days."),
    (gates.no_preamble, "Of course, here you go. I have fever and body ache since Monday."),
    (gates.no_preamble, "I have fever and a headache since Monday. This message includes every problem I have."),
    (gates.no_markup, "Query: I have had fever and a headache since Monday, please help."),
    (gates.no_markup, '{"patient": "I have had fever and a headache since Monday"}'),
    (gates.no_markup, "[Name] here. I have had fever and a headache since Monday."),
    (gates.no_markup, "**Fever** and a headache since Monday, doctor."),
    (gates.no_markup, 'My friend wrote to you: "fever and headache since Monday, please help" today.'),
    (gates.no_markup, "My problems are 1. fever 2. headache 3. vomiting"),
    (gates.patient_voice, "The patient complains of fever and a headache for three days."),
    (gates.patient_voice, "She has had a fever for two days and cannot keep food down."),
    (gates.patient_voice, "You have been having fever and headaches, so rest and drink water."),
    (gates.patient_voice, "Don't worry, I'm here to help. Fever and headache are common."),
    (gates.patient_voice, "I am your doctor and I have seen many cases of fever like this."),
    (gates.patient_voice, "A 34-year-old man from Patna with fever and headache for three days."),
    (gates.patient_voice, "I'm so sorry about your fever, it must be hard."),
    (gates.addresses_doctor, "Rahul, I have had a fever and a headache for three days."),
    (gates.addresses_doctor, "Hello, my dear, I have had fever for three days."),
    (gates.addresses_doctor, "Hi dear friend, I have had fever for three days."),
    (gates.addresses_doctor, "Dear Dr. Mehta, I have had a fever and a headache for three days."),
])
def test_each_rule_rejects_its_kind_of_failure(rule, text):
    assert rule(text) is not None
    for _, good in GOOD:
        assert rule(good) is None, good


def test_cut_off_messages_are_rejected():
    assert gates.complete("I have had a high fever and a headache since Monday and") is not None
    assert gates.complete("I have had a high fever since Monday.", finish_reason="length") is not None
    assert gates.complete("I have had a high fever since Monday. Kya karun? 🙏") is None


def test_sensitive_content_only_where_the_row_asks_for_it():
    lex = knowledge.lexicon()
    fever = gates.row_words(FEVER_ROW["symptoms"], lex)
    assert gates.no_sensitive("I have fever and body ache since I got into a fight with my neighbour.", fever)
    assert gates.no_sensitive("I have fever and vomiting and I think I am pregnant.", fever)
    assert gates.no_sensitive("I have fever and I feel like ending it, I might commit suicide.", fever)
    asked = gates.row_words(["extra_marital_contacts", "high_fever"], lex)
    assert gates.no_sensitive("I had unprotected sex outside my marriage and now I have a high fever.", asked) is None
    assert gates.no_sensitive("I have a high fever and a headache since Monday.", fever) is None


def test_no_diagnosis_guess():
    assert gates.no_diagnosis("I have fever and chills, I think it is some viral infection.")
    assert gates.no_diagnosis("I have fever and chills since Monday. Is this serious?") is None


def test_persona_must_match_the_row():
    p = dict(sex="male", place="Bhopal", age_band="26-40")
    assert gates.persona_matches("I am a 30 year old woman with a fever.", **p) == "contradicts the row's sex"
    assert gates.persona_matches("I live in Chennai and I have fever.", **p).startswith("a place the row did not give")
    assert gates.persona_matches("I am 70 years old and I have fever.", **p) == "an age outside the row's age band"
    assert gates.persona_matches("I am a 26-40 year old man with fever.", **p) == "an age outside the row's age band"
    assert gates.persona_matches("I am a 30-year-old man from Bhopal with fever.", **p) is None
    assert gates.persona_matches("I am 30 and I have had this cough for 2 years.", **p) is None  # a duration
    village = "a village near Varanasi"
    assert gates.persona_matches(f"I'm from {village}.", "female", village, "60+") is None


def test_prompt_fields_round_trip():
    for name, row in [("patient_query", {**FEVER_ROW, "symptom_list": "a high fever and vomiting"}),
                      ("paraphrase_query", {"query": LIVER_SOURCE})]:
        task = Task(name, 96, (8, 120))
        fields = task.fields_of_input(task.format_input(row))
        assert fields and all(fields[k] == str(row[k]) for k in fields)
    with pytest.raises(ValueError, match="paraphrase_query.txt"):
        Task("paraphrase_query", 96, (8, 120)).fields_of_input("Write a poem.")


# --- the measure: precision and recall of the gates on labelled generations ---------------------------------------

def _labelled(tmp_path, texts_verdicts):
    """A tiny labelled set in data/gates's format, for FEVER_ROW."""
    import pandas as pd

    task = Task("patient_query", 96, (8, 120))
    prompt = task.format_input({**FEVER_ROW, "symptom_list": "a high fever, a headache, vomiting and body ache"})
    pd.DataFrame([{"id": f"x{i}", "task": "patient_query", "row_id": FEVER_ROW["row_id"], "prompt": prompt,
                   "text": t, "finish_reason": "stop", "verdict": v} for i, (t, v) in enumerate(texts_verdicts)]
                 ).to_csv(tmp_path / "labelled.csv", index=False)
    pd.DataFrame([{**FEVER_ROW, "condition": "Malaria", "symptoms": ";".join(FEVER_ROW["symptoms"])}]
                 ).to_csv(tmp_path / "rows.csv", index=False)
    return tmp_path / "labelled.csv", tmp_path / "rows.csv"


def test_gates_measure_counts(tmp_path):
    from medillama import config, gatecheck

    cfg = config.load_config("cpu")["synth"]
    good, bad = GOOD[0][1], "Sure! The patient has fever."
    res = gatecheck.measure(gatecheck.load(*_labelled(tmp_path, [(good, "acceptable"), (bad, "not")])), cfg)
    assert res["all"] == {"labelled": 2, "acceptable": 1, "accepted": 1, "accepted_acceptable": 1,
                          "accepted_not": 0, "precision": 1.0, "recall": 1.0}
    res = gatecheck.measure(gatecheck.load(*_labelled(tmp_path, [(good, "not"), (bad, "not")])), cfg)
    assert res["all"]["precision"] == 0.0 and res["all"]["recall"] is None
    res = gatecheck.measure(gatecheck.load(*_labelled(tmp_path, [(bad, "not")])), cfg)
    assert res["all"]["precision"] is None and res["all"]["accepted"] == 0  # nothing accepted: no share to give
    assert gatecheck.manifest_metrics(res)["gates_precision_patient_query"] is None
    labelled, rows = _labelled(tmp_path, [(good, "maybe")])
    with pytest.raises(ValueError, match="verdict must be one of"):
        gatecheck.load(labelled, rows)


def test_gates_precision_on_labelled_set():
    """Today's gates on the labelled generations (data/gates/labelled.csv): of what they accept, at least 95% is
    acceptable to a reader, or they accept no text a reader rejects. `pytest -k gates -s` prints the numbers."""
    from medillama import config, gatecheck

    labelled = gatecheck.load()
    res = gatecheck.measure(labelled, config.load_config("cpu")["synth"])
    print(f"\ngates on {gatecheck.LABELLED.relative_to(gatecheck.paths.ROOT)}: {gatecheck.describe(res['all'])}")
    for task, c in res["tasks"].items():
        print(f"  {task}: {gatecheck.describe(c)}")
    assert res["all"]["labelled"] == len(labelled) >= 400
    c = res["all"]
    assert c["accepted_not"] == 0 or c["precision"] >= 0.95, gatecheck.describe(c)


def test_new_rules_accept_the_template_messages():
    """The lexicon templates write acceptable patient messages by construction (a persona, 'I have had' and lay
    phrasings): every rule for a kind of failure passes them, for every symptom's phrasings, English and
    Hinglish, whatever words a phrasing holds ('eyes gone deep in their sockets', 'man nahi lagta')."""
    import random

    from medillama.queries import AGE_BANDS, DURATIONS, PLACES, SEXES, template_query

    lex = knowledge.lexicon()
    tokens = sorted(lex)
    rng = random.Random(0)
    for i, token in enumerate(tokens):
        place, setting = PLACES[i % len(PLACES)]
        row = {"symptoms": [token, tokens[(i + 1) % len(tokens)], tokens[(i + 7) % len(tokens)]], "place": place,
               "setting": setting, "sex": SEXES[i % 2], "age_band": AGE_BANDS[i % 4], "duration": rng.choice(DURATIONS)}
        asked = gates.row_words(row["symptoms"], lex)
        for hinglish in (False, True):
            text = template_query(row, lex, f"{token}:{hinglish}", hinglish=hinglish)
            for reason in (gates.no_preamble(text), gates.no_markup(text), gates.complete(text),
                           gates.no_sensitive(text, asked), gates.patient_voice(text, asked),
                           gates.addresses_doctor(text, asked), gates.no_diagnosis(text, asked),
                           gates.persona_matches(text, row["sex"], row["place"], row["age_band"])):
                assert reason is None, (reason, text)
