"""Step 02: severity per case and a balanced sample of base rows per disease.

Each disease has only 5-10 unique symptom sets. We take each set once, then draw seeded random subsets of a set
(at least ``min_subset_size`` symptoms) that equal no other row's or case's set. Eight diseases (acne, AIDS,
allergy, fungal infection, gastroenteritis, heart attack, paralysis, UTI) have only five sets of >= 3 symptoms
and no new subset at all, so they reuse their sets round-robin (``sample_kind='repeat'``). Every row also gets a
seeded patient persona (age band, sex, place, duration), unique within its disease: no two rows are identical.
Every row keeps the ``group_id`` of the set it came from, so splits by group cannot leak.
"""
from __future__ import annotations

import itertools
import random

import pandas as pd

from .queries import random_persona


def severity_total(symptoms, weights: dict) -> int:
    """Sum of the Kaggle weights; unknown tokens raise rather than silently count as 0."""
    missing = [s for s in symptoms if s not in weights]
    if missing:
        raise KeyError(f"symptoms without a severity weight: {missing}")
    return int(sum(weights[s] for s in symptoms))


def symptom_weights(symptoms: pd.DataFrame) -> dict[str, int]:
    """{token: Kaggle severity weight} from step 01's symptoms table."""
    return dict(zip(symptoms["token"], symptoms["weight"]))


def severity_band(total: int, bands=(13, 20)) -> str:
    low, high = bands
    return "low" if total < low else "moderate" if total < high else "high"


def add_severity(cases: pd.DataFrame, symptoms: pd.DataFrame, bands=(13, 20), max_total: int | None = None):
    """Adds severity_total, severity_norm (total / the dataset's largest total, 0-1) and severity_band."""
    weights = symptom_weights(symptoms)
    out = cases.copy()
    out["severity_total"] = [severity_total(s, weights) for s in out["symptoms"]]
    denom = max_total or int(out["severity_total"].max())
    out["severity_norm"] = (out["severity_total"] / denom).round(4)
    out["severity_band"] = [severity_band(t, bands) for t in out["severity_total"]]
    return out


def _subsets_for(disease_cases: pd.DataFrame, n: int, min_size: int, rng: random.Random, taken: set):
    """Rows for one disease: every set once (shuffled), then new random subsets, then repeats if none remain."""
    sets = [(g, list(s)) for g, s in zip(disease_cases["group_id"], disease_cases["symptoms"])]
    rng.shuffle(sets)
    rows = [(g, s, "full") for g, s in sets[:n]]
    pool = []  # candidate subsets not yet taken, in a seeded order
    for g, s in sets:
        if len(s) <= 10:  # small sets: every subset (fungal infection's 4-symptom set has none left)
            combos = [c for k in range(min_size, len(s)) for c in itertools.combinations(s, k)]
        else:  # large sets have thousands; a seeded draw is plenty
            combos = [tuple(t for t in s if t in set(rng.sample(s, rng.randint(min_size, len(s) - 1))))
                      for _ in range(4 * n)]
        pool += [(g, list(c)) for c in combos if frozenset(c) not in taken]
    rng.shuffle(pool)
    for g, sub in pool:
        if len(rows) >= n:
            break
        if frozenset(sub) not in taken:
            taken.add(frozenset(sub))
            rows.append((g, sub, "subset"))
    i = 0
    while len(rows) < n:
        g, s = sets[i % len(sets)]
        rows.append((g, s, "repeat"))
        i += 1
    return rows


def balanced_sample(cases: pd.DataFrame, n_per_disease: int, seed: int = 42, min_subset_size: int = 3,
                    diseases: list[str] | None = None) -> pd.DataFrame:
    """Exactly ``n_per_disease`` rows per disease, no duplicate symptom sets, same output for the same seed."""
    if n_per_disease < 1:
        raise ValueError("samples_per_disease must be >= 1")
    if diseases:
        unknown = sorted(set(diseases) - set(cases["disease"]))
        if unknown:
            raise ValueError(f"unknown disease keys {unknown}; valid: {sorted(cases['disease'].unique())}")
        cases = cases[cases["disease"].isin(diseases)]
    # every full set is reserved up front, so a subset can never equal another case's set (that would leak)
    taken = {frozenset(s) for s in cases["symptoms"]}
    by_group = cases.set_index("group_id")
    rows = []
    for disease in sorted(cases["disease"].unique()):
        rng = random.Random(f"{seed}:{disease}")
        personas: set = set()
        for j, (g, syms, kind) in enumerate(_subsets_for(cases[cases["disease"] == disease], n_per_disease,
                                                         min_subset_size, rng, taken)):
            persona = random_persona(rng)
            while persona in personas:
                persona = random_persona(rng)
            personas.add(persona)
            age, sex, place, setting, duration = persona
            rows.append({"row_id": f"{disease}-{j:03d}", "disease": disease, "group_id": g,
                         "symptoms": syms, "n_symptoms": len(syms), "sample_kind": kind,
                         "age_band": age, "sex": sex, "place": place, "setting": setting, "duration": duration,
                         "n_source_rows": int(by_group.loc[g, "n_source_rows"])})
    return pd.DataFrame(rows)
