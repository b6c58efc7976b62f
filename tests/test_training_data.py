"""Training rows: row selection, and drill rows (new, unambiguous subsets of train symptom sets only, never a
held-out or source set)."""
import pandas as pd

from medillama import gates, knowledge
from medillama.answer import parse_answer
from medillama.training_data import drill_rows, drill_subsets, reworded, select_rows

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


def test_varied_drill_queries_keep_rows_and_answers():
    symptoms = pd.DataFrame({"token": ["chills", "vomiting", "high_fever", "sweating", "headache", "skin_rash",
                                       "joint_pain"], "weight": [3, 5, 7, 3, 3, 3, 3]})
    args = (TRAIN, HELDOUT, CASES, symptoms, knowledge.lexicon())
    plain = drill_rows(*args, per_disease=6, seed=3)
    varied = drill_rows(*args, per_disease=6, seed=3, varied=True)
    cols = ["output_text", "disease", "symptoms", "triage"]
    assert varied[cols].equals(plain[cols])  # same subsets and answers: only the wording of the query changes
    assert (varied["input_text"] != plain["input_text"]).any()


def test_reworded_asks_for_the_same_symptoms():
    lex = knowledge.lexicon()
    tr = TRAIN.assign(id=["m1-a", "m1-b", "d1-a"], input_text="old query")
    one, two = reworded(tr, lex, 5, 1), reworded(tr, lex, 5, 2)
    assert one.drop(columns="input_text").equals(tr.drop(columns="input_text"))
    assert (one["input_text"] != "old query").all() and (one["input_text"] != two["input_text"]).any()
    for q, s in zip(one["input_text"], tr["symptoms"]):
        assert gates.enough_symptoms(q, s, lex, 1.0) is None
    assert reworded(tr, lex, 5, 1).equals(one)


def answer_rows(n: int) -> pd.DataFrame:
    return pd.DataFrame({"input_text": [f"query {i}" for i in range(n)], "output_text": [f"answer {i}" for i in range(n)],
                         "base_row_id": [f"r{i // 2}" for i in range(n)]})


def test_select_rows_per_disease():
    df = pd.concat([answer_rows(10).assign(disease=d) for d in ("a", "b")])
    sel = select_rows(df, 4, seed=0)
    assert sel.groupby("disease").size().tolist() == [4, 4]
    assert select_rows(df, 4, seed=0).equals(sel)
    assert len(select_rows(df, 0, seed=0)) == 20


def test_drill_rows_keep_each_disease_share_of_emergencies():
    """A random subset of a GERD set often drops the vomiting that, with chest pain, makes it an emergency; with
    ``emergency_share='train'`` the drill rows are emergencies as often as the disease's train rows are."""
    gerd = ["chest_pain", "vomiting", "acidity", "cough", "stomach_pain", "ulcers_on_tongue", "indigestion"]
    train = pd.DataFrame({"disease": ["gerd"] * 4, "condition": ["GERD"] * 4, "group_id": ["g1"] * 4,
                          "symptoms": [gerd, gerd[:2] + gerd[3:5], gerd[2:6], gerd[2:5]]})
    symptoms = pd.DataFrame({"token": gerd, "weight": [7, 5, 3, 4, 5, 4, 5]})
    args = (train, pd.DataFrame({"symptoms": []}), pd.DataFrame({"symptoms": []}), symptoms, knowledge.lexicon())
    is_emergency = [knowledge.case_level("gerd", s, dict(zip(symptoms.token, symptoms.weight)))[0] == "emergency"
                    for s in train["symptoms"]]
    assert sum(is_emergency) == 2  # the two sets with chest pain and vomiting
    drawn_emergencies = 0
    for seed in (1, 2, 3):
        drawn = drill_rows(*args, per_disease=20, seed=seed)
        drawn_emergencies += (drawn["triage"] == "emergency").sum()
        matched = drill_rows(*args, per_disease=20, seed=seed, emergency_share="train")
        assert len(matched) == 20 and (matched["triage"] == "emergency").sum() == 10
        for r in matched.itertuples():  # the urgency line still follows the subset's own red flags
            has_pair = {"chest_pain", "vomiting"} <= set(r.symptoms)
            assert (r.triage == "emergency") == has_pair
    assert drawn_emergencies < 30  # as drawn, a subset keeps the pair less often than the train rows do
    try:
        drill_rows(*args, per_disease=2, emergency_share="often")
    except ValueError as err:
        assert "drill_emergency_share" in str(err) and "often" in str(err)
    else:
        raise AssertionError("an unknown emergency_share must fail")


def test_a_scarce_kind_trims_the_other_so_the_share_holds():
    # one malaria subset only holds all four of these: the emergency kind runs out at 1 of the 3 wanted
    def emergency(disease, syms):
        return {"chills", "vomiting", "sweating", "headache"} <= set(syms)

    subs = drill_subsets(TRAIN, excluded(), per_disease=6, seed=5, emergency=emergency,
                         emergency_share={"malaria": 0.5})
    malaria = [s for d, s in subs if d == "malaria"]
    assert [emergency("malaria", s) for s in malaria] == [True, False]  # 1 emergency, so 1 of the other kind
    dengue = [s for d, s in subs if d == "dengue"]  # share 0: only non-emergencies, as many as drawn
    assert dengue == [s for d, s in drill_subsets(TRAIN, excluded(), per_disease=6, seed=5) if d == "dengue"]
