"""Project-root anchored paths, so notebooks work from any cwd (papermill, Colab, CLI).

MEDILLAMA_ROOT moves the whole project root (configs, notebooks, data, outputs, caches: a test runs in a temporary
one); MEDILLAMA_MODELS moves only the converted offline model (a cache of a public model, safe to share)."""
import os
from pathlib import Path

ROOT = Path(os.environ.get("MEDILLAMA_ROOT", Path(__file__).resolve().parents[2]))
CONFIGS = ROOT / "configs"
NOTEBOOKS = ROOT / "notebooks"
KNOWLEDGE = ROOT / "data" / "knowledge"
GATES = ROOT / "data" / "gates"  # labelled generations: they measure step 03's quality gates (gatecheck.py)
RED_FLAG_MESSAGES = ROOT / "data" / "redflags" / "messages.csv"  # labelled messages: the banner classifier learns from its dev rows
MODELS = Path(os.environ.get("MEDILLAMA_MODELS", ROOT / "models"))
OUTPUTS = ROOT / "outputs"


def resolve(path) -> Path:
    """A config path: absolute as given, relative to the project root otherwise."""
    p = Path(os.path.expanduser(str(path)))
    return p if p.is_absolute() else ROOT / p


def run_dir(run: str) -> Path:
    return OUTPUTS / run


def interim_dir(run: str) -> Path:
    return ROOT / "data" / "interim" / run


FINETUNED_NAMES = {True: "adapter", False: "model"}  # step 04's output folder, by train.use_peft


def finetuned_dir(run: str, use_peft: bool) -> Path:
    """Step 04's output: the LoRA adapter, or the whole fine-tuned model (``train.use_peft: false``)."""
    return run_dir(run) / "04_finetune" / FINETUNED_NAMES[use_peft]


def processed_dir(run: str) -> Path:
    return ROOT / "data" / "processed" / run


def cache_dir(name: str) -> Path:
    """A cache of model outputs (``gen_cache``: step 03's generations; ``eval_cache``: step 05's answers)."""
    return ROOT / "data" / "interim" / name


def rel(path) -> str:
    """A path as recorded in manifests: relative to the project root when inside it (portable clones)."""
    p = Path(path).resolve()
    try:
        return str(p.relative_to(ROOT.resolve()))
    except ValueError:
        return str(p)
