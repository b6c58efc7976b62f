"""Step 05: answers from the base and the fine-tuned model with one prompt formatter, batched and cached; their
scores, the baselines on the same rows, the external set, and the record step 05 writes as metrics.json."""
from __future__ import annotations

import contextlib
from pathlib import Path

import numpy as np
import pandas as pd

from . import io, paths, progress
from .answer import SECTIONS, build_prompt, parse_answer
from .generate import CachedGenerator, HFBackend
from .gloss import reading

CONDITION_STOP = ["\n"]  # accuracy needs only the first line: "Likely condition: ..."


def load_models(base: str, finetuned: Path, dtype: str, device: str):
    """(Systems, tokenizer with left padding): the base and the fine-tuned model of step 04's output folder, in the
    current precision's inference weights (``precision.for_inference``)."""
    from .models import is_adapter, load_finetuned, load_model
    from .precision import for_inference

    model, tok = load_finetuned(finetuned, base, dtype, device)
    base_model = None if is_adapter(finetuned) else for_inference(load_model(base, dtype=dtype, device=device)[0])
    return Systems(for_inference(model), base_model), tok


class Systems:
    """The base and the fine-tuned model as generation backends. For a LoRA adapter one set of weights serves both
    (the adapter is switched off for the base model's answers rather than loading the model twice); a whole
    fine-tuned model (``train.use_peft: false``) comes with the base model loaded beside it."""

    def __init__(self, finetuned, base=None):
        self.finetuned, self.base = finetuned, base

    @contextlib.contextmanager
    def use(self, label: str):
        """The model that answers as ``label`` ('base' or 'finetuned') for the time of the with-block."""
        if label == "finetuned" or self.base is not None:
            yield self.finetuned if label == "finetuned" else self.base
        else:
            with self.finetuned.disable_adapter():
                yield self.finetuned

    def backend(self, label: str, tokenizer, name: str, batch_size: int):
        shared = label == "base" and self.base is None  # the adapter's model, with the adapter switched off
        model = self.finetuned if label == "finetuned" or shared else self.base
        backend = HFBackend(model, tokenizer, batch_size=batch_size, chat=False, name=name)
        return AdapterOff(backend) if shared else backend


class AdapterOff:
    """A backend over a PEFT model that generates with the adapter switched off: the base model's answers."""

    def __init__(self, backend):
        self.backend, self.name = backend, backend.name

    def generate(self, prompts, **kw):
        with self.backend.model.disable_adapter():
            return self.backend.generate(prompts, **kw)


def answer_all(systems: Systems, tok, finetuned: Path, base_name: str, queries: list[str], style: str,
               max_new_tokens: int, batch_size: int, task: str, stop=None, no_repeat_ngram_size: int = 0,
               gloss: bool | str = False, urgency_bias: float = 0.0) -> dict[str, list]:
    """{'base': [GenResult], 'finetuned': [GenResult]} for the queries, cached on disk per batch. ``urgency_bias``:
    the fine-tuned model's emergency advice favoured by that log-odds where its urgency line starts
    (``evaluate.urgency_bias``, chosen on validation with ``bench/urgency_bias.py``); the base model decodes plainly."""
    from .models import is_adapter

    prompts = [build_prompt(q, style, tok, gloss) for q in queries]
    out = {}
    kind = "lora" if is_adapter(finetuned) else "ft"
    finetuned_id = io.file_hash(finetuned)[:12]
    for label in ("base", "finetuned"):
        name = base_name if label == "base" else f"{base_name}+{kind}:{finetuned_id}"
        gen = CachedGenerator(systems.backend(label, tok, name, batch_size), paths.cache_dir("eval_cache"),
                              batch_size=batch_size)
        params = {"max_new_tokens": max_new_tokens, "temperature": 0.0, "stop": stop}
        if no_repeat_ngram_size:  # only when set, so caches made without it stay valid
            params["no_repeat_ngram_size"] = no_repeat_ngram_size
        if urgency_bias and label == "finetuned":
            params["urgency_bias"] = urgency_bias
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
                    max_new_tokens: int = 64, gloss: bool | str = False,
                    urgency_bias: float = 0.0) -> tuple[dict, pd.DataFrame]:
    """(summary, per-row frame) of the decision lines alone, generated uncached: disease accuracy, triage agreement,
    under-triage overall and on emergency rows, over-triage, and the rows advised emergency that are none. Step 04
    uses it on the validation split, the split to compare recipes on; the test split is step 05's.
    ``urgency_bias``: as ``answer_all``'s (``bench/urgency_bias.py`` reads validation at several)."""
    from .metrics import triage_scores

    prompts = [build_prompt(q, style, tokenizer, gloss) for q in queries]
    with progress.phase("decision lines (validation)", len(prompts)):
        results = backend.generate(prompts, max_new_tokens=max_new_tokens, stop=DECISION_STOP,
                                   urgency_bias=urgency_bias)
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
               "emergency_advised_to_others": int(((rows["pred_triage"] == "emergency")
                                                   & (rows["triage"] != "emergency")).sum()),
               "rows": len(rows), "emergency_rows": len(emergency)}
    return summary, rows


