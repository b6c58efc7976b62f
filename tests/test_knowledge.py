"""The committed knowledge files are complete and consistent (41 diseases, 131 symptoms, no empty fields)."""
import shutil

import pytest

from medillama import knowledge, paths


@pytest.fixture(scope="module")
def keys(ingested):
    return list(ingested.diseases["key"]), list(ingested.symptoms["token"])


def test_knowledge_files_valid(real_ingested):
    """Complete for every disease and symptom of the real data."""
    assert knowledge.validate(real_ingested.diseases["key"], real_ingested.symptoms["token"]) == []


def test_validate_catches_gaps(keys):
    diseases, symptoms = keys
    problems = knowledge.validate(diseases + ["new_disease"], symptoms + ["new_symptom"])
    assert "symptom_lexicon: no entry for new_symptom" in problems
    assert "india_context: no entry for new_disease" in problems and "triage: no default level for new_disease" in problems


def test_lexicon_coverage(keys):
    lex = knowledge.lexicon()
    assert len(lex) == 131
    assert all(len(set(e["en"])) >= 3 for e in lex.values())
    hinglish = [t for t, e in lex.items() if e.get("hinglish")]
    assert {"high_fever", "cough", "vomiting", "diarrhoea", "dizziness"} <= set(hinglish)


def test_national_programmes_and_helplines_are_attached():
    d = knowledge.india()["diseases"]
    assert "NCVBDC" in d["malaria"]["programmes"] and "NCVBDC" in d["dengue"]["programmes"]
    assert "NTEP" in d["tuberculosis"]["programmes"]
    assert "1097" in " ".join(map(str, d["aids"]["helplines"]))
    assert any("NVHCP" in p for p in d["hepatitis_b"]["programmes"])


def test_triage_levels_and_red_flags():
    assert knowledge.triage_level("heart_attack", ["vomiting"], 5)[0] == "emergency"
    assert knowledge.triage_level("common_cold", ["cough"], 4)[0] == "self_care"
    assert knowledge.triage_level("common_cold", ["cough"], 25)[0] == "urgent"  # severity escalation
    assert knowledge.triage_level("migraine", ["weakness_of_one_body_side"], 5)[0] == "emergency"  # red flag
    # case_level sums the Kaggle weights itself: 25 escalates a self-care disease, an unweighted token raises
    assert knowledge.case_level("common_cold", ["cough", "chills"], {"cough": 20, "chills": 5})[0] == "urgent"
    assert knowledge.case_level("common_cold", ["cough"], {"cough": 4})[0] == "self_care"
    with pytest.raises(KeyError, match="chills"):
        knowledge.case_level("common_cold", ["chills"], {"cough": 4})
    assert "one_sided_weakness" in knowledge.red_flags_in_symptoms(["weakness_of_one_body_side"])


def test_phrase_alternatives_expand():
    assert knowledge.expand("{left|right} side {is|feels} weak") == [
        "left side is weak", "left side feels weak", "right side is weak", "right side feels weak"]
    assert knowledge.expand("{coughing|coughed} {up |}blood") == [
        "coughing up blood", "coughing blood", "coughed up blood", "coughed blood"]
    assert knowledge.expand("chest pain and sweating") == ["chest pain and sweating"]


def test_validate_catches_broken_red_flag_words(keys, tmp_path):
    shutil.copytree(paths.KNOWLEDGE, tmp_path / "k")
    f = tmp_path / "k" / "red_flag_words.yaml"
    f.write_text(f.read_text(encoding="utf-8").replace('lakwa, "paralysis attack"', '"{left|right lakwa", "paralysis attack"', 1), encoding="utf-8")
    t = tmp_path / "k" / "triage.yaml"
    t.write_text(t.read_text(encoding="utf-8").replace('"face~droop', '"face~drooop', 1), encoding="utf-8")
    new = set(knowledge.validate(*keys, folder=tmp_path / "k")) - set(knowledge.validate(*keys))
    assert new == {"triage: red flag one_sided_weakness: sign uses unknown word group drooop",
                   "red_flag_words: stroke_word: unbalanced braces in '{left|right lakwa'"}


def test_symptoms_in_text(tmp_path):
    found = knowledge.symptoms_in_text("Tez bukhar, joint pain and spells of confusion since 3 days")
    assert {"high_fever", "joint_pain", "altered_sensorium"} <= found  # Hinglish and English phrasings
    assert "altered_sensorium" not in knowledge.symptoms_in_text("I feel confused")  # phrasings only, whole words
    assert knowledge.symptoms_in_text("") == set()
    # each knowledge folder is read on its own
    shutil.copytree(paths.KNOWLEDGE, tmp_path / "k")
    f = tmp_path / "k" / "symptom_lexicon.yaml"
    f.write_text(f.read_text(encoding="utf-8").replace('"tez bukhar",', '"tez bukhar", "jor ka taap",', 1),
                 encoding="utf-8")
    assert "high_fever" in knowledge.symptoms_in_text("jor ka taap", folder=tmp_path / "k")
    assert "high_fever" not in knowledge.symptoms_in_text("jor ka taap")


def test_level_from_text():
    for lvl in ("emergency", "urgent", "routine", "self_care"):
        assert knowledge.level_from_text(knowledge.triage_advice(lvl)) == lvl
    assert knowledge.level_from_text("Call 108 immediately") == "emergency"
    assert knowledge.level_from_text("") is None


def test_india_notes_are_composed_from_the_file_only():
    notes = knowledge.india_notes("malaria")
    entry = knowledge.india()["diseases"]["malaria"]
    assert entry["access"].strip() in notes and "NCVBDC" in notes
    assert notes.startswith("Local name:")


def test_programme_names_every_way_the_file_writes_them():
    names = knowledge.programme_names()
    assert set(names) == set(knowledge.india()["programmes"])
    assert names["NTEP"][:2] == ["NTEP", "National TB Elimination Programme"]  # an acronym key is a name
    assert {"NP-NCD", "National Programme for Prevention and Control of Non-Communicable Diseases"} <= set(
        names["NP_NCD"]) and "NP_NCD" not in names["NP_NCD"]  # a key with '_' is not
    assert "Health and Wellness Centre" in names["AYUSHMAN_AROGYA_MANDIR"]  # 'formerly' dropped
    assert {"PM-JAY", "AB PM-JAY", "Ayushman Bharat"} <= set(names["PMJAY"])  # aliases and the bracketed acronym
