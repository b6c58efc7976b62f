import pytest

from medillama import config


def test_profile_layers_over_defaults():
    d = config.defaults()
    smoke = config.load_config("smoke")
    assert smoke["balance"]["samples_per_disease"] == 4 != d["balance"]["samples_per_disease"]
    assert smoke["balance"]["min_subset_size"] == d["balance"]["min_subset_size"]
    assert smoke["profile"] == "smoke"
    assert config.load_config("t4")["models"]["base"] == "meta-llama/Llama-3.2-1B"


def test_overrides_win_dotted_and_leaf(monkeypatch):
    monkeypatch.setenv("MEDILLAMA_RAW_DIR", "/from/env")
    cfg = config.load_config("smoke", {"samples_per_disease": "9", "balance.min_subset_size": 2})
    assert cfg["balance"]["samples_per_disease"] == 9 and cfg["balance"]["min_subset_size"] == 2
    assert cfg["ingest"]["raw_dir"] == "/from/env"
    assert config.load_config("smoke", {"raw_dir": "/cli"})["ingest"]["raw_dir"] == "/cli"


def test_list_values_parse_from_strings():
    cfg = config.load_config("cpu", {"diseases": "[malaria, dengue]"})
    assert cfg["balance"]["diseases"] == ["malaria", "dengue"]


def test_unknown_key_lists_valid_keys():
    with pytest.raises(config.ConfigError) as e:
        config.load_config("cpu", {"samples_per_diseas": 3})
    assert "Unknown config key 'samples_per_diseas'" in str(e.value)
    assert "balance.samples_per_disease" in str(e.value) and "ingest.raw_dir" in str(e.value)


def test_wrong_type_fails():
    with pytest.raises(config.ConfigError, match="needs a int"):
        config.load_config("cpu", {"samples_per_disease": "many"})
    with pytest.raises(config.ConfigError, match="needs a int"):
        config.load_config("cpu", {"samples_per_disease": True})



def test_trainer_intervals_take_steps_or_a_share_of_the_run():
    """As transformers' TrainingArguments: a number of steps, or below 1 a share of the run's steps; a share of 1 or
    more, zero or a negative number names the key."""
    cfg = config.load_config("smoke", {"sft.eval_steps": "0.25", "sft.save_steps": 3})
    assert cfg["sft"]["eval_steps"] == 0.25 and cfg["sft"]["save_steps"] == 3
    for bad, match in (("1.5", "needs a int"), ("0", "share of the run's steps; got 0"),
                       ("-0.5", "needs a int"), ("-2", "share of the run's steps; got -2")):
        with pytest.raises(config.ConfigError, match=match):
            config.load_config("smoke", {"sft.eval_steps": bad})

def test_a_value_outside_its_choices_fails_when_the_config_loads():
    with pytest.raises(config.ConfigError,
                       match="overrides: Config key 'train.gloss_style' is one of brackets, sentence; got 'after'"):
        config.load_config("cpu", {"gloss_style": "after"})
    with pytest.raises(config.ConfigError, match="'train.drill_emergency_share' is one of train, drawn"):
        config.load_config("smoke", {"train.drill_emergency_share": "all"})
    for profile in config.PROFILES:  # every profile's own values are among the choices
        cfg = config.load_config(profile)
        assert all(cfg[k.split(".")[0]][k.split(".")[1]] in v for k, v in config.CHOICES.items())


BOUNDS = {"share": (config.SHARES, r"is a share between 0 and 1; got", lambda v: 0 <= v <= 1),
          "multiple": (config.POSITIVE, r"is a multiple above 0 \(1 = off\); got", lambda v: v > 0)}


@pytest.mark.parametrize("kind, key, value", [("share", "gloss_training_keep", 1.5), ("share", "gloss_training_share", -0.1),
                                              ("share", "train.hinglish_share", 2), ("multiple", "train.hinglish_weight", 0),
                                              ("multiple", "train.decision_weight", -1.0),
                                              ("multiple", "embedding_lr_scale", 0.0)])
def test_a_value_outside_its_range_fails_when_the_config_loads(kind, key, value):
    keys, says, holds = BOUNDS[kind]
    with pytest.raises(config.ConfigError, match=says):
        config.load_config("cpu", {key: value})
    for profile in config.PROFILES:
        cfg = config.load_config(profile)
        assert all(holds(cfg[k.split(".")[0]][k.split(".")[1]]) for k in keys)


def test_unknown_profile_and_auto(monkeypatch):
    with pytest.raises(config.ConfigError, match="Unknown profile"):
        config.load_config("gpu")
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert config.resolve_profile("auto") == "cpu"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert config.resolve_profile("auto") == "t4"


def test_profile_files_only_use_known_keys():
    for p in config.PROFILES:
        config.load_config(p)  # raises on an unknown key in configs/<p>.yaml


def test_a_setting_passed_directly_is_checked_against_the_same_choices_as_the_config():
    """Functions that take a one-of-a-few setting directly (the gloss style, the trainer's compile and curriculum, the
    drill rows' emergency share) fail as the config would, naming the key."""
    from medillama import gloss
    from medillama.config import CHOICES, check_choice
    from medillama.training_data import drill_rows

    assert [check_choice("train.compile", v) for v in CHOICES["train.compile"]] == list(CHOICES["train.compile"])
    with pytest.raises(ValueError, match=r"train.compile: 'all' is not one of none, layers"):
        check_choice("train.compile", "all")
    with pytest.raises(ValueError, match=r"train.gloss_style: 'inline' is not one of brackets, sentence"):
        gloss.hindi_gloss("tez bukhar hai", style="inline")
    with pytest.raises(ValueError, match=r"train.drill_emergency_share: 'half' is not one of train, drawn"):
        drill_rows(None, None, None, None, {}, per_disease=1, emergency_share="half")
