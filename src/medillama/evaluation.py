"""Step 05 helpers: answers from the base and the fine-tuned model with one prompt formatter, batched and cached."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from . import io, paths, progress
from .answer import SECTIONS, build_prompt, parse_answer
from .generate import CachedGenerator, HFBackend

CONDITION_STOP = ["\n"]  # accuracy needs only the first line: "Likely condition: ..."


def load_models(base: str, adapter: Path, dtype: str, device: str):
    """The base model with the adapter attached (and the tokenizer, left padding). One set of weights serves both:
    the adapter is switched off for the base model's answers rather than loading the model twice."""
    from peft import PeftModel

    from .models import load_model

    model, tok = load_model(base, dtype=dtype, device=device, padding_side="left")
    peft = PeftModel.from_pretrained(model, str(adapter)).eval()
    return peft, tok


class AdapterSwitch:
    """A backend view of a PEFT model with its adapter on or off."""

    def __init__(self, peft_model, tokenizer, enabled: bool, name: str, batch_size: int):
        self.peft, self.enabled = peft_model, enabled
        self.backend = HFBackend(peft_model, tokenizer, batch_size=batch_size, chat=False, name=name)
        self.name = name

    def generate(self, prompts, **kw):
        if self.enabled:
            return self.backend.generate(prompts, **kw)
        with self.peft.disable_adapter():
            return self.backend.generate(prompts, **kw)


def answer_all(peft, tok, adapter: Path, base_name: str, queries: list[str], style: str, max_new_tokens: int,
               batch_size: int, task: str, stop=None, no_repeat_ngram_size: int = 0) -> dict[str, list]:
    """{'base': [GenResult], 'finetuned': [GenResult]} for the queries, cached on disk per batch."""
    prompts = [build_prompt(q, style, tok) for q in queries]
    out = {}
    adapter_id = io.file_hash(adapter)[:12]
    for label, enabled in (("base", False), ("finetuned", True)):
        name = f"{base_name}" if not enabled else f"{base_name}+lora:{adapter_id}"
        gen = CachedGenerator(AdapterSwitch(peft, tok, enabled, name, batch_size),
                              paths.ROOT / "data" / "interim" / "eval_cache", batch_size=batch_size)
        params = {"max_new_tokens": max_new_tokens, "temperature": 0.0, "stop": stop}
        if no_repeat_ngram_size:  # only when set, so caches made without it stay valid
            params["no_repeat_ngram_size"] = no_repeat_ngram_size
        out[label] = gen.run(f"{task}_{label}", style, prompts, params)
        out[f"{label}_stats"] = gen.last_run_stats
    return out


def condition_of(text: str, names) -> str | None:
    """Disease key of an answer: its 'Likely condition' section, else its first line."""
    p = parse_answer(text)
    cond = p["condition"] or (text or "").strip().split("\n")[0]
    return names.key(cond)


DECISION_STOP = ["\n" + SECTIONS[2]]  # the decision is the first two sections (condition, urgency): stop at the third


def decision_scores(backend, queries, diseases, levels, names, style: str, tokenizer,
                    max_new_tokens: int = 64) -> tuple[dict, pd.DataFrame]:
    """(summary, per-row frame) of the decision lines alone, generated uncached: disease accuracy, triage agreement,
    under-triage overall and on emergency rows, over-triage. Step 04 uses it on the validation split, the split to
    compare recipes on; the test split is step 05's."""
    from .metrics import triage_scores

    prompts = [build_prompt(q, style, tokenizer) for q in queries]
    with progress.phase("decision lines (validation)", len(prompts)):
        results = backend.generate(prompts, max_new_tokens=max_new_tokens, stop=DECISION_STOP)
    rows = pd.DataFrame([{"disease": d, "triage": lv, "pred_disease": condition_of(r.text, names),
                          **triage_scores(parse_answer(r.text)["see_doctor"], lv)}
                         for r, d, lv in zip(results, diseases, levels)])
    if rows.empty:
        return {"rows": 0}, rows
    emergency = rows[rows["triage"] == "emergency"]
    summary = {"disease_accuracy": float((rows["pred_disease"] == rows["disease"]).mean()),
               "triage_agreement": float(rows["triage_agree"].mean()),
               "under_triage": float(rows["under_triage"].mean()),
               "under_triage_emergency": float(emergency["under_triage"].mean()) if len(emergency) else None,
               "over_triage": float(rows["over_triage"].mean()),
               "rows": len(rows), "emergency_rows": len(emergency)}
    return summary, rows


def probe_accuracy(backend, path, names, style: str, tokenizer, max_new_tokens: int = 24) -> tuple[dict, pd.DataFrame]:
    """(summary, per-row frame): disease accuracy on a natural-language probe (a text,label CSV, as an external set)
    from the condition line alone. Step 04 scores ``train.probe_csv`` next to the validation split: the split's
    queries share the training queries' template, so only a probe in other words can show whether a recipe
    generalises past it."""
    df, _, unmapped = load_external(path, names)
    if unmapped:
        raise ValueError(f"{path}: labels {unmapped} map to no disease; fix them (the probe is ours to keep exact)")
    prompts = [build_prompt(q, style, tokenizer) for q in df["text"]]
    with progress.phase("probe (condition line)", len(prompts)):
        results = backend.generate(prompts, max_new_tokens=max_new_tokens, stop=CONDITION_STOP)
    df["pred_disease"] = [condition_of(r.text, names) for r in results]
    return {"accuracy": float((df["pred_disease"] == df["disease"]).mean()), "rows": len(df)}, df


def load_external(path, names) -> tuple[pd.DataFrame, dict, list]:
    """An external set with columns text,label -> rows with a disease key; unmappable labels are reported."""
    p = paths.resolve(path)
    if not p.exists():
        raise FileNotFoundError(f"external_eval_csv {p} does not exist; set it to a CSV with columns text,label "
                                "or leave it empty to skip the external evaluation")
    df = pd.read_csv(p)
    missing = {"text", "label"} - set(df.columns)
    if missing:
        raise ValueError(f"{p.name}: needs columns text,label; missing {sorted(missing)}")
    mapping, unmapped = names.map_labels(df["label"])
    df["disease"] = df["label"].map(mapping)
    return df, mapping, unmapped

