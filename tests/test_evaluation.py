"""Step 05's scoring, baselines, external set and metrics.json record, on small synthetic inputs (no model, no
shared data): the functions notebook 05 calls."""
from types import SimpleNamespace

import pandas as pd
import pytest

from medillama import evaluation as E
from medillama.answer import format_answer, parse_answer


class Names:
    """A stand-in for DiseaseNames: three keys, their names in lower case, made-up precautions."""

    KEYS = {"malaria": "malaria", "dengue": "dengue", "common cold": "common_cold"}

    def __init__(self):
        self.precautions = {"malaria": ["use a mosquito net"], "dengue": ["drink fluids"],
                            "common_cold": ["rest"]}

    def key(self, text):
        t = str(text or "").strip().lower()
        return next((k for name, k in self.KEYS.items() if name in t), None)

    def map_labels(self, labels):
        mapping = {lab: self.key(lab) for lab in sorted(set(labels))}
        return mapping, [lab for lab, k in mapping.items() if k is None]


def answer(condition, level_advice="See a doctor within 24 hours."):
    return format_answer(condition, "Fever with chills.", ["use a mosquito net"], level_advice, "Call 104.")


def gen(*texts, finish="stop"):
    return [SimpleNamespace(text=t, finish_reason=finish) for t in texts]


@pytest.fixture
def test_rows():
    return pd.DataFrame({"id": ["r0", "r1", "r2"],
                         "input_text": ["fever and chills", "crushing chest pain and sweating", "runny nose"],
                         "disease": ["malaria", "dengue", "common_cold"],
                         "triage": ["urgent", "emergency", "self_care"],
                         "output_text": [answer("Malaria"), answer("Dengue"), answer("Common cold")]})


def test_system_answers_add_the_safety_layer_without_changing_the_condition(test_rows):
    g = {"base": gen("no idea", "no idea", "no idea", finish="length"),
         "finetuned": gen(answer("Malaria"), answer("Malaria"), answer("Common cold"))}
    texts, finish = E.system_answers(g, test_rows["input_text"], Names())
    assert list(texts) == ["base", "finetuned", "base+safety", "finetuned+safety"]
    assert texts["finetuned"][0] == answer("Malaria") and finish["base+safety"] == ["length"] * 3
    # the red-flag query gets the emergency banner after the layer only; the named condition is kept
    assert texts["finetuned+safety"][1].startswith("EMERGENCY") and not texts["finetuned"][1].startswith("EMERGENCY")
    assert not texts["finetuned+safety"][0].startswith("EMERGENCY")
    assert [parse_answer(t)["condition"] for t in texts["finetuned+safety"]] == ["Malaria", "Malaria", "Common cold"]
    assert parse_answer(texts["base+safety"][0])["complete"] and not parse_answer(texts["base"][0])["complete"]


def test_score_systems_per_system_summary(test_rows):
    texts = {"finetuned": [answer("Malaria"), answer("Malaria"), answer("Common cold")],
             "base": ["no idea"] * 3}
    finish = {"finetuned": ["stop", "stop", "length"], "base": ["length"] * 3}
    rouge, scores, summary = E.score_systems(texts, finish, test_rows, Names(), n_boot=50, seed=0)
    assert list(summary) == ["finetuned", "base"] and len(rouge["base"]) == len(scores["base"]) == 3
    assert scores["finetuned"]["pred_disease"].tolist() == ["malaria", "malaria", "common_cold"]
    ft, base = summary["finetuned"], summary["base"]
    assert ft["disease_accuracy"]["value"] == pytest.approx(2 / 3) and base["disease_accuracy"]["value"] == 0
    assert ft["ends_properly"]["value"] == pytest.approx(2 / 3) and ft["format_compliance"]["value"] == 1
    # the dengue row is an emergency; "within 24 hours" is urgent: under-triaged
    assert ft["under_triage_emergency"]["value"] == 1.0 and ft["under_triage_emergency"]["n"] == 1
    assert rouge["finetuned"]["rouge1"][0] == pytest.approx(1.0) and rouge["base"]["rouge1"].max() < 0.2
    # "Call 104." is a national helpline: no unsupported fact; nothing stated, nothing unsupported
    assert ft["unsupported_facts"] == {"value": 0.0, "lo": 0.0, "hi": 0.0, "n": 3}
    assert base["unsupported_facts"]["value"] == 0 and scores["base"]["n_unsupported_facts"].sum() == 0


