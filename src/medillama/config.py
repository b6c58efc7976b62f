"""Layered configuration: package defaults < configs/<profile>.yaml < environment < overrides (papermill / -p).

Every key must exist in defaults.yaml; its default fixes its type. Overrides use dotted keys
(``balance.samples_per_disease``) or a leaf name that is unique across sections (``samples_per_disease``).
"""
from __future__ import annotations

import copy
import os
from pathlib import Path

import yaml

from . import paths

DEFAULTS_FILE = Path(__file__).with_name("defaults.yaml")
PROFILES = ("cpu", "t4", "smoke")
# the probes step 04 scores: the label its manifest records them under -> their `train` config key
PROBES = {"probe": "probe_csv", "probe_hinglish": "probe_hinglish_csv"}
ENV_OVERRIDES = {"MEDILLAMA_RAW_DIR": "ingest.raw_dir"}
# keys that take one of a few words: a value outside them fails when the config loads, not minutes into a step
CHOICES = {"train.gloss_style": ("brackets", "sentence"), "train.curriculum": ("none", "answers_first"),
           "train.drill_emergency_share": ("train", "drawn"), "train.answer_copies_loss": ("whole", "body"),
           "train.compile": ("none", "layers")}


def check_choice(key: str, value):
    """``value`` if it is one of ``CHOICES[key]``; else a ValueError naming the config key: for functions that take such
    a setting directly, not through a loaded config (which fails earlier, in ``ConfigError``)."""
    if value not in CHOICES[key]:
        raise ValueError(f"{key}: {value!r} is not one of {', '.join(CHOICES[key])}")
    return value


# Trainer intervals that, as in transformers' TrainingArguments, are a number of steps or, below 1, a share of the
# run's steps (so a profile's checkpoints fall at the same places whatever its row count)
STEPS_OR_SHARE = frozenset({"sft.eval_steps", "sft.save_steps", "sft.logging_steps"})
# keys that are a share: a value outside [0, 1] fails when the config loads
SHARES = ("train.hinglish_share", "train.gloss_training_share", "train.gloss_training_keep")
# keys that are a loss weight, a learning-rate multiple or a count of passes: zero or less fails when the config loads
POSITIVE = ("train.decision_weight", "train.hinglish_weight", "train.embedding_lr_scale", "train.answer_copies")


class ConfigError(ValueError):
    pass


def drills(tcfg: dict) -> bool:
    """Whether the ``train`` config section asks for drill rows (which read the source cases and symptom weights:
    step 04's inputs, training_data.training_frames)."""
    return tcfg["drill_rows_per_disease"] > 0


def defaults() -> dict:
    return yaml.safe_load(DEFAULTS_FILE.read_text())


def _flatten(d: dict, prefix: str = "") -> dict:
    out = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(_flatten(v, key + "."))
        else:
            out[key] = v
    return out


def valid_keys() -> list[str]:
    return sorted(_flatten(defaults()))


def _canonical_key(key: str, flat_defaults: dict) -> str:
    if key in flat_defaults:
        return key
    matches = [k for k in flat_defaults if k.rsplit(".", 1)[-1] == key]
    if len(matches) == 1:
        return matches[0]
    if len(matches) > 1:
        raise ConfigError(f"Config key {key!r} is ambiguous; use one of: {', '.join(matches)}")
    raise ConfigError(f"Unknown config key {key!r}. Valid keys:\n  " + "\n  ".join(sorted(flat_defaults)))


def _coerce(key: str, value, default):
    """Parse strings from the command line (YAML syntax) and check the type against the default's."""
    if isinstance(value, str) and not isinstance(default, str):
        value = yaml.safe_load(value)
    expected = type(default)
    ok = isinstance(value, expected) and not (isinstance(value, bool) and expected is not bool)
    if expected is float and isinstance(value, int) and not isinstance(value, bool):
        value, ok = float(value), True
    if key in STEPS_OR_SHARE and isinstance(value, float) and 0 < value < 1:
        ok = True
    if ok and key in STEPS_OR_SHARE and not value > 0:
        raise ConfigError(f"Config key {key!r} is a number of steps, or below 1 a share of the run's steps; "
                          f"got {value!r}")
    if not ok:
        raise ConfigError(f"Config key {key!r} needs a {expected.__name__} (default {default!r}); got {value!r}")
    if key in CHOICES and value not in CHOICES[key]:
        raise ConfigError(f"Config key {key!r} is one of {', '.join(CHOICES[key])}; got {value!r}")
    if key in SHARES and not 0 <= value <= 1:
        raise ConfigError(f"Config key {key!r} is a share between 0 and 1; got {value!r}")
    if key in POSITIVE and not value > 0:
        raise ConfigError(f"Config key {key!r} is a multiple above 0 (1 = off); got {value!r}")
    return value


def _set(cfg: dict, dotted: str, value) -> None:
    *parents, leaf = dotted.split(".")
    node = cfg
    for p in parents:
        node = node[p]
    node[leaf] = value


def _apply(cfg: dict, flat_defaults: dict, updates: dict, origin: str) -> None:
    for key, value in updates.items():
        try:
            canon = _canonical_key(key, flat_defaults)
            _set(cfg, canon, _coerce(canon, value, flat_defaults[canon]))
        except ConfigError as e:
            raise ConfigError(f"{origin}: {e}") from None


def resolve_profile(profile: str) -> str:
    if profile == "auto":
        try:
            import torch

            cuda = torch.cuda.is_available()
        except ImportError:
            cuda = False
        chosen = "t4" if cuda else "cpu"
        print(f"profile 'auto' -> {chosen!r} ({'CUDA GPU found' if cuda else 'no CUDA GPU'})")
        return chosen
    if profile not in PROFILES:
        raise ConfigError(f"Unknown profile {profile!r}; choose auto or one of {', '.join(PROFILES)}")
    return profile


def load_config(profile: str = "cpu", overrides: dict | None = None) -> dict:
    """The resolved config for a profile; raises ConfigError naming the valid keys on an unknown key."""
    profile = resolve_profile(profile)
    cfg = defaults()
    flat = _flatten(copy.deepcopy(cfg))
    profile_file = paths.CONFIGS / f"{profile}.yaml"
    if profile_file.exists():
        _apply(cfg, flat, _flatten(yaml.safe_load(profile_file.read_text()) or {}), str(profile_file))
    env = {dotted: os.environ[var] for var, dotted in ENV_OVERRIDES.items() if os.environ.get(var)}
    _apply(cfg, flat, env, "environment")
    _apply(cfg, flat, dict(overrides or {}), "overrides")
    _check_together(cfg)
    cfg["profile"] = profile
    return cfg


def _check_together(cfg: dict) -> None:
    """Keys that are valid alone but not together."""
    t = cfg["train"]
    if t["answer_copies_loss"] == "body" and t["decision_weight"] != 1.0:
        raise ConfigError("train.answer_copies_loss 'body' trains rows without the decision lines, so "
                          f"train.decision_weight {t['decision_weight']} would weight their first two lines instead; "
                          "set decision_weight 1 or answer_copies_loss 'whole'")


def section(cfg: dict, *names: str) -> dict:
    """The parts of a config a step depends on (for its fingerprint); names may be dotted (models.generator)."""
    out = {}
    for n in names:
        node = cfg
        for part in n.split("."):
            node = node[part]
        out[n] = node
    return out
