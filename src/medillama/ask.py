"""`medillama ask`: answer new symptom queries with the fine-tuned model (adapter or whole), through the safety layer."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import yaml

from . import config, io, paths
from .answer import build_prompt
from .gloss import hindi_gloss, reading
from .safety import EmptyQuery, apply, clean_query

MAKE_ONE = "./run_all.sh --profile cpu   (step 04 writes outputs/<run>/04_finetune/adapter)"


class NoAdapter(FileNotFoundError):
    pass


class NoDiseaseTable(FileNotFoundError):
    """No run to take the disease names from (conditions are named from the run the adapter was trained on)."""


def _finetuned(folder: Path) -> bool:
    """Whether ``folder`` is step 04's output: a LoRA adapter or a whole fine-tuned model, with its training config."""
    return (folder / "adapter_config.json").exists() or (folder / "training_config.yaml").exists()


def find_adapter(run: str | None = None, adapter: str | None = None) -> Path:
    """An explicit step-04 output folder (a LoRA adapter or a whole fine-tuned model), a run's, or the newest
    completed run's."""
    if adapter:
        p = paths.resolve(adapter)
        if not _finetuned(p):
            raise NoAdapter(f"{p} holds no fine-tuned model (adapter_config.json or training_config.yaml). "
                            f"Make one with: {MAKE_ONE}")
        return p
    kinds = tuple(paths.FINETUNED_NAMES.values())
    if run:
        found = [p for p in (paths.finetuned_dir(run, u) for u in paths.FINETUNED_NAMES) if _finetuned(p)]
        if not found:
            raise NoAdapter(f"run {run!r} has no fine-tuned model under {paths.run_dir(run) / '04_finetune'}. "
                            f"Make one with: {MAKE_ONE}")
        return max(found, key=lambda p: p.stat().st_mtime)
    done = []
    for m in paths.OUTPUTS.glob("*/04_finetune/manifest.json"):
        info = io.read_json(m)
        done += [(info.get("finished", ""), m.parent / k) for k in kinds
                 if info.get("status") == "complete" and k in info.get("outputs", {}) and _finetuned(m.parent / k)]
    if not done:
        raise NoAdapter(f"no fine-tuned model found under {paths.OUTPUTS}. Make one with: {MAKE_ONE}")
    return max(done)[1]


def run_of_adapter(adapter: Path) -> str | None:
    """The run a step-04 output belongs to (``outputs/<run>/04_finetune/adapter`` or ``.../model``)."""
    p = Path(adapter).resolve()
    if p.name in paths.FINETUNED_NAMES.values() and p.parent.name == "04_finetune" and p.parent.parent.parent == paths.OUTPUTS.resolve():
        return p.parent.parent.name
    return None


def disease_table(run: str | None, adapter: Path | None = None):
    """The disease table of ``run``, else of the run ``adapter`` belongs to: the names the model was trained on.
    Raises NoDiseaseTable, saying what to do, when there is no such run or it has no table."""
    import pandas as pd

    name = run or (run_of_adapter(adapter) if adapter is not None else None)
    if not name:
        raise NoDiseaseTable(f"adapter {adapter} is not a run's adapter (outputs/<run>/04_finetune/adapter), so the "
                             "disease names cannot be told; pass --run NAME, the run whose step 01 ingested them")
    path = paths.interim_dir(name) / "diseases.parquet"
    if not path.exists():
        raise NoDiseaseTable(f"run {name!r} has no disease table at {path}; run its step 01 "
                             f"(./run_all.sh --run {name} --only 01) or pass --run NAME of a run that has one")
    return pd.read_parquet(path)


def training_config(folder: Path) -> dict:
    """What step 04 wrote beside its model (base model, dtype, the train/sft/lora sections); {} when absent."""
    path = Path(folder) / "training_config.yaml"
    return (yaml.safe_load(path.read_text()) or {}) if path.exists() else {}


DECODING = {"urgency_bias": float, "no_repeat_ngram_size": int}  # step 05's decoding settings that ask repeats
BEFORE_RECORDED = {"urgency_bias": 0.0}  # how a step 05 that did not record the setting decoded (greedy: no bias)


def evaluated_decoding(run: str | None) -> dict:
    """``evaluate.urgency_bias`` and ``evaluate.no_repeat_ngram_size`` as ``run``'s finished step 05 decoded the answers
    it measured (its metrics.json), so ``ask`` answers as the report says. A setting that step 05 did not record: the
    bias 0 (greedy: a step 05 from before the bias), the package default for the rest; no finished step 05: the
    package defaults."""
    defaults = config.defaults()["evaluate"]
    path = paths.run_dir(run) / "05_evaluate" / "metrics.json" if run else None
    if path is None or not path.exists():
        return {k: defaults[k] for k in DECODING}
    measured, unrecorded = io.read_json(path), {**defaults, **BEFORE_RECORDED}
    return {k: kind(unrecorded[k] if measured.get(k) is None else measured[k]) for k, kind in DECODING.items()}