def test_score_systems_unsupported_facts_per_row_and_found(test_rows):
    from medillama import facts

    invented = format_answer("Malaria", "Fever with chills.", ["use a mosquito net"], "See a doctor within 24 hours.",
                             "Local name: jada bukhar. Helpline: 1075 or 104.")
    texts = {"finetuned": [invented, answer("Dengue"), invented], "base": ["no idea"] * 3}
    finish = {"finetuned": ["stop"] * 3, "base": ["stop"] * 3}
    _, scores, summary = E.score_systems(texts, finish, test_rows, Names(), n_boot=50, seed=0)
    assert scores["finetuned"]["unsupported_facts"][0] == [("local name", "jada bukhar"), ("helpline", "1075")]
    assert scores["finetuned"]["n_unsupported_facts"].tolist() == [2, 0, 2]
    assert summary["finetuned"]["unsupported_facts"]["value"] == pytest.approx(2 / 3)
    found = facts.unsupported_fact_counts(scores)
    assert found.to_dict("records") == [
        {"kind": "helpline", "fact": "1075", "system": "finetuned", "answers": 2},
        {"kind": "local name", "fact": "jada bukhar", "system": "finetuned", "answers": 2}]
    rec = E.metrics_record(summary, {"profile": "smoke", "models": {"base": "m"}, "train": {"prompt_style": "alpaca"},
                                     "evaluate": {"split": "test", "max_new_tokens": 64, "urgency_bias": 0.0,
                                                  "no_repeat_ngram_size": 0, "bootstrap": 50}},
                           3, "a", None, {}, None, {}, None, found)
    assert rec["unsupported_facts_found"] == found.to_dict("records")
    assert rec["finetuned"]["unsupported_facts"]["n"] == 3


@pytest.fixture
def queries():
    train = pd.DataFrame({"input_text": ["fever chills sweating", "high fever chills", "sneezing runny nose",
                                         "fever rash joint pain"],
                          "disease": ["malaria", "malaria", "common_cold", "dengue"]})
    extra = pd.DataFrame({"input_text": ["pain behind the eyes rash"], "disease": ["dengue"]})
    return train, pd.concat([train, extra], ignore_index=True)


def test_baselines_fit_predict_and_summary(queries):
    train, all_queries = queries
    b = E.fit_baselines(train, all_queries, seed=0)
    assert list(b) == ["majority", "tfidf", "tfidf_all"]
    preds = E.predict_baselines(b, ["sneezing runny nose", "pain behind the eyes"])
    assert preds["majority"] == ["malaria", "malaria"] and preds["tfidf"][0] == "common_cold"
    assert preds["tfidf_all"][1] == "dengue"  # only the all-queries baseline has seen these words
    s = E.baseline_summary(["common_cold", "dengue"], preds, n_boot=50, seed=0)
    assert s["majority"]["disease_accuracy"]["value"] == 0 and s["tfidf_all"]["disease_accuracy"]["value"] == 1
    assert set(s["tfidf"]) == {"disease_accuracy", "disease_macro_f1"} and s["tfidf"]["disease_accuracy"]["n"] == 2


def test_accuracy_leads_are_paired_differences():
    y = ["a", "b", "a", "b"]
    leads = E.accuracy_leads(y, ["a", "b", "a", "a"], {"tfidf": ["a", "a", "a", "a"], "tfidf_all": y,
                                                       "majority": ["b"] * 4}, n_boot=100, seed=0)
    assert list(leads) == ["tfidf", "tfidf_all"]  # the majority class is no rival worth a lead
    assert leads["tfidf"]["value"] == pytest.approx(0.25) and leads["tfidf_all"]["value"] == pytest.approx(-0.25)


