"""The chain of numbered steps: what each reads, its fingerprint, and its manifest.

A step is current (skipped on re-run) when its manifest's fingerprint -- a hash of the config sections it
reads, its input files, and its code (notebook + modules) -- still matches, and its outputs are unchanged.
"""
from __future__ import annotations

import platform
import resource
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from . import config as config_mod
from . import io, paths, precision, progress

RAW_FILES = ("dataset.csv", "symptom_Description.csv", "symptom_precaution.csv", "Symptom-severity.csv")


@dataclass(frozen=True)
class StepSpec:
    name: str
    sections: tuple[str, ...]
    modules: tuple[str, ...]
    inputs: Callable[[dict, str], list[Path]]

    @property
    def notebook(self) -> Path:
        return paths.NOTEBOOKS / f"{self.name}.ipynb"


def _raw_inputs(cfg: dict, run: str) -> list[Path]:
    raw = paths.resolve(cfg["ingest"]["raw_dir"])
    return [raw / f for f in RAW_FILES]


def _ingest_outputs(cfg: dict, run: str) -> list[Path]:
    d = paths.interim_dir(run)
    return [d / "diseases.parquet", d / "symptoms.parquet", d / "cases.parquet"]


def _base_cases(cfg: dict, run: str) -> list[Path]:
    kdir = paths.KNOWLEDGE
    prompts = Path(__file__).with_name("prompts")
    return ([paths.processed_dir(run) / "base_cases.parquet", paths.interim_dir(run) / "diseases.parquet"]
            + sorted(kdir.glob("*.yaml")) + sorted(prompts.glob("*.txt")))


def _dataset(cfg: dict, run: str) -> list[Path]:
    # the JSONL export holds the same rows as the DatasetDict, whose files carry a random fingerprint
    return [paths.processed_dir(run) / "dataset.jsonl"]


def _probe(cfg: dict) -> list[Path]:
    return [paths.resolve(cfg["train"]["probe_csv"])] if cfg["train"]["probe_csv"] else []


def _finetune_inputs(cfg: dict, run: str) -> list[Path]:
    # drill rows (drill.py) also read the source cases, symptom weights, lexicon and triage rules
    probe = _probe(cfg)
    if cfg["train"]["drill_rows_per_disease"] <= 0:
        return _dataset(cfg, run) + probe
    d = paths.interim_dir(run)
    return (_dataset(cfg, run) + [d / "cases.parquet", d / "symptoms.parquet"]
            + [paths.KNOWLEDGE / f for f in ("symptom_lexicon.yaml", "triage.yaml")] + probe)


def _evaluate_inputs(cfg: dict, run: str) -> list[Path]:
    ext = cfg["evaluate"]["external_eval_csv"]
    d = paths.interim_dir(run)
    drill = [d / "cases.parquet"] if cfg["train"]["drill_rows_per_disease"] > 0 else []  # the all-queries baseline
    return ([paths.run_dir(run) / "04_finetune" / "adapter", paths.processed_dir(run) / "dataset.jsonl",
             d / "diseases.parquet", d / "symptoms.parquet"] + drill
            + sorted(paths.KNOWLEDGE.glob("*.yaml")) + ([paths.resolve(ext)] if ext else []) + _probe(cfg))


STEPS: dict[str, StepSpec] = {
    s.name: s
    for s in [
        StepSpec("01_ingest", ("ingest",), ("ingest.py",), _raw_inputs),
        StepSpec("02_severity_balance", ("seed", "balance"), ("balance.py",), _ingest_outputs),
        StepSpec("03_synthesize", ("seed", "models.generator", "models.dtype", "models.device", "models.autocast",
                                   "synth"),
                 ("synth.py", "gates.py", "knowledge.py", "answer.py", "splits.py", "generate.py", "models.py",
                  "precision.py"),
                 _base_cases),
        StepSpec("04_finetune", ("models.base", "models.dtype", "models.device", "models.autocast", "train", "sft",
                                 "lora"),
                 ("train.py", "answer.py", "models.py", "splits.py", "drill.py", "synth.py", "balance.py",
                  "knowledge.py", "evaluation.py", "metrics.py", "baselines.py", "precision.py"), _finetune_inputs),
        StepSpec("05_evaluate", ("seed", "models.base", "models.dtype", "models.device", "models.autocast", "train",
                                 "sft.seed", "evaluate"),
                 ("evaluation.py", "metrics.py", "baselines.py", "answer.py", "generate.py", "knowledge.py",
                  "splits.py", "safety.py", "balance.py", "train.py", "drill.py", "synth.py", "precision.py"),
                 _evaluate_inputs),
    ]
}


