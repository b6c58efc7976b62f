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

    @property
    def is_paraphrase(self) -> bool:
        return self.name.startswith("paraphrase")

    def fields_of_input(self, prompt: str) -> dict:
        """The row fields a prompt was made from (``format_input`` reversed): to re-gate a logged generation."""
        parts = re.split(r"\{(\w+)\}", self.template)
        pattern = "".join(re.escape(p) if i % 2 == 0 else f"(?P<{p}>.*)" for i, p in enumerate(parts))
        m = re.fullmatch(pattern, prompt.strip(), re.DOTALL)
        if m is None:
            raise ValueError(f"this prompt was not made from prompts/{self.name}.txt (as it is now): {prompt[:80]!r}")
        return m.groupdict()

    def format_output(self, raw: str, row: dict, lexicon: dict, names: dict, min_share: float,
                      finish_reason: str | None = None, copy_rouge_l: float | None = None):
        """(clean text, None) when it passes every gate, else (clean text, the first failing gate's reason).
        ``names``: 'own' and 'other' disease names; a query may name neither, a rationale only its own.
        A query is checked as a patient's message (RUBRIC.md section 1); a paraphrase also against its source
        (``row['query']`` or ``row['rationale']``): the same symptoms and persona, reworded (ROUGE-L at most
        ``copy_rouge_l``)."""
        text = gates.clean(raw)
        instruction = re.sub(r"\{[^}]*\}", " ", self.template)  # echo = of our words, not of the facts given
        forbidden = names["own"] + names["other"] if self.is_query else names["other"]
        asked = gates.row_words(row["symptoms"], lexicon) + " | " + row.get("description", "").lower()
        checks = [lambda: gates.latin_only(text), lambda: gates.no_artifacts(text, instruction),
                  lambda: gates.no_preamble(text), lambda: gates.no_markup(text),
                  lambda: gates.complete(text, finish_reason), lambda: gates.no_repetition(text),
                  lambda: gates.length_ok(text, *self.words), lambda: gates.no_disease_name(text, forbidden),
                  lambda: gates.no_sensitive(text, asked)]
        if self.is_query:
            checks += [lambda: gates.first_person(text), lambda: gates.patient_voice(text, asked),
                       lambda: gates.addresses_doctor(text, asked), lambda: gates.no_diagnosis(text, asked),
                       lambda: gates.persona_matches(text, row["sex"], row["place"], row["age_band"]),
                       lambda: gates.enough_symptoms(text, row["symptoms"], lexicon, min_share),
                       lambda: gates.states_red_flags(text, row["symptoms"], lexicon)]
        else:
            checks.append(lambda: None if gates.stated_symptoms(text, row["symptoms"], lexicon)
                          else "mentions none of the symptoms")
        if self.is_paraphrase:
            source = row["query"] if self.is_query else row["rationale"]
            checks.append(lambda: gates.keeps_source(text, source, row["symptoms"], lexicon, row["place"]))
            if copy_rouge_l is not None:
                checks.append(lambda: gates.not_a_copy(text, source, copy_rouge_l))
        return text, next((r for r in (c() for c in checks) if r), None)


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
             near_dup: float | None, fallback, log: list, reference: dict | None = None,
             copy_rouge_l: float | None = None) -> tuple[list[str], list[str]]:
    """Generate ``task`` for every row (or only fall back when generator is None); returns (texts, sources).
    ``near_dup``: reject a text this close (ROUGE-L) to an accepted one of the same disease; ``copy_rouge_l``: a
    paraphrase this close to its source."""
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
            text, reason = task.format_output(res.text, row, lexicon, names[row["disease"]], min_share,
                                              res.finish_reason, copy_rouge_l)
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
                       names, share, nd if task.is_query else None, fallback, log, reference,
                       nd if task.is_paraphrase else None)
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


TASKS = ("patient_query", "paraphrase_query", "rationale", "paraphrase_rationale")


def task_table(log: list[dict], stats: dict, gate_measure: dict | None = None) -> pd.DataFrame:
    """Per task: the rows it made, how many the LLM wrote (generations that passed every gate) and how many come
    from templates, the seconds the generation took (recorded with the cached generations, so a re-run from the
    cache gives the same; None where unknown), and the gates' precision and recall measured on the labelled
    generations of that task (``gatecheck.measure``; None where there is none or nothing to count).
    Hinglish paraphrases are templates by design and not counted here."""
    df = pd.DataFrame(log, columns=["task", "raw", "accepted"])
    measured = (gate_measure or {}).get("tasks", {})
    out = []
    for t in TASKS:
        g = df[df["task"] == t]
        llm = int((g["raw"].notna() & g["accepted"]).sum())
        seconds = stats.get(t, {}).get("generation_seconds")
        m = measured.get(t, {})
        out.append({"task": t, "rows": len(g), "generated": int(g["raw"].notna().sum()), "llm": llm,
                    "template": len(g) - llm, "generation_s": None if seconds is None else round(seconds, 1),
                    "gates_precision": m.get("precision"), "gates_recall": m.get("recall"),
                    "gates_accepted": m.get("accepted"), "gates_labelled": m.get("labelled")})
    return pd.DataFrame(out).set_index("task")


def _measured(r) -> str:
    """A task's measured precision and recall as the card states them."""
    if pd.isna(r["gates_labelled"]):
        return "not measured (no labelled generations)"
    acc, n = int(r["gates_accepted"]), int(r["gates_labelled"])
    p = f"{r['gates_precision']:.2f} ({acc} accepted of {n} labelled)" if acc else f"undefined (accepted none of {n})"
    rec = "undefined (none labelled acceptable)" if pd.isna(r["gates_recall"]) else f"{r['gates_recall']:.2f}"
    return f"{p}; recall {rec}"