class Fixed:
    def __init__(self, *labels):
        self.labels = list(labels)

    def predict(self, texts):
        return self.labels[:len(list(texts))]


def test_external_scores_condition_line_baselines_and_rows():
    ext = pd.DataFrame({"text": ["t0", "t1", "t2"], "label": ["Malaria", "Dengue", "Typhoid"],
                        "disease": ["malaria", "dengue", None]})  # Typhoid maps to nothing: counted wrong
    answers = {"base": gen("I cannot say", "Likely condition: Dengue", "Likely condition: Typhoid"),
               "finetuned": gen("Likely condition: Malaria\nWhy: ...", "Likely condition: Dengue", "Malaria")}
    baselines = {"majority": Fixed("malaria", "malaria", "malaria"), "tfidf": Fixed("malaria", "malaria", "dengue"),
                 "tfidf_all": Fixed("malaria", "dengue", "dengue")}
    preds, acc, leads, rows = E.external_scores(ext, answers, baselines, Names(), n_boot=100, seed=0)
    assert list(preds) == ["base", "finetuned", "tfidf", "tfidf_all", "majority"]
    assert preds["finetuned"] == ["malaria", "dengue", "malaria"] and preds["base"] == [None, "dengue", None]
    assert {m: acc[m]["value"] for m in acc} == pytest.approx(
        {"base": 1 / 3, "finetuned": 2 / 3, "tfidf": 1 / 3, "tfidf_all": 2 / 3, "majority": 1 / 3})
    assert leads["tfidf"]["value"] == pytest.approx(acc["finetuned"]["value"] - acc["tfidf"]["value"])
    assert leads["tfidf_all"]["value"] == pytest.approx(0) and leads["tfidf"]["n"] == 3
    assert len(rows) == 3 and rows[1] == {"text": "t1", "label": "Dengue", "disease": "dengue",
                                          "base_output": "Likely condition: Dengue",
                                          "finetuned_output": "Likely condition: Dengue", "base_pred": "dengue",
                                          "finetuned_pred": "dengue", "tfidf_pred": "malaria",
                                          "tfidf_all_pred": "dengue"}
    record = E.external_record(ext, {"Dengue": "dengue", "Malaria": "malaria", "Typhoid": None}, ["Typhoid"])
    assert record == {"rows": 3, "labels": 3, "label_mapping": {"Dengue": "dengue", "Malaria": "malaria",
                                                                "Typhoid": None}, "unmapped_labels": ["Typhoid"]}


def test_prediction_rows_one_per_test_row(test_rows):
    texts = {"finetuned": [answer("Malaria"), answer("Dengue"), "x"]}
    finish = {"finetuned": ["stop", "stop", "length"]}
    rouge, scores, _ = E.score_systems(texts, finish, test_rows, Names(), n_boot=10, seed=0)
    rows = E.prediction_rows(test_rows, texts, finish, scores, rouge,
                             {"tfidf": ["malaria", "malaria", "dengue"], "tfidf_all": ["a", "b", "c"]})
    assert [r["id"] for r in rows] == ["r0", "r1", "r2"]
    r = rows[2]
    assert r["reference"] == test_rows["output_text"][2] and r["tfidf_pred"] == "dengue" and r["tfidf_all_pred"] == "c"
    assert r["finetuned_output"] == "x" and r["finetuned_finish_reason"] == "length"
    assert not r["finetuned_correct"] and pd.isna(r["finetuned_pred_disease"])
    assert rows[1]["finetuned_correct"] and rows[1]["finetuned_pred_disease"] == "dengue"
    assert isinstance(r["finetuned_rouge1"], float) and {"finetuned_rougeLsum", "finetuned_under_triage"} <= set(r)


