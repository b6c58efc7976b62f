"""outputs/<run>/report/: the run's rendered notebooks as HTML and an index led by the headline table."""
from __future__ import annotations

import html
from pathlib import Path

from . import io, paths

HEADLINE = [("disease_accuracy", "Disease accuracy"), ("disease_macro_f1", "Disease macro-F1"),
            ("format_compliance", "Format compliance"), ("ends_properly", "Ends properly"),
            ("triage_agreement", "Triage agreement"), ("under_triage", "Under-triage (all)"),
            ("under_triage_emergency", "Under-triage (emergency)"), ("over_triage", "Over-triage"),
            ("precaution_recall", "Precaution recall"), ("india_notes_presence", "India notes present"),
            ("rouge1", "ROUGE-1"), ("rougeL", "ROUGE-L"), ("external_accuracy", "External accuracy")]


def _cell(m, fmt: str = ".3f") -> str:
    if not m or m.get("value") is None:
        return "&ndash;"
    return f"{m['value']:{fmt}} <small>[{m['lo']:{fmt}}, {m['hi']:{fmt}}]</small>"


SAFETY_NOTE = ("<em>Fine-tuned + safety layer</em> is what <code>medillama ask</code> shows: the same answer after "
               "the rules of <code>triage.yaml</code>, with a recognised condition's precautions and India notes "
               "taken from their sources. The references were written from the same files, so that column's "
               "triage, precaution, India-notes and much of its ROUGE measure the deployed system, not the model.")
SYSTEMS = [("base", "Base model"), ("finetuned", "Fine-tuned"), ("finetuned+safety", "Fine-tuned + safety layer"),
           ("tfidf", "TF-IDF + LR"), ("tfidf_all", "TF-IDF + LR, all training queries"), ("majority", "Majority")]


def headline_rows(metrics: dict) -> list[list[str]]:
    rows = []
    for key, label in HEADLINE:
        vals = [_cell(metrics.get(s, {}).get(key)) for s, _ in SYSTEMS]
        if any(v != "&ndash;" for v in vals):
            rows.append([label, *vals])
    return rows


def lead_rows(metrics: dict) -> str:
    """The fine-tuned model's disease accuracy minus each TF-IDF baseline's, paired on the same rows."""
    leads = metrics.get("finetuned_lead") or {}
    rows = "".join(f"<tr><td>{html.escape(label)}</td>"
                   + "".join(f"<td>{_cell(leads.get(split, {}).get(b), '+.3f')}</td>" for split in ("test", "external"))
                   + "</tr>" for b, label in SYSTEMS if b.startswith("tfidf"))
    return ("<p>Fine-tuned disease accuracy minus the baseline's, on the same rows (paired bootstrap 95% CI):</p>"
            f"<table><tr><th>minus</th><th>held-out split</th><th>external set</th></tr>{rows}</table>") if leads else ""


def build(run: str) -> Path | None:
    from nbconvert import HTMLExporter

    rdir = paths.run_dir(run)
    nbs = sorted((rdir / "notebooks").glob("*.ipynb"))
    if not nbs:
        return None
    out = rdir / "report"
    exporter = HTMLExporter(template_name="lab")
    links = []
    for nb in nbs:
        body, _ = exporter.from_filename(str(nb))
        io.write_text(out / f"{nb.stem}.html", body)
        m = rdir / nb.stem / "manifest.json"
        wall = io.read_json(m).get("wall_seconds") if m.exists() else None
        links.append(f"<li><a href='{nb.stem}.html'>{nb.stem}</a>"
                     f"{f' &middot; {wall:.0f} s' if wall is not None else ' &middot; incomplete'}</li>")
    mpath = rdir / "05_evaluate" / "metrics.json"
    table = "<p>No evaluation yet (step 05 has not run).</p>"
    if mpath.exists():
        metrics = io.read_json(mpath)
        head = "<tr><th>metric (95% CI)</th>" + "".join(f"<th>{label}</th>" for _, label in SYSTEMS) + "</tr>"
        body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in headline_rows(metrics))
        n = metrics.get("n_test_rows")
        table = (f"<p>Held-out split: {n} rows; models: base <code>{html.escape(str(metrics.get('base_model')))}</code>, "
                 f"profile <code>{html.escape(str(metrics.get('profile')))}</code>.</p><table>{head}{body}</table>"
                 f"<p>{SAFETY_NOTE}</p>{lead_rows(metrics)}")
    page = f"""<!doctype html><html><head><meta charset="utf-8"><title>MediLlama report: {html.escape(run)}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}}
table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:.3rem .6rem;text-align:left}}</style></head><body>
<h1>MediLlama &middot; run <code>{html.escape(run)}</code></h1>
<h2>Headline: base vs fine-tuned vs baselines</h2>{table}
<h2>Rendered notebooks</h2><ul>{''.join(links)}</ul>
<p><em>Research outputs of a small model trained on synthetic data: not medical advice. In an emergency in India call 108.</em></p>
</body></html>"""
    io.write_text(out / "index.html", page)
    return out / "index.html"
