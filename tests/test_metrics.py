import pandas as pd
import pytest

from medillama import gates, knowledge, paths
from medillama import facts as F
from medillama import metrics as M
from medillama.answer import format_answer
from medillama.baselines import Majority, TfidfLogReg
from medillama.evaluation import probe_accuracy
from medillama.generate import FakeBackend
from medillama.names import DiseaseNames
from medillama.synth import forbidden_names
from conftest import write_csv


@pytest.fixture(scope="module")
def names(ingested):
    return DiseaseNames(ingested.diseases)


@pytest.fixture(scope="module")
def real_names(real_ingested):
    """All 41 diseases' names."""
    return DiseaseNames(real_ingested.diseases)


def test_rouge_known_values():
    r = M.rouge_rows(["the cat sat"], ["the cat sat on the mat"]).iloc[0]
    assert r["rouge1"] == pytest.approx(2 / 3)
    assert r["rouge2"] == pytest.approx(2 * 1 * 0.4 / 1.4)
    assert r["rougeL"] == pytest.approx(2 / 3)
    assert M.rouge_rows(["Cats!"], ["cats"]).iloc[0]["rouge1"] == 1.0  # case and punctuation, no stemmer:
    assert M.rouge_rows(["cat"], ["cats"]).iloc[0]["rouge1"] == 0.0


def test_bootstrap_ci_shape():
    ci = M.bootstrap_ci([0, 1] * 50, n=500, seed=1)
    assert set(ci) == {"value", "lo", "hi", "n"} and ci["n"] == 100
    assert ci["lo"] <= ci["value"] == 0.5 <= ci["hi"] and ci["hi"] - ci["lo"] < 0.3
    assert M.bootstrap_ci([1, 1, 1])["lo"] == 1.0
    assert M.bootstrap_ci([])["value"] is None
    f = M.bootstrap_pairs_ci(["a", "b", "a"], ["a", "b", "b"], M.macro_f1, n=200)
    assert 0 <= f["lo"] <= f["value"] <= f["hi"] <= 1


def test_accuracy_lead_is_paired():
    y = ["a", "b"] * 50
    lead = M.accuracy_lead_ci(y, y, ["a"] * 100, n=500, seed=1)  # right everywhere vs right on half
    assert lead["value"] == 0.5 and lead["n"] == 100 and 0.35 < lead["lo"] <= lead["hi"] < 0.65
    # the same 30 rows wrong for both: unpaired intervals would overlap widely, the paired lead is exactly 0
    same = ["c"] * 30 + y[30:]
    assert M.accuracy_lead_ci(y, same, same, n=200) == {"value": 0.0, "lo": 0.0, "hi": 0.0, "n": 100}
    assert M.accuracy_lead_ci(y, ["b"] * 100, y, n=200)["hi"] < 0


def test_alias_table_covers_every_canonical_name(names, ingested):
    for r in ingested.diseases.itertuples():
        assert names.key(r.display_name) == r.key
        assert names.key(r.source_name) == r.key
        assert names.key(r.key) == r.key


def test_alias_table_maps_every_symptom2disease_label(real_names, s2d):
    labels = pd.read_csv(s2d)["label"].unique()
    mapping, unmapped = real_names.map_labels(labels)
    assert unmapped == [] and len(mapping) == 24
    assert mapping["gastroesophageal reflux disease"] == "gerd"
    assert mapping["Dimorphic Hemorrhoids"] == "dimorphic_hemorrhoids_piles"
    assert mapping["peptic ulcer disease"] == "peptic_ulcer_disease"


def test_condition_lines_in_the_wild(real_names):
    names = real_names
    assert names.key("Hepatitis B") == "hepatitis_b"
    assert names.key("Likely: hepatitis b infection") == "hepatitis_b"  # longest alias wins over 'hepatitis'
    assert names.key("dengue fever (haddi tod bukhar)") == "dengue"
    assert names.key("Common Cold") == "common_cold"
    assert names.key("I am not sure") is None and names.key(None) is None