def probe_accuracy(backend, path, names, style: str, tokenizer, max_new_tokens: int = 24,
                   diseases=None, gloss: bool | str = False) -> tuple[dict, pd.DataFrame]:
    """(summary, per-row frame): disease accuracy on a natural-language probe (a text,label CSV, as an external set)
    from the condition line alone. Step 04 scores ``train.probe_csv`` next to the validation split: the split's
    queries share the training queries' template, so only a probe in other words can show whether a recipe
    generalises past it. ``diseases``: score only the rows of these disease keys (a run whose dataset holds a few
    diseases, as the smoke profile's, cannot name the others); None = every row."""
    df = probe_rows(path, names, diseases)
    prompts = [build_prompt(q, style, tokenizer, gloss) for q in df["text"]]
    with progress.phase("probe (condition line)", len(prompts)):
        results = backend.generate(prompts, max_new_tokens=max_new_tokens, stop=CONDITION_STOP)
    df["pred_disease"] = [condition_of(r.text, names) for r in results]
    return {"accuracy": float((df["pred_disease"] == df["disease"]).mean()), "rows": len(df)}, df


def probe_rows(path, names, diseases=None) -> pd.DataFrame:
    """A probe's rows (text, label, disease), every label mapped (else a ValueError naming them); with ``diseases``,
    only the rows of those disease keys."""
    df, _, unmapped = load_external(path, names)
    if unmapped:
        raise ValueError(f"{path}: labels {unmapped} map to no disease; fix them (the probe is ours to keep exact)")
    if diseases is not None:
        df = df[df["disease"].isin(set(diseases))].reset_index(drop=True)
    return df


def probe_answer_scores(backend, path, names, style: str, tokenizer, max_new_tokens: int,
                        no_repeat_ngram_size: int = 0, gloss: bool | str = False,
                        diseases=None) -> tuple[dict, pd.DataFrame]:
    """(summary, per-row frame): whole answers to a probe's natural messages, each body scored against the condition
    the answer names, not the label (``metrics.score_named``): the test split's answers follow template-worded
    queries, these show whether the precautions and India notes stay the sourced ones for the condition named after
    the words people use. ``unsupported_facts`` in the summary: each fact with the answers that state it;
    ``diseases`` as ``probe_accuracy``'s."""
    from collections import Counter

    from . import metrics as M

    df = probe_rows(path, names, diseases)
    if df.empty:
        raise ValueError(f"{path}: no row to answer (of the diseases this run knows)")
    prompts = [build_prompt(q, style, tokenizer, gloss) for q in df["text"]]
    with progress.phase("whole answers (probe)", len(prompts)):
        results = backend.generate(prompts, max_new_tokens=max_new_tokens, no_repeat_ngram_size=no_repeat_ngram_size)
    rows = pd.DataFrame([M.score_named(r.text, r.finish_reason, names) for r in results])
    rows = rows.assign(message=df["text"], disease=df["disease"], text=[r.text for r in results])
    named = rows[rows["named"].notna()]
    facts = Counter(f for fs in rows["unsupported_facts"] for f in dict.fromkeys(fs))
    summary = {"rows": len(rows), "condition_accuracy": float((rows["named"] == rows["disease"]).mean()),
               "names_a_condition": len(named) / len(rows),
               "precaution_recall_named": float(named["precaution_recall"].mean()) if len(named) else None,
               "india_notes_named": float(named["india_notes"].mean()) if len(named) else None,
               "answers_with_unsupported_facts": int((rows["unsupported_facts"].str.len() > 0).sum()),
               "unsupported_facts": [{"kind": k, "fact": f, "answers": n} for (k, f), n in facts.most_common()],
               "format_compliance": float(rows["complete"].mean()), "ends_properly": float(rows["ends_properly"].mean())}
    return summary, rows


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



