"""``medillama report``: the results tables, docs/results.md, the README block and the report's pictures, from a
small synthetic run folder (no pipeline run needed)."""
import json
import re
import struct

import pandas as pd
import pytest

from medillama import figures, paths, report, results
from medillama.__main__ import main

METRIC_KEYS = [k for k, _ in results.METRICS]
MODEL_SYSTEMS = ("base", "finetuned", "base+safety", "finetuned+safety")


def ci(value, half=0.05, n=160):
    return {"value": value, "lo": round(value - half, 4), "hi": round(value + half, 4), "n": n}


def synthetic_metrics() -> dict:
    """Every system with every metric it has in a real metrics.json; distinct values, so a cell can be traced."""
    m = {}
    for i, s in enumerate(MODEL_SYSTEMS):
        m[s] = {k: ci(round(0.1 + 0.2 * i + 0.01 * j, 3)) for j, k in enumerate(METRIC_KEYS)}
        m[s]["under_triage_emergency"]["n"] = 26
        m[s]["external_accuracy"]["n"] = 600
    for i, b in enumerate(("majority", "tfidf", "tfidf_all")):
        m[b] = {"disease_accuracy": ci(0.3 + 0.1 * i), "disease_macro_f1": ci(0.31 + 0.1 * i),
                "external_accuracy": ci(0.32 + 0.1 * i, n=600)}
    m.update({"n_test_rows": 160, "split": "test", "profile": "cpu", "base_model": "tiny-model",
              "finetuned_adapter": "outputs/x/04_finetune/adapter", "prompt_style": "alpaca", "max_new_tokens": 288,
              "bootstrap_samples": 1000, "external": {"rows": 600, "labels": 24, "label_mapping": {},
                                                      "unmapped_labels": []},
              "finetuned_lead": {"test": {"tfidf": ci(-0.013, 0.04), "tfidf_all": ci(-0.056, 0.04)},
                                 "external": {"tfidf": ci(0.062, 0.03, 600), "tfidf_all": ci(-0.012, 0.03, 600)}},
              "probe_banner": None, "generation": {},
              "unsupported_facts_found": [
                  {"kind": "helpline", "fact": "1075", "system": "base", "answers": 9},
                  {"kind": "local name", "fact": "jada bukhar", "system": "finetuned", "answers": 4},
                  {"kind": "helpline", "fact": "1075", "system": "finetuned", "answers": 2},
                  {"kind": "programme", "fact": "NTEP", "system": "finetuned", "answers": 2},
                  {"kind": "programme", "fact": "NTEP", "system": "base+safety", "answers": 7}]})
    return m


