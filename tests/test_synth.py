"""Synthesis with the deterministic fake backend: gates, fallbacks, caching, answers, splits."""
import re

import pandas as pd
import pytest

from medillama.answer import parse_answer
from medillama.balance import add_severity, balanced_sample
from medillama.generate import CachedGenerator, FakeBackend
from medillama import knowledge
from medillama.splits import group_split, overlap_report
from medillama import gates
from medillama.queries import template_query, varied_query
from medillama.synth import dataset_card, rejection_table, synthesize, task_table

CFG = {"llm_tasks": ["patient_query", "paraphrase_query", "rationale", "paraphrase_rationale"],
       "temperature": 0.0, "max_new_tokens_query": 60, "max_new_tokens_rationale": 60, "hinglish_rate": 0.25,
       "min_symptom_share": 0.6, "near_duplicate_rouge_l": 0.7, "query_words": [8, 120], "rationale_words": [6, 80],
       "india_fields": ["local_names", "access", "programmes", "helplines"], "split_ratios": [0.8, 0.1, 0.1]}


@pytest.fixture(scope="module")
def base(ingested):
    cases = add_severity(ingested.cases, ingested.symptoms)
    b = balanced_sample(cases, 6, diseases=["malaria", "dengue", "heart_attack", "fungal_infection"])
    return add_severity(b, ingested.symptoms, max_total=int(cases["severity_total"].max()))


def good_or_bad(prompt: str) -> str:
    """A fake model: every third prompt gets junk (in Chinese, or naming the disease); the rest a good answer."""
    lex = knowledge.lexicon()
    h = sum(map(ord, prompt)) % 3
    if "patient sends to a doctor" in prompt:
        if h == 0:
            return "我发烧了 I have malaria and dengue"
        found = [e["en"][0] for e in lex.values() if e["en"][0] in prompt or any(p in prompt for p in e["en"])]
        return f"Hello doctor, I have had {', '.join(found[:12]) or 'fever'} for some days now, please help me."
    if "Rewrite this patient's message" in prompt:
        return "As an AI I cannot" if h == 0 else prompt.split("Message: ", 1)[1] + " Thank you."
    if "explain to the patient" in prompt:
        return "It is heart attack obviously." if h == 0 else "These symptoms, like the fever and chills, fit it."
    return "Those signs, including the fever and the chills, point to this condition."


def test_synthesize_with_fake_backend(base, ingested, tmp_path):
    backend = FakeBackend(good_or_bad)
    gen = CachedGenerator(backend, tmp_path / "cache", batch_size=8, progress=False)
    res = synthesize(base, ingested.diseases, gen, CFG, seed=1)
    df = res.rows
    assert len(df) == 2 * len(base)  # no row lost
    assert set(df["source"]) <= {"llm", "template", "template_hinglish"}
    assert (df["source"] == "llm").any() and (df["source"] == "template").any()
    log = pd.DataFrame(res.generations)
    assert (~log["accepted"]).any() and log.loc[~log["accepted"], "reason"].notna().all()  # failures kept
    assert log.loc[~log["accepted"], "raw"].str.contains("我|As an AI|malaria|heart attack", regex=True).any()
    # no disease name in any query, Latin script everywhere
    for q, cond in zip(df["input_text"], df["condition"]):
        assert cond.lower() not in q.lower()
    assert not df["input_text"].str.contains("我").any()
    # every answer parses into five sections with the right condition and triage
    for _, r in df.iterrows():
        p = parse_answer(r["output_text"])
        assert p["complete"] and p["condition"] == r["condition"]
        assert knowledge.level_from_text(p["see_doctor"]) == r["triage"]
    assert set(df.loc[df["disease"] == "heart_attack", "triage"]) == {"emergency"}
    # paraphrases point at their originals
    para = df.dropna(subset=["paraphrase_of"])
    assert len(para) == len(base) and set(para["paraphrase_of"]) <= set(df["id"])
    # second run comes from the cache: the backend is not called again
    calls = backend.calls
    rerun = synthesize(base, ingested.diseases, gen, CFG, seed=1)
    assert backend.calls == calls and rerun.rows.equals(df)
    # and so does its dataset card: nothing in it depends on how the rows were made this time (speed, cache); the
    # generation times are those recorded with the cached generations
    tables = [task_table(r.generations, r.stats) for r in (res, rerun)]
    cards = [dataset_card(r.rows.assign(split=group_split(r.rows, CFG["split_ratios"], 1)),
                          rejection_table(r.generations), "fake", CFG, t) for r, t in zip((res, rerun), tables)]
    assert cards[0] == cards[1] and f"rows: {len(df)} (" in cards[0]
    t = tables[0]
    assert (t["llm"] + t["template"] == t["rows"]).all() and t["generation_s"].notna().all()
    assert t.loc["patient_query", "llm"] == (df["source"][df["paraphrase_of"].isna()] == "llm").sum()
    assert "| patient_query | " in cards[0] and "not measured (no labelled generations)" in cards[0]
    assert "Template-written" not in cards[0]


