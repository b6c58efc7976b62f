"""A run's results as tables, from its metrics.json: one list of headline metrics and one number format, shared by
notebook 05, the report's index page, docs/results.md and the README's results block (``medillama report``)."""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pandas as pd

from . import io, paths
from .evaluation import LEAD_BASELINES
from .precision import Precision

# (metrics.json key, label). HEADLINE: what fine-tuning bought -- the answer's content, urgency and format, each
# measured on the model's own answer and after the safety layer; MORE: the rest of each system's metrics.
HEADLINE = [("disease_accuracy", "Disease accuracy, held-out split"),
            ("external_accuracy", "Disease accuracy, external set"),
            ("format_compliance", "Format compliance, all five sections"),
            ("precaution_recall", "Precaution recall"), ("india_notes_presence", "India notes present"),
            ("unsupported_facts", "Answers with unsupported facts (lower is better)"),
            ("under_triage_emergency", "Under-triage on emergency rows (lower is better)"), ("rougeL", "ROUGE-L")]
MORE = [("disease_macro_f1", "Disease macro-F1"), ("ends_properly", "Ends properly (EOS)"),
        ("triage_agreement", "Triage agreement"), ("under_triage", "Under-triage, all rows"),
        ("over_triage", "Over-triage"), ("rouge1", "ROUGE-1"), ("rouge2", "ROUGE-2"), ("rougeLsum", "ROUGE-Lsum")]
METRICS = HEADLINE + MORE
# (metrics.json key, column label): the base model, the fine-tuned model's own answers, the same after the safety
# layer (what `medillama ask` shows), and the bags of words a user would pick instead; SYSTEMS adds the majority class
HEADLINE_SYSTEMS = [("base", "Base model"), ("finetuned", "Fine-tuned alone"),
                    ("finetuned+safety", "Fine-tuned + safety layer"), ("tfidf", "TF-IDF + LR"),
                    ("tfidf_all", "TF-IDF + LR, all training queries")]
SYSTEMS = HEADLINE_SYSTEMS + [("majority", "Majority")]
MODEL_SYSTEMS = HEADLINE_SYSTEMS[:3]  # the systems that write an answer (the baselines only name a disease)
# metrics.json's finetuned_lead: {split: {baseline: CI}}
LEAD_SPLITS = [("test", "held-out split"), ("external", "external set")]
BASELINE_LABELS = {"tfidf": "TF-IDF + LR (the train split's queries)", "tfidf_all": "TF-IDF + LR, all training queries"}
# step 04's manifest metrics worth a reader's look (no intervals: step 04 computes none)
STEP04 = [("validation_disease_accuracy", "Disease accuracy, validation split"),
          ("validation_under_triage_emergency", "Under-triage on emergency rows, validation split"),
          ("probe_accuracy", "Disease accuracy, probe (fine-tuned)"),
          ("probe_unglossed_accuracy", "Disease accuracy, probe (fine-tuned, read without the Hindi gloss)"),
          ("probe_tfidf_accuracy", "Disease accuracy, probe (TF-IDF + LR)"),
          ("probe_hinglish_accuracy", "Disease accuracy, Hinglish probe (fine-tuned)"),
          ("probe_hinglish_unglossed_accuracy", "Disease accuracy, Hinglish probe (fine-tuned, read without the Hindi gloss)"),
          ("probe_hinglish_tfidf_accuracy", "Disease accuracy, Hinglish probe (TF-IDF + LR)")]

SAFETY_NOTE = ("*Fine-tuned + safety layer* is what `medillama ask` shows: the same answer after the rules of "
               "`triage.yaml`, with a recognised condition's precautions and India notes taken from their sources. "
               "The references were written from the same files, so that column's triage, precaution, India-notes "
               "and unsupported-facts numbers and much of its ROUGE measure the deployed system, not the model.")
LEAD_NOTE = "Fine-tuned disease accuracy minus the baseline's, on the same rows (paired bootstrap 95% CI):"
HEADLINE_NOTE = ("What fine-tuning bought: the base model against the fine-tuned model's own answers and the same "
                 "answers after the safety layer, and the bags of words a user could pick instead (they only name "
                 "the disease). *Unsupported facts*: the share of answers whose Precautions or India notes state a "
                 "programme, a helpline or phone number, or a local name that `india_context.yaml` or the "
                 "dataset's precaution list does not give for the condition the answer names.")
