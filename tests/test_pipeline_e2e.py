"""The smoke profile end to end through papermill (01-05, the real offline model), reading the shared CSVs and
the external evaluation set: interrupted with Ctrl-C inside step 04, resumed from its checkpoint, live progress and
the summary on stderr; a last run skips every step. Every run here lives under a temporary project root
(MEDILLAMA_ROOT: its own outputs/, data/ and generation caches), so it never touches a user's runs and takes the
same time whatever they cached; only the converted offline model is shared (MEDILLAMA_MODELS)."""
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

import medillama
from medillama import allocator, paths
from test_runlock import sigint_as_in_a_terminal

pytestmark = pytest.mark.slow
STEPS = ("01_ingest", "02_severity_balance", "03_synthesize", "04_finetune", "05_evaluate")
REPO = Path(__file__).resolve().parents[1]


class Root:
    """A temporary project root: the repository's notebooks, configs, knowledge, probe, red-flag messages and labelled
    generations; nothing else."""

    def __init__(self, root: Path):
        self.root = root
        for d in ("notebooks", "configs", "data/knowledge", "data/probe", "data/redflags", "data/gates"):
            (root / d).parent.mkdir(parents=True, exist_ok=True)
            (root / d).symlink_to(REPO / d, target_is_directory=True)

    def run_dir(self, run):
        return self.root / "outputs" / run

    def interim_dir(self, run):
        return self.root / "data" / "interim" / run

    def processed_dir(self, run):
        return self.root / "data" / "processed" / run

    def env(self) -> dict:
        src = str(Path(medillama.__file__).resolve().parents[1])
        return {**os.environ, "MEDILLAMA_ROOT": str(self.root), "MEDILLAMA_MODELS": str(paths.MODELS),
                "PYTHONPATH": os.pathsep.join([src, *filter(None, [os.environ.get("PYTHONPATH")])])}

    def medillama(self, *args) -> subprocess.CompletedProcess:
        """``python -m medillama run ARGS`` with this root, the code under test first on the path."""
        return subprocess.run([sys.executable, "-m", "medillama", "run", *args], env=self.env(), cwd=self.root,
                              capture_output=True, text=True)

    def interrupted_in_04(self, args, run, log_dir) -> str:
        """Start the chain as a user would and press Ctrl-C once step 04 has saved a checkpoint: the runner and its
        kernel stop within 10 s with exit 130 and step 04 has no manifest. Returns the runner's stderr."""
        import psutil

        out, err = log_dir / "first.out", log_dir / "first.err"
        with out.open("w") as o, err.open("w") as e:
            first = subprocess.Popen([sys.executable, "-m", "medillama", "run", *args], cwd=self.root,
                                     env=self.env(), stdout=o, stderr=e, preexec_fn=sigint_as_in_a_terminal)
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


@pytest.fixture(scope="module")
def root():
    # its own temporary folder, not pytest's: pytest removes old basetemp folders of concurrent sessions
    import tempfile

    with tempfile.TemporaryDirectory(prefix="medillama-e2e-") as d:
        yield Root(Path(d))


@pytest.fixture(scope="module")
def smoke_run(real_raw_dir, s2d, root):
    name = "smoke-e2e"
    return name, ["--profile", "smoke", "--run", name, "-p", "raw_dir", str(real_raw_dir),
                  "-p", "external_eval_csv", str(s2d), "-p", "external_max_rows", "48"]