def _task_lines(tasks: pd.DataFrame) -> str:
    lines = []
    for t, r in tasks.iterrows():
        took = "-" if pd.isna(r["generation_s"]) else f"{r['generation_s']:.0f} s"
        lines.append(f"| {t} | {r['generated']} | {r['llm']} | {r['template']} | {took} | {_measured(r)} |")
    return "\n".join(lines)


def dataset_card(df: pd.DataFrame, rejections: pd.DataFrame, generator_name: str, cfg: dict,
                 tasks: pd.DataFrame | None = None) -> str:
    """The dataset's README. Only what the data is and how it was made: run speeds are in step 03's manifest, so a
    re-run from the generation cache writes the same card (the generation times in ``tasks`` are those recorded
    with the cached generations)."""
    counts = df["split"].value_counts().to_dict()
    src = df["source"].value_counts().to_dict()
    rej = rejections[rejections["reason"] != "accepted"]
    rej_lines = "\n".join(f"| {r.task} | {r.reason} | {r.rows} |" for r in rej.itertuples()) or "| - | none | 0 |"
    llm_ran = bool(cfg["llm_tasks"])
    generator = (f"`{generator_name}`; sampling temperature {cfg['temperature']}; LLM tasks: "
                 f"{', '.join(cfg['llm_tasks'])} (the rest from templates)" if llm_ran else
                 "none: no LLM task ran (`synth.llm_tasks` is empty) and no generator model was loaded")
    written = "" if llm_ran else """
**Template-written.** No LLM task ran for this dataset (`synth.llm_tasks` is empty): every patient message,
paraphrase and rationale is written from the hand-written lexicon and sentence templates (`source` is `template`
or `template_hinglish`, `rationale_source` is `template`).
"""
    task_section = "" if tasks is None else f"""
## Who wrote each task's rows
Per task: LLM generations, rows the LLM wrote (generations that passed every gate), rows written from
templates (fallbacks after a rejection, or every row of a task the config runs without the LLM), the time the
generation took, and the gates' precision of acceptance (of the generations they accept, the share a reader
accepts) and recall, measured on the labelled generations in `data/gates/labelled.csv` (read by the rubric in
`data/gates/RUBRIC.md`; `pytest -k gates -s`): undefined when the gates accept none of them, or none is
acceptable. Hinglish paraphrases are templates by design and are not counted here.

| task | LLM generations | by the LLM | from templates | generation time | gates' precision (labelled set) |
| --- | --- | --- | --- | --- | --- |
{_task_lines(tasks)}
"""
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
{written}
- rows: {len(df)} ({', '.join(f'{k}: {v}' for k, v in sorted(counts.items()))}), split by source symptom set
  (`group_id`), stratified by disease: no test symptom set and no paraphrase of a test row is in training.
- columns: `input_text` (patient message), `output_text` (answer in five sections + disclaimer), and
  `disease`, `condition`, `symptoms`, `severity_total`, `severity_band`, `triage`, `group_id`, `source`,
  `rationale_source`, `paraphrase_of`, `persona`, `split`.
- query sources: {', '.join(f'{k}: {v}' for k, v in sorted(src.items()))}. `llm` passed every quality gate;
  `template` is the deterministic lexicon fallback after a rejected generation (or every query when no LLM
  writes them); `template_hinglish` are Hinglish paraphrases written from the lexicon by design
  ({cfg['hinglish_rate']:.0%} of paraphrases).

## Provenance
- Generator model: {generator}.
- Precautions and descriptions: the Kaggle CSVs. India notes: `data/knowledge/india_context.yaml` (sourced,
  composed without generation). Triage: `data/knowledge/triage.yaml` (disease default, red flags, severity).
- Lay phrasings: `data/knowledge/symptom_lexicon.yaml` (hand-written).
{task_section}
## Quality gates and rejections
Gates: Latin script only; no role tokens, "As an AI" or prompt echo; no assistant preamble or talk about the
text; no speaker labels, markup, placeholders or quoted messages; not cut off; length bounds; nothing sensitive
(sexual, self-harm, drugs, caste, religion, violence, crime, politics, insults) that the row's symptoms do not
name. A patient query: no disease name and no diagnosis guess; the patient in the first person to a doctor (not
a description, not a reply, no one else addressed or named); the row's sex, place and age; at least
{cfg['min_symptom_share']:.0%} of the row's symptoms recognisable, and every red-flag symptom of a case that is
an emergency because of them (its reference says "call 108"); no near-duplicate (ROUGE-L >
{cfg['near_duplicate_rouge_l']}) of another query of the disease. A paraphrase keeps its source's symptoms and
persona and is reworded (ROUGE-L to its source at most {cfg['near_duplicate_rouge_l']}). A rationale must
mention a symptom and name no disease other than through the answer's own header.

| task | reason | rows |
| --- | --- | --- |
{rej_lines}

## Limitations
- Small source data: 304 unique symptom sets for 41 diseases, many of them leave-one-out variants of each
  other; test sets are near neighbours of training sets even though none is shared. Use an external set
  (e.g. Symptom2Disease) to measure generalisation.
- {"Generated by a small model: wording can be awkward; template rows are formulaic." if llm_ran else
   "Template-written: the wording is formulaic (a few sentence frames around the hand-written lay phrasings)."}
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
