"""Step 01: load the four Kaggle CSVs, validate them and fix their known quirks.

Each quirk has a named function below and a unit test; ``ingest`` applies them all and returns a
data-quality table saying what each fix touched.
"""
from __future__ import annotations

import hashlib
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .pipeline import RAW_FILES

# Source spelling (whitespace-normalised) -> corrected display name. Unlisted names display as they are.
DISPLAY_FIXES = {
    "(vertigo) Paroymsal Positional Vertigo": "Paroxysmal Positional Vertigo",
    "Dimorphic hemmorhoids(piles)": "Dimorphic hemorrhoids (piles)",
    "Dimorphic hemorrhoids(piles)": "Dimorphic hemorrhoids (piles)",  # symptom_Description.csv spelling
    "Osteoarthristis": "Osteoarthritis",
    "Peptic ulcer diseae": "Peptic ulcer disease",
    "hepatitis A": "Hepatitis A",
}

# Severity-table token -> canonical token, after whitespace removal ("foul_smell_of urine" in dataset.csv).
TOKEN_FIXES = {"foul_smell_ofurine": "foul_smell_of_urine"}

# Readable phrases where replacing underscores is not enough (source misspellings, odd tokens).
PHRASE_FIXES = {
    "cold_hands_and_feets": "cold hands and feet",
    "dischromic_patches": "discoloured skin patches",
    "extra_marital_contacts": "extramarital contacts",
    "scurring": "scarring",
    "spotting_urination": "spotting when passing urine",
    "swelled_lymph_nodes": "swollen lymph nodes",
    "swollen_extremeties": "swollen extremities",
    "toxic_look_(typhos)": "toxic look (typhos)",
    "continuous_feel_of_urine": "constant urge to pass urine",
}

SEVERITY_DUPLICATE_POLICY = "max"  # fluid_overload is listed with 6 and 4: never understate severity

REMEDY = (
    "Put the four Kaggle CSVs ({files}) in {raw_dir} -- or point to them with `-p raw_dir PATH` or "
    "MEDILLAMA_RAW_DIR=PATH -- or connect to the internet so kagglehub can download "
    "'{dataset}' (Kaggle credentials may be needed)."
)


class RawDataMissing(FileNotFoundError):
    pass


class SchemaError(ValueError):
    pass


# --- names -------------------------------------------------------------------------------------------------

def normalise_space(text: str) -> str:
    """'Diabetes ' -> 'Diabetes'; '(vertigo) Paroymsal  Positional Vertigo' -> single spaces."""
    return " ".join(str(text).split())


def display_name(source_name: str) -> str:
    name = normalise_space(source_name)
    return DISPLAY_FIXES.get(name, name)


def disease_key(source_name: str) -> str:
    """Stable snake_case key from the corrected display name: 'Peptic ulcer diseae' -> 'peptic_ulcer_disease'."""
    return re.sub(r"[^a-z0-9]+", "_", display_name(source_name).lower()).strip("_")


def normalise_symptom_token(token: str) -> str:
    """'dischromic _patches' -> 'dischromic_patches', 'spotting_ urination' -> 'spotting_urination',
    'foul_smell_of urine' and 'foul_smell_ofurine' -> 'foul_smell_of_urine'."""
    tok = re.sub(r"\s*_\s*", "_", str(token).strip())  # spaces next to an underscore are stray
    tok = re.sub(r"\s+", "_", tok)
    return TOKEN_FIXES.get(tok, tok)


def symptom_phrase(token: str) -> str:
    """'skin_rash' -> 'skin rash'."""
    return PHRASE_FIXES.get(token, token.replace("_", " ").strip())


# --- tables ------------------------------------------------------------------------------------------------

def read_raw_csv(path: Path, **kw) -> pd.DataFrame:
    """``pd.read_csv`` of one of the raw CSVs; a file that does not parse (empty, truncated, not a CSV, not UTF-8)
    raises SchemaError naming the file and what to do."""
    try:
        return pd.read_csv(path, dtype=str, **kw)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, ValueError) as err:
        raise SchemaError(f"{path}: cannot be read as a CSV ({type(err).__name__}: {err}). Replace it with the "
                          "file from the itachi9604 Disease-Symptom-Description dataset (a fresh download, or a copy "
                          "that is not empty or cut short), then run step 01 again.") from err


def _read_csv(path: Path, required: list[str]) -> pd.DataFrame:
    df = read_raw_csv(path, keep_default_na=False)
    df.columns = [c.strip() for c in df.columns]
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise SchemaError(f"{path.name}: missing columns {missing}; found {list(df.columns)}. "
                          "Is this the itachi9604 Disease-Symptom-Description dataset?")
    return df


