"""The Hindi gloss: the symptoms a message states in Hindi words, glossed in English after it; English unchanged."""
import pandas as pd
import pytest
import yaml

from medillama import ask, knowledge
from medillama.answer import build_prompt
from medillama.generate import FakeBackend
from medillama.gloss import glossed_symptoms, hindi_gloss
from medillama.training_data import to_prompt_completion
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
                                     "Ultimately the cough got better but my cheeks are red.",
                                     "I have a high fever and I vomited twice", ""])
def test_english_messages_come_through_unchanged(message):
    assert hindi_gloss(message) == message.strip()


def test_a_short_hindi_word_is_read_only_in_hindi_context():
    assert [t for t, _ in glossed_symptoms("peeth mein dard hai")] == ["back_pain"]  # peeth is spelt like 'pit'
    assert glossed_symptoms("a small pit on my nail") == []


def test_the_gloss_is_for_reading_only():
    q = "ulti ho rahi hai"
    assert build_prompt(q) == build_prompt(q, gloss=False) and english("vomiting") not in build_prompt(q)
    assert build_prompt(q, gloss=True).count(f"({english('vomiting')})") == 1


def test_training_rows_are_not_glossed(tokenizer):  # noqa: F811
    df = pd.DataFrame({"input_text": ["ulti ho rahi hai"], "output_text": ["Likely condition: X"]})
    ds = to_prompt_completion(df, "alpaca", tokenizer, df, 1, df)
    assert all(p == build_prompt("ulti ho rahi hai") for p in ds["prompt"]) and len(ds) == 3
    assert english("vomiting") not in ds[0]["prompt"]


@pytest.mark.parametrize("gloss", [True, False])
def test_ask_reads_as_the_run_was_evaluated(tmp_path, gloss):
    (tmp_path / "training_config.yaml").write_text(
        yaml.safe_dump({"train": {"prompt_style": "alpaca", "hindi_gloss": gloss}}))
    prompts = []
    diseases = pd.DataFrame({"key": ["malaria"], "display_name": ["Malaria"], "source_name": ["Malaria"],
                             "precautions": [["rest"]]})
    a = ask.Assistant(tmp_path, backend=FakeBackend(lambda p: prompts.append(p) or "Likely condition: Malaria"),
                      diseases=diseases)
    out = a.answer(["tez bukhar aur ulti ho rahi hai"])
    assert (english("vomiting") in prompts[0]) == gloss
    assert out[0]["read_as"] == (hindi_gloss(out[0]["query"]) if gloss else out[0]["query"])  # shown in --json
