"""Atomic JSON writers keep numpy scalars as JSON values (predictions.jsonl is read by other tools)."""
import json

import numpy as np

from medillama import io


def test_numpy_scalars_are_json_values(tmp_path):
    row = {"ok": np.bool_(True), "n": np.int64(3), "x": np.float64(0.5), "path": tmp_path}
    io.write_jsonl(tmp_path / "r.jsonl", [row])
    got = json.loads((tmp_path / "r.jsonl").read_text())
    assert got == {"ok": True, "n": 3, "x": 0.5, "path": str(tmp_path)}
    io.write_json(tmp_path / "r.json", row)
    assert json.loads((tmp_path / "r.json").read_text())["ok"] is True
    assert io.read_json(tmp_path / "r.json") == {"ok": True, "n": 3, "x": 0.5, "path": str(tmp_path)}


def test_missing_values_are_null_not_bare_nan(tmp_path):
    import pandas as pd

    row = {"a": float("nan"), "b": np.float32("nan"), "c": pd.NA, "d": [np.float64("inf"), 1.0],
           "e": {"f": np.nan}}
    io.write_jsonl(tmp_path / "r.jsonl", [row])
    text = (tmp_path / "r.jsonl").read_text()
    assert "NaN" not in text and "Infinity" not in text
    assert json.loads(text) == {"a": None, "b": None, "c": None, "d": [None, 1.0], "e": {"f": None}}
