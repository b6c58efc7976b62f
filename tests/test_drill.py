"""Drill rows: new, unambiguous subsets of train symptom sets only, never a held-out or source set."""
import pandas as pd

from medillama import knowledge
from medillama.answer import parse_answer
from medillama.drill import drill_rows, drill_subsets, red_flag_subsets

# malaria and dengue share chills + high_fever; test holds one malaria set
TRAIN = pd.DataFrame({
    "disease": ["malaria", "malaria", "dengue"],
    "condition": ["Malaria", "Malaria", "Dengue"],
    "group_id": ["m1", "m1", "d1"],
    "symptoms": [["chills", "vomiting", "high_fever", "sweating", "headache"], ["chills", "vomiting", "high_fever"],
                 ["skin_rash", "chills", "joint_pain", "high_fever", "headache"]],
})
HELDOUT = pd.DataFrame({"symptoms": [["chills", "vomiting", "sweating"]]})
CASES = pd.DataFrame({"symptoms": [["chills", "vomiting", "high_fever", "sweating", "headache"],
                                   ["vomiting", "sweating", "headache"]]})


def excluded():
    return {frozenset(s) for f in (TRAIN, HELDOUT, CASES) for s in f["symptoms"]}


def test_subsets_are_new_unambiguous_and_from_the_disease_train_sets():
    subs = drill_subsets(TRAIN, excluded(), per_disease=50, min_size=2, seed=1)
    by = {d: {frozenset(s) for dd, s in subs if dd == d} for d in ("malaria", "dengue")}
    assert sum(len(v) for v in by.values()) == len(subs)  # no subset drawn twice
    malaria_set = frozenset(TRAIN["symptoms"][0])
    dengue_set = frozenset(TRAIN["symptoms"][2])
    for s in by["malaria"]:
        assert s < malaria_set and len(s) >= 2
        assert not s <= dengue_set  # {chills, high_fever} or {headache, high_fever} would name dengue too
    assert frozenset({"chills", "high_fever"}) not in by["malaria"] | by["dengue"]
    assert not (by["malaria"] | by["dengue"]) & excluded()  # no held-out, source-case or train row set
    # every unambiguous, unexcluded malaria subset of size >= 2 is found when the budget allows
    import itertools
    expect = {frozenset(c) for k in range(2, 5) for c in itertools.combinations(sorted(malaria_set), k)
              if not frozenset(c) <= dengue_set} - excluded()
    assert by["malaria"] == expect


def test_per_disease_cap_and_seeded():
    a = drill_subsets(TRAIN, excluded(), per_disease=3, seed=7)
    assert a == drill_subsets(TRAIN, excluded(), per_disease=3, seed=7)
    assert max(pd.Series([d for d, _ in a]).value_counts()) == 3
    assert drill_subsets(TRAIN, excluded(), per_disease=0) == []


def test_rows_carry_a_query_and_the_decision_lines():
    symptoms = pd.DataFrame({"token": ["chills", "vomiting", "high_fever", "sweating", "headache", "skin_rash",
                                       "joint_pain"], "weight": [3, 5, 7, 3, 3, 3, 3]})
    df = drill_rows(TRAIN, HELDOUT, CASES, symptoms, knowledge.lexicon(), per_disease=4, seed=3)
    assert len(df) and set(df["disease"]) <= {"malaria", "dengue"}
    for r in df.itertuples():
        p = parse_answer(r.output_text)
        assert p["condition"] == {"malaria": "Malaria", "dengue": "Dengue"}[r.disease]
        level, _ = knowledge.triage_level(r.disease, r.symptoms, sum(dict(zip(symptoms.token, symptoms.weight))[s]
                                                                     for s in r.symptoms))
        assert p["see_doctor"] == knowledge.triage_advice(level)
        assert r.output_text.count("\n") == 2 and r.input_text.strip()
        assert "malaria" not in r.input_text.lower() and "dengue" not in r.input_text.lower()
    empty = drill_rows(TRAIN, HELDOUT, CASES, symptoms, knowledge.lexicon(), per_disease=0)
    assert empty.empty and "output_text" in empty


# hypertension raises chest_pain_with_sweating_or_breathlessness (chest pain + dizziness); gerd's chest pain + vomiting
# is also in heart_attack's set, so only a gerd subset with a gerd-only symptom names gerd alone
FLAG_TRAIN = pd.DataFrame({
    "disease": ["hypertension", "gerd", "heart_attack"],
    "condition": ["Hypertension", "GERD", "Heart attack"],
    "group_id": ["h1", "g1", "a1"],
    "symptoms": [["chest_pain", "dizziness", "headache", "loss_of_balance"],
                 ["acidity", "chest_pain", "cough", "vomiting"],
                 ["breathlessness", "chest_pain", "sweating", "vomiting"]],
})
FLAG_HELDOUT = pd.DataFrame({"symptoms": [["chest_pain", "dizziness", "headache"]]})


def test_red_flag_subsets_hold_a_flag_and_stay_out_of_the_heldout_sets():
    excluded = {frozenset(s) for s in FLAG_HELDOUT["symptoms"]}
    subs = red_flag_subsets(FLAG_TRAIN, excluded, per_flag=6, seed=2)
    sets = dict(zip(FLAG_TRAIN["disease"], map(frozenset, FLAG_TRAIN["symptoms"])))
    by = pd.Series([d for d, _ in subs]).value_counts().to_dict()
    assert by["hypertension"] == 6 and by["gerd"] == 6
    for d, s in subs:
        s = frozenset(s)
        assert knowledge.red_flags_in_symptoms(s), (d, s)
        assert s <= sets[d] and s not in excluded
        assert not any(s <= o for dd, o in sets.items() if dd != d)
    gerd = {frozenset(s) for d, s in subs if d == "gerd"}
    assert all("acidity" in s or "cough" in s for s in gerd)  # chest pain + vomiting alone is heart_attack's too
    assert subs == red_flag_subsets(FLAG_TRAIN, excluded, per_flag=6, seed=2)
    assert red_flag_subsets(FLAG_TRAIN, excluded, per_flag=0) == []


def test_red_flag_rows_are_emergencies_after_the_plain_drill_rows():
    symptoms = pd.DataFrame({"token": ["chest_pain", "dizziness", "headache", "loss_of_balance", "acidity", "cough",
                                       "vomiting", "breathlessness", "sweating"], "weight": [7, 4, 3, 4, 3, 4, 5, 4, 3]})
    cases = pd.DataFrame({"symptoms": FLAG_TRAIN["symptoms"]})
    plain = drill_rows(FLAG_TRAIN, FLAG_HELDOUT, cases, symptoms, knowledge.lexicon(), per_disease=3, seed=5)
    both = drill_rows(FLAG_TRAIN, FLAG_HELDOUT, cases, symptoms, knowledge.lexicon(), per_disease=3, seed=5,
                      red_flag_per_flag=4)
    assert both.head(len(plain)).equals(plain)  # adding red-flag rows leaves the plain drill rows as they were
    extra = both.iloc[len(plain):]
    assert len(extra) >= 8 and set(extra["triage"]) == {"emergency"}
    emergency = knowledge.triage_advice("emergency")
    assert all(parse_answer(t)["see_doctor"] == emergency for t in extra["output_text"])
    only = drill_rows(FLAG_TRAIN, FLAG_HELDOUT, cases, symptoms, knowledge.lexicon(), per_disease=0, seed=5,
                      red_flag_per_flag=4)
    assert only["symptoms"].tolist() == extra["symptoms"].tolist()  # the same draws, whatever the plain rows