def load_severity(path: Path) -> tuple[pd.DataFrame, dict]:
    """Symptom weights: drops the three empty trailing columns and the 'prognosis' row (a label, not a
    symptom), normalises tokens, and resolves duplicated tokens by SEVERITY_DUPLICATE_POLICY."""
    df = _read_csv(path, ["Symptom", "weight"])
    n_rows = len(df)
    extra_cols = [c for c in df.columns if c not in ("Symptom", "weight")]
    # the trailing columns are unnamed and empty but for one stray HTML fragment ('<option value=itching >')
    stray_cells = int((df[extra_cols].apply(lambda s: s.str.strip()) != "").to_numpy().sum()) if extra_cols else 0
    df = df[["Symptom", "weight"]].rename(columns={"Symptom": "token"})
    df["token"] = df["token"].map(normalise_symptom_token)
    df = df[df["token"] != ""]
    prognosis = int((df["token"] == "prognosis").sum())
    df = df[df["token"] != "prognosis"]
    bad = df[~df["weight"].str.strip().str.fullmatch(r"\d+")]
    if len(bad):
        raise SchemaError(f"{path.name}: non-integer weights for {bad['token'].tolist()}")
    df["weight"] = df["weight"].astype(int)
    dup = df[df.duplicated("token", keep=False)]
    duplicates = {t: sorted(g["weight"].tolist(), reverse=True) for t, g in dup.groupby("token")}
    df = df.groupby("token", as_index=False)["weight"].agg(SEVERITY_DUPLICATE_POLICY)
    if not df["weight"].between(1, 7).all():
        raise SchemaError(f"{path.name}: weights outside 1-7")
    report = {"rows": n_rows, "trailing_columns_dropped": len(extra_cols), "stray_cells": stray_cells,
              "prognosis_rows_dropped": prognosis,
              "duplicates_resolved": duplicates}
    return df.sort_values("token").reset_index(drop=True), report


def load_descriptions(path: Path) -> pd.DataFrame:
    df = _read_csv(path, ["Disease", "Description"])
    return pd.DataFrame({"key": df["Disease"].map(disease_key), "source_name": df["Disease"].map(normalise_space),
                         "description": df["Description"].map(normalise_space)})


def load_precautions(path: Path) -> tuple[pd.DataFrame, int]:
    """Precautions as a list per disease; blank cells (Allergy, Heart attack) are dropped, not kept as ''."""
    cols = [f"Precaution_{i}" for i in range(1, 5)]
    df = _read_csv(path, ["Disease", *cols])
    blanks = int((df[cols].apply(lambda s: s.str.strip()) == "").to_numpy().sum())
    precautions = df[cols].apply(lambda r: [normalise_space(x) for x in r if x.strip()], axis=1)
    return pd.DataFrame({"key": df["Disease"].map(disease_key), "precautions": precautions}), blanks


def group_id(disease: str, symptoms) -> str:
    """Stable id of a (disease, symptom set): the unit that train/test splits keep together."""
    text = disease + "|" + ",".join(sorted(symptoms))
    return "g" + hashlib.sha1(text.encode()).hexdigest()[:10]


def load_cases(path: Path) -> tuple[pd.DataFrame, dict]:
    """Symptom rows -> unique (disease, symptom set) cases. 4,920 rows hold only 304 unique ones."""
    df = _read_csv(path, ["Disease"])
    sym_cols = [c for c in df.columns if c.startswith("Symptom")]
    if not sym_cols:
        raise SchemaError(f"{path.name}: no Symptom_* columns")
    tokens_touched = 0
    records = []
    for _, row in df.iterrows():
        raw = [x for x in row[sym_cols] if str(x).strip()]
        toks = [normalise_symptom_token(x) for x in raw]
        tokens_touched += sum(1 for a, b in zip(raw, toks) if a.strip() != b)
        # keep first-seen order, drop repeats within a row
        records.append((disease_key(row["Disease"]), tuple(dict.fromkeys(toks))))
    n_rows = len(records)
    seen: dict = {}
    for disease, toks in records:
        k = (disease, frozenset(toks))
        if k in seen:
            seen[k]["n_source_rows"] += 1
        else:
            seen[k] = {"disease": disease, "symptoms": list(toks), "n_source_rows": 1}
    cases = pd.DataFrame(list(seen.values()))
    cases.insert(0, "group_id", [group_id(d, s) for d, s in zip(cases["disease"], cases["symptoms"])])
    cases["n_symptoms"] = cases["symptoms"].map(len)
    report = {"rows": n_rows, "unique_cases": len(cases), "disease_names": int(df["Disease"].nunique()),
              "symptom_tokens_fixed": tokens_touched,
              "disease_names_with_space_quirks": int((df["Disease"] != df["Disease"].map(normalise_space)).sum())}
    return cases, report


# --- the step ----------------------------------------------------------------------------------------------

@dataclass
class IngestResult:
    diseases: pd.DataFrame
    symptoms: pd.DataFrame
    cases: pd.DataFrame
    quality: pd.DataFrame
    counts: dict = field(default_factory=dict)


