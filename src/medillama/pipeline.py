"""The chain of numbered steps: what each reads and writes, its fingerprint, and its manifest.

A step is current (skipped on re-run) when its manifest's fingerprint -- a hash of the config sections it
reads, its input files, and its code -- still matches, and its outputs are unchanged. A step's code is its
notebook and every module of the package it runs: the import closure of the notebook's ``medillama`` imports
(``code_closure``), with the package data files those modules name (``defaults.yaml``, ``prompts/``). Adding an
import to a step's code therefore changes its fingerprint without any list to keep by hand.
"""
from __future__ import annotations

import ast
import functools
import importlib.machinery
import json
import platform
import resource
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from . import config as config_mod
from . import allocator, io, paths, precision, progress

PACKAGE = "medillama"
SOURCE = importlib.machinery.SOURCE_SUFFIXES[0]
INIT = "__init__" + SOURCE
PKG_DIR = Path(__file__).parent  # the package whose modules a step may run
PATH_CALLS = ("with_name", "joinpath")  # path.with_name("prompts"), path / "defaults.yaml": a package data file
RAW_FILES = ("dataset.csv", "symptom_Description.csv", "symptom_precaution.csv", "Symptom-severity.csv")

Paths = Callable[[dict, str], list[Path]]


@dataclass(frozen=True)
class StepSpec:
    """A step: the config sections it reads, the files it reads (``inputs``) and writes (``outputs``), each a
    function of the resolved config and the run name, and whether it loads a model (it then runs in this
    machine's precision, and the preflight checks come first)."""

    name: str
    sections: tuple[str, ...]
    inputs: Paths
    outputs: Paths
    loads_model: bool = False

    @property
    def notebook(self) -> Path:
        return paths.NOTEBOOKS / f"{self.name}.ipynb"


# --- the code a step runs --------------------------------------------------------------------------------------

def notebook_source(notebook: Path) -> str:
    """The notebook's code cells as one Python source; IPython magics and shell lines (``%``, ``!``) are dropped."""
    cells = json.loads(Path(notebook).read_text(encoding="utf-8"))["cells"]
    lines = []
    for c in cells:
        if c["cell_type"] == "code":
            src = "".join(c["source"])
            lines += [ln for ln in src.splitlines() if not ln.lstrip().startswith(("%", "!"))]
    return "\n".join(lines)


def _module_file(name: str, pkg_dir: Path) -> Path | None:
    """The file of module ``name`` (``medillama`` or ``medillama.x``) inside ``pkg_dir``, or None."""
    parts = name.split(".")
    if parts[0] != PACKAGE:
        return None
    folder = pkg_dir.joinpath(*parts[1:])
    cands = ([folder.with_name(folder.name + SOURCE)] if parts[1:] else []) + [folder / INIT]
    return next((c for c in cands if c.is_file()), None)


def imported_modules(source: str, module: str | None = None, is_package: bool = False) -> set[str]:
    """Every ``medillama`` module named by an import anywhere in ``source`` (function-local ones included):
    ``import medillama.x``, ``from medillama import x``, ``from medillama.x import y`` and, inside the package
    (``module`` its dotted name), relative imports. ``from M import y`` names ``M`` and ``M.y`` (one of them may
    not be a module; the caller keeps those with a file)."""
    here = module.split(".") if module else []
    if here and not is_package:
        here = here[:-1]  # a module's relative imports start from its package
    out: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                if not here:
                    continue
                base = here[:len(here) - (node.level - 1)]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module or ""
            out.add(name)
            out.update(f"{name}.{a.name}" for a in node.names)
    return {m for m in out if m.split(".")[0] == PACKAGE}


@functools.lru_cache(maxsize=32)
def _closure(notebook: Path, pkg_dir: Path, stamp: tuple) -> tuple[Path, ...]:
    todo = [m for m in imported_modules(notebook_source(notebook))]
    seen: dict[str, Path] = {}
    while todo:
        name = todo.pop()
        f = _module_file(name, pkg_dir)
        if f is None or name in seen:
            continue
        seen[name] = f
        parent = name.rsplit(".", 1)[0] if "." in name else None
        if parent:
            todo.append(parent)  # importing medillama.x runs medillama/__init__.py first
        todo += imported_modules(f.read_text(encoding="utf-8"), name, f.name == INIT)
    return tuple(sorted(set(seen.values())))