def test_smoke_chain_interrupted_resumed_outputs_and_skip(smoke_run, root, tmp_path):
    name, args = smoke_run
    run = root.run_dir(name)
    err = root.interrupted_in_04(args, run, tmp_path)
    assert "without encryption" not in err  # ipykernel's TCP warning, written by the kernels to this stderr
    # live progress on stderr (not a terminal: plain lines), the precision chosen, and the summary table
    assert re.search(r"\[03_synthesize\] precision: (bf16 autocast|fp32) on cpu \(.+\)", err), err
    assert re.search(r"\[03_synthesize\] patient_query: \d+/\d+ rows", err), err
    assert re.search(r"\[04_finetune\] train: \d+/4 steps", err), err
    assert re.search(r"summary:\n.*01_ingest +run .*\n.*04_finetune +interrupted .*\n.*05_evaluate +not run", err,
                     re.S), err

    res = root.medillama(*args)  # the next call: 01-03 skipped, 04 resumes from its checkpoint
    assert res.returncode == 0, res.stderr[-3000:]
    out, err = res.stdout, res.stderr
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
        if allocator.applies():  # each kernel started with the heap settings (allocator.py)
            assert m["allocator"] == {k: os.environ.get(k, v) for k, v in allocator.SETTINGS.items()}, m["allocator"]
        for t in m["timings"].values():  # an estimate made before the long work, beside the actual time
            assert t["estimate_s"] >= 0 and t["actual_s"] > 0
    m4 = json.loads((run / "04_finetune" / "manifest.json").read_text())
    assert m4["timings"]["train"]["steps"] == 4 - int(resumed.group(2)) and m4["metrics"]["global_step"] == 4
    # 01-02
    base = pd.read_parquet(root.processed_dir(name) / "base_cases.parquet")
    assert set(base["disease"].value_counts()) == {4} and base["disease"].nunique() == 5
    assert len(pd.read_parquet(root.interim_dir(name) / "cases.parquet")) == 304
    # 03: every row kept, no disease name in a query, splits by group
    ds = pd.read_json(root.processed_dir(name) / "dataset.jsonl", lines=True)
    assert len(ds) == 40 and set(ds["split"]) == {"train", "validation", "test"}
    assert (ds.groupby("group_id")["split"].nunique() == 1).all()
    for q, c in zip(ds["input_text"], ds["condition"]):
        assert c.lower() not in q.lower()
    gens = [json.loads(x) for x in (run / "03_synthesize" / "generations.jsonl").read_text().splitlines()]
    assert any(g["raw"] for g in gens)  # the real model generated
    # 04: the whole fine-tuned model (smoke, as cpu: every weight trained) with its training config; masking verified
    # in the notebook
    m4 = json.loads((run / "04_finetune" / "manifest.json").read_text())
    assert m4["metrics"]["masking_ok"] and m4["metrics"]["train_tokens_per_s"] > 0
    # the training's share of this CPU's matmul peak, sampled while it trained, in the precision it chose
    assert m4["metrics"]["share_of_matmul_peak"] > 0 and m4["metrics"]["matmul_peak_gflops"] > 0
    assert m4["metrics"]["matmul_peak_dtype"] in ("float32", "bfloat16")
    assert 0 < m4["counts"]["drill_rows"] <= 2 * ds["disease"].nunique()  # smoke: 2 per disease at most
    assert m4["metrics"]["validation_rows"] == (ds["split"] == "validation").sum()
    assert 0 <= m4["metrics"]["validation_disease_accuracy"] <= 1
    model_dir = run / "04_finetune" / "model"
    assert (model_dir / "training_config.yaml").exists() and (model_dir / "model.safetensors").exists()
    assert not (model_dir / "adapter_config.json").exists() and not (run / "04_finetune" / "adapter").exists()
    assert m4["metrics"]["trainable_share"] == 1.0
    # 05: metrics with CIs for both models and the baselines; predictions; report
    metrics = json.loads((run / "05_evaluate" / "metrics.json").read_text())
    for model in ("base", "finetuned"):
        for k in ("rouge1", "rougeL", "disease_accuracy", "format_compliance", "under_triage_emergency",
                  "precaution_recall", "india_notes_presence", "unsupported_facts", "external_accuracy"):
            assert {"value", "lo", "hi", "n"} <= set(metrics[model][k])
    assert isinstance(metrics["unsupported_facts_found"], list)
    assert (run / "05_evaluate" / "unsupported_facts.csv").exists()
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

    res = root.medillama(*args)
    assert res.returncode == 0 and all(f"[{s}] skipped" in res.stdout for s in STEPS), res.stdout
    assert re.search(r"summary:\n.*wall time\n(.*skipped +-\n){5}.*total", res.stderr), res.stderr
    assert not (REPO / "outputs" / name).exists()  # nothing written beside the user's runs


def test_changed_parameter_reruns_only_its_step(raw_dir, root):
    args = ["--profile", "smoke", "--run", "params", "-p", "raw_dir", str(raw_dir), "--only", "01"]
    outs = [root.medillama(*a) for a in (args, [*args[:-2], "--only", "02"],
                                         [*args[:-2], "--only", "02", "-p", "samples_per_disease", "3"])]
    assert all(r.returncode == 0 for r in outs), outs[-1].stderr[-3000:]
    out = "".join(r.stdout for r in outs)
    assert out.count("[01_ingest] done") == 1 and out.count("[02_severity_balance] done") == 2
    assert len(pd.read_parquet(root.processed_dir("params") / "base_cases.parquet")) == 15


def test_unknown_key_fails_before_running(root):
    res = root.medillama("--profile", "smoke", "--run", "badkey", "-p", "sample_per_disease", "3")
    assert res.returncode == 2
    assert "Unknown config key 'sample_per_disease'" in res.stderr and "balance.samples_per_disease" in res.stderr
    assert not root.run_dir("badkey").exists()


def test_missing_csvs_fail_with_both_remedies_and_the_notebook_path(root, tmp_path):
    res = root.medillama("--profile", "smoke", "--run", "nocsv", "--only", "01",
                         "-p", "raw_dir", str(tmp_path / "none"), "-p", "download", "false")
    assert res.returncode == 1
    err = res.stderr
    assert "RawDataMissing" in err and "MEDILLAMA_RAW_DIR" in err and "kagglehub" in err
    nb = root.run_dir("nocsv") / "notebooks" / "01_ingest.ipynb"
    assert str(nb) in err and nb.exists()
    assert not (root.interim_dir("nocsv") / "cases.parquet").exists()
