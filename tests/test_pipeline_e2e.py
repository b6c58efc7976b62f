"""Steps 01-02 through papermill on the smoke profile, reading the shared CSVs; a second run skips both."""
import json

import pandas as pd
import pytest

from medillama import paths
from medillama.runner import main

pytestmark = pytest.mark.slow


def test_smoke_01_02_and_skip(run_name, raw_dir, capsys):
    args = ["--profile", "smoke", "--run", run_name, "-p", "raw_dir", str(raw_dir)]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "[01_ingest] done" in out and "[02_severity_balance] done" in out

    run = paths.run_dir(run_name)
    for step in ("01_ingest", "02_severity_balance"):
        assert (run / "notebooks" / f"{step}.ipynb").exists()
        assert (run / "logs" / f"{step}.log").exists()
        m = json.loads((run / step / "manifest.json").read_text())
        assert m["status"] == "complete" and m["wall_seconds"] > 0 and m["peak_memory_mb"] > 0
        assert m["inputs"] and all(m["inputs"].values()) and m["code"] and m["params"]
        assert (run / step / "config.yaml").exists()
    base = pd.read_parquet(paths.processed_dir(run_name) / "base_cases.parquet")
    assert set(base["disease"].value_counts()) == {4} and base["disease"].nunique() == 5
    assert len(pd.read_parquet(paths.interim_dir(run_name) / "cases.parquet")) == 304

    # second run: nothing changed, both skipped
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "[01_ingest] skipped" in out and "[02_severity_balance] skipped" in out

    # a changed parameter re-runs only the step that reads it
    assert main([*args, "--from", "02", "-p", "samples_per_disease", "3"]) == 0
    out = capsys.readouterr().out
    assert "[02_severity_balance] done" in out
    assert len(pd.read_parquet(paths.processed_dir(run_name) / "base_cases.parquet")) == 15


def test_unknown_key_fails_before_running(run_name, capsys):
    assert main(["--profile", "smoke", "--run", run_name, "-p", "sample_per_disease", "3"]) == 2
    err = capsys.readouterr().err
    assert "Unknown config key 'sample_per_disease'" in err and "balance.samples_per_disease" in err
    assert not paths.run_dir(run_name).exists()


def test_missing_csvs_fail_with_both_remedies_and_the_notebook_path(run_name, tmp_path, capsys):
    rc = main(["--profile", "smoke", "--run", run_name, "--only", "01",
               "-p", "raw_dir", str(tmp_path / "none"), "-p", "download", "false"])
    assert rc == 1
    err = capsys.readouterr().err
    assert "RawDataMissing" in err and "MEDILLAMA_RAW_DIR" in err and "kagglehub" in err
    nb = paths.run_dir(run_name) / "notebooks" / "01_ingest.ipynb"
    assert str(nb) in err and nb.exists()
    assert not (paths.interim_dir(run_name) / "cases.parquet").exists()