def test_metrics_record_keys_and_order():
    cfg = {"profile": "smoke", "models": {"base": "m"}, "train": {"prompt_style": "alpaca", "hindi_gloss": True},
           "evaluate": {"split": "test", "max_new_tokens": 64, "urgency_bias": 1.0, "no_repeat_ngram_size": 10,
                        "bootstrap": 200}}
    summary = {"base": {"disease_accuracy": {"value": 0.1}}, "finetuned": {"disease_accuracy": {"value": 0.9}}}
    rec = E.metrics_record(summary, cfg, 3, "outputs/x/04_finetune/adapter", None, {"test": {}}, None,
                           {"base": {"rows": 3}})
    assert list(rec) == ["base", "finetuned", "n_test_rows", "split", "profile", "base_model", "finetuned_adapter",
                         "prompt_style", "hindi_gloss", "gloss_style", "max_new_tokens", "urgency_bias",
                         "no_repeat_ngram_size", "bootstrap_samples",
                         "external", "finetuned_lead", "probe_banner", "red_flag_set", "generation", "unsupported_facts_found"]
    assert rec["unsupported_facts_found"] == []
    assert rec["n_test_rows"] == 3 and rec["bootstrap_samples"] == 200 and rec["base_model"] == "m"
    assert rec["urgency_bias"] == 1.0 and rec["no_repeat_ngram_size"] == 10  # how the answers were decoded
    assert rec["hindi_gloss"] is True and rec["gloss_style"] == "brackets"  # how the models read the messages (as
    # recorded before gloss_style: brackets); read as written, no style
    assert E.metrics_record(summary, {**cfg, "train": {"prompt_style": "alpaca", "hindi_gloss": False,
                                                      "gloss_style": "sentence"}}, 3, "a", None, {"test": {}}, None,
                            {})["gloss_style"] is None
    assert rec["finetuned_adapter"] == "outputs/x/04_finetune/adapter" and rec["finetuned"]["disease_accuracy"]["value"] == 0.9


def test_probe_banner_scores_levels_from_the_symptoms(tmp_path):
    probe = tmp_path / "probe.csv"
    pd.DataFrame({"text": ["crushing chest pain spreading to my arm and sweating", "I just feel a bit off today",
                           "runny nose and sneezing"],
                  "label": ["Heart attack", "Heart attack", "Common Cold"],
                  "symptoms": ["chest_pain;sweating", "chest_pain", "continuous_sneezing"]}).to_csv(probe, index=False)

    class HeartNames(Names):
        KEYS = {**Names.KEYS, "heart attack": "heart_attack"}

    symptoms = pd.DataFrame({"token": ["chest_pain", "sweating", "continuous_sneezing"], "weight": [7, 3, 4]})
    s = E.probe_banner_scores(probe, HeartNames(), symptoms)
    assert s["emergency_rows"] == 2 and s["banner_on_emergency"] == 0.5
    assert s["missed"] == ["I just feel a bit off today"] and s["other_rows"] == 1 and s["banner_on_other"] == 0


def test_answer_content_scores_whole_answers_as_step_05_does(test_rows):
    """Step 04's content check: a right answer with the disease's precautions and sourced India notes scores full
    marks; a wrong condition and an invented helpline are counted against it."""
    from medillama import knowledge
    from medillama.generate import FakeBackend

    good = format_answer("Malaria", "Fever with chills.", ["use a mosquito net"], "See a doctor within 24 hours.",
                         knowledge.india_notes("malaria"))
    bad = format_answer("Malaria", "Fever.", ["rest"], "See a doctor within 24 hours.", "Call the dengue line 1800-111.")
    replies = {"fever and chills": good, "crushing chest pain and sweating": bad, "runny nose": "no idea"}
    backend = FakeBackend(lambda p: next(a for q, a in replies.items() if q in p))
    summary, rows = E.answer_content_scores(backend, test_rows, Names(), "alpaca", None, 400)
    assert summary["rows"] == 3 and summary["answer_disease_accuracy"] == pytest.approx(1 / 3)
    assert summary["precaution_recall_when_right"] == 1.0 and summary["precaution_recall"] == pytest.approx(1 / 3)
    assert summary["india_notes_presence"] == pytest.approx(1 / 3)
    assert summary["format_compliance"] == pytest.approx(2 / 3)
    assert summary["unsupported_facts"] == pytest.approx(1 / 3)  # the made-up number under a Malaria answer
    assert rows.loc[1, "n_unsupported_facts"] >= 1 and rows.loc[0, "n_unsupported_facts"] == 0