def fingerprint(spec: StepSpec, cfg: dict, run: str) -> dict:
    pkg = Path(__file__).parent
    code = {spec.notebook.name: io.file_hash(spec.notebook)}
    code.update({m: io.file_hash(pkg / m) for m in spec.modules})
    inputs = {}
    for p in spec.inputs(cfg, run):
        inputs[paths.rel(p)] = io.file_hash(p) if p.exists() else None
    params = config_mod.section(cfg, *spec.sections)
    parts = {"params": io.text_hash(params), "inputs": io.text_hash(inputs), "code": io.text_hash(code)}
    return {"params": params, "inputs": inputs, "code": code, "hash": io.text_hash(parts)}


def manifest_path(run: str, step: str) -> Path:
    return paths.run_dir(run) / step / "manifest.json"


def is_current(spec: StepSpec, cfg: dict, run: str) -> bool:
    mpath = manifest_path(run, spec.name)
    if not mpath.exists():
        return False
    m = io.read_json(mpath)
    if m.get("status") != "complete" or m.get("fingerprint") != fingerprint(spec, cfg, run)["hash"]:
        return False
    outs = [paths.resolve(o["path"]) for o in m["outputs"].values()]
    return all(p.exists() and io.file_hash(p) == o["sha256"] for p, o in zip(outs, m["outputs"].values()))


class Step:
    """Used by each notebook: resolves the config, saves it, and writes the manifest when the step ends."""

    def __init__(self, name: str, profile: str = "auto", run: str = "", overrides: dict | None = None):
        self.spec = STEPS[name]
        self.cfg = config_mod.load_config(profile, overrides)
        self.run = run or self.cfg["profile"]
        self.dir = paths.run_dir(self.run) / name
        self.dir.mkdir(parents=True, exist_ok=True)
        io.write_yaml(self.dir / "config.yaml", self.cfg)
        self.started = datetime.now(timezone.utc)
        self._t0 = time.perf_counter()
        progress.bind(self.dir / progress.FILE, name)  # live status for the runner (progress.py)
        self.precision = None
        if "models.autocast" in self.spec.sections:  # a step with model forwards: run them in this machine's precision
            self.precision = precision.use(precision.for_config(self.cfg))
            progress.note(self.precision.describe())

    def fingerprint(self) -> str:
        return fingerprint(self.spec, self.cfg, self.run)["hash"]

    @property
    def interim(self) -> Path:
        return paths.interim_dir(self.run)

    @property
    def processed(self) -> Path:
        return paths.processed_dir(self.run)

    def finish(self, outputs: dict[str, Path], counts: dict | None = None, metrics: dict | None = None) -> dict:
        fp = fingerprint(self.spec, self.cfg, self.run)
        manifest = {
            "step": self.spec.name,
            "status": "complete",
            "run": self.run,
            "profile": self.cfg["profile"],
            "fingerprint": fp["hash"],
            "params": fp["params"],
            "inputs": fp["inputs"],
            "code": fp["code"],
            "config_sha256": io.text_hash(self.cfg),
            "outputs": {k: {"path": paths.rel(p), "sha256": io.file_hash(p)} for k, p in outputs.items()},
            "counts": counts or {},
            "metrics": metrics or {},
            "started": self.started.isoformat(timespec="seconds"),
            "finished": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "wall_seconds": round(time.perf_counter() - self._t0, 2),
            "precision": self.precision.as_dict() if self.precision else None,
            "timings": progress.timings(),  # estimates made before the long work, beside the actual times
            # ru_maxrss is KiB on Linux; each notebook runs in a fresh kernel, so this is the step's peak.
            "peak_memory_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "python": platform.python_version(),
        }
        io.write_json(manifest_path(self.run, self.spec.name), manifest)
        return manifest
