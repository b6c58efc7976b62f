"""The benchmark scripts take a run's profile and its name separately (``--run myexp`` is a name, not a profile)."""
import argparse
import ast
import sys
from pathlib import Path

import pytest

from medillama import paths

BENCH = Path(__file__).resolve().parents[1] / "bench"
sys.path.insert(0, str(BENCH))
import common  # noqa: E402

# the scripts that read a run (redflags.py and gloss_recall.py read only labelled messages; gpu_check.py makes its own
# runs)
SCRIPTS = sorted(p for p in BENCH.glob("*.py")
                 if p.name not in ("common.py", "end_to_end.py", "redflags.py", "gloss_recall.py", "gpu_check.py"))


def parse(argv):
    ap = argparse.ArgumentParser()
    common.add_run_args(ap)
    return common.parse_run_args(ap, argv)


def test_run_defaults_to_the_profile_and_is_kept_apart_from_it():
    a = parse(["--run", "myexp"])
    assert (a.profile, a.run) == ("cpu", "myexp")
    a = parse(["--profile", "smoke"])
    assert (a.profile, a.run) == ("smoke", "smoke")
    with pytest.raises(SystemExit):
        parse(["--profile", "myexp"])


def test_a_run_without_a_dataset_names_the_run_not_a_profile(monkeypatch, tmp_path):
    monkeypatch.setattr(paths, "ROOT", tmp_path)
    with pytest.raises(SystemExit, match="--run myexp"):
        common.splits("myexp")


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_every_script_takes_profile_and_run_and_loads_config_by_profile(script):
    tree = ast.parse(script.read_text())
    calls = {n.func.attr if isinstance(n.func, ast.Attribute) else getattr(n.func, "id", "")
             for n in ast.walk(tree) if isinstance(n, ast.Call)}
    assert {"add_run_args", "parse_run_args"} <= calls, script.name
    for n in ast.walk(tree):
        if isinstance(n, ast.Call) and getattr(n.func, "attr", "") == "load_config":
            first = n.args[0]
            assert not isinstance(first, ast.Constant), f"{script.name}: a profile literal"
            assert "run" not in ast.unparse(first), f"{script.name}: a run name passed as the profile"


def test_top_operators_rank_a_profiled_run_by_self_time():
    import torch

    import training

    a = torch.randn(512, 512)
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as prof:
        for _ in range(20):
            a = torch.tanh(a @ a * 1e-3)
    ops = training.top_operators(prof, n=3)
    assert len(ops) == 3 and ops[0]["operator"] == "aten::mm" and ops[0]["calls"] == 20
    shares = [o["self_cpu_share"] for o in ops]
    assert shares == sorted(shares, reverse=True) and 0 < sum(shares) <= 1.0


def test_gloss_recall_scores_the_glossed_symptoms_against_the_labels():
    import pandas as pd

    import gloss_recall

    df = pd.DataFrame({"text": ["tez bukhar hai aur ji machlata hai", "sar dard, no fever", "बहुत खुजली है"],
                       "symptoms": ["high_fever;nausea;headache", "headache", "itching"],
                       "script": ["latin", "latin", "devanagari"]})
    r = gloss_recall.score(df)
    # read: high fever, nausea (row 1); headache (row 2, "sar dard"); itching (row 3); missed: row 1's headache
    assert r["all"]["symptoms"] == 5 and r["all"]["recall"] == pytest.approx(4 / 5)
    assert r["all"]["precision"] == 1.0 and r["devanagari"]["recall"] == 1.0
    assert r["most_missed"] == [("headache", 1)]