def test_probe_answers_are_scored_against_the_condition_they_name(tmp_path):
    """A natural message has no reference answer: each body is read against the condition the answer names. Dengue's
    own precautions and India notes after a malaria message are right for what it names (the condition is wrong);
    malaria's name over dengue's precautions and another condition's helpline are counted."""
    from medillama import knowledge
    from medillama.generate import FakeBackend

    probe = tmp_path / "probe.csv"
    pd.DataFrame({"text": ["thand lag ke bukhar aata hai", "haddi tod dard aur bukhar", "naak beh rahi"],
                  "label": ["Malaria", "Dengue", "Common Cold"]}).to_csv(probe, index=False)
    names = Names()
    names.precautions = {**names.precautions, "dengue": ["drink fluids", "use a mosquito net"]}
    own = format_answer("Dengue", "Fever.", ["drink fluids", "use a mosquito net"], "See a doctor within 24 hours.",
                        knowledge.india_notes("dengue"))
    drifted = format_answer("Malaria", "Fever.", ["drink fluids"], "See a doctor within 24 hours.",
                            knowledge.india_notes("malaria") + " Call 1800-111-555.")
    replies = {"thand lag": own, "haddi tod": drifted, "naak beh": "no idea"}
    backend = FakeBackend(lambda p: next(a for q, a in replies.items() if q in p))
    s, rows = E.probe_answer_scores(backend, probe, names, "alpaca", None, 400)
    assert s["rows"] == 3 and s["condition_accuracy"] == 0 and s["names_a_condition"] == pytest.approx(2 / 3)
    assert rows["named"].tolist()[:2] == ["dengue", "malaria"] and rows.loc[0, "precaution_recall"] == 1.0
    assert rows.loc[1, "precaution_recall"] == 0.0 and s["precaution_recall_named"] == 0.5
    assert rows["india_notes"].tolist()[:2] == [True, True] and s["india_notes_named"] == 1.0
    assert s["answers_with_unsupported_facts"] == 1 and rows.loc[0, "unsupported_facts"] == []
    assert {"kind": "helpline", "fact": "1800-111-555", "answers": 1} in s["unsupported_facts"]
    assert s["format_compliance"] == pytest.approx(2 / 3) and s["ends_properly"] == 1.0
    # a run that knows some diseases answers only their rows; a label no disease maps to is named
    s, rows = E.probe_answer_scores(backend, probe, names, "alpaca", None, 400, diseases={"dengue"})
    assert s["rows"] == 1 and rows["named"].tolist() == ["malaria"]
    pd.DataFrame({"text": ["a cough"], "label": ["Tuberculosis"]}).to_csv(probe, index=False)
    with pytest.raises(ValueError, match="Tuberculosis"):
        E.probe_answer_scores(backend, probe, names, "alpaca", None, 400)

def test_answer_all_biases_the_fine_tuned_answers_only_and_keys_its_cache_by_the_bias(tmp_path, monkeypatch):
    from medillama import paths
    from medillama.generate import FakeBackend

    class Keeps(FakeBackend):
        def generate(self, prompts, **kw):
            self.options = kw
            return super().generate(prompts, **kw)

    backends = {"base": Keeps(name="base"), "finetuned": Keeps(name="ft")}

    class Systems:
        def backend(self, label, tok, name, batch_size):
            return backends[label]

    monkeypatch.setattr(paths, "ROOT", tmp_path)
    model = tmp_path / "model"
    model.mkdir()
    (model / "weights").write_text("w")
    run = lambda bias: E.answer_all(Systems(), None, model, "base", ["fever and rash"], "alpaca", 16, 4, "t",
                                    urgency_bias=bias)
    run(0.0)
    assert "urgency_bias" not in backends["finetuned"].options and "urgency_bias" not in backends["base"].options
    run(1.0)  # new fine-tuned answers with the bias; the base model's come from the cache
    assert backends["finetuned"].options["urgency_bias"] == 1.0 and backends["finetuned"].calls == 2
    assert backends["base"].calls == 1
    run(1.0)
    assert backends["finetuned"].calls == 2  # cached under the bias
