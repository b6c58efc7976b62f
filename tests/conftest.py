import os
from pathlib import Path

import pytest

from medillama import paths

# The tests' own tiny version of the four Kaggle CSVs (a few diseases, every quirk of the real files), stored as
# fixture-<name> so no file here bears a shared data file's name: unit tests read a copy under the real names, so
# they run on a fresh clone without the shared data.
FIXTURE_RAW = Path(__file__).parent / "fixtures" / "disease-symptom"


def fixture_raw_dir(dest: Path) -> Path:
    """The fixture CSVs under the names step 01 reads (dataset.csv, ...), in ``dest``."""
    import shutil

    dest.mkdir(parents=True, exist_ok=True)
    for f in FIXTURE_RAW.glob("fixture-*.csv"):
        shutil.copyfile(f, dest / f.name.removeprefix("fixture-"))
    return dest


def edited_lexicon(dest: Path, edit) -> Path:
    """A copy of the knowledge folder in ``dest`` whose symptom lexicon ``edit(symptoms)`` changed in place (the
    ``symptoms`` mapping, token -> entry); the folder, for the functions that take ``folder=``."""
    import shutil

    import yaml

    shutil.copytree(paths.KNOWLEDGE, dest)
    path = dest / "symptom_lexicon.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    edit(data["symptoms"])
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return dest


# The real data, for the few tests that need all 41 diseases or the external set: CI lays shared/ beside the clone;
# MEDILLAMA_SHARED points elsewhere (e.g. a clone in a temporary folder). Those tests are skipped, with the reason,
# where it is absent.
SHARED = Path(os.environ.get("MEDILLAMA_SHARED", paths.ROOT.parent / "shared")) / "data"
RAW = SHARED / "disease-symptom"
S2D = SHARED / "symptom2disease" / "dev.csv"


@pytest.fixture(scope="session")
def raw_dir(tmp_path_factory) -> Path:
    """The fixture CSVs, under the real files' names."""
    return fixture_raw_dir(tmp_path_factory.mktemp("raw"))


@pytest.fixture(scope="session")
def ingested(raw_dir):
    from medillama.ingest import ingest

    return ingest(raw_dir)


@pytest.fixture(scope="session")
def real_raw_dir() -> Path:
    """The shared Kaggle CSVs (all 41 diseases)."""
    if not (RAW / "dataset.csv").exists():
        pytest.skip(f"needs the real Kaggle CSVs at {RAW} (set MEDILLAMA_SHARED)")
    return RAW


@pytest.fixture(scope="session")
def real_ingested(real_raw_dir):
    from medillama.ingest import ingest

    return ingest(real_raw_dir)


@pytest.fixture(scope="session")
def s2d() -> Path:
    """The external evaluation set (Symptom2Disease)."""
    if not S2D.exists():
        pytest.skip(f"needs the Symptom2Disease set at {S2D} (set MEDILLAMA_SHARED)")
    return S2D


def write_csv(path: Path, text: str) -> Path:
    path.write_text(text.replace("\n", "\r\n"))
    return path