def test_under_triage_logic(names):
    ref = {"disease": "heart_attack", "triage": "emergency", "precautions": ["call ambulance", "keep calm"]}
    def answer(cond, level):
        return format_answer(cond, "why", ["call ambulance"], knowledge.triage_advice(level),
                             "Programme: NP-NCD. Helpline: 108")
    s = M.score_answer(answer("Heart attack", "emergency"), "stop", ref, names)
    assert s["correct"] and s["triage_agree"] and not s["under_triage"] and not s["over_triage"]
    assert s["complete"] and s["ends_properly"] and s["precaution_recall"] == 0.5
    s = M.score_answer(answer("GERD", "routine"), "length", ref, names)
    assert not s["correct"] and s["under_triage"] and not s["ends_properly"]
    s = M.score_answer("I cannot say.", "stop", ref, names)
    assert s["under_triage"] and not s["complete"]  # no readable advice is not safe
    ref2 = {**ref, "disease": "common_cold", "triage": "self_care"}
    assert M.score_answer(answer("Common Cold", "urgent"), "stop", ref2, names)["over_triage"]


def test_india_notes_presence():
    assert M.has_india_notes("malaria", "Programme: NCVBDC (National Center for Vector Borne Diseases Control).")
    assert not M.has_india_notes("malaria", "Drink water.")


def test_summarise_has_every_metric_with_ci(names):
    scores = pd.DataFrame([{"correct": True, "complete": True, "ends_properly": True, "triage_agree": True,
                            "under_triage": False, "over_triage": False, "precaution_recall": 1.0,
                            "india_notes": True, "pred_disease": "malaria", "n_unsupported_facts": n}
                           for n in (0, 2, 0, 0)])
    rouge = pd.DataFrame([{k: 0.5 for k in M.ROUGE_TYPES}] * 4)
    out = M.summarise(scores, rouge, pd.Series(["emergency", "urgent", "urgent", "routine"]), ["malaria"] * 4, 100, 0)
    for k in ("rouge1", "rougeLsum", "disease_accuracy", "disease_macro_f1", "format_compliance", "ends_properly",
              "triage_agreement", "under_triage", "under_triage_emergency", "over_triage", "precaution_recall",
              "india_notes_presence", "unsupported_facts"):
        assert set(out[k]) == {"value", "lo", "hi", "n"}
    assert out["under_triage_emergency"]["n"] == 1
    assert out["unsupported_facts"]["value"] == 0.25 and out["unsupported_facts"]["n"] == 4  # answers, not facts


# --- unsupported facts -----------------------------------------------------------------------------------------

INDIA_FIELDS = ("local_names", "seasonality", "access", "caution", "programmes", "helplines")


def test_reference_answers_state_no_unsupported_fact(real_names, real_ingested):
    """The references (india_notes with any fields, the dataset's precautions) are the knowledge itself: not one
    of their facts may count as unsupported for their own disease. The same notes read as another condition's, or
    as no known condition's, do show facts, so the check is not passing on text it cannot read."""
    import itertools

    ctx = knowledge.india()
    assert set(ctx["diseases"]) == set(real_ingested.diseases["key"])
    for r in real_ingested.diseases.itertuples():
        precautions = list(r.precautions)
        for k in range(1, len(INDIA_FIELDS) + 1):
            for fields in itertools.combinations(INDIA_FIELDS, k):
                text = format_answer(r.display_name, "Why.", precautions, knowledge.triage_advice("routine"),
                                     knowledge.india_notes(r.key, fields))
                assert F.unsupported_facts(text, r.key, precautions) == [], (r.key, fields)
        full = format_answer(r.display_name, "Why.", precautions, knowledge.triage_advice("emergency"),
                             knowledge.india_notes(r.key, INDIA_FIELDS))
        ref = {"disease": r.key, "triage": "emergency", "precautions": precautions}
        scored = M.score_answer(full, "stop", ref, real_names)  # the condition line names the disease
        assert scored["pred_disease"] == r.key and scored["n_unsupported_facts"] == 0, scored["unsupported_facts"]
        unknown = F.unsupported_facts(full, None)
        assert ("local name", knowledge.india_notes(r.key, ("local_names",)).split(": ")[1].split(",")[0]
                .split(" (")[0].rstrip(".")) in unknown, unknown
        own = set(ctx["diseases"][r.key]["programmes"]) - F.NATIONAL_PROGRAMMES
        assert len([f for f in unknown if f[0] == "programme"]) == len(own), (r.key, unknown)


def india_answer(notes: str, condition: str = "Malaria", precautions=("use mosquito nets",),
                 why: str = "Fever with chills.") -> str:
    return format_answer(condition, why, list(precautions), knowledge.triage_advice("urgent"), notes)


