"""The committed knowledge files are complete and consistent (41 diseases, 131 symptoms, no empty fields)."""
import shutil

import pytest

from medillama import knowledge, paths
from conftest import edited_lexicon


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
    f.write_text(f.read_text(encoding="utf-8").replace('lakwa, "paralysis attack"', '"{left|right lakwa", "paralysis attack"', 1)
                 .replace("asked_in_earnest: [lethality_death,", "asked_in_earnest: [lethality_deth,", 1), encoding="utf-8")
    t = tmp_path / "k" / "triage.yaml"
    t.write_text(t.read_text(encoding="utf-8").replace('"face~droop', '"face~drooop', 1), encoding="utf-8")
    new = set(knowledge.validate(*keys, folder=tmp_path / "k")) - set(knowledge.validate(*keys))
    assert new == {"triage: red flag one_sided_weakness: sign uses unknown word group drooop",
                   "red_flag_words: stroke_word: unbalanced braces in '{left|right lakwa'",
                   "red_flag_words: asked_in_earnest: lethality_deth is not a group"}


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


def test_a_phrasing_that_states_a_red_flag_is_asked_only_for_a_red_flag_set():
    """A crushing or spreading chest pain is an emergency sign on its own (triage.yaml): queries use those phrasings
    only when the symptom set holds a red flag, so no reference answer calls them routine; other sets are untouched."""
    import random

    from medillama.queries import symptom_phrases

    lex = knowledge.lexicon()
    flagged = set(lex["chest_pain"]["states_red_flag"])
    assert "a crushing weight on my chest" in flagged and "chest pain" not in flagged

    def used(symptoms):
        return set().union(*(symptom_phrases(symptoms, lex, random.Random(i), 0.5) for i in range(300)))

    plain = ["chest_pain", "headache", "loss_of_balance"]  # hypertension without its red flag: routine
    assert not knowledge.red_flags_in_symptoms(plain) and not used(plain) & flagged
    emergency = ["chest_pain", "dizziness", "headache"]  # chest pain with dizziness: a red flag
    assert knowledge.red_flags_in_symptoms(emergency) and flagged <= used(emergency)
    # a set with no tagged phrasing draws as the lexicon did before the tag (same seed, same random sequence)
    other, rng, before = ["headache", "dizziness", "vomiting"], random.Random(7), []
    for t in other:
        use_hi = lex[t].get("hinglish") and rng.random() < 0.5
        before.append(rng.choice(lex[t]["hinglish"] if use_hi else lex[t]["en"]))
    assert symptom_phrases(other, lex, random.Random(7), 0.5) == before


def test_validate_catches_a_red_flag_phrasing_that_is_no_phrasing(keys, tmp_path):
    def edit(symptoms):
        symptoms["chest_pain"]["states_red_flag"] = ["an elephant on my chest"]
        symptoms["headache"]["states_red_flag"] = list(symptoms["headache"]["en"])

    problems = knowledge.validate(*keys, folder=edited_lexicon(tmp_path / "knowledge", edit))
    assert "symptom_lexicon: chest_pain: states_red_flag 'an elephant on my chest' is none of its phrasings" in problems
    assert any(p.startswith("symptom_lexicon: headache: every English phrasing states a red flag") for p in problems)


def test_validate_catches_a_hinglish_variant_the_gloss_cannot_use(keys, tmp_path):
    own = "khaana hazam nahi hota"

    def edit(symptoms):
        assert own in symptoms["indigestion"]["hinglish"]
        symptoms["indigestion"]["hinglish_variants"] = [own, "mujhe nahi ho raha", "ulti ho rahi hai", "उल्टी नहीं रही"]
        symptoms["headache"]["hinglish_variants"] = "sir dard nahi ja raha"

    problems = knowledge.validate(*keys, folder=edited_lexicon(tmp_path / "knowledge", edit))
    assert f"symptom_lexicon: indigestion: Hinglish variant {own!r} reads as indigestion's {own!r}" in problems
    for v in ("mujhe nahi ho raha", "ulti ho rahi hai"):  # only a grammar word before the negation; no negation
        prefix = f"symptom_lexicon: indigestion: Hinglish variant {v!r} is no failure"
        assert any(p.startswith(prefix) for p in problems)
    assert "symptom_lexicon: indigestion: empty or non-Latin Hinglish variant 'उल्टी नहीं रही'" in problems
    assert "symptom_lexicon: headache: hinglish_variants must be a list of strings" in problems