def _stamp(*files: Path) -> tuple:
    return tuple((str(f), f.stat().st_mtime_ns, f.stat().st_size) for f in files if f.exists())


def code_closure(notebook: Path, pkg_dir: Path | None = None) -> list[Path]:
    """The package's source files a notebook runs: its ``medillama`` imports and, recursively, theirs."""
    pkg_dir = Path(pkg_dir or PKG_DIR)
    stamp = _stamp(Path(notebook), *sorted(pkg_dir.rglob("*" + SOURCE)))  # re-parse only when a file changed
    return list(_closure(Path(notebook), pkg_dir, stamp))


def package_data(modules: list[Path], pkg_dir: Path | None = None) -> list[Path]:
    """The package's non-Python files (``defaults.yaml``, ``prompts/*.txt``) that ``modules`` build a path to
    (``with_name``, ``joinpath`` or ``/`` with a string literal), by file name or by the folder holding them."""
    pkg_dir = Path(pkg_dir or PKG_DIR)
    data = [f for f in sorted(pkg_dir.rglob("*")) if f.is_file() and f.suffix not in (SOURCE, ".pyc")
            and "__pycache__" not in f.parts]
    named = set()
    for m in modules:
        for node in ast.walk(ast.parse(m.read_text(encoding="utf-8"))):
            args = []
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in PATH_CALLS:
                args = node.args
            elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
                args = [node.right]
            named.update(a.value for a in args if isinstance(a, ast.Constant) and isinstance(a.value, str))
    return [f for f in data if f.relative_to(pkg_dir).parts[0] in named]


def step_code(spec: StepSpec) -> dict[str, str]:
    """{file: sha256} of the notebook and of the package files it runs, keyed by path inside the project."""
    pkg = PKG_DIR
    modules = code_closure(spec.notebook, pkg)
    code = {spec.notebook.name: io.file_hash(spec.notebook)}
    code.update({str(f.relative_to(pkg)): io.file_hash(f) for f in modules + package_data(modules, pkg)})
    return code


# --- what each step reads and writes ---------------------------------------------------------------------------

def _raw_inputs(cfg: dict, run: str) -> list[Path]:
    raw = paths.resolve(cfg["ingest"]["raw_dir"])
    return [raw / f for f in RAW_FILES]


def _ingest_outputs(cfg: dict, run: str) -> list[Path]:
    d = paths.interim_dir(run)
    return [d / "diseases.parquet", d / "symptoms.parquet", d / "cases.parquet"]


def _balance_outputs(cfg: dict, run: str) -> list[Path]:
    return [paths.processed_dir(run) / "base_cases.parquet"]


def _synth_inputs(cfg: dict, run: str) -> list[Path]:
    # the prompts are part of step 03's code (package data); the knowledge files are facts it reads; the labelled
    # generations measure its gates for the manifest and the dataset card
    return (_balance_outputs(cfg, run) + [paths.interim_dir(run) / "diseases.parquet"]
            + sorted(paths.KNOWLEDGE.glob("*.yaml")) + [paths.GATES / "labelled.csv", paths.GATES / "rows.csv"])


def _synth_outputs(cfg: dict, run: str) -> list[Path]:
    d = paths.processed_dir(run)
    return [d / "dataset", d / "dataset.jsonl", d / "dataset.csv", d / "README.md",
            paths.run_dir(run) / "03_synthesize" / "generations.jsonl"]


def _dataset(cfg: dict, run: str) -> list[Path]:
    # the JSONL export holds the same rows as the DatasetDict, whose files carry a random fingerprint
    return [paths.processed_dir(run) / "dataset.jsonl"]


def _probe(cfg: dict) -> list[Path]:
    return [paths.resolve(cfg["train"][k]) for k in config_mod.PROBES.values() if cfg["train"][k]]


