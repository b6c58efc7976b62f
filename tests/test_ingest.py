import pytest

from medillama import ingest as ing
from medillama.balance import symptom_weights
from conftest import write_csv


@pytest.mark.parametrize("source,key,display", [
    ("Diabetes ", "diabetes", "Diabetes"),
    ("Hypertension ", "hypertension", "Hypertension"),
    ("(vertigo) Paroymsal  Positional Vertigo", "paroxysmal_positional_vertigo", "Paroxysmal Positional Vertigo"),
    ("Peptic ulcer diseae", "peptic_ulcer_disease", "Peptic ulcer disease"),
    ("Osteoarthristis", "osteoarthritis", "Osteoarthritis"),
    ("Dimorphic hemmorhoids(piles)", "dimorphic_hemorrhoids_piles", "Dimorphic hemorrhoids (piles)"),
    ("Dimorphic hemorrhoids(piles)", "dimorphic_hemorrhoids_piles", "Dimorphic hemorrhoids (piles)"),
    ("hepatitis A", "hepatitis_a", "Hepatitis A"),
    ("Common Cold", "common_cold", "Common Cold"),
])
def test_disease_names(source, key, display):
    assert ing.disease_key(source) == key
    assert ing.display_name(source) == display


@pytest.mark.parametrize("raw,token", [
    ("dischromic _patches", "dischromic_patches"),
    ("foul_smell_of urine", "foul_smell_of_urine"),
    ("foul_smell_ofurine", "foul_smell_of_urine"),
    ("spotting_ urination", "spotting_urination"),
    (" skin_rash", "skin_rash"),
    ("itching", "itching"),
])
def test_symptom_tokens(raw, token):
    assert ing.normalise_symptom_token(raw) == token


def test_symptom_phrases():
    assert ing.symptom_phrase("skin_rash") == "skin rash"
    assert ing.symptom_phrase("cold_hands_and_feets") == "cold hands and feet"
    assert "_" not in ing.symptom_phrase("toxic_look_(typhos)")


def test_severity_table_quirks(tmp_path):
    f = write_csv(tmp_path / "Symptom-severity.csv",
                  "Symptom,weight,,,\nitching,1,,,\nfluid_overload,6,,,\nfoul_smell_ofurine,5,,,\n"
                  "fluid_overload,4,,<option>,\nprognosis,5,,,\n")
    sev, report = ing.load_severity(f)
    assert list(sev.columns) == ["token", "weight"]
    weights = symptom_weights(sev)
    assert weights == {"itching": 1, "fluid_overload": 6, "foul_smell_of_urine": 5}  # max policy, no prognosis
    assert report["duplicates_resolved"] == {"fluid_overload": [6, 4]}
    assert report["prognosis_rows_dropped"] == 1 and report["trailing_columns_dropped"] == 3 and report["rows"] == 5
    assert report["stray_cells"] == 1


def test_severity_bad_weight(tmp_path):
    f = write_csv(tmp_path / "s.csv", "Symptom,weight\nitching,high\n")
    with pytest.raises(ing.SchemaError, match="non-integer"):
        ing.load_severity(f)


def test_precaution_blank_cells(tmp_path):
    f = write_csv(tmp_path / "p.csv", "Disease,Precaution_1,Precaution_2,Precaution_3,Precaution_4\n"
                  "Heart attack,call an ambulance,sit down and rest,chew an aspirin if not allergic,\n"
                  "Allergy,avoid the trigger,take an antihistamine,,keep windows closed when pollen is high\n")
    prec, blanks = ing.load_precautions(f)
    assert blanks == 2
    assert prec.set_index("key").loc["allergy", "precautions"] == [
        "avoid the trigger", "take an antihistamine", "keep windows closed when pollen is high"]
    assert "" not in prec.set_index("key").loc["heart_attack", "precautions"]


def test_description_spelling_matches_dataset(tmp_path):
    f = write_csv(tmp_path / "d.csv", 'Disease,Description\nDimorphic hemorrhoids(piles),"Piles are..."\n')
    assert ing.load_descriptions(f)["key"].tolist() == [ing.disease_key("Dimorphic hemmorhoids(piles)")]