@pytest.fixture
def run(tmp_path, monkeypatch):
    """outputs/demo/ with what steps 04 and 05 write: manifests, log_history.json, metrics.json, predictions."""
    monkeypatch.setattr(paths, "OUTPUTS", tmp_path / "outputs")
    rdir = tmp_path / "outputs" / "demo"
    (rdir / "04_finetune").mkdir(parents=True)
    (rdir / "05_evaluate").mkdir()
    (rdir / "04_finetune" / "manifest.json").write_text(json.dumps(
        {"profile": "cpu", "finished": "2026-11-27T10:00:00+00:00", "git_commit": "abc1234def56",
         "precision": {"autocast": "bf16", "device": "cpu", "reason": "native bf16 (amx_bf16)"},
         "metrics": {"validation_disease_accuracy": 0.9125, "probe_accuracy": 0.8415, "masking_ok": True,
                     "probe_hinglish_accuracy": 0.6586, "probe_hinglish_unglossed_accuracy": 0.5122}}))
    (rdir / "05_evaluate" / "manifest.json").write_text(json.dumps(
        {"profile": "cpu", "finished": "2026-11-28T09:30:00+00:00", "git_commit": "abc1234def56"}))
    (rdir / "05_evaluate" / "metrics.json").write_text(json.dumps(synthetic_metrics()))
    log = [{"loss": 3.0 - 0.2 * s, "step": s} for s in range(1, 11)] + [{"eval_loss": 2.5, "step": 5},
                                                                         {"eval_loss": 2.0, "step": 10}]
    (rdir / "04_finetune" / "log_history.json").write_text(json.dumps(log))
    rows = ([{"disease": "malaria", "finetuned_pred_disease": "malaria"}] * 5
            + [{"disease": "malaria", "finetuned_pred_disease": "dengue"}] * 3
            + [{"disease": "typhoid", "finetuned_pred_disease": None}] * 2
            + [{"disease": "typhoid", "finetuned_pred_disease": "malaria"}])
    (rdir / "05_evaluate" / "predictions.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return "demo"


# --- tables -------------------------------------------------------------------------------------------------

def test_fmt_ci_one_format():
    assert results.fmt_ci({"value": 0.9375, "lo": 0.9, "hi": 0.96875, "n": 3}) == "0.938 [0.900, 0.969]"
    assert results.fmt_ci({"value": -0.0125, "lo": -0.05, "hi": 0.025}, signed=True) == "-0.013 [-0.050, +0.025]"
    assert results.fmt_ci({"value": 0.5}) == "0.500"
    assert results.fmt_ci(None) == results.fmt_ci({"value": None, "lo": None}) == ""


def test_metrics_table_headline_rows_systems_and_counts():
    m = synthetic_metrics()
    t = results.metrics_table(m)
    # what fine-tuning bought: base, the fine-tuned model alone and with the safety layer, and the bags of words
    assert list(t.columns) == ["Base model", "Fine-tuned alone", "Fine-tuned + safety layer", "TF-IDF + LR",
                               "TF-IDF + LR, all training queries"]
    assert list(t.index) == ["Disease accuracy, held-out split (n=160)", "Disease accuracy, external set (n=600)",
                             "Format compliance, all five sections (n=160)", "Precaution recall (n=160)",
                             "India notes present (n=160)", "Answers with unsupported facts (lower is better) (n=160)",
                             "Under-triage on emergency rows (lower is better) (n=26)", "ROUGE-L (n=160)"]
    assert (t.loc["Disease accuracy, held-out split (n=160)", "Fine-tuned alone"]
            == results.fmt_ci(m["finetuned"]["disease_accuracy"]))
    unsupported = "Answers with unsupported facts (lower is better) (n=160)"
    assert t.loc[unsupported, "Fine-tuned + safety layer"] == results.fmt_ci(m["finetuned+safety"]["unsupported_facts"])
    assert t.loc[unsupported, "Base model"] == results.fmt_ci(m["base"]["unsupported_facts"]) != ""
    assert t.loc[unsupported, "TF-IDF + LR"] == ""  # a classifier writes no facts
    assert t.loc["Disease accuracy, external set (n=600)", "TF-IDF + LR, all training queries"] == "0.520 [0.470, 0.570]"
    assert t.loc["Format compliance, all five sections (n=160)", "TF-IDF + LR"] == ""  # a classifier has no format
    # a metric no system has is left out; one system missing a metric leaves its cell empty
    del m["finetuned"]["rouge2"]
    for s in MODEL_SYSTEMS:
        m[s].pop("rougeLsum")
    more = results.metrics_table(m, results.MORE)
    assert not any(i.startswith("ROUGE-Lsum") for i in more.index)
    assert more.loc["ROUGE-2 (n=160)", "Fine-tuned alone"] == "" and more.loc["ROUGE-2 (n=160)", "Base model"] != ""
    assert "Majority" in results.metrics_table(m, results.MORE, results.SYSTEMS).columns


def test_facts_table_one_row_per_fact_counts_per_system():
    t = results.facts_table(synthetic_metrics())
    assert list(t.columns) == ["kind", "Base model", "Fine-tuned alone", "Fine-tuned + safety layer"]
    # the fine-tuned model's most frequent first; base+safety is not a column of the report
    assert list(t.index) == ["jada bukhar", "1075", "NTEP"]
    assert t.loc["1075"].tolist() == ["helpline", 9, 2, 0] and t.loc["NTEP"].tolist() == ["programme", 0, 2, 0]
    assert list(results.facts_table(synthetic_metrics(), top=1).index) == ["jada bukhar"]
    assert results.facts_table({"unsupported_facts_found": []}).empty and results.facts_table({}).empty


def test_leads_table_signed_per_split():
    t = results.leads_table(synthetic_metrics())
    assert list(t.columns) == ["held-out split", "external set"]
    assert t.iloc[0].tolist() == ["-0.013 [-0.053, +0.027]", "+0.062 [+0.032, +0.092]"]
    assert results.leads_table({"finetuned_lead": None}).empty


def test_markdown_table_escapes_pipes():
    import pandas as pd

    md = results.markdown_table(pd.DataFrame({"a|b": ["x|y"]}, index=pd.Index(["r"], name="metric")))
    assert md.splitlines() == ["| metric | a\\|b |", "| --- | --- |", "| r | x\\|y |"]


# --- docs/results.md and the README -------------------------------------------------------------------------

def numbers(text: str) -> list[str]:
    return re.findall(r"[+-]?\d\.\d{3}", text)


def test_results_markdown_sections_and_provenance(run):
    md = results.results_markdown(run)
    assert md.startswith("# Results: run `demo`")
    assert "- Run `demo`, profile `cpu`, step 05 finished 2026-11-28" in md and "`abc1234def56` (manifests)" in md
    assert "`python -m medillama report --run demo --markdown docs/results.md`" in md
    assert "- Trained in bf16 autocast on cpu (native bf16 (amx_bf16)) (step 04's manifest)" in md  # the CPU's path
    sections = [line for line in md.splitlines() if line.startswith("## ")]
    assert sections == ["## What fine-tuning bought", "## Fine-tuned vs the TF-IDF baselines",
                        "## Unsupported facts", "## All other metrics",
                        "## Step 04: the validation split and the probes (the numbers recipes are chosen by)"]
    head = md.split("## What fine-tuning bought")[1].split("##")[0]
    assert results.markdown_table(results.metrics_table(synthetic_metrics())) in head
    assert "| Disease accuracy, probe (fine-tuned) | 0.842 |" in md and "masking" not in md
    assert "| Disease accuracy, Hinglish probe (fine-tuned) | 0.659 |" in md  # as read, and as written beside it
    assert "| Disease accuracy, Hinglish probe (fine-tuned, read without the Hindi gloss) | 0.512 |" in md
    assert "| Disease accuracy, probe (fine-tuned, read without the Hindi gloss)" not in md  # a row per metric present
    assert "ROUGE-Lsum (n=160)" in md and "not the model" in md
    assert results.markdown_table(results.facts_table(synthetic_metrics())) in md.split("## Unsupported facts")[1]


def test_a_decoding_bias_is_said_where_the_answers_were_decoded_with_one():
    metrics = synthetic_metrics()
    assert results.decoding_note(metrics) == [] and results.decoding_note({**metrics, "urgency_bias": 0.0}) == []
    note = results.decoding_note({**metrics, "urgency_bias": 1.5})
    assert "favoured by 1.5 (log-odds)" in note[0] and "validation" in note[0]


def test_results_markdown_without_git_commit_in_manifests_says_where_it_came_from(run):
    for step in ("04_finetune", "05_evaluate"):
        p = paths.run_dir(run) / step / "manifest.json"
        p.write_text(json.dumps({k: v for k, v in json.loads(p.read_text()).items() if k != "git_commit"}))
    assert "(checkout at report time)" in results.results_markdown(run)


def test_replace_block_and_missing_markers():
    text = f"intro\n{results.START}\nold table\n{results.END}\noutro\n"
    new = results.replace_block(text, "NEW")
    assert new == f"intro\n{results.START}\nNEW\n{results.END}\noutro\n"
    assert results.replace_block(new, "NEW") == new  # idempotent
    with pytest.raises(ValueError, match="results:start"):
        results.replace_block("no markers here", "NEW", "README.md")
    with pytest.raises(ValueError, match="in that order"):
        results.replace_block(f"{results.END} {results.START}", "NEW")


def test_cli_writes_markdown_and_readme_with_the_same_numbers(run, tmp_path, capsys):
    md, readme = tmp_path / "docs" / "results.md", tmp_path / "README.md"
    readme.write_text(f"# Project\n\n## Results\n{results.START}\nstale 0.123\n{results.END}\n\n## Quick start\n")
    assert main(["report", "--run", run, "--markdown", str(md), "--readme", str(readme), "--no-html"]) == 0
    page, text = md.read_text(), readme.read_text()
    assert text.startswith("# Project\n\n## Results\n") and text.endswith(f"{results.END}\n\n## Quick start\n")
    block = text.split(results.START)[1].split(results.END)[0]
    assert "stale" not in block and "(docs/results.md)" in block  # the link, relative to the README
    assert f"`python -m medillama report --run demo --markdown {md} --readme {readme}`" in block
    # the README's tables (headline, leads) are the page's, character for character: the same numbers
    tables = [t.strip() for t in block.split("\n\n") if t.strip().startswith("|")]
    assert len(tables) == 2 and all(t in page for t in tables) and len(numbers(block)) >= 20
    assert not re.search(r"\b[0-9a-f]{7,40}\b", block)  # the commit is on the results page, not in the README
    assert "0.520 [0.470, 0.570]" in block and "+0.062 [+0.032, +0.092]" in block


def test_cli_fails_clearly_and_writes_nothing(run, tmp_path, capsys):
    md, readme = tmp_path / "results.md", tmp_path / "README.md"
    readme.write_text("# Project without markers\n")
    assert main(["report", "--run", run, "--markdown", str(md), "--readme", str(readme), "--no-html"]) == 1
    err = capsys.readouterr().err
    assert str(readme) in err and results.START in err
    assert not md.exists() and readme.read_text() == "# Project without markers\n"
    (paths.run_dir(run) / "05_evaluate" / "metrics.json").unlink()
    assert main(["report", "--run", run, "--markdown", str(md), "--no-html"]) == 1
    assert "metrics.json does not exist" in capsys.readouterr().err and not md.exists()
    assert main(["report", "--run", "nope", "--no-html"]) == 2


# --- pictures and the index page ----------------------------------------------------------------------------

def png_size(path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def test_loss_interval_and_miss_data():
    pts = figures.loss_points([{"loss": 2.0, "step": 1}, {"eval_loss": 1.5, "step": 2}, {"loss": 1.0, "step": 2},
                               {"train_runtime": 3.0, "step": 2}])
    assert pts == {"training": ([1, 2], [2.0, 1.0]), "validation": ([2], [1.5])}
    assert figures.loss_points([{"train_runtime": 1.0}]) == {}
    m = synthetic_metrics()
    iv = figures.interval_points(m)
    assert ("Disease accuracy, held-out split", "TF-IDF + LR", 0.4, 0.35, 0.45) in iv
    assert not any(p[0].startswith("Format") and p[1] == "Majority" for p in iv)
    mat = figures.miss_counts(["a", "a", "a", "b", "b", "c"], ["a", "b", "b", None, "a", "c"])
    assert list(mat.index) == ["a", "b"] and list(mat.columns) == ["b", "(none)", "a"]
    assert mat.loc["a", "b"] == 2 and mat.loc["b", "(none)"] == 1 and mat.loc["a", "a"] == 0
    assert figures.miss_counts(["a"], ["a"]).empty
    # a pandas column of predictions holds NaN where nothing was named: counted as '(none)', not dropped
    nan = figures.miss_counts(["a", "b", "c"], pd.Series(["b", None, float("nan")], dtype=object))
    assert nan.loc["b", figures.NONE] == 1 and nan.loc["c", figures.NONE] == 1 and nan.loc["a", "b"] == 1
    assert list(figures.miss_counts(list("aabbc"), list("bcaab"), top=1).index) == ["a"]


def test_pictures_drawn_from_the_run(run, tmp_path):
    out = tmp_path / "report"
    made = report.pictures(run, out)
    assert set(made) == {"loss", "intervals", "misses"}
    for p in made.values():
        w, h = png_size(p)
        assert w > 300 and h > 200
    # a run that has not trained or evaluated yet: no pictures, and none left from before
    for f in ("04_finetune/log_history.json", "05_evaluate/metrics.json", "05_evaluate/predictions.jsonl"):
        (paths.run_dir(run) / f).unlink()
    assert report.pictures(run, out) == {} and not list(out.glob("*.png"))


def test_index_page_shows_table_leads_and_pictures(run):
    import nbformat

    nb_dir = paths.run_dir(run) / "notebooks"
    nb_dir.mkdir()
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# 05")]),
                   str(nb_dir / "05_evaluate.ipynb"))
    index = report.build(run)
    page = index.read_text()
    for name in report.PICTURES.values():
        assert f"src='{name}'" in page and (index.parent / name).exists()
    assert results.fmt_ci(synthetic_metrics()["finetuned"]["disease_accuracy"]).split(" [")[0] in page
    assert "paired bootstrap" in page and "all training queries" in page and "not the model" in page
    assert "What fine-tuning bought" in page and "Unsupported facts" in page and "jada bukhar" in page
    assert "05_evaluate.html" in page and (index.parent / "05_evaluate.html").exists()
