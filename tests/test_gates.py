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