# --- step 05: scoring the answers, the baselines, the external set, and what metrics.json holds ------------------

MODELS = ("base", "finetuned")
LEAD_BASELINES = ("tfidf", "tfidf_all")  # the baselines the fine-tuned model's paired lead is measured against


def system_answers(gen: dict, queries, names) -> tuple[dict, dict]:
    """(texts, finish reasons) per system: each model's raw answers (``gen`` as ``answer_all`` returns it), then
    the same answers through the safety layer as ``<model>+safety`` -- what ``medillama ask`` shows a user (red-flag
    banner from the query, the named condition's triage floor, sourced precautions and India notes, missing
    sections filled, disclaimer last). The layer makes no model call."""
    from . import safety

    texts = {m: [r.text for r in gen[m]] for m in MODELS}
    finish = {m: [r.finish_reason for r in gen[m]] for m in MODELS}
    for m in MODELS:
        texts[f"{m}+safety"] = [safety.apply(q, t, names)["text"] for q, t in zip(queries, texts[m])]
        finish[f"{m}+safety"] = finish[m]
    return texts, finish


def score_rows(texts, finish, df: pd.DataFrame, names) -> pd.DataFrame:
    """``metrics.score_answer`` of each answer against its row of ``df`` (columns disease, triage); a row's
    reference precautions are its disease's."""
    from . import metrics as M

    refs = df.assign(precautions=df["disease"].map(names.precautions)).to_dict("records")
    return pd.DataFrame([M.score_answer(t, f, ref, names) for t, f, ref in zip(texts, finish, refs)])


def score_systems(texts: dict, finish: dict, test: pd.DataFrame, names, n_boot: int,
                  seed: int) -> tuple[dict, dict, dict]:
    """(ROUGE rows, per-row scores, summary with bootstrap CIs), each keyed by system, of the answers against the
    test rows (columns disease, triage, output_text); a row's reference precautions are its disease's."""
    from . import metrics as M

    rouge, scores, summary = {}, {}, {}
    for system in texts:
        rouge[system] = M.rouge_rows(texts[system], test["output_text"])
        scores[system] = score_rows(texts[system], finish[system], test, names)
        summary[system] = M.summarise(scores[system], rouge[system], test["triage"], test["disease"], n_boot, seed)
    return rouge, scores, summary


def fit_baselines(train_df: pd.DataFrame, all_queries: pd.DataFrame, seed: int) -> dict:
    """What a user would pick instead of an LLM, each fitted on queries (input_text) and disease keys: the majority
    class and TF-IDF + LR on the train split; ``tfidf_all`` is the same bag of words given every query the
    fine-tuned model trained on (reworded passes, drill rows), which shows how much of the model's lead over the
    baseline is the extra queries rather than the model."""
    from .baselines import Majority, TfidfLogReg

    return {"majority": Majority().fit(train_df["input_text"], train_df["disease"]),
            "tfidf": TfidfLogReg().fit(train_df["input_text"], train_df["disease"], seed),
            "tfidf_all": TfidfLogReg().fit(all_queries["input_text"], all_queries["disease"], seed)}


