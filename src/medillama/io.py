"""Write-then-rename helpers: a crash never leaves a half-written output behind."""
from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import shutil
import tempfile
from pathlib import Path

import yaml


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary sibling path; rename it onto ``path`` only if the block succeeds.
    Works for files and for directories (e.g. ``Dataset.save_to_disk``)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent)) / path.name
    try:
        yield tmp
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        os.replace(tmp, path)
    finally:
        shutil.rmtree(tmp.parent, ignore_errors=True)


def write_text(path, text: str) -> Path:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def _plain(o):
    # numpy/pandas scalars (bool_, int64, float64) as JSON values, not as the strings 'True' / '3'; pd.NA as null
    if callable(getattr(o, "item", None)):
        return _strict(o.item())
    return None if type(o).__name__ in ("NAType", "NaTType") else str(o)


def _strict(o):
    """NaN and infinities as null: the bare NaN that json.dumps writes is not JSON and strict readers reject it."""
    if isinstance(o, float):
        return o if math.isfinite(o) else None
    if isinstance(o, dict):
        return {k: _strict(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [_strict(v) for v in o]
    return o


def _dumps(obj, **kw) -> str:
    return json.dumps(_strict(obj), ensure_ascii=False, default=_plain, allow_nan=False, **kw)


def write_json(path, obj) -> Path:
    return write_text(path, _dumps(obj, indent=2) + "\n")


def write_yaml(path, obj) -> Path:
    return write_text(path, yaml.safe_dump(obj, sort_keys=False, allow_unicode=True))


def write_parquet(path, df) -> Path:
    with atomic_path(path) as tmp:
        df.to_parquet(tmp, index=False)
    return Path(path)


def write_jsonl(path, rows) -> Path:
    return write_text(path, "".join(_dumps(r) + "\n" for r in rows))


def read_json(path):
    return json.loads(Path(path).read_text(encoding="utf-8"))


def read_jsonl(path) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def file_hash(path) -> str:
    """sha256 of a file, or of a directory's files (names and contents, sorted)."""
    path = Path(path)
    h = hashlib.sha256()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for f in files:
        if path.is_dir():
            h.update(str(f.relative_to(path)).encode())
        with open(f, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
    return h.hexdigest()


def text_hash(obj) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()
