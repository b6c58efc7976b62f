"""The pictures of a run (PNG): the training loss curves, every metric with its interval, and where the condition
goes wrong. Drawn on matplotlib Figures without pyplot, so they work headless and leave a notebook's backend alone;
each ``*_points``/``*_counts`` function is the data the picture shows."""
from __future__ import annotations

from collections import Counter
from pathlib import Path

import pandas as pd

from . import io
from .results import METRICS, SYSTEMS

NONE = "(none)"  # a prediction that names no known condition


def _save(fig, path) -> Path:
    with io.atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110)
    return Path(path)


def loss_points(log_history: list[dict]) -> dict[str, tuple[list, list]]:
    """{'training': (steps, losses), 'validation': (steps, eval losses)} from a trainer's log_history; a curve
    with no points is left out."""
    curves = {"training": "loss", "validation": "eval_loss"}
    out = {}
    for name, key in curves.items():
        pts = [(h["step"], h[key]) for h in log_history if h.get(key) is not None and "step" in h]
        if pts:
            out[name] = ([s for s, _ in pts], [v for _, v in pts])
    return out


def loss_curves(log_history: list[dict], path) -> Path | None:
    """Training and validation loss by optimizer step (step 04's log_history.json); None when it logged none."""
    from matplotlib.figure import Figure

    curves = loss_points(log_history)
    if not curves:
        return None
    fig = Figure(figsize=(7, 3.6))
    ax = fig.add_subplot()
    for name, (steps, losses) in curves.items():
        ax.plot(steps, losses, marker="o" if len(steps) < 30 else None, ms=3, label=name)
    ax.set_xlabel("optimizer step")
    ax.set_ylabel("loss")
    ax.set_title("Step 04: loss curves")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    return _save(fig, path)


def interval_points(metrics: dict, rows=METRICS, systems=SYSTEMS) -> list[tuple[str, str, float, float, float]]:
    """(metric label, system label, value, lo, hi) for every metric and system metrics.json has an interval for,
    in the order of ``rows`` and ``systems``."""
    out = []
    for key, label in rows:
        for s, slabel in systems:
            m = metrics.get(s, {}).get(key)
            if m and m.get("value") is not None and m.get("lo") is not None:
                out.append((label, slabel, m["value"], m["lo"], m["hi"]))
    return out


def metric_intervals(metrics: dict, path, rows=METRICS, systems=SYSTEMS) -> Path | None:
    """A dot-and-whisker plot: one line per metric, a dot per system at its value, whiskers to its 95% interval."""
    from matplotlib.figure import Figure

    pts = interval_points(metrics, rows, systems)
    if not pts:
        return None
    labels = [lab for _, lab in rows if any(p[0] == lab for p in pts)]
    shown = [sl for _, sl in systems if any(p[1] == sl for p in pts)]
    fig = Figure(figsize=(10, 0.55 * len(labels) + 1.2), layout="constrained")
    ax = fig.add_subplot()
    colours = {sl: f"C{i}" for i, sl in enumerate(shown)}
    width = 0.7
    for label, slabel, v, lo, hi in pts:
        y = labels.index(label) + (shown.index(slabel) + 0.5) / len(shown) * width - width / 2
        ax.errorbar(v, y, xerr=[[v - lo], [hi - v]], fmt="o", ms=4, capsize=2, color=colours[slabel])
    for sl in shown:
        ax.plot([], [], "o", color=colours[sl], label=sl)
    ax.set_yticks(range(len(labels)), labels)
    ax.invert_yaxis()
    ax.set_xlim(-0.02, 1.02)
    ax.set_xlabel("value (95% bootstrap interval)")
    ax.grid(axis="x", alpha=0.3)
    for i in range(1, len(labels)):
        ax.axhline(i - 0.5, color="#ddd", lw=0.6)
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize="small", frameon=False)
    ax.set_title("Metrics with their intervals")
    return _save(fig, path)


def miss_counts(y_true, y_pred, top: int = 12) -> pd.DataFrame:
    """The wrong rows as counts: true disease (rows, most misses first) by predicted disease (columns, most often
    wrongly named first; a prediction naming nothing is '(none)'), cut to the ``top`` of each."""
    # a prediction naming nothing may come as None or as NaN (a pandas column): both are '(none)'
    pairs = Counter((t, p if isinstance(p, str) and p else NONE) for t, p in zip(y_true, y_pred) if t != p)
    if not pairs:
        return pd.DataFrame()
    df = pd.DataFrame([(t, p, n) for (t, p), n in pairs.items()], columns=["true", "predicted", "rows"])
    rows = df.groupby("true")["rows"].sum().sort_values(ascending=False, kind="stable").index[:top]
    cols = df[df["true"].isin(rows)].groupby("predicted")["rows"].sum().sort_values(ascending=False,
                                                                                   kind="stable").index[:top]
    mat = df.pivot_table(index="true", columns="predicted", values="rows", aggfunc="sum", fill_value=0)
    return mat.loc[list(rows), list(cols)].astype(int)


def miss_confusion(y_true, y_pred, path, top: int = 12, title: str = "fine-tuned model") -> Path | None:
    """A heat map of ``miss_counts`` with the counts written in; None when nothing was missed."""
    from matplotlib.figure import Figure

    y_true, y_pred = list(y_true), list(y_pred)
    mat = miss_counts(y_true, y_pred, top)
    if mat.empty:
        return None
    misses = sum(t != p for t, p in zip(y_true, y_pred))
    fig = Figure(figsize=(max(6.0, 3.0 + 0.55 * mat.shape[1]), 2.6 + 0.4 * mat.shape[0]), layout="constrained")
    ax = fig.add_subplot()
    ax.imshow(mat.values, cmap="Reds", vmin=0, aspect="auto")
    ax.set_xticks(range(mat.shape[1]), [str(c) for c in mat.columns], rotation=60, ha="right")
    ax.set_yticks(range(mat.shape[0]), [str(i) for i in mat.index])
    peak = mat.values.max()
    for (i, j), n in pd.DataFrame(mat.values).stack().items():
        if n:
            ax.text(j, i, str(n), ha="center", va="center", fontsize="small",
                    color="white" if n > peak / 2 else "black")
    ax.set_xlabel("predicted")
    ax.set_ylabel("true disease")
    ax.set_title(f"Where the condition goes wrong ({title}):\n{misses} wrong of {len(y_true)} rows"
                 + (f", the {top} most missed diseases" if len(set(t for t, p in zip(y_true, y_pred) if t != p)) > top
                    else ""))
    return _save(fig, path)
