import pytest

from medillama.balance import add_severity, balanced_sample, severity_band, severity_total, symptom_weights


@pytest.fixture(scope="module")
def cases(ingested):
    return add_severity(ingested.cases, ingested.symptoms)


def test_severity_of_a_known_row(ingested):
    weights = symptom_weights(ingested.symptoms)
    assert len(weights) == len(ingested.symptoms) and weights["itching"] == 2 and weights["dischromic_patches"] == 4
    # Fungal infection's first row: itching 2 + skin_rash 3 + skin_peeling 3 + dischromic_patches 4
    assert severity_total(["itching", "skin_rash", "skin_peeling", "dischromic_patches"], weights) == 12
    with pytest.raises(KeyError):
        severity_total(["dischromic _patches"], weights)  # the raw token would silently weigh 0 in a naive join


def test_bands():
    assert [severity_band(t) for t in (12, 13, 19, 20)] == ["low", "moderate", "moderate", "high"]


def test_balance_exact_counts_no_duplicates(cases):
    base = balanced_sample(cases, 15, seed=7)
    assert len(base) == cases["disease"].nunique() * 15
    assert set(base["disease"].value_counts()) == {15}
    rows = base.assign(key=base["symptoms"].map(frozenset))
    assert not rows.duplicated(["disease", "key", "age_band", "sex", "place", "duration"]).any()
    assert base["row_id"].is_unique
    assert (base["n_symptoms"] >= 3).all()


def test_subsets_never_equal_another_groups_set(cases):
    base = balanced_sample(cases, 15, seed=3)
    owner = {frozenset(s): g for g, s in zip(cases["group_id"], cases["symptoms"])}
    for g, s in zip(base["group_id"], base["symptoms"]):
        assert owner.get(frozenset(s), g) == g  # a set shared with a case must be that case's own group
    by_set = base.groupby(base["symptoms"].map(frozenset))["group_id"].nunique()
    assert (by_set == 1).all()
    src = dict(zip(cases["group_id"], cases["symptoms"]))
    assert all(set(s) <= set(src[g]) for g, s in zip(base["group_id"], base["symptoms"]))


def test_repeats_only_where_no_new_subset_exists(cases):
    base = balanced_sample(cases, 15)
    repeat_diseases = set(base.loc[base["sample_kind"] == "repeat", "disease"])
    # the fixture's diseases with five sets of >= 3 symptoms and no new subset (of the real data's eight)
    assert repeat_diseases == {"allergy", "fungal_infection", "heart_attack"}
    few = balanced_sample(cases, 5)
    assert set(few["sample_kind"]) == {"full"}


def test_same_seed_same_sample(cases):
    a, b, c = balanced_sample(cases, 6, seed=1), balanced_sample(cases, 6, seed=1), balanced_sample(cases, 6, seed=2)
    assert a.equals(b)
    assert not a.equals(c)


def test_disease_filter_and_errors(cases):
    base = balanced_sample(cases, 4, diseases=["malaria", "dengue"])
    assert sorted(base["disease"].unique()) == ["dengue", "malaria"] and len(base) == 8
    with pytest.raises(ValueError, match="unknown disease"):
        balanced_sample(cases, 4, diseases=["malarai"])
    with pytest.raises(ValueError):
        balanced_sample(cases, 0)