def locate_raw(raw_dir: Path, dataset: str, download: bool = True, target: Path | None = None) -> Path:
    """The folder holding the four CSVs: ``raw_dir`` if complete, else a kagglehub download copied into
    ``target`` (default ``raw_dir``). Raises RawDataMissing naming both remedies."""
    raw_dir = Path(raw_dir)
    if all((raw_dir / f).exists() for f in RAW_FILES):
        return raw_dir
    msg = REMEDY.format(files=", ".join(RAW_FILES), raw_dir=raw_dir, dataset=dataset)
    if not download:
        raise RawDataMissing(f"The Kaggle CSVs are not in {raw_dir}. " + msg)
    try:
        import kagglehub

        src = Path(kagglehub.dataset_download(dataset))
    except Exception as e:  # offline: requests ConnectionError (an OSError); no credentials: others
        raise RawDataMissing(f"The Kaggle CSVs are not in {raw_dir}, and downloading them failed "
                             f"({type(e).__name__}: {str(e)[:200]}). " + msg) from None
    target = Path(target or raw_dir)
    target.mkdir(parents=True, exist_ok=True)
    for f in RAW_FILES:
        found = next(src.rglob(f), None)
        if found is None:
            raise RawDataMissing(f"kagglehub downloaded {src} but {f} is not in it. " + msg)
        shutil.copy2(found, target / f)
    return target


def ingest(raw_dir: Path) -> IngestResult:
    raw_dir = Path(raw_dir)
    severity, sev_report = load_severity(raw_dir / "Symptom-severity.csv")
    cases, case_report = load_cases(raw_dir / "dataset.csv")
    desc = load_descriptions(raw_dir / "symptom_Description.csv")
    prec, blank_precautions = load_precautions(raw_dir / "symptom_precaution.csv")

    keys = sorted(cases["disease"].unique())
    for name, table in [("symptom_Description.csv", desc), ("symptom_precaution.csv", prec)]:
        missing = sorted(set(keys) - set(table["key"]))
        extra = sorted(set(table["key"]) - set(keys))
        if missing or extra:
            raise SchemaError(f"{name}: diseases not matching dataset.csv: missing {missing}, extra {extra}")
    source_names = (read_raw_csv(raw_dir / "dataset.csv", usecols=["Disease"])["Disease"]
                    .map(normalise_space).drop_duplicates())
    names = pd.DataFrame({"key": source_names.map(disease_key), "source_name": source_names,
                          "display_name": source_names.map(display_name)})
    diseases = names.merge(desc[["key", "description"]], on="key").merge(prec, on="key")
    diseases = diseases.sort_values("key").reset_index(drop=True)

    used = sorted({t for s in cases["symptoms"] for t in s})
    unknown = sorted(set(used) - set(severity["token"]))
    if unknown:
        raise SchemaError(f"Symptoms in dataset.csv missing from Symptom-severity.csv: {unknown}")
    symptoms = severity[severity["token"].isin(used)].copy()
    symptoms["phrase"] = symptoms["token"].map(symptom_phrase)
    symptoms = symptoms[["token", "phrase", "weight"]].reset_index(drop=True)

    by_key = dict(zip(names["key"], names["source_name"]))
    desc_renamed = int((desc["source_name"] != desc["key"].map(by_key)).sum())
    quality = pd.DataFrame([
        ("disease names: whitespace", "strip/collapse spaces ('Diabetes ', 'Hypertension ', doubled spaces)",
         case_report["disease_names_with_space_quirks"]),
        ("disease names: spelling", "canonical key + corrected display name (Osteoarthristis, diseae, ...)",
         int((names["source_name"] != names["display_name"]).sum())),
        ("description names", "'Dimorphic hemorrhoids(piles)' matched to 'Dimorphic hemmorhoids(piles)'",
         desc_renamed),
        ("symptom tokens", "'dischromic _patches', 'foul_smell_of urine', 'spotting_ urination' normalised",
         case_report["symptom_tokens_fixed"]),
        ("severity: duplicates", f"{sev_report['duplicates_resolved']} -> {SEVERITY_DUPLICATE_POLICY}",
         len(sev_report["duplicates_resolved"])),
        ("severity: 'prognosis' row", "a label, not a symptom: dropped", sev_report["prognosis_rows_dropped"]),
        ("severity: trailing columns", f"{sev_report['trailing_columns_dropped']} unnamed trailing columns dropped "
         f"({sev_report['stray_cells']} stray non-empty cell)", sev_report["stray_cells"]),
        ("precautions: blank cells", "dropped from the precaution lists (Allergy, Heart attack)", blank_precautions),
        ("duplicate rows", f"{case_report['rows']} rows -> {case_report['unique_cases']} unique (disease, symptom set)",
         case_report["rows"] - case_report["unique_cases"]),
    ], columns=["fix", "what", "rows_touched"])
    counts = {"source_rows": case_report["rows"], "unique_cases": len(cases),
              "source_disease_names": case_report["disease_names"], "diseases": len(diseases),
              "symptoms": len(symptoms), "severity_rows": sev_report["rows"], "severity_tokens": len(severity)}
    return IngestResult(diseases, symptoms, cases, quality, counts)