FACTS_NOTE = ("Every unsupported fact found on the held-out split, and in how many answers of each system "
              "(`unsupported_facts_found` in metrics.json holds the full list).")
START, END = "<!-- results:start -->", "<!-- results:end -->"


def decoding_note(metrics: dict) -> list[str]:
    """A paragraph on how the fine-tuned answers were decoded, where they were not plainly greedy."""
    b = metrics.get("urgency_bias") or 0
    return [f"The fine-tuned model's answers are decoded with its emergency advice favoured by {b:g} (log-odds) where "
            "its urgency line starts (`evaluate.urgency_bias`, chosen on the validation split: "
            "`bench/urgency_bias.py`, docs/method.md); the base model's are plainly greedy.", ""] if b else []


def fmt_ci(m: dict | None, signed: bool = False) -> str:
    """The one format of a number: '0.938 [0.900, 0.969]' (value and 95% interval), '' when there is none."""
    if not m or m.get("value") is None:
        return ""
    f = "+.3f" if signed else ".3f"
    if m.get("lo") is None or m.get("hi") is None:
        return f"{m['value']:{f}}"
    return f"{m['value']:{f}} [{m['lo']:{f}}, {m['hi']:{f}}]"


def metrics_table(metrics: dict, rows=HEADLINE, systems=HEADLINE_SYSTEMS) -> pd.DataFrame:
    """One row per metric that any system has (its label, with the number of rows it was measured on), one column
    per system; every cell ``fmt_ci``."""
    out = {}
    for key, label in rows:
        cells = {m: metrics.get(s, {}).get(key) for s, m in systems}
        if not any(fmt_ci(c) for c in cells.values()):
            continue
        n = next((c.get("n") for c in cells.values() if c and c.get("n")), None)
        out[f"{label} (n={n})" if n else label] = {m: fmt_ci(c) for m, c in cells.items()}
    return pd.DataFrame.from_dict(out, orient="index", columns=[m for _, m in systems]).rename_axis("metric")


BANNER_NOTE = ("The red-flag banner alone (the message's words, no model): the share of emergency messages it flags "
               "and of the other messages it flags (false alarms), with Wilson 95% intervals. The labelled messages "
               "(`data/redflags/`) were written for this by people who never saw the rules; the banner learns from "
               "their dev rows and is scored on the reported half.")


def banner_table(metrics: dict) -> pd.DataFrame:
    """The red-flag banner's recall and false alarms: the labelled messages' reported half, per language, and the
    probe (empty when the run has neither)."""
    def cell(s, key):
        ci = s.get(f"{key}_ci") or [None, None]
        return fmt_ci({"value": s.get(key), "lo": ci[0], "hi": ci[1]})

    rows = {}
    rs = metrics.get("red_flag_set")
    if rs:
        rows[f"labelled messages, {rs['split']} half"] = rs
        rows.update({f"labelled messages, {rs['split']} half, {lang}": s
                     for lang, s in (rs.get("by_language") or {}).items()})
    if metrics.get("probe_banner"):
        rows["probe (emergency by its symptoms' triage)"] = metrics["probe_banner"]
    return pd.DataFrame.from_dict(
        {label: {"emergencies flagged": f"{cell(s, 'banner_on_emergency')} (n={s['emergency_rows']})",
                 "others flagged (false alarms)": f"{cell(s, 'banner_on_other')} (n={s['other_rows']})"}
         for label, s in rows.items()}, orient="index").rename_axis("set")


def facts_table(metrics: dict, top: int | None = 30, systems=MODEL_SYSTEMS) -> pd.DataFrame:
    """metrics.json's ``unsupported_facts_found`` as one row per fact (its kind, then the number of answers stating
    it per system), the fine-tuned model's most frequent first; the ``top`` rows (all with None). Empty when the
    run has none."""
    found = pd.DataFrame(metrics.get("unsupported_facts_found") or [], columns=["kind", "fact", "system", "answers"])
    found = found[found["system"].isin([s for s, _ in systems])]
    if found.empty:
        return pd.DataFrame()
    table = found.pivot_table(index=["fact", "kind"], columns="system", values="answers", aggfunc="sum",
                              fill_value=0)
    keys = [s for s, _ in systems]
    table = table.reindex(columns=keys, fill_value=0).astype(int)
    first = ["finetuned"] if "finetuned" in keys else []
    table = (table.assign(total=table.sum(axis=1)).sort_values(first + ["total"], ascending=False, kind="stable")
             .drop(columns="total"))
    table.columns = [label for _, label in systems]
    table = table.reset_index(level="kind").rename_axis("fact")
    return table.head(top) if top else table