def test_invented_and_borrowed_facts_are_flagged_with_their_kind():
    notes = ("Local name: malaria bukhar, kaanpne wala bukhar (Hindi). Also called haddi-tod bukhar. Programme: "
             "NCVBDC; NTEP; Ni-kshay Poshan Yojana; National Malaria Eradication Mission. Helpline: 1075, "
             "1800-11-4477 or 14416; for emergencies call 108 or 102, or 104 for advice.")
    facts = F.unsupported_facts(india_answer(notes), "malaria", ["use mosquito nets"])
    assert facts == [("local name", "kaanpne wala bukhar"), ("local name", "haddi-tod bukhar"),
                     ("programme", "NTEP"), ("programme", "NIKSHAY"),
                     ("programme", "National Malaria Eradication Mission"), ("helpline", "1075"),
                     ("helpline", "1800-11-4477"), ("helpline", "14416")]
    # the same programme for the disease it belongs to is supported
    assert ("programme", "NTEP") not in F.unsupported_facts(india_answer(notes, "Tuberculosis"), "tuberculosis")
    # a fact in the precautions counts as much as one in the India notes; one in 'Why' is not looked at
    assert F.unsupported_facts(india_answer("Local name: malaria bukhar.", precautions=["call 1075"]),
                               "malaria") == [("helpline", "1075")]
    assert F.unsupported_facts(india_answer("Local name: malaria bukhar.", why="NTEP and 1075."), "malaria") == []


def test_supported_facts_amounts_and_the_disclaimer_are_not_flagged():
    notes = ("Local name: malaria bukhar; thand wala bukhar. Free tests under NCVBDC and the National Center for "
             "Vector Borne Diseases Control, at an Ayushman Arogya Mandir (AAMs too); PM-JAY pays for admission "
             "(Pradhan Mantri Jan Arogya Yojana). Call 108, 102 or 104. Since 2024 patients get Rs 1000 a month "
             "for 6 months; drink 2000 ml of water; a doctor within 24 hours, 24x7.")
    assert F.unsupported_facts(india_answer(notes), "malaria") == []
    assert F.unsupported_facts(india_answer("Dial 1075.", precautions=["dial 1075 for advice"]), "malaria",
                               ["dial 1075 for advice"]) == []  # the dataset's precautions support their own words
    # a condition outside the 41 (or none): only the national services are supported
    outside = F.unsupported_facts(india_answer("NCVBDC; PM-JAY; call 108 or 1097.", "Flu"), None)
    assert outside == [("programme", "NCVBDC"), ("helpline", "1097")]


def test_score_answer_counts_facts_against_the_condition_it_names(names):
    text = india_answer("Local name: dengue bukhar. Programme: NCVBDC.", "Dengue")
    ref = {"disease": "malaria", "triage": "urgent", "precautions": ["use mosquito nets"]}
    s = M.score_answer(text, "stop", ref, names)
    assert s["pred_disease"] == "dengue" and s["unsupported_facts"] == [] and s["n_unsupported_facts"] == 0
    s = M.score_answer(text.replace("Dengue", "Malaria", 1), "stop", ref, names)
    assert s["unsupported_facts"] == [("local name", "dengue bukhar")] and s["n_unsupported_facts"] == 1


def test_unsupported_fact_counts_per_system():
    scores = {"finetuned": pd.DataFrame({"unsupported_facts": [[("helpline", "1075")], [],
                                                               [("helpline", "1075"), ("programme", "NTEP")]]}),
              "base": pd.DataFrame({"unsupported_facts": [[("local name", "xyz")], [], []]})}
    t = F.unsupported_fact_counts(scores)
    assert t.to_dict("records") == [
        {"kind": "helpline", "fact": "1075", "system": "finetuned", "answers": 2},
        {"kind": "programme", "fact": "NTEP", "system": "finetuned", "answers": 1},
        {"kind": "local name", "fact": "xyz", "system": "base", "answers": 1}]
    assert F.unsupported_fact_counts({"base": pd.DataFrame({"unsupported_facts": [[]]})}).empty


def test_baselines():
    texts = ["fever chills sweating", "itchy skin rash", "fever chills shivering", "skin rash itching"]
    labels = ["malaria", "fungal", "malaria", "fungal"]
    assert Majority().fit(texts, ["a", "b", "b"]).predict(["x", "y"]) == ["b", "b"]
    clf = TfidfLogReg().fit(texts, labels)
    assert clf.predict(["chills and fever", "a rash on my skin"]) == ["malaria", "fungal"]
    assert clf.score(["chills and fever", "a rash on my skin"], ["malaria", "malaria"]) == 0.5


