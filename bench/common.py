"""Shared bits of the benchmarks: the machine, prompts from a run's dataset, writing results."""
from __future__ import annotations

import json
import os
import platform
import time
from pathlib import Path

from medillama import allocator, io, paths

OUT = paths.OUTPUTS / "bench"


def machine() -> dict:
    import torch

    return {"python": platform.python_version(), "torch": torch.__version__, "cpus": os.cpu_count(),
            "torch_threads": torch.get_num_threads(), "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
            "processor": platform.processor() or platform.machine(), "allocator": allocator.settings(),
            "when": time.strftime("%Y-%m-%d %H:%M:%S")}


def add_run_args(ap, profile: str = "cpu") -> None:
    """``--profile`` (the config a run was made with) and ``--run`` (its outputs' name; default: the profile)."""
    from medillama import config

    ap.add_argument("--profile", default=profile, choices=list(config.PROFILES),
                    help=f"the run's config profile (default {profile})")
    ap.add_argument("--run", default="", help="the run's name under outputs/ and data/ (default: the profile)")


def add_generation_args(ap, max_new_tokens: int) -> None:
    """What a decoding benchmark varies: the model, how many prompts and new tokens, the batch, the rounds."""
    ap.add_argument("--model", default="smollm2-135m-instruct")
    ap.add_argument("--rows", type=int, default=64)
    ap.add_argument("--max-new-tokens", type=int, default=max_new_tokens)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--rounds", type=int, default=2)


def parse_run_args(ap, argv=None):
    """``ap.parse_args`` with ``run`` defaulting to ``profile``."""
    a = ap.parse_args(argv)
    a.run = a.run or a.profile
    return a


def queries(run: str, n: int) -> list[str]:
    """Patient queries from a run's dataset (any split: speed does not depend on labels)."""
    path = paths.processed_dir(run) / "dataset.jsonl"
    if not path.exists():
        raise SystemExit(f"{path} not found: make the run first (./run_all.sh --profile PROFILE --run {run} --only 03), or pass --run NAME")
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    return [r["input_text"] for r in rows][:n]


def splits(run: str) -> dict:
    """The run's dataset as {split: DataFrame}, from its JSONL export."""
    import pandas as pd

    path = paths.processed_dir(run) / "dataset.jsonl"
    if not path.exists():
        raise SystemExit(f"{path} not found: make the run first (./run_all.sh --profile PROFILE --run {run} --only 03), or pass --run NAME")
    df = pd.read_json(path, lines=True)
    return {name: df[df["split"] == name].reset_index(drop=True) for name in ("train", "validation", "test")}


def adapter_setup(profile: str, run: str, adapter: str):
    """(config, Systems, tokenizer, diseases frame, DiseaseNames) for scoring an adapter on a run's diseases."""
    import pandas as pd

    from medillama import config
    from medillama.evaluation import load_models
    from medillama.names import DiseaseNames

    cfg = config.load_config(profile)
    systems, tok = load_models(cfg["models"]["base"], paths.resolve(adapter), cfg["models"]["dtype"], "cpu")
    diseases = pd.read_parquet(paths.interim_dir(run) / "diseases.parquet")
    return cfg, systems, tok, diseases, DiseaseNames(diseases)


def save(name: str, result: dict) -> Path:
    path = io.write_json(OUT / f"{name}.json", {"machine": machine(), **result})
    print(json.dumps(result, indent=2))
    print(f"wrote {path}")
    return path