def _finetune_inputs(cfg: dict, run: str) -> list[Path]:
    # drill rows (training_data.py) also read the source cases, symptom weights, lexicon and triage rules
    # the Hindi gloss reads the lexicon where a prompt is glossed (train.hindi_gloss, train.gloss_training_share)
    probe = _probe(cfg)
    glossed = cfg["train"]["hindi_gloss"] or cfg["train"]["gloss_training_share"] > 0
    gloss = [paths.KNOWLEDGE / "symptom_lexicon.yaml"] if glossed else []
    if not config_mod.drills(cfg["train"]):
        return _dataset(cfg, run) + gloss + probe
    d = paths.interim_dir(run)
    return (_dataset(cfg, run) + [d / "cases.parquet", d / "symptoms.parquet"]
            + [paths.KNOWLEDGE / f for f in ("symptom_lexicon.yaml", "triage.yaml")] + probe)


def _finetune_outputs(cfg: dict, run: str) -> list[Path]:
    d = paths.run_dir(run) / "04_finetune"
    merged = [d / "merged"] if cfg["train"]["merge"] and cfg["train"]["use_peft"] else []
    return [paths.finetuned_dir(run, cfg["train"]["use_peft"])] + merged


def _evaluate_inputs(cfg: dict, run: str) -> list[Path]:
    ext = cfg["evaluate"]["external_eval_csv"]
    d = paths.interim_dir(run)
    drill = [d / "cases.parquet"] if config_mod.drills(cfg["train"]) else []  # the all-queries baseline
    return (_finetune_outputs(cfg, run)[:1] + _dataset(cfg, run) + [d / "diseases.parquet", d / "symptoms.parquet"]
            + drill + sorted(paths.KNOWLEDGE.glob("*.yaml")) + [paths.RED_FLAG_MESSAGES]  # the banner learns from it
            + ([paths.resolve(ext)] if ext else []) + _probe(cfg))


def _evaluate_outputs(cfg: dict, run: str) -> list[Path]:
    d = paths.run_dir(run) / "05_evaluate"
    ext = [d / "external_predictions.jsonl"] if cfg["evaluate"]["external_eval_csv"] else []
    return [d / "metrics.json", d / "predictions.jsonl", d / "unsupported_facts.csv"] + ext


STEPS: dict[str, StepSpec] = {
    s.name: s
    for s in [
        StepSpec("01_ingest", ("ingest",), _raw_inputs, _ingest_outputs),
        StepSpec("02_severity_balance", ("seed", "balance"), _ingest_outputs, _balance_outputs),
        StepSpec("03_synthesize", ("seed", "models.generator", "models.dtype", "models.device", "models.autocast",
                                   "synth"), _synth_inputs, _synth_outputs, loads_model=True),
        StepSpec("04_finetune", ("models.base", "models.dtype", "models.device", "models.autocast", "train", "sft",
                                 "lora", "evaluate.max_new_tokens", "evaluate.no_repeat_ngram_size"), _finetune_inputs, _finetune_outputs, loads_model=True),
        StepSpec("05_evaluate", ("seed", "models.base", "models.dtype", "models.device", "models.autocast", "train",
                                 "sft.seed", "evaluate"),
                 _evaluate_inputs, _evaluate_outputs, loads_model=True),
    ]
}


def fingerprint(spec: StepSpec, cfg: dict, run: str) -> dict:
    code = step_code(spec)
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
    if not all(p.exists() for p in spec.outputs(cfg, run)):
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
        if self.spec.loads_model:  # a step with model forwards: run them in this machine's precision
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
            "allocator": allocator.settings(),  # what this kernel started with (allocator.py)
            "timings": progress.timings(),  # estimates made before the long work, beside the actual times
            # ru_maxrss is KiB on Linux; each notebook runs in a fresh kernel, so this is the step's peak.
            "peak_memory_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "python": platform.python_version(),
        }
        io.write_json(manifest_path(self.run, self.spec.name), manifest)
        return manifest