def leads_table(metrics: dict) -> pd.DataFrame:
    """The fine-tuned model's paired lead over each TF-IDF baseline, per split (empty when the run has none)."""
    leads = metrics.get("finetuned_lead") or {}
    if not leads:
        return pd.DataFrame()
    return pd.DataFrame.from_dict(
        {BASELINE_LABELS[b]: {s: fmt_ci(leads.get(split, {}).get(b), signed=True) for split, s in LEAD_SPLITS}
         for b in LEAD_BASELINES}, orient="index").rename_axis("minus")


def markdown_table(df: pd.DataFrame) -> str:
    """A GitHub pipe table of a frame (index first); '|' in a cell escaped."""
    def row(cells):
        return "| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |"

    lines = [row([df.index.name or "", *df.columns]), row(["---"] * (len(df.columns) + 1))]
    lines += [row([i, *r]) for i, r in zip(df.index, df.itertuples(index=False))]
    return "\n".join(lines)


def _git_commit() -> str | None:
    try:
        out = subprocess.run(["git", "-C", str(paths.ROOT), "describe", "--always", "--dirty", "--abbrev=12"],
                             capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def run_info(run: str) -> dict:
    """Where the numbers come from: run, profile, the day step 05 finished, and the code's commit -- the manifests'
    ``git_commit`` when they record one, else the checkout's commit now (``commit_source`` says which)."""
    rdir = paths.run_dir(run)
    manifests = {p.parent.name: io.read_json(p) for p in sorted(rdir.glob("*/manifest.json"))}
    m05 = manifests.get("05_evaluate", {})
    commits = {m["git_commit"] for m in manifests.values() if m.get("git_commit")}
    if commits:
        commit, source = ", ".join(sorted(commits)), "manifests"
    else:
        commit, source = _git_commit(), "checkout at report time"
    m04 = manifests.get("04_finetune", {})
    return {"run": run, "profile": m05.get("profile"), "date": (m05.get("finished") or "")[:10] or None,
            "commit": commit, "commit_source": source, "step04": m04.get("metrics", {}),
            "trained": _trained(m04.get("precision") or {})}


def _trained(precision: dict) -> str | None:
    """How step 04 trained, as its manifest records it (``precision.Precision``): the same recipe and seed round
    differently in bf16 on different CPUs (AMX, AVX512_BF16), so the numbers are of that path."""
    return Precision(**precision).describe().removeprefix("precision: ") if precision else None


def metrics_path(run: str) -> Path:
    return paths.run_dir(run) / "05_evaluate" / "metrics.json"


def load_metrics(run: str) -> dict:
    p = metrics_path(run)
    if not p.exists():
        raise FileNotFoundError(f"{p} does not exist: run step 05 first (./run_all.sh --run {run} --only 05), "
                                "or name a run that has finished it with --run")
    return io.read_json(p)


def _measured_on(metrics: dict) -> str:
    ext = metrics.get("external") or {}
    return "; ".join([f"base model `{metrics.get('base_model')}`",
                      f"{metrics.get('n_test_rows')} held-out rows ({metrics.get('split')} split)",
                      *([f"{ext.get('rows')} external rows"] if ext else [])])


def command(run: str, markdown: str | None = None, readme: str | None = None) -> str:
    """The command line that writes these pages (quoted on them, so a reader knows how to regenerate them)."""
    return " ".join(["python -m medillama report --run", run, *(["--markdown", markdown] if markdown else []),
                     *(["--readme", readme] if readme else [])])


def readme_block(run: str, metrics: dict | None = None, results_link: str = "docs/results.md",
                 cmd: str | None = None) -> str:
    """The README's results: the headline table (what fine-tuning bought) and the paired leads, and where they come
    from (no commit hash: the results page has it)."""
    metrics = metrics if metrics is not None else load_metrics(run)
    info = run_info(run)
    lines = [f"Generated by `{cmd or command(run, readme='README.md')}` from `outputs/{run}/05_evaluate/metrics.json` "
             f"(run `{run}`, profile `{info['profile'] or metrics.get('profile')}`, step 05 finished "
             f"{info['date'] or 'unknown'}; {_measured_on(metrics)}); 95% bootstrap intervals in brackets. "
             f"All metrics and their provenance: [{results_link}]({results_link}).", "", HEADLINE_NOTE, "",
             *decoding_note(metrics), markdown_table(metrics_table(metrics, HEADLINE))]
    leads = leads_table(metrics)
    if not leads.empty:
        lines += ["", LEAD_NOTE, "", markdown_table(leads)]
    return "\n".join(lines)


def results_markdown(run: str, metrics: dict | None = None, cmd: str | None = None) -> str:
    """docs/results.md: the run's provenance (run, profile, date, commit), the headline table (what fine-tuning
    bought), the paired leads, the unsupported facts found, the banner, the rest of the metrics, and step 04's
    validation and probe scores."""
    metrics = metrics if metrics is not None else load_metrics(run)
    info = run_info(run)
    out = [f"# Results: run `{run}`", "",
           f"Generated by `{cmd or command(run, markdown='docs/results.md')}` from "
           f"`outputs/{run}/05_evaluate/metrics.json`; do not edit by hand.", "",
           f"- Run `{run}`, profile `{info['profile'] or metrics.get('profile')}`, step 05 finished "
           f"{info['date'] or 'unknown'}",
           f"- Code: commit `{info['commit'] or 'unknown'}` ({info['commit_source']})",
           *([f"- Trained in {info['trained']} (step 04's manifest)"] if info["trained"] else []),
           f"- Measured on: {_measured_on(metrics)}; bootstrap samples: {metrics.get('bootstrap_samples')}",
           "", "95% bootstrap intervals in brackets; n is the number of rows a metric was measured on.",
           "", "## What fine-tuning bought", "", HEADLINE_NOTE, "", *decoding_note(metrics),
           markdown_table(metrics_table(metrics, HEADLINE)),
           "", SAFETY_NOTE]
    leads = leads_table(metrics)
    if not leads.empty:
        out += ["", "## Fine-tuned vs the TF-IDF baselines", "", LEAD_NOTE, "", markdown_table(leads)]
    facts = facts_table(metrics)
    if not facts.empty:
        out += ["", "## Unsupported facts", "", FACTS_NOTE, "", markdown_table(facts)]
    banner = banner_table(metrics)
    if not banner.empty:
        out += ["", "## The red-flag banner", "", BANNER_NOTE, "", markdown_table(banner)]
    more = metrics_table(metrics, MORE, SYSTEMS)
    if not more.empty:
        out += ["", "## All other metrics", "", markdown_table(more)]
    step04 = {label: fmt_ci({"value": info["step04"][k]}) for k, label in STEP04 if info["step04"].get(k) is not None}
    if step04:
        out += ["", "## Step 04: the validation split and the probes (the numbers recipes are chosen by)", "",
                markdown_table(pd.DataFrame({"value": step04}).rename_axis("metric"))]
    return "\n".join(out) + "\n"


def replace_block(text: str, block: str, where: str = "README") -> str:
    """``text`` with everything between the START and END markers replaced by ``block``."""
    i, j = text.find(START), text.find(END)
    if i < 0 or j < 0 or j < i:
        raise ValueError(f"{where}: needs the markers {START} and {END} (in that order) around the results "
                         "table; add them where the table belongs")
    if text.count(START) > 1 or text.count(END) > 1:
        raise ValueError(f"{where}: the markers {START} / {END} appear more than once; keep one pair")
    return text[:i + len(START)] + "\n" + block.strip("\n") + "\n" + text[j:]


def html_note(text: str) -> str:
    """A note's `code` and *emphasis* as HTML (the text is ours: no escaping beyond &, <, >)."""
    import html

    t = html.escape(text, quote=False)
    return re.sub(r"\*([^*]+)\*", r"<em>\1</em>", re.sub(r"`([^`]+)`", r"<code>\1</code>", t))
