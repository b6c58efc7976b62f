"""The smoke profile end to end through papermill (01-05, the real offline model), reading the shared CSVs and
the external evaluation set: interrupted with Ctrl-C inside step 04, resumed from its checkpoint, live progress
and the summary on stderr; a last run skips every step."""
import json
import os
import re
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest

from medillama import paths
from medillama.runner import main
from conftest import S2D

pytestmark = pytest.mark.slow
STEPS = ("01_ingest", "02_severity_balance", "03_synthesize", "04_finetune", "05_evaluate")


@pytest.fixture(scope="module")
def smoke_run(raw_dir, tmp_path_factory):
    import shutil
    import uuid

    name = f"pytest-{uuid.uuid4().hex[:8]}"
    args = ["--profile", "smoke", "--run", name, "-p", "raw_dir", str(raw_dir), "-p", "external_eval_csv", str(S2D),
            "-p", "external_max_rows", "48"]
    yield name, args
    for d in (paths.run_dir(name), paths.interim_dir(name), paths.processed_dir(name)):
        shutil.rmtree(d, ignore_errors=True)


def interrupted_in_04(args, run, log_dir) -> str:
    """Start the chain as a user would and press Ctrl-C once step 04 has saved a checkpoint: the runner and its
    kernel stop within 10 s with exit 130 and step 04 has no manifest. Returns the runner's stderr."""
    import psutil

    env = {**os.environ, "PYTHONPATH": str(paths.ROOT / "src")}
    out, err = log_dir / "first.out", log_dir / "first.err"
    with out.open("w") as o, err.open("w") as e:
        first = subprocess.Popen([sys.executable, "-m", "medillama", "run", *args], cwd=paths.ROOT, env=env,
                                 stdout=o, stderr=e)
    ckpts = run / "04_finetune" / "checkpoints"
    end = time.monotonic() + 1800
    while not list(ckpts.glob("checkpoint-*/trainer_state.json")):
        assert first.poll() is None, f"the run ended before step 04 saved a checkpoint:\n{err.read_text()}"
        assert time.monotonic() < end, "no checkpoint in 30 minutes"
        time.sleep(0.2)
    kernels = psutil.Process(first.pid).children(recursive=True)
    assert kernels
    t = time.monotonic()
    first.send_signal(signal.SIGINT)
    assert first.wait(timeout=30) == 130 and time.monotonic() - t < 10, err.read_text()
    assert not psutil.wait_procs(kernels, timeout=1)[1], "a kernel outlived the runner"
    assert not (run / "04_finetune" / "manifest.json").exists() and not (run / ".lock").exists()
    return err.read_text()


