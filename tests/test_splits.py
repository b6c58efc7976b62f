import pandas as pd
import pytest

from medillama.splits import group_split, overlap_report


def toy(n_groups=6, rows_per_group=4, diseases=("a", "b")):
    rows = []
    for d in diseases:
        for g in range(n_groups):
            for r in range(rows_per_group):
                rows.append({"id": f"{d}{g}{r}", "disease": d, "group_id": f"{d}-g{g}",
                             "symptoms": [f"{d}{g}", f"s{r}"] if r else [f"{d}{g}"]})
    return pd.DataFrame(rows)


def test_groups_never_cross_splits_and_every_disease_in_train():
    df = toy()
    df["split"] = group_split(df, (0.6, 0.2, 0.2), seed=1)
    assert (df.groupby("group_id")["split"].nunique() == 1).all()
    assert set(df.loc[df["split"] == "train", "disease"]) == {"a", "b"}
    assert set(df.loc[df["split"] == "test", "disease"]) == {"a", "b"}
    assert all(v == 0 for v in overlap_report(df).values())


def test_deterministic_and_seeded():
    df = toy(10)
    assert group_split(df, seed=3).equals(group_split(df, seed=3))
    assert not group_split(df, seed=3).equals(group_split(df, seed=4))


def test_bad_ratios():
    with pytest.raises(ValueError):
        group_split(toy(), (0.5, 0.2, 0.2))


def test_overlap_report_detects_leaks():
    df = toy()
    df["split"] = "train"
    df.loc[0, "split"] = "test"  # one row of a training group in test
    assert overlap_report(df)["train/test groups"] == 1
