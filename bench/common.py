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


def finetuned_reader(profile: str, run: str, gloss: bool | None = None, gloss_style: str | None = None):
    """A run's fine-tuned model read as step 04 reads it after training, as a namespace: ``cfg``, ``tcfg`` (the train
    section as the run recorded it), ``gloss`` (the reading, ``gloss.reading``), ``backend``, ``tok``, ``names``
    (DiseaseNames), ``manifest`` (step 04's), ``seed`` and ``decoding`` (whole answers' max_new_tokens and
    no_repeat_ngram_size, as the run set them). ``gloss`` and ``gloss_style``: the reading changed (default: the
    run's; a run recorded before ``gloss_style`` read in brackets)."""
    from types import SimpleNamespace

    import pandas as pd

    from medillama import config, precision
    from medillama.generate import HFBackend
    from medillama.gloss import LEGACY_STYLE, reading
    from medillama.models import load_finetuned
    from medillama.names import DiseaseNames

    manifest = json.loads((paths.run_dir(run) / "04_finetune" / "manifest.json").read_text())
    cfg = config.load_config(profile)
    recorded = manifest["params"]["train"]
    tcfg = {**cfg["train"], **recorded, "gloss_style": recorded.get("gloss_style", LEGACY_STYLE)}
    if gloss is not None:
        tcfg["hindi_gloss"] = gloss
    if gloss_style is not None:
        tcfg["gloss_style"] = gloss_style
    precision.use(precision.for_config(cfg))
    model, tok = load_finetuned(paths.finetuned_dir(run, tcfg["use_peft"]), cfg["models"]["base"], device="cpu")
    model = precision.for_inference(model)  # as step 04 reads, after training
    names = DiseaseNames(pd.read_parquet(paths.interim_dir(run) / "diseases.parquet"))
    decoding = {k: manifest["params"].get(f"evaluate.{k}", cfg["evaluate"][k])
                for k in ("max_new_tokens", "no_repeat_ngram_size")}
    return SimpleNamespace(cfg=cfg, tcfg=tcfg, gloss=reading(tcfg), backend=HFBackend(model, tok, batch_size=32, chat=False),
                           tok=tok, names=names, manifest=manifest, seed=manifest["params"]["sft"]["seed"],
                           decoding=decoding)


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