def test_without_llm_everything_is_template(base, ingested):
    res = synthesize(base, ingested.diseases, None, {**CFG, "llm_tasks": []}, seed=1)
    df = res.rows
    assert set(df["source"]) == {"template", "template_hinglish"}
    assert (df["source"] == "template_hinglish").sum() > 0
    tasks = task_table(res.generations, res.stats)
    assert (tasks["llm"] == 0).all() and (tasks["generated"] == 0).all() and (tasks["template"] > 0).all()
    card = dataset_card(df.assign(split="train"), rejection_table(res.generations), "unused-model",
                        {**CFG, "llm_tasks": []}, tasks)
    assert "**Template-written.**" in card and "no generator model was loaded" in card
    assert "unused-model" not in card
    assert not df["input_text"].str.contains("_").any()  # no raw tokens like 'skin_rash'


def test_template_query_reads_naturally(base):
    row = base.iloc[0].to_dict()
    q = template_query(row, knowledge.lexicon(), "s")
    assert q.count("I have had") == 1 and "_" not in q and q.endswith(("?", "."))
    assert template_query(row, knowledge.lexicon(), "s") == q


def test_varied_query_states_every_symptom_in_several_shapes(base):
    lex = knowledge.lexicon()
    row = base.iloc[0].to_dict()
    qs = [varied_query(row, lex, f"s{i}") for i in range(40)]
    assert varied_query(row, lex, "s3") == qs[3]  # seeded
    for q in qs:
        assert "_" not in q and "{" not in q
        assert gates.enough_symptoms(q, row["symptoms"], lex, 1.0) is None  # every symptom still said
    assert sum("I have had" in q for q in qs) < len(qs) / 2  # mostly not the dataset's one frame
    assert any(q[:1].islower() for q in qs) and any(row["place"] in q for q in qs)  # terse notes and personas
    assert any(not q.endswith("?") for q in qs) and any(q.endswith("?") for q in qs)
    hi = varied_query(row, lex, "h", hinglish=True)
    assert "_" not in hi


def test_split_of_synth_rows_has_no_overlap(base, ingested):
    df = synthesize(base, ingested.diseases, None, CFG, seed=1).rows
    df["split"] = group_split(df, CFG["split_ratios"], 1)
    assert all(v == 0 for v in overlap_report(df).values())
    assert set(df["split"]) == {"train", "validation", "test"}


def test_hinglish_training_queries_use_hindi_frames_and_phone_spellings(base):
    """Training queries in Hinglish read as people type them (Hindi grammar around the symptoms, respellings),
    seeded, and keep every symptom's phrasing."""
    from medillama.queries import persona_query, typed
    import random

    lex = knowledge.lexicon()
    syms = ["high_fever", "joint_pain", "headache"]
    qs = [persona_query(syms, lex, f"k{i}", varied=True, hinglish_share=1.0) for i in range(40)]
    assert persona_query(syms, lex, "k3", varied=True, hinglish_share=1.0) == qs[3]
    assert sum(bool(re.search(r"\b(se|sy|mujhe|muje|mjhe|saath|aur|or)\b", q.lower())) for q in qs) >= 25
    assert all("_" not in q and "{" not in q for q in qs)
    english = [persona_query(syms, lex, f"k{i}", varied=True, hinglish_share=0.0) for i in range(40)]
    assert not any(re.search(r"\b(mujhe|saath mein|din se)\b", q) for q in english)
    assert all(gates.enough_symptoms(q, syms, lex, 1.0) is None for q in english)  # English stays readable
    text = "Mujhe do din se bahut tez bukhar hai. Kya karun?"
    assert typed(text, random.Random(0), share=0.0) == text
    variants = {typed(text, random.Random(i), share=1.0) for i in range(30)}
    assert len(variants) > 5 and any("bhot" in v or "bohot" in v or "bahot" in v for v in variants)
    assert all(len(v.split()) == len(text.split()) for v in variants)
