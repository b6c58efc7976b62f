"""Symptom-subset drill rows for step 04: more ways to say a train disease than its 5-10 symptom sets give.

The model fits the train split (~0.98 condition accuracy) far better than it generalises to unseen symptom sets
(~0.82 on validation): with few sets per disease it can lean on one symptom every training query of a disease
happens to mention. Drill rows are short decision rows (a lexicon-template query, then the condition and
urgency lines) for new subsets of the **train** symptom sets that

- name this disease only: no other disease's train set contains the subset (an ambiguous pair such as fever +
  headache would teach noise), and
- equal no symptom set of the validation or test split and no source case, so the split guarantee holds.
"""
from __future__ import annotations

import random

import pandas as pd

from . import knowledge
from .answer import format_decision
from .balance import random_persona, symptom_weights
from .synth import template_query, varied_query

COLUMNS = ["input_text", "output_text", "disease", "symptoms", "triage"]
MAX_SYMPTOMS = 8  # longer subsets add tokens, not new evidence
HINGLISH_SHARE = 0.2  # as in the dataset (synth.hinglish_rate)


def group_sets(df: pd.DataFrame) -> dict[str, list[frozenset]]:
    """Per disease, the symptom sets of its groups (a group's rows are its set and subsets of it)."""
    out: dict[str, list[frozenset]] = {}
    for (disease, _), syms in df.groupby(["disease", "group_id"], sort=True)["symptoms"]:
        out.setdefault(disease, []).append(frozenset().union(*(frozenset(s) for s in syms)))
    return out


def drill_subsets(train: pd.DataFrame, excluded: set[frozenset], per_disease: int, min_size: int = 2,
                  seed: int = 42, tries: int = 200) -> list[tuple[str, list[str]]]:
    """Up to ``per_disease`` (disease, symptoms) pairs per disease: seeded draws of a train set and a subset size,
    kept when the subset is new (not in ``excluded``, not drawn before) and names this disease only."""
    sets = group_sets(train)
    out = []
    for disease in sorted(sets):
        rng = random.Random(f"{seed}:{disease}:drill")
        others = [s for d, ss in sets.items() if d != disease for s in ss]
        seen: set[frozenset] = set()
        for _ in range(per_disease * tries):
            if len(seen) >= per_disease:
                break
            source = sorted(rng.choice(sets[disease]))
            if len(source) <= min_size:
                continue
            sub = frozenset(rng.sample(source, rng.randint(min_size, min(len(source) - 1, MAX_SYMPTOMS))))
            if sub in seen or sub in excluded or any(sub <= o for o in others):
                continue
            seen.add(sub)
            out.append((disease, sorted(sub)))
    return out


def ask(symptoms: list[str], lexicon: dict, key: str, varied: bool = False) -> str:
    """A patient query for ``symptoms`` from a persona seeded by ``key``: the dataset's template, or in one of
    ``synth.varied_query``'s shapes; a seeded HINGLISH_SHARE of them in Hinglish."""
    age, sex, place, _, duration = random_persona(random.Random(f"{key}:persona"))
    row = {"symptoms": symptoms, "age_band": age, "sex": sex, "place": place, "duration": duration}
    hinglish = random.Random(f"{key}:query").random() < HINGLISH_SHARE
    return (varied_query if varied else template_query)(row, lexicon, f"{key}:query", hinglish=hinglish)


def reworded(train: pd.DataFrame, lexicon: dict, seed: int, copy: int) -> pd.DataFrame:
    """``train`` with every query asked anew (``ask``, varied) from the row's own symptoms; the answers stay. Decision
    copies after the first: each pass over the split then says the same sets in other shapes."""
    out = train.copy()
    out["input_text"] = [ask(list(s), lexicon, f"{seed}:{rid}:copy{copy}", varied=True)
                         for rid, s in zip(train["id"], train["symptoms"])]
    return out


def drill_rows(train: pd.DataFrame, heldout: pd.DataFrame, cases: pd.DataFrame, symptoms: pd.DataFrame,
               lexicon: dict, per_disease: int, min_size: int = 2, seed: int = 42, varied: bool = False) -> pd.DataFrame:
    """Rows with ``input_text`` (``ask``: a query from a seeded persona) and ``output_text`` (the condition and
    urgency lines, urgency from triage.yaml as for every reference answer) for ``drill_subsets``.
    ``heldout``: the validation and test rows; ``cases``: every source symptom set."""
    if per_disease <= 0:
        return pd.DataFrame(columns=COLUMNS)
    excluded = {frozenset(s) for frame in (train, heldout, cases) for s in frame["symptoms"]}
    weights = symptom_weights(symptoms)
    display = dict(zip(train["disease"], train["condition"]))
    rows = []
    for i, (disease, syms) in enumerate(drill_subsets(train, excluded, per_disease, min_size, seed)):
        query = ask(syms, lexicon, f"{seed}:{disease}:{i}", varied)
        level, _ = knowledge.case_level(disease, syms, weights)
        rows.append({"input_text": query, "output_text": format_decision(display[disease], knowledge.triage_advice(level)),
                     "disease": disease, "symptoms": syms, "triage": level})
    return pd.DataFrame(rows, columns=COLUMNS)