def predict_baselines(baselines: dict, texts) -> dict[str, list]:
    """{baseline: predicted disease keys} for the texts."""
    return {b: list(model.predict(texts)) for b, model in baselines.items()}


def baseline_summary(y_true, preds: dict, n_boot: int, seed: int) -> dict:
    """{baseline: {disease_accuracy, disease_macro_f1}} with bootstrap CIs: all a classifier can be scored on."""
    from . import metrics as M

    y = list(y_true)
    return {b: {"disease_accuracy": M.bootstrap_ci(np.equal(pred, y), n_boot, seed),
                "disease_macro_f1": M.bootstrap_pairs_ci(y, pred, M.macro_f1, n_boot, seed)}
            for b, pred in preds.items()}


def accuracy_leads(y_true, pred, baseline_preds: dict, n_boot: int, seed: int,
                   against=LEAD_BASELINES) -> dict:
    """{baseline: accuracy of ``pred`` minus the baseline's on the same rows, with a paired bootstrap CI}."""
    from . import metrics as M

    return {b: M.accuracy_lead_ci(list(y_true), pred, baseline_preds[b], n_boot, seed) for b in against}


def external_scores(ext: pd.DataFrame, answers: dict, baselines: dict, names, n_boot: int,
                    seed: int) -> tuple[dict, dict, dict, list[dict]]:
    """The external set (``load_external`` rows: text, label, disease) scored on the condition line alone:
    (predicted keys per system, accuracy with CI per system, the fine-tuned model's paired lead over each TF-IDF
    baseline, one record per row). ``answers`` holds each model's GenResults for ``ext['text']``. Unmappable
    labels (disease None) stay in and count as wrong."""
    from . import metrics as M

    y = ext["disease"].tolist()
    preds = {m: [condition_of(r.text, names) for r in answers[m]] for m in MODELS}
    preds.update(predict_baselines({b: baselines[b] for b in ("tfidf", "tfidf_all", "majority")}, ext["text"]))
    accuracy = {m: M.bootstrap_ci(np.equal(pred, y), n_boot, seed) for m, pred in preds.items()}
    leads = accuracy_leads(y, preds["finetuned"], preds, n_boot, seed)
    rows = [{"text": t, "label": lab, "disease": dis,
             **{f"{m}_output": answers[m][j].text for m in MODELS},
             **{f"{m}_pred": preds[m][j] for m in (*MODELS, "tfidf", "tfidf_all")}}
            for j, (t, lab, dis) in enumerate(zip(ext["text"], ext["label"], ext["disease"]))]
    return preds, accuracy, leads, rows


def external_record(ext: pd.DataFrame, mapping: dict, unmapped: list) -> dict:
    """metrics.json's ``external``: the set's size, its labels and how they mapped to disease keys."""
    return {"rows": len(ext), "labels": int(ext["label"].nunique()), "label_mapping": mapping,
            "unmapped_labels": unmapped}


def probe_banner_scores(path, names, symptoms: pd.DataFrame) -> dict:
    """How often the red-flag banner alone (the query's words, no model) fires on a probe CSV's emergency rows and
    on the others. Each probe row lists its symptom tokens (``symptoms``, ';'-separated), so its reference level
    follows from triage.yaml with the Kaggle weights (step 01's symptoms table), as for every dataset row."""
    from . import knowledge, safety
    from .balance import symptom_weights

    probe = load_external(path, names)[0]
    weights = symptom_weights(symptoms)
    tokens = probe["symptoms"].str.split(";")
    levels = [knowledge.case_level(d, s, weights)[0] for d, s in zip(probe["disease"], tokens)]
    return safety.banner_scores(probe["text"], levels)


