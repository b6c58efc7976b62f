"""Step 03: turn balanced base rows into patient/doctor Q&A pairs.

Per base row: a patient query and its paraphrase (LLM, gated), a rationale and its rewording (LLM, grounded in
the disease description, gated), India notes composed from india_context.yaml (facts only, never generated),
precautions from the dataset and triage from triage.yaml. A generation that fails a gate is kept with its
reason and replaced by a deterministic lexicon template (``source='template'``): no row is ever lost.
"""
from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from . import gates, knowledge
from . import io as mio
from .answer import format_answer
from .ingest import symptom_phrase
from .queries import join_phrases, symptom_phrases, template_query

PROMPTS = Path(__file__).with_name("prompts")


def _sentences(text: str, n: int) -> str:
    return " ".join(re.split(r"(?<=[.!?])\s+", text.strip())[:n])


@dataclass
class Task:
    """A generation task: a prompt template file, how to fill it, and how to check what comes back."""

    name: str
    max_new_tokens: int
    words: tuple[int, int]

    @property
    def template(self) -> str:
        return (PROMPTS / f"{self.name}.txt").read_text(encoding="utf-8").strip()

    @property
    def template_hash(self) -> str:
        return mio.text_hash(self.template)

    def format_input(self, row: dict) -> str:
        return self.template.format(**row)

    @property
    def is_query(self) -> bool:
        return self.name.endswith("query")

    def format_output(self, raw: str, row: dict, lexicon: dict, names: dict, min_share: float):
        """(clean text, None) when it passes every gate, else (clean text, the first failing gate's reason).
        ``names``: 'own' and 'other' disease names; a query may name neither, a rationale only its own."""
        text = gates.clean(raw)
        instruction = re.sub(r"\{[^}]*\}", " ", self.template)  # echo = of our words, not of the facts given
        forbidden = names["own"] + names["other"] if self.is_query else names["other"]
        checks = [gates.latin_only(text), gates.no_artifacts(text, instruction), gates.no_repetition(text),
                  gates.length_ok(text, *self.words), gates.no_disease_name(text, forbidden)]
        if self.is_query:
            checks += [gates.first_person(text), gates.enough_symptoms(text, row["symptoms"], lexicon, min_share),
                       gates.states_red_flags(text, row["symptoms"], lexicon)]
        elif not gates.stated_symptoms(text, row["symptoms"], lexicon):
            checks.append("mentions none of the symptoms")
        return text, next((c for c in checks if c), None)


def template_rationale(row: dict, variant: int = 0) -> str:
    """Grounded in the dataset: the row's symptoms (neutral phrases) and the description's first sentence."""
    first = _sentences(row["description"], 1)
    first = first[:1].upper() + first[1:]
    symptoms = join_phrases([symptom_phrase(s) for s in row["symptoms"]])
    if variant == 0:
        return f"{symptoms[:1].upper() + symptoms[1:]} together fit {row['condition']}. {first}"
    return f"{row['condition']} commonly causes {symptoms}. {first}"


# --- the step ------------------------------------------------------------------------------------------------

@dataclass
class SynthResult:
    rows: pd.DataFrame
    generations: list[dict] = field(default_factory=list)
    stats: dict = field(default_factory=dict)


def prepare(base: pd.DataFrame, diseases: pd.DataFrame, lexicon: dict, india_fields, seed: int) -> list[dict]:
    """Base rows with everything the prompts and the answer need."""
    info = diseases.set_index("key")
    rows = []
    for r in base.to_dict("records"):
        d = info.loc[r["disease"]]
        rng = random.Random(f"{seed}:{r['row_id']}:phrases")
        level, reasons = knowledge.triage_level(r["disease"], r["symptoms"], int(r["severity_total"]))
        phrases = symptom_phrases(r["symptoms"], lexicon, rng)
        rows.append({**r, "symptoms": list(r["symptoms"]), "condition": d["display_name"],
                     "description": d["description"], "precautions": list(d["precautions"]),
                     "symptom_phrases": phrases, "symptom_list": join_phrases(phrases), "triage": level,
                     "triage_reasons": reasons, "india_notes": knowledge.india_notes(r["disease"], india_fields)})
    return rows


