"""outputs/<run>/report/: the run's rendered notebooks as HTML, and an index led by the results -- the metrics table,
the paired leads and the pictures (loss curves, metrics with their intervals, where the condition goes wrong)."""
from __future__ import annotations

import html
from pathlib import Path

from . import figures, io, paths
from .results import (BANNER_NOTE, FACTS_NOTE, HEADLINE, HEADLINE_NOTE, LEAD_NOTE, MORE, SAFETY_NOTE, SYSTEMS,
                      banner_table, facts_table, html_note, leads_table, metrics_table)

PICTURES = {"loss": "loss_curves.png", "intervals": "metric_intervals.png", "misses": "misses.png"}


def _html_table(df) -> str:
    head = "<tr>" + "".join(f"<th>{html.escape(str(c))}</th>" for c in [df.index.name or "", *df.columns]) + "</tr>"
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c)) if c != '' else '&ndash;'}</td>" for c in [i, *r])
                   + "</tr>" for i, r in zip(df.index, df.itertuples(index=False)))
    return f"<table>{head}{body}</table>"


def pictures(run: str, out: Path) -> dict[str, Path]:
    """The run's pictures, drawn into ``out`` from what steps 04 and 05 wrote; a picture whose source is missing
    (or that would be empty) is left out, and a stale one from an earlier build removed."""
    rdir = paths.run_dir(run)
    made = {}
    log = rdir / "04_finetune" / "log_history.json"
    mpath, preds = rdir / "05_evaluate" / "metrics.json", rdir / "05_evaluate" / "predictions.jsonl"
    if log.exists():
        made["loss"] = figures.loss_curves(io.read_json(log), out / PICTURES["loss"])
    if mpath.exists():
        made["intervals"] = figures.metric_intervals(io.read_json(mpath), out / PICTURES["intervals"])
    if preds.exists():
        rows = io.read_jsonl(preds)
        made["misses"] = figures.miss_confusion([r["disease"] for r in rows],
                                                [r.get("finetuned_pred_disease") for r in rows],
                                                out / PICTURES["misses"])
    for key, name in PICTURES.items():
        if made.get(key) is None:
            (out / name).unlink(missing_ok=True)
    return {k: p for k, p in made.items() if p is not None}


CAPTIONS = {"loss": "Step 04: training and validation loss by optimizer step.",
            "intervals": "Every metric with its 95% bootstrap interval, per system.",
            "misses": "Where the fine-tuned model names the wrong condition on the held-out split: true disease by "
                      "predicted, counts of the wrong rows."}


def results_html(metrics: dict) -> str:
    """The index page's results section: the headline table (what fine-tuning bought), the safety note, the paired
    leads, the unsupported facts found, the banner, and the rest of the metrics."""
    n = metrics.get("n_test_rows")
    leads, banner, facts = leads_table(metrics), banner_table(metrics), facts_table(metrics)
    more = metrics_table(metrics, MORE, SYSTEMS)
    return (f"<p>Held-out split: {n} rows; models: base <code>{html.escape(str(metrics.get('base_model')))}</code>, "
            f"profile <code>{html.escape(str(metrics.get('profile')))}</code>. 95% bootstrap intervals in "
            f"brackets.</p><p>{html_note(HEADLINE_NOTE)}</p>{_html_table(metrics_table(metrics, HEADLINE))}"
            f"<p>{html_note(SAFETY_NOTE)}</p>"
            + (f"<p>{LEAD_NOTE}</p>{_html_table(leads)}" if not leads.empty else "")
            + (f"<h3>Unsupported facts</h3><p>{html_note(FACTS_NOTE)}</p>{_html_table(facts)}"
               if not facts.empty else "")
            + (f"<h3>The red-flag banner</h3><p>{html_note(BANNER_NOTE)}</p>{_html_table(banner)}"
               if not banner.empty else "")
            + (f"<h3>All other metrics</h3>{_html_table(more)}" if not more.empty else ""))


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
    table = results_html(io.read_json(mpath)) if mpath.exists() else "<p>No evaluation yet (step 05 has not run).</p>"
    pics = "".join(f"<figure><img src='{p.name}' alt='{html.escape(CAPTIONS[k])}'>"
                   f"<figcaption>{html.escape(CAPTIONS[k])}</figcaption></figure>"
                   for k, p in pictures(run, out).items())
    page = f"""<!doctype html><html><head><meta charset="utf-8"><title>MediLlama report: {html.escape(run)}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:72rem;margin:2rem auto;padding:0 1rem}}
table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:.3rem .6rem;text-align:left}}
figure{{margin:1.5rem 0}}img{{max-width:100%}}figcaption{{color:#555;font-size:.9rem}}</style></head><body>
<h1>MediLlama &middot; run <code>{html.escape(run)}</code></h1>
<h2>What fine-tuning bought</h2>{table}
{f'<h2>Pictures</h2>{pics}' if pics else ''}
<h2>Rendered notebooks</h2><ul>{''.join(links)}</ul>
<p><em>Research outputs of a small model trained on synthetic data: not medical advice. In an emergency in India call 108.</em></p>
</body></html>"""
    io.write_text(out / "index.html", page)
    return out / "index.html"


def main(argv=None) -> int:
    """``medillama report --run NAME [--markdown FILE] [--readme FILE]``: numbers generated, not copied."""
    import argparse
    import os
    import sys

    from . import results

    ap = argparse.ArgumentParser(prog="medillama report", description=(
        "Build a run's HTML report (outputs/<run>/report/index.html) and, from its 05_evaluate/metrics.json, the "
        "results page and the README's results block: numbers generated, never copied by hand."))
    ap.add_argument("--run", required=True, help="run name (outputs/<run>/)")
    ap.add_argument("--markdown", help="write the results page here (e.g. docs/results.md; relative paths are "
                                       "from the project root) from the run's metrics.json")
    ap.add_argument("--readme", help="replace the README's text between <!-- results:start --> and "
                                     "<!-- results:end --> with the headline table (e.g. README.md)")
    ap.add_argument("--no-html", action="store_true", help="skip the HTML report")
    args = ap.parse_args(argv)
    if not paths.run_dir(args.run).exists():
        print(f"no run {args.run!r}: {paths.run_dir(args.run)} does not exist", file=sys.stderr)
        return 2
    try:
        # everything that can fail on bad input is checked before anything is written
        metrics = results.load_metrics(args.run) if (args.markdown or args.readme) else None
        cmd = results.command(args.run, args.markdown, args.readme)
        readme = None
        if args.readme:
            p = paths.resolve(args.readme)
            if not p.exists():
                raise FileNotFoundError(f"{p} does not exist; name the README to fill with --readme")
            # the README links the results page it sits beside
            link = Path(os.path.relpath(paths.resolve(args.markdown), p.parent)).as_posix() if args.markdown \
                else "docs/results.md"
            readme = (p, results.replace_block(p.read_text(encoding="utf-8"),
                                               results.readme_block(args.run, metrics, link, cmd), str(p)))
    except (FileNotFoundError, ValueError) as e:
        print(f"report: {e}", file=sys.stderr)
        return 1
    if not args.no_html:
        index = build(args.run)
        print(f"report: {index}" if index else f"report: no rendered notebooks in {paths.run_dir(args.run)}")
    if args.markdown:
        p = paths.resolve(args.markdown)
        io.write_text(p, results.results_markdown(args.run, metrics, cmd))
        print(f"results page: {p}")
    if readme:
        io.write_text(*readme)
        print(f"README results block: {readme[0]}")
    return 0