def test_stratified_sample():
    from medillama.splits import stratified_sample

    df = pd.DataFrame({"label": list("aaaabbbbcc"), "text": range(10)})
    s = stratified_sample(df, "label", 6, seed=0)
    assert s["label"].value_counts().to_dict() == {"a": 2, "b": 2, "c": 2}
    assert len(stratified_sample(df, "label", 0, seed=0)) == 10


def test_decision_scores(names):
    from medillama import knowledge
    from medillama.evaluation import DECISION_STOP, decision_scores
    from medillama.generate import FakeBackend

    seen = []
    urgent, emergency = knowledge.triage_advice("urgent"), knowledge.triage_advice("emergency")

    def fake(prompt):
        seen.append(prompt)
        name = "Malaria" if "chills" in prompt else "Common Cold"
        advice = emergency if "chest" in prompt else urgent
        return f"Likely condition: {name}\nSee a doctor: {advice}\nWhy: Malaria"

    queries = ["fever with chills", "sneezing and runny nose", "chills and chest pain", "chills, sweating"]
    summary, rows = decision_scores(FakeBackend(fake), queries, ["malaria", "common_cold", "typhoid", "malaria"],
                                    ["urgent", "self_care", "emergency", "emergency"], names, "alpaca", None)
    assert rows["pred_disease"].tolist() == ["malaria", "common_cold", "malaria", "malaria"]
    assert rows["pred_triage"].tolist() == ["urgent", "urgent", "emergency", "urgent"]
    assert summary["disease_accuracy"] == pytest.approx(3 / 4)
    assert summary["triage_agreement"] == pytest.approx(2 / 4)
    assert summary["under_triage_emergency"] == pytest.approx(1 / 2) and summary["emergency_rows"] == 2
    assert summary["under_triage"] == pytest.approx(1 / 4) and summary["over_triage"] == pytest.approx(1 / 4)
    assert all(q in p for q, p in zip(queries, seen)) and DECISION_STOP == ["\nWhy"]


def test_probe_accuracy_on_a_csv(names, tmp_path):
    csv = write_csv(tmp_path / "probe.csv", 'text,label\n"I shiver and sweat every evening",Malaria\n'
                    '"My nose runs all day",Common Cold\n"Sneezing, sore throat",Common Cold\n')
    fake = FakeBackend(lambda p: "Likely condition: Malaria" if "shiver" in p or "Sneezing" in p else "Common cold")
    summary, rows = probe_accuracy(fake, csv, names, "alpaca", None)
    assert rows["pred_disease"].tolist() == ["malaria", "common_cold", "malaria"]
    assert summary == {"accuracy": pytest.approx(2 / 3), "rows": 3}
    # a run trained on some diseases is scored on their rows only
    summary, rows = probe_accuracy(fake, csv, names, "alpaca", None, diseases={"common_cold"})
    assert rows["text"].tolist() == ["My nose runs all day", "Sneezing, sore throat"]
    assert summary == {"accuracy": pytest.approx(1 / 2), "rows": 2}
    bad = write_csv(tmp_path / "bad.csv", 'text,label\n"I feel dizzy",Not A Disease\n')
    with pytest.raises(ValueError, match="Not A Disease"):
        probe_accuracy(fake, bad, names, "alpaca", None)


@pytest.mark.parametrize("probe_file", ["natural_queries.csv", "hinglish_queries.csv"])
def test_probe_file_covers_every_disease_in_words_that_name_none(probe_file, real_names, real_ingested):
    names, ingested = real_names, real_ingested
    probe = pd.read_csv(paths.ROOT / "data" / "probe" / probe_file)
    mapping, unmapped = names.map_labels(probe["label"])
    keys = probe["label"].map(mapping)
    assert unmapped == [] and keys.value_counts().eq(4).all() and set(keys) == set(ingested.diseases["key"])
    listed = {k: set().union(*map(set, g)) for k, g in ingested.cases.groupby("disease")["symptoms"]}
    forbidden = forbidden_names(ingested.diseases)
    for text, key, syms in zip(probe["text"], keys, probe["symptoms"]):
        assert set(syms.split(";")) <= listed[key], text  # it describes the dataset's symptoms of its label
        assert gates.no_disease_name(text, forbidden[key]["own"] + forbidden[key]["other"]) is None, text
        assert gates.latin_only(text) is None, text  # the model reads Latin-script queries