def forbidden_names(diseases: pd.DataFrame) -> dict:
    """Per disease: its own names (display + local) and the display names of every other disease."""
    own = {k: knowledge.disease_aliases(k, dn) for k, dn in zip(diseases["key"], diseases["display_name"])}
    return {k: {"own": own[k], "other": sorted({n.lower() for n in diseases["display_name"]} - set(own[k]))}
            for k in own}


def run_task(task: Task, rows: list[dict], generator, gen_params: dict, lexicon, names, min_share,
             near_dup: float | None, fallback, log: list, reference: dict | None = None) -> tuple[list[str], list[str]]:
    """Generate ``task`` for every row (or only fall back when generator is None); returns (texts, sources)."""
    prompts = [task.format_input(r) for r in rows]
    results = generator.run(task.name, task.template_hash, prompts, gen_params) if generator else [None] * len(rows)
    accepted: dict[str, list[str]] = {}
    for r in reference or {}:
        accepted.setdefault(r, []).extend(reference[r])
    texts, sources = [], []
    for row, prompt, res in zip(rows, prompts, results):
        if res is None:
            text, reason = "", "llm disabled for this task"
        else:
            text, reason = task.format_output(res.text, row, lexicon, names[row["disease"]], min_share)
            if reason is None and near_dup is not None:
                reason = gates.not_near_duplicate(text, accepted.get(row["disease"], []), near_dup)
        if reason is None:
            source = "llm"
        else:
            text, source = fallback(row), "template"
        accepted.setdefault(row["disease"], []).append(text)
        texts.append(text)
        sources.append(source)
        log.append({"task": task.name, "row_id": row["row_id"], "prompt": prompt,
                    "raw": None if res is None else res.text, "accepted": reason is None, "reason": reason,
                    "finish_reason": None if res is None else res.finish_reason,
                    "completion_tokens": None if res is None else res.completion_tokens})
    return texts, sources