def test_smoke_chain_interrupted_resumed_outputs_and_skip(smoke_run, capsys, tmp_path):
    name, args = smoke_run
    run = paths.run_dir(name)
    err = interrupted_in_04(args, run, tmp_path)
    assert "without encryption" not in err  # ipykernel's TCP warning, written by the kernels to this stderr
    # live progress on stderr (not a terminal: plain lines), the precision chosen, and the summary table
    assert re.search(r"\[03_synthesize\] precision: (bf16 autocast|fp32) on cpu \(.+\)", err), err
    assert re.search(r"\[03_synthesize\] patient_query: \d+/\d+ rows", err), err
    assert re.search(r"\[04_finetune\] train: \d+/4 steps", err), err
    assert re.search(r"summary:\n.*01_ingest +run .*\n.*04_finetune +interrupted .*\n.*05_evaluate +not run", err,
                     re.S), err

    assert main(args) == 0  # the next call: 01-03 skipped, 04 resumes from its checkpoint
    captured = capsys.readouterr()
    out, err = captured.out, captured.err
    assert all(f"[{s}] skipped" in out for s in STEPS[:3]) and all(f"[{s}] done" in out for s in STEPS[3:]), out
    resumed = re.search(r"\[04_finetune\] resuming from checkpoint (\S+checkpoint-(\d+))", err)
    assert resumed and f"training resumes at step {resumed.group(2)}/4" in err, err
    assert "resuming from " + resumed.group(1) in (run / "logs" / "04_finetune.log").read_text()
    assert re.search(r"\[04_finetune\] estimate for training: \d+ steps x ~\d+ tokens / \d+ train tok/s", err), err
    assert re.search(r"\[04_finetune\] train: 4/4 steps, loss \d", err), err
    assert re.search(r"\[04_finetune\] decision lines \(validation\): \d+/\d+ rows", err), err
    assert re.search(r"\[05_evaluate\] test_(base|finetuned): \d+/\d+ rows", err), err
    assert re.search(r"summary:\n.*03_synthesize +skipped +-\n.*04_finetune +run .*\n.*05_evaluate +run ", err, re.S)
    for step in STEPS:
        assert (run / "notebooks" / f"{step}.ipynb").exists() and (run / "logs" / f"{step}.log").exists()
        m = json.loads((run / step / "manifest.json").read_text())
        assert m["status"] == "complete" and m["wall_seconds"] > 0 and m["peak_memory_mb"] > 0
        assert m["inputs"] and all(m["inputs"].values()) and m["code"] and m["params"]
        assert (run / step / "config.yaml").exists()
        if step >= "03":  # the steps with model forwards record their precision and its reason
            assert m["precision"]["autocast"] in ("bf16", "fp32") and m["precision"]["reason"]
        for t in m["timings"].values():  # an estimate made before the long work, beside the actual time
            assert t["estimate_s"] >= 0 and t["actual_s"] > 0
    m4 = json.loads((run / "04_finetune" / "manifest.json").read_text())
    assert m4["timings"]["train"]["steps"] == 4 - int(resumed.group(2)) and m4["metrics"]["global_step"] == 4
    # 01-02
    base = pd.read_parquet(paths.processed_dir(name) / "base_cases.parquet")
    assert set(base["disease"].value_counts()) == {4} and base["disease"].nunique() == 5
    assert len(pd.read_parquet(paths.interim_dir(name) / "cases.parquet")) == 304
    # 03: every row kept, no disease name in a query, splits by group
    ds = pd.read_json(paths.processed_dir(name) / "dataset.jsonl", lines=True)
    assert len(ds) == 40 and set(ds["split"]) == {"train", "validation", "test"}
    assert (ds.groupby("group_id")["split"].nunique() == 1).all()
    for q, c in zip(ds["input_text"], ds["condition"]):
        assert c.lower() not in q.lower()
    gens = [json.loads(x) for x in (run / "03_synthesize" / "generations.jsonl").read_text().splitlines()]
    assert any(g["raw"] for g in gens)  # the real model generated
    # 04: adapter with its training config; masking verified in the notebook
    m4 = json.loads((run / "04_finetune" / "manifest.json").read_text())
    assert m4["metrics"]["masking_ok"] and m4["metrics"]["train_tokens_per_s"] > 0
    assert 0 < m4["counts"]["drill_rows"] <= 2 * ds["disease"].nunique()  # smoke: 2 per disease at most
    assert m4["metrics"]["validation_rows"] == (ds["split"] == "validation").sum()
    assert 0 <= m4["metrics"]["validation_disease_accuracy"] <= 1
    assert (run / "04_finetune" / "adapter" / "adapter_config.json").exists()
    # 05: metrics with CIs for both models and the baselines; predictions; report
    metrics = json.loads((run / "05_evaluate" / "metrics.json").read_text())
    for model in ("base", "finetuned"):
        for k in ("rouge1", "rougeL", "disease_accuracy", "format_compliance", "under_triage_emergency",
                  "precaution_recall", "india_notes_presence", "external_accuracy"):
            assert {"value", "lo", "hi", "n"} <= set(metrics[model][k])
    assert metrics["tfidf"]["disease_accuracy"]["n"] == metrics["n_test_rows"]
    assert {"disease_accuracy", "external_accuracy"} <= set(metrics["tfidf_all"])
    lead = metrics["finetuned_lead"]["external"]["tfidf"]  # paired: the difference of the two accuracies
    assert lead["value"] == pytest.approx(metrics["finetuned"]["external_accuracy"]["value"]
                                          - metrics["tfidf"]["external_accuracy"]["value"]) and lead["n"] == 48
    # the safety layer only ever raises triage and never changes the named condition
    for model in ("base", "finetuned"):
        safe = metrics[f"{model}+safety"]
        assert safe["under_triage"]["value"] <= metrics[model]["under_triage"]["value"]
        assert safe["disease_accuracy"]["value"] == metrics[model]["disease_accuracy"]["value"]
    assert metrics["external"]["rows"] == 48 and metrics["external"]["unmapped_labels"] == []
    preds = (run / "05_evaluate" / "predictions.jsonl").read_text().splitlines()
    assert len(preds) == metrics["n_test_rows"]
    index = (run / "report" / "index.html").read_text()
    assert "Fine-tuned" in index and "05_evaluate.html" in index and "not the model" in index
    assert "paired bootstrap" in index and "all training queries" in index

    assert main(args) == 0
    captured = capsys.readouterr()
    assert all(f"[{s}] skipped" in captured.out for s in STEPS), captured.out
    assert re.search(r"summary:\n.*wall time\n(.*skipped +-\n){5}.*total", captured.err), captured.err


def test_changed_parameter_reruns_only_its_step(raw_dir, run_name, capsys):
    args = ["--profile", "smoke", "--run", run_name, "-p", "raw_dir", str(raw_dir), "--only", "01"]
    assert main(args) == 0
    assert main([*args[:-2], "--only", "02"]) == 0
    assert main([*args[:-2], "--only", "02", "-p", "samples_per_disease", "3"]) == 0
    out = capsys.readouterr().out
    assert out.count("[01_ingest] done") == 1 and out.count("[02_severity_balance] done") == 2
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