def test_cases_deduplicated_with_stable_group_ids(tmp_path):
    f = write_csv(tmp_path / "dataset.csv", "Disease,Symptom_1,Symptom_2,Symptom_3\n"
                  "Diabetes ,fatigue, weight_loss, polyuria\n"
                  "Diabetes , weight_loss,fatigue, polyuria\n"          # same set, other order
                  "Fungal infection,itching, dischromic _patches,\n")
    cases, report = ing.load_cases(f)
    assert report == {"rows": 3, "unique_cases": 2, "disease_names": 2, "symptom_tokens_fixed": 1,
                      "disease_names_with_space_quirks": 2}
    diabetes = cases[cases["disease"] == "diabetes"].iloc[0]
    assert diabetes["n_source_rows"] == 2
    assert diabetes["group_id"] == ing.group_id("diabetes", ["polyuria", "fatigue", "weight_loss"])
    assert cases[cases["disease"] == "fungal_infection"].iloc[0]["symptoms"] == ["itching", "dischromic_patches"]


def test_missing_columns_say_what_is_wrong(tmp_path):
    f = write_csv(tmp_path / "Symptom-severity.csv", "Name,score\nitching,1\n")
    with pytest.raises(ing.SchemaError, match="missing columns"):
        ing.load_severity(f)


def test_real_dataset(real_ingested):
    r = real_ingested
    assert r.counts == {"source_rows": 4920, "unique_cases": 304, "source_disease_names": 41, "diseases": 41,
                        "symptoms": 131, "severity_rows": 133, "severity_tokens": 131}
    assert r.diseases["key"].is_unique and r.cases["group_id"].is_unique
    weights = symptom_weights(r.symptoms)
    used = {t for s in r.cases["symptoms"] for t in s}
    assert used == set(weights)  # no symptom silently without a weight
    assert all(" " not in t for t in used)
    assert weights["fluid_overload"] == 6
    assert all(1 <= len(p) <= 4 and all(p) for p in r.diseases["precautions"])
    assert set(r.diseases.loc[r.diseases["source_name"] != r.diseases["display_name"], "display_name"]) >= {
        "Peptic ulcer disease", "Osteoarthritis", "Paroxysmal Positional Vertigo",
        "Dimorphic hemorrhoids (piles)", "Hepatitis A"}
    assert r.diseases["description"].str.len().min() > 20


def test_fixture_has_every_quirk(ingested):
    """The fixture CSVs the unit tests read carry every quirk of the real files: each fix touches a row."""
    touched = dict(zip(ingested.quality["fix"], ingested.quality["rows_touched"]))
    assert all(n > 0 for n in touched.values()), touched
    assert ingested.counts["diseases"] == 9 and ingested.counts["source_rows"] > ingested.counts["unique_cases"]
    assert {"malaria", "dengue", "heart_attack", "common_cold", "hepatitis_a"} <= set(ingested.diseases["key"])
    assert (ingested.diseases["precautions"].map(len) >= 3).all()


def test_locate_raw_offline_names_both_remedies(tmp_path, monkeypatch):
    import kagglehub

    def offline(*a, **k):
        raise ConnectionError("Failed to resolve 'www.kaggle.com'")

    monkeypatch.setattr(kagglehub, "dataset_download", offline)
    with pytest.raises(ing.RawDataMissing) as e:
        ing.locate_raw(tmp_path / "nothing", "itachi9604/disease-symptom-description-dataset")
    msg = str(e.value)
    assert "raw_dir" in msg and "MEDILLAMA_RAW_DIR" in msg and "kagglehub" in msg and "ConnectionError" in msg


def test_locate_raw_copies_a_download(tmp_path, monkeypatch, raw_dir):
    import kagglehub

    monkeypatch.setattr(kagglehub, "dataset_download", lambda name: str(raw_dir))
    target = tmp_path / "raw"
    assert ing.locate_raw(target, "x/y") == target
    assert (target / "dataset.csv").read_bytes() == (raw_dir / "dataset.csv").read_bytes()


@pytest.mark.parametrize("content", [b"", b"\n\n", b"\xff\xfe\x00binary\x00"], ids=["empty", "blank-lines", "binary"])
def test_unreadable_csv_names_the_file_and_the_fix(tmp_path, content):
    f = tmp_path / "symptom_Description.csv"
    f.write_bytes(content)
    with pytest.raises(ing.SchemaError) as e:
        ing.load_descriptions(f)
    msg = str(e.value)
    assert str(f) in msg and "Replace it" in msg and "step 01" in msg