def synthesize(base: pd.DataFrame, diseases: pd.DataFrame, generator, cfg: dict, seed: int) -> SynthResult:
    """Build the Q&A rows (two per base row: original and paraphrase). ``generator`` is a CachedGenerator or None."""
    lexicon = knowledge.lexicon()
    rows = prepare(base, diseases, lexicon, cfg["india_fields"], seed)
    names = forbidden_names(diseases)
    llm = set(cfg["llm_tasks"])
    share, nd = cfg["min_symptom_share"], cfg["near_duplicate_rouge_l"]
    qwords, rwords = tuple(cfg["query_words"]), tuple(cfg["rationale_words"])
    params = {"temperature": cfg["temperature"], "stop": ["\n\n"]}
    log: list[dict] = []
    stats: dict = {}

    def gen(name):
        return generator if generator is not None and name in llm else None

    def run(task, rows_, fallback, reference=None):
        out = run_task(task, rows_, gen(task.name), {**params, "max_new_tokens": task.max_new_tokens}, lexicon,
                       names, share, nd if task.is_query else None, fallback, log, reference)
        if gen(task.name) is not None:
            stats[task.name] = dict(generator.last_run_stats)
        return out

    q_task = Task("patient_query", cfg["max_new_tokens_query"], qwords)
    queries, q_src = run(q_task, rows, lambda r: template_query(r, lexicon, f"{seed}:{r['row_id']}:q"))
    for r, q in zip(rows, queries):
        r["query"] = q

    # Paraphrases: a seeded share are Hinglish templates by design; the rest are LLM rewrites.
    rng = random.Random(f"{seed}:hinglish")
    hinglish = [rng.random() < cfg["hinglish_rate"] for _ in rows]
    p_rows = [r for r, h in zip(rows, hinglish) if not h]
    p_task = Task("paraphrase_query", cfg["max_new_tokens_query"], qwords)
    reference = {}
    for r in rows:
        reference.setdefault(r["disease"], []).append(r["query"])
    p_texts, p_src = run(p_task, p_rows, lambda r: template_query(r, lexicon, f"{seed}:{r['row_id']}:p"),
                         reference)
    para = dict(zip([r["row_id"] for r in p_rows], zip(p_texts, p_src)))
    for r, h in zip(rows, hinglish):
        if h:
            para[r["row_id"]] = (template_query(r, lexicon, f"{seed}:{r['row_id']}:h", hinglish=True),
                                 "template_hinglish")

    r_task = Task("rationale", cfg["max_new_tokens_rationale"], rwords)
    rationales, r_src = run(r_task, rows, lambda r: template_rationale(r, 0))
    for r, t in zip(rows, rationales):
        r["rationale"] = t
    rp_task = Task("paraphrase_rationale", cfg["max_new_tokens_rationale"], rwords)
    rationales2, r2_src = run(rp_task, rows, lambda r: template_rationale(r, 1))

    out = []
    for i, r in enumerate(rows):
        for variant, (query, qsrc, why, wsrc) in enumerate([
                (r["query"], q_src[i], r["rationale"], r_src[i]),
                (para[r["row_id"]][0], para[r["row_id"]][1], rationales2[i], r2_src[i])]):
            out.append({
                "id": f"{r['row_id']}-{'o' if variant == 0 else 'p'}",
                "input_text": query,
                "output_text": format_answer(r["condition"], why, r["precautions"],
                                             knowledge.triage_advice(r["triage"]), r["india_notes"]),
                "disease": r["disease"], "condition": r["condition"], "symptoms": r["symptoms"],
                "severity_total": int(r["severity_total"]), "severity_band": r["severity_band"],
                "triage": r["triage"], "group_id": r["group_id"], "base_row_id": r["row_id"],
                "source": qsrc, "rationale_source": wsrc,
                "paraphrase_of": None if variant == 0 else f"{r['row_id']}-o",
                "persona": f"{r['age_band']} {r['sex']}, {r['place']} ({r['setting']}), {r['duration']}",
            })
    return SynthResult(pd.DataFrame(out), log, stats)


# --- outputs ---------------------------------------------------------------------------------------------------

COLUMNS = ["id", "input_text", "output_text", "disease", "condition", "symptoms", "severity_total", "severity_band",
           "triage", "group_id", "base_row_id", "source", "rationale_source", "paraphrase_of", "persona", "split"]


def rejection_table(log: list[dict]) -> pd.DataFrame:
    """Rows per (task, reason) over LLM generations (tasks run as templates by config are not counted)."""
    df = pd.DataFrame(log)
    if not df.empty:
        df = df[df["raw"].notna()]
    if df.empty:
        return pd.DataFrame(columns=["task", "reason", "rows"])
    df["reason"] = df["reason"].fillna("accepted").str.replace(r" \d+.*% < .*", " below threshold", regex=True)
    df["reason"] = df["reason"].str.replace(r"length \d+ words", "length", regex=True)
    df["reason"] = df["reason"].str.replace(r"names the disease \(.*\)", "names a disease", regex=True)
    df["reason"] = df["reason"].str.replace(r"red-flag symptoms not stated \(.*\)", "red flags not stated", regex=True)
    return df.groupby(["task", "reason"]).size().rename("rows").reset_index()


