"""Step fingerprints: the code a step runs is found from its notebook's imports, not from a list kept by hand."""
import json
import shutil
from pathlib import Path

import pytest

from medillama import config, paths, pipeline


def notebook(path: Path, *cells: str) -> Path:
    nb = {"cells": [{"cell_type": "code", "metadata": {}, "source": c, "outputs": [], "execution_count": None}
                    for c in cells], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    path.write_text(json.dumps(nb))
    return path


@pytest.fixture
def pkg(tmp_path):
    """A copy of the package to edit."""
    return Path(shutil.copytree(pipeline.PKG_DIR, tmp_path / "medillama"))


def test_imported_modules_every_form():
    src = ("import medillama.io\nfrom medillama import paths, config as C\nfrom medillama.ingest import ingest\n"
           "import numpy\nfrom . import gates\n\ndef f():\n    from .answer import parse_answer\n")
    names = pipeline.imported_modules(src, "medillama.synth")
    assert {"medillama.io", "medillama.paths", "medillama.config", "medillama.ingest", "medillama.gates",
            "medillama.answer"} <= names
    assert not any(n.startswith("numpy") for n in names)


def test_closure_follows_modules_recursively_with_local_imports_and_their_data(pkg, tmp_path):
    nb = notebook(tmp_path / "02_x.ipynb", "%matplotlib inline\nfrom medillama.balance import balanced_sample")
    names = {f.name for f in pipeline.code_closure(nb, pkg)}
    assert {"balance.py", "queries.py", "__init__.py"} <= names  # balance imports queries
    assert "synth.py" not in names and "ingest.py" not in names
    nb3 = notebook(tmp_path / "03_x.ipynb", "from medillama import synth")
    files = pipeline.code_closure(nb3, pkg)
    assert {"gates.py", "knowledge.py", "answer.py", "ingest.py", "queries.py"} <= {f.name for f in files}
    # synth.py builds a path to prompts/: the prompt templates are part of its code
    assert {f.name for f in pipeline.package_data(files, pkg)} >= {"patient_query.txt", "rationale.txt"}


def test_a_new_import_changes_the_step_fingerprint(pkg, tmp_path, monkeypatch):
    nbdir = tmp_path / "notebooks"
    nbdir.mkdir()
    notebook(nbdir / "02_severity_balance.ipynb", "from medillama.balance import balanced_sample")
    monkeypatch.setattr(pipeline, "PKG_DIR", pkg)
    monkeypatch.setattr(paths, "NOTEBOOKS", nbdir)
    spec, cfg = pipeline.STEPS["02_severity_balance"], config.load_config("smoke")
    before = pipeline.fingerprint(spec, cfg, "x")
    assert "helper.py" not in before["code"]
    (pkg / "helper.py").write_text("WEIGHT = 1\n")
    assert pipeline.fingerprint(spec, cfg, "x")["hash"] == before["hash"]  # not imported: not this step's code
    balance = pkg / "balance.py"
    balance.write_text(balance.read_text() + "\n\ndef weight():\n    from .helper import WEIGHT\n    return WEIGHT\n")
    after = pipeline.fingerprint(spec, cfg, "x")
    assert "helper.py" in after["code"] and after["hash"] != before["hash"]
    (pkg / "helper.py").write_text("WEIGHT = 2\n")  # and an edit of the new module changes it again
    assert pipeline.fingerprint(spec, cfg, "x")["hash"] != after["hash"]


def test_every_step_declares_inputs_and_outputs_that_chain():
    cfg = config.load_config("smoke")
    outs = {n: set(s.outputs(cfg, "r")) for n, s in pipeline.STEPS.items()}
    assert all(outs.values())
    names = list(pipeline.STEPS)
    for i, n in enumerate(names[1:], 1):
        produced = set().union(*(outs[m] for m in names[:i]))
        assert set(pipeline.STEPS[n].inputs(cfg, "r")) & produced, n  # each step reads an earlier step's output


def test_no_module_list_in_pipeline():
    import re

    text = Path(pipeline.__file__).read_text()
    assert not re.search(r"[\"'][a-z_]+\.py[\"']", text)
