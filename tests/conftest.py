import os
import shutil
import uuid
from pathlib import Path

import pytest

from medillama import paths

# CI lays shared/ beside the clone; MEDILLAMA_SHARED points elsewhere (e.g. a clone in a temporary folder)
SHARED = Path(os.environ.get("MEDILLAMA_SHARED", paths.ROOT.parent / "shared")) / "data"
RAW = SHARED / "disease-symptom"
S2D = SHARED / "symptom2disease" / "dev.csv"


@pytest.fixture(scope="session")
def raw_dir() -> Path:
    if not (RAW / "dataset.csv").exists():
        pytest.fail(f"shared Kaggle CSVs not found at {RAW}")
    return RAW


@pytest.fixture(scope="session")
def ingested(raw_dir):
    from medillama.ingest import ingest

    return ingest(raw_dir)


@pytest.fixture
def run_name():
    """A throw-away run name; its outputs and data folders are removed afterwards."""
    name = f"pytest-{uuid.uuid4().hex[:8]}"
    yield name
    for d in (paths.run_dir(name), paths.interim_dir(name), paths.processed_dir(name)):
        shutil.rmtree(d, ignore_errors=True)


def write_csv(path: Path, text: str) -> Path:
    path.write_text(text.replace("\n", "\r\n"))
    return path