class Assistant:
    """Loads the base model and the adapter once; answers batches of queries. Conditions are named from the disease
    table of ``run`` (default: the run the adapter belongs to; ``diseases`` gives the table directly)."""

    def __init__(self, adapter: Path, batch_size: int = 16, max_new_tokens: int = 384, backend=None,
                 no_repeat_ngram_size: int | None = None, run: str | None = None, diseases=None,
                 urgency_bias: float | None = None):

        from .names import DiseaseNames

        self.adapter = Path(adapter)
        diseases = disease_table(run, self.adapter) if diseases is None else diseases  # fail before loading a model
        cfg = training_config(self.adapter)
        self.style = cfg.get("train", {}).get("prompt_style", "alpaca")
        self.gloss = reading(cfg.get("train", {}))  # as the run's evaluation read messages
        self.max_new_tokens = max_new_tokens
        evaluated = evaluated_decoding(run_of_adapter(self.adapter) or run)  # --run names the diseases only
        self.no_repeat_ngram_size = (evaluated["no_repeat_ngram_size"] if no_repeat_ngram_size is None
                                     else no_repeat_ngram_size)
        self.urgency_bias = evaluated["urgency_bias"] if urgency_bias is None else urgency_bias
        self.tokenizer = None
        if backend is None:
            from .generate import HFBackend
            from .models import load_finetuned

            model, tok = load_finetuned(self.adapter, cfg.get("base_model", "smollm2-135m-instruct"),
                                        dtype=cfg.get("dtype", "float32"))
            backend = HFBackend(model, tok, batch_size=batch_size, chat=False)
            self.tokenizer = tok
        self.backend = backend
        self.names = DiseaseNames(diseases)

    def answer(self, queries: list[str]) -> list[dict]:
        # what the model reads (shown in --json)
        read = [hindi_gloss(q, style=self.gloss) if self.gloss else q for q in queries]
        prompts = [build_prompt(r, self.style, self.tokenizer) for r in read]
        results = self.backend.generate(prompts, max_new_tokens=self.max_new_tokens, temperature=0.0,
                                        no_repeat_ngram_size=self.no_repeat_ngram_size, urgency_bias=self.urgency_bias)
        out = []
        for q, r, read_as in zip(queries, results, read):
            a = apply(q, r.text, self.names)
            out.append({"query": q, "read_as": read_as, **a, "raw": r.text, "finish_reason": r.finish_reason})
        return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="medillama ask", description=__doc__)
    ap.add_argument("query", nargs="?", help="the symptoms, in your own words (English, Hinglish or Hindi in Devanagari)")
    ap.add_argument("--run", help="use this run's adapter and disease names (default: the newest completed run; "
                                  "with --adapter: the names of this run)")
    ap.add_argument("--adapter", help="path to a step-04 output folder (a LoRA adapter or a whole fine-tuned model)")
    ap.add_argument("--batch", metavar="FILE", help="one query per line ('-' = stdin); writes JSONL to stdout")
    ap.add_argument("--json", action="store_true", help="print the parsed fields as JSON")
    ap.add_argument("--max-chars", type=int, default=1000, help="longer queries are truncated, with a warning")
    ap.add_argument("--max-new-tokens", type=int, default=384)
    ap.add_argument("--batch-size", type=int, default=16)
    args = ap.parse_args(argv)

    if args.batch:
        lines = (sys.stdin if args.batch == "-" else open(args.batch, encoding="utf-8")).read().splitlines()
    elif args.query is not None:
        lines = [args.query]
    elif not sys.stdin.isatty():
        lines = sys.stdin.read().splitlines()
    else:
        print("error: give a query, --batch FILE, or pipe queries on stdin", file=sys.stderr)
        return 2
    queries = []
    for line in lines:
        try:
            q, warnings = clean_query(line, args.max_chars)
        except EmptyQuery as e:
            if args.batch:
                continue  # blank lines in a batch file are skipped
            print(f"error: {e}", file=sys.stderr)
            return 2
        for w in warnings:
            print(f"warning: {w}", file=sys.stderr)
        queries.append(q)
    if not queries:
        print("error: no non-empty query to answer", file=sys.stderr)
        return 2
    try:
        assistant = Assistant(find_adapter(args.run, args.adapter), args.batch_size, args.max_new_tokens,
                              run=args.run)
    except (NoAdapter, NoDiseaseTable) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    answers = assistant.answer(queries)
    for a in answers:
        if args.batch or args.json:
            fields = {k: a[k] for k in ("query", "read_as", "banner", "triage", "red_flags", "condition", "changes")}
            fields.update({k: a["parsed"][k] for k in ("why", "precautions", "see_doctor", "india_notes")})
            fields["text"] = a["text"]
            print(json.dumps(fields, ensure_ascii=False))
        else:
            print(a["text"])
    return 0
