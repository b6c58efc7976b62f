"""Train / validation / test split by source symptom set (group_id), stratified by disease.

All rows of a group -- its subsets, repeats and paraphrases -- land in one split, so no test symptom set and
no paraphrase of a test row is ever trained on.
"""
from __future__ import annotations

import random

import pandas as pd

SPLITS = ("train", "validation", "test")


def group_split(df: pd.DataFrame, ratios=(0.8, 0.1, 0.1), seed: int = 42) -> pd.Series:
    """Split name per row. Within each disease, groups are shuffled (seeded) and the test and validation splits
    take whole groups until they hold their share of rows (at least one group each while two remain for train)."""
    if len(ratios) != 3 or abs(sum(ratios) - 1) > 1e-6 or min(ratios) < 0:
        raise ValueError(f"split ratios must be three non-negative numbers summing to 1, got {ratios}")
    assign: dict[str, str] = {}
    for disease, g in df.groupby("disease", sort=True):
        sizes = g.groupby("group_id").size()
        groups = sorted(sizes.index)
        random.Random(f"{seed}:{disease}").shuffle(groups)
        n = len(g)
        for split, ratio in (("test", ratios[2]), ("validation", ratios[1])):
            taken = 0
            while ratio > 0 and len(groups) > 1 and (taken == 0 or taken + sizes[groups[0]] <= ratio * n + 0.5):
                if taken >= ratio * n:
                    break
                gid = groups.pop(0)
                assign[gid] = split
                taken += sizes[gid]
        for gid in groups:
            assign[gid] = "train"
    return df["group_id"].map(assign)


def overlap_report(df: pd.DataFrame, split_col: str = "split") -> dict:
    """Pairs of splits sharing a group_id or an exact symptom set (all must be 0)."""
    out = {}
    sets = {s: set(df.loc[df[split_col] == s, "group_id"]) for s in SPLITS}
    syms = {s: set(df.loc[df[split_col] == s, "symptoms"].map(lambda x: frozenset(x))) for s in SPLITS}
    for a, b in (("train", "test"), ("train", "validation"), ("validation", "test")):
        out[f"{a}/{b} groups"] = len(sets[a] & sets[b])
        out[f"{a}/{b} symptom sets"] = len(syms[a] & syms[b])
    return out


def stratified_sample(df: pd.DataFrame, column: str, total: int, seed: int) -> pd.DataFrame:
    """About ``total`` rows with equal numbers per value of ``column`` (all rows when total is 0)."""
    if not total:
        return df.reset_index(drop=True)
    per = max(1, total // df[column].nunique())
    return df.sample(frac=1.0, random_state=seed).groupby(column, sort=True).head(per).sort_index().reset_index(drop=True)