def dataset_card(df: pd.DataFrame, rejections: pd.DataFrame, generator_name: str, cfg: dict) -> str:
    """The dataset's README. Only what the data is and how it was made: run speeds are in step 03's manifest, so a
    re-run from the generation cache writes the same card."""
    counts = df["split"].value_counts().to_dict()
    src = df["source"].value_counts().to_dict()
    rej = rejections[rejections["reason"] != "accepted"]
    rej_lines = "\n".join(f"| {r.task} | {r.reason} | {r.rows} |" for r in rej.itertuples()) or "| - | none | 0 |"
    return f"""---
license: gpl-3.0
language: [en, hi]
task_categories: [text-generation]
tags: [medical, india, synthetic, symptom-checker]
---
# MediLlama synthetic consultations

Synthetic patient/doctor exchanges for {df['disease'].nunique()} diseases, built by the MediLlama pipeline
(step 03) from the Kaggle *Disease Symptom Description* dataset (itachi9604; GPL-3.0, so this derivative is GPL-3.0).
**Research data, not medical advice.**

- rows: {len(df)} ({', '.join(f'{k}: {v}' for k, v in sorted(counts.items()))}), split by source symptom set
  (`group_id`), stratified by disease: no test symptom set and no paraphrase of a test row is in training.
- columns: `input_text` (patient message), `output_text` (answer in five sections + disclaimer), and
  `disease`, `condition`, `symptoms`, `severity_total`, `severity_band`, `triage`, `group_id`, `source`,
  `rationale_source`, `paraphrase_of`, `persona`, `split`.
- query sources: {', '.join(f'{k}: {v}' for k, v in sorted(src.items()))}. `llm` passed every quality gate;
  `template` is the deterministic lexicon fallback after a rejected generation; `template_hinglish` are
  Hinglish paraphrases written from the lexicon by design ({cfg['hinglish_rate']:.0%} of paraphrases).

## Provenance
- Generator model: `{generator_name}`; sampling temperature {cfg['temperature']}.
- Precautions and descriptions: the Kaggle CSVs. India notes: `data/knowledge/india_context.yaml` (sourced,
  composed without generation). Triage: `data/knowledge/triage.yaml` (disease default, red flags, severity).
- Lay phrasings: `data/knowledge/symptom_lexicon.yaml` (hand-written).

## Quality gates and rejections
Gates: Latin script only; no role tokens, "As an AI" or prompt echo; length bounds; no disease name in a
patient query; at least {cfg['min_symptom_share']:.0%} of the row's symptoms recognisable; near-duplicates
(ROUGE-L > {cfg['near_duplicate_rouge_l']}) against other queries of the disease; a case that is an emergency
because of red-flag symptoms must state them (its reference says "call 108"). A rationale must mention a
symptom and name no disease other than through the answer's own header.

| task | reason | rows |
| --- | --- | --- |
{rej_lines}

## Limitations
- Small source data: 304 unique symptom sets for 41 diseases, many of them leave-one-out variants of each
  other; test sets are near neighbours of training sets even though none is shared. Use an external set
  (e.g. Symptom2Disease) to measure generalisation.
- Generated by a small model: wording can be awkward; template rows are formulaic.
- Triage levels are rules for a synthetic dataset, not a clinical decision tool.
"""


def export(df: pd.DataFrame, out_dir: Path, card: str) -> dict[str, Path]:
    """DatasetDict on disk + JSONL + CSV + README.md card, each written atomically."""
    from datasets import Dataset, DatasetDict

    df = df[COLUMNS]
    out_dir = Path(out_dir)
    dd = DatasetDict({s: Dataset.from_pandas(df[df["split"] == s].reset_index(drop=True), preserve_index=False)
                      for s in ("train", "validation", "test")})
    with mio.atomic_path(out_dir / "dataset") as tmp:
        dd.save_to_disk(str(tmp))
    paths = {"dataset": out_dir / "dataset"}
    paths["jsonl"] = mio.write_jsonl(out_dir / "dataset.jsonl", df.to_dict("records"))
    with mio.atomic_path(out_dir / "dataset.csv") as tmp:
        df.assign(symptoms=df["symptoms"].map(",".join)).to_csv(tmp, index=False)
    paths["csv"] = out_dir / "dataset.csv"
    paths["card"] = mio.write_text(out_dir / "README.md", card)
    return paths