def prediction_rows(test: pd.DataFrame, texts: dict, finish: dict, scores: dict, rouge: dict,
                    baseline_preds: dict) -> list[dict]:
    """predictions.jsonl: per test row its query, reference, label, the TF-IDF predictions, and for every system
    the answer, its finish reason, its per-row scores (``<system>_<score>``) and ROUGE."""
    rows = []
    for i, r in enumerate(test.to_dict("records")):
        row = {"id": r["id"], "input_text": r["input_text"], "reference": r["output_text"], "disease": r["disease"],
               "triage": r["triage"], "tfidf_pred": baseline_preds["tfidf"][i],
               "tfidf_all_pred": baseline_preds["tfidf_all"][i]}
        for m in texts:
            row[f"{m}_output"] = texts[m][i]
            row[f"{m}_finish_reason"] = finish[m][i]
            row.update({f"{m}_{k}": v for k, v in scores[m].iloc[i].items()})
            row.update({f"{m}_{k}": float(v) for k, v in rouge[m].iloc[i].items()})
        rows.append(row)
    return rows


def metrics_record(summary: dict, cfg: dict, n_test_rows: int, adapter, external: dict | None, leads: dict,
                   probe_banner: dict | None, generation: dict, red_flag_set: dict | None = None,
                   facts_found: pd.DataFrame | None = None) -> dict:
    """metrics.json: every system's summary, then what the numbers were measured on (split, models, decoding,
    bootstrap), the external set, the paired leads, the banner's scores on the probe and on the labelled messages'
    reported half, the generation stats, and the unsupported facts found (``facts.unsupported_fact_counts``:
    kind, fact, system, answers)."""
    ecfg = cfg["evaluate"]
    return {**summary, "n_test_rows": n_test_rows, "split": ecfg["split"], "profile": cfg["profile"],
            "base_model": cfg["models"]["base"], "finetuned_adapter": str(adapter),
            "prompt_style": cfg["train"]["prompt_style"], "hindi_gloss": cfg["train"].get("hindi_gloss", False),
            "gloss_style": reading(cfg["train"]) or None,
            "max_new_tokens": ecfg["max_new_tokens"], "urgency_bias": ecfg["urgency_bias"],
            "no_repeat_ngram_size": ecfg["no_repeat_ngram_size"],
            "bootstrap_samples": ecfg["bootstrap"], "external": external, "finetuned_lead": leads,
            "probe_banner": probe_banner, "red_flag_set": red_flag_set, "generation": generation,
            "unsupported_facts_found": facts_found.to_dict("records") if facts_found is not None else []}


def answer_content_scores(backend, df: pd.DataFrame, names, style: str, tokenizer, max_new_tokens: int,
                          no_repeat_ngram_size: int = 0, gloss: bool | str = False) -> tuple[dict, pd.DataFrame]:
    """(summary, per-row frame) of whole answers on rows of the validation split (columns input_text, disease,
    triage, output_text): the answer's own content as step 05 scores it on the test split -- precaution recall
    (all rows, and the rows whose condition is right), India notes present, five sections, ending with EOS,
    ROUGE-L. Step 04 uses it on a stratified subset, so recipes are compared on content, not only the decision."""
    from . import metrics as M

    prompts = [build_prompt(q, style, tokenizer, gloss) for q in df["input_text"]]
    with progress.phase("whole answers (validation)", len(prompts)):
        results = backend.generate(prompts, max_new_tokens=max_new_tokens, no_repeat_ngram_size=no_repeat_ngram_size)
    rows = score_rows([r.text for r in results], [r.finish_reason for r in results], df, names)
    rows["text"] = [r.text for r in results]
    rouge = M.rouge_rows(rows["text"], df["output_text"])
    if rows.empty:
        return {"rows": 0}, rows
    right = rows[rows["correct"]]
    summary = {"answer_disease_accuracy": float(rows["correct"].mean()),
               "precaution_recall": float(rows["precaution_recall"].mean()),
               "precaution_recall_when_right": float(right["precaution_recall"].mean()) if len(right) else None,
               "india_notes_presence": float(rows["india_notes"].mean()),
               "unsupported_facts": float((rows["n_unsupported_facts"] > 0).mean()),
               "format_compliance": float(rows["complete"].mean()),
               "ends_properly": float(rows["ends_properly"].mean()),
               "rougeL": float(rouge["rougeL"].mean()), "rows": len(rows)}
    return summary, rows
