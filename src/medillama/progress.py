"""Live progress of a long step, for the terminal: the step writes a small status file, the runner shows it.

A step's library code reports what it is doing (``update``: phase, done/total, rate, ETA; ``note``: a line worth
reading once, e.g. the precision chosen or an estimate; ``timing``: an estimate beside the actual time). With the
file bound (``bind``, done by ``pipeline.Step``) each report replaces ``outputs/<run>/<step>/progress.json``
atomically; ``runner`` polls it while papermill runs the notebook and draws it with tqdm (or plain lines). The
rendered notebook gets only the notes, as plain lines. Unbound (tests, a library call), reports are kept in memory.
"""
from __future__ import annotations

import contextlib
import json
import math
import os
import time
from pathlib import Path

FILE = "progress.json"
WRITE_EVERY_S = 1.0

_path: Path | None = None
_state: dict = {}
_last_write = 0.0
_phase: dict | None = None  # the open ``phase``: what generic ``tick`` calls count into


def _fresh(step: str = "") -> dict:
    return {"step": step, "current": None, "notes": [], "timings": {}, "updated": time.time()}


_state = _fresh()


def bind(path: Path | None, step: str = "") -> None:
    """Report to ``path`` (None: in memory only), starting afresh."""
    global _path, _state, _phase
    _path, _state, _phase = (Path(path) if path else None), _fresh(step), None
    _write(force=True)


def _write(force: bool = False) -> None:
    global _last_write
    now = time.time()
    _state["updated"] = now
    if _path is None or (not force and now - _last_write < WRITE_EVERY_S):
        return
    _last_write = now
    tmp = _path.with_name(f".{_path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(json.dumps(_state, default=str), encoding="utf-8")
        os.replace(tmp, _path)
    except OSError:  # progress is a convenience: never fail a step over it
        pass


def read(path: Path) -> dict | None:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def state() -> dict:
    return _state


def update(phase: str, done: int | None, total: int | None = None, unit: str = "rows", rate: float | None = None,
           rate_unit: str = "", eta_s: float | None = None, info: str = "") -> None:
    """What the step is doing now: ``done`` of ``total`` ``unit`` of ``phase``, at ``rate`` ``rate_unit``."""
    new_phase = (_state["current"] or {}).get("phase") != phase
    _state["current"] = {"phase": phase, "done": done, "total": total, "unit": unit, "rate": rate,
                         "rate_unit": rate_unit, "eta_s": eta_s, "info": info}
    finished = total is not None and done is not None and done >= total
    if finished and phase not in _state.setdefault("finished", []):
        # a phase's last state is kept as a note: the runner polls, and the next phase may replace it in between
        _state["finished"].append(phase)
        note(line(_state["current"]), echo=False)
        return
    _write(force=new_phase or finished)  # first and last states


def note(text: str, echo: bool = True) -> None:
    """A line to show once in the terminal (and, with ``echo``, in the notebook's output)."""
    _state["notes"].append(text)
    if echo:
        print(text, flush=True)
    _write(force=True)


def timing(name: str, **fields) -> dict:
    """Record ``fields`` (e.g. ``estimate_s``, ``actual_s``) for ``name``; ``pipeline.Step.finish`` puts them in
    the manifest."""
    entry = _state["timings"].setdefault(name, {})
    entry.update({k: round(v, 1) if isinstance(v, float) else v for k, v in fields.items()})
    _write(force=True)
    return entry


def timings() -> dict:
    return dict(_state["timings"])


def eta(done: float, total: float, elapsed: float) -> float | None:
    """Seconds left at the pace so far."""
    return elapsed / done * (total - done) if done > 0 and total else None


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    s = int(round(seconds))
    return f"{s // 3600}h{s % 3600 // 60:02d}m" if s >= 3600 else f"{s // 60}m{s % 60:02d}s"


@contextlib.contextmanager
def phase(name: str, total: int, unit: str = "rows"):
    """Open a phase that generic loops (``generate.HFBackend.generate``) count into with ``tick``."""
    global _phase
    outer = _phase
    _phase = {"name": name, "total": total, "unit": unit, "done": 0, "tokens": 0, "t0": time.perf_counter()}
    update(name, 0, total, unit)
    try:
        yield
    finally:
        _phase = outer


def tick(n: int, tokens: int = 0) -> None:
    """``n`` more units done in the open phase (no-op when none is open); ``tokens``: new tokens generated."""
    if _phase is None:
        return
    p = _phase
    p["done"] += n
    p["tokens"] += tokens
    elapsed = time.perf_counter() - p["t0"]
    update(p["name"], p["done"], p["total"], p["unit"], rate=p["tokens"] / elapsed if elapsed else None,
           rate_unit="tok/s", eta_s=eta(p["done"], p["total"], elapsed))


def details(c: dict) -> str:
    """Info, rate and ETA of a ``current`` state."""
    parts = [c["info"]] if c.get("info") else []
    if c.get("rate"):
        parts.append(f"{c['rate']:.1f} {c['rate_unit']}")
    if c.get("eta_s") is not None and (not c.get("total") or (c.get("done") or 0) < c["total"]):
        parts.append(f"ETA {duration(c['eta_s'])}")
    return ", ".join(parts)


def line(c: dict) -> str:
    """One plain line for a ``current`` state."""
    head = c["phase"] if c.get("done") is None else (
        f"{c['phase']}: {c['done']}" + (f"/{c['total']}" if c.get("total") else "") + f" {c['unit']}")
    return ", ".join(x for x in (head, details(c)) if x)


class Terminal:
    """The runner's view of one step's status file: its notes as lines, its progress as a tqdm bar on a terminal,
    else as plain lines -- on each new phase and at least every ``every_s`` seconds."""

    def __init__(self, step: str, stream=None, tty: bool | None = None, every_s: float = 20.0):
        import sys

        self.step, self.stream = step, stream or sys.stderr
        self.tty = self.stream.isatty() if tty is None else tty
        self.every_s, self.t0 = every_s, time.monotonic()
        self.bar, self.phase, self.notes, self.last_print, self.last_line = None, None, 0, 0.0, ""

    def show(self, st: dict | None, final: bool = False) -> None:
        if not st or st.get("step") != self.step:  # missing, or not yet this step's (the kernel is starting)
            return
        for n in st["notes"][self.notes:]:
            self._print(f"[{self.step}] {n}")
        self.notes = len(st["notes"])
        if st.get("current"):
            (self._bar if self.tty else self._plain)(st["current"], final)

    def _print(self, text: str) -> None:
        if self.bar is not None:
            self.bar.write(text, file=self.stream)
        else:
            print(text, file=self.stream, flush=True)

    def _plain(self, c: dict, final: bool) -> None:
        text, now = line(c), time.monotonic()
        if c["phase"] != self.phase or now - self.last_print >= self.every_s or (final and text != self.last_line):
            self.phase, self.last_print, self.last_line = c["phase"], now, text
            self._print(f"[{self.step}] {text} ({duration(now - self.t0)} into the step)")

    def _bar(self, c: dict, final: bool) -> None:
        from tqdm import tqdm

        if c["phase"] != self.phase:
            self.close()
            self.phase = c["phase"]
            if c.get("total"):
                fmt = "{desc}: {percentage:3.0f}%|{bar:24}| {n_fmt}/{total_fmt} " + c["unit"] + " [{elapsed}] {postfix}"
            elif c.get("done") is not None:
                fmt = "{desc}: {n_fmt} " + c["unit"] + " [{elapsed}] {postfix}"
            else:
                fmt = "{desc} [{elapsed}] {postfix}"
            self.bar = tqdm(total=c.get("total"), desc=f"[{self.step}] {c['phase']}", file=self.stream,
                            bar_format=fmt, disable=False, dynamic_ncols=True, leave=True)
        self.bar.n = c.get("done") or 0
        self.bar.set_postfix_str(details(c), refresh=False)
        self.bar.refresh()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def eval_passes(args, state, start: int = 0) -> int:
    """The validation-loss passes the Trainer makes after step ``start``: one at every multiple of its eval interval
    (``sft.eval_steps``, in steps, or below 1 a share of the run's steps, as ``state.eval_steps`` holds it once
    training starts) and one at the last step when that is no multiple."""
    every = getattr(state, "eval_steps", None) or args.eval_steps
    if args.eval_strategy != "steps" or not every:
        return 0
    every = every if every >= 1 else math.ceil(state.max_steps * every)
    end = state.max_steps
    return end // every - start // every + (1 if end % every else 0)


def training_callback(tokens_per_step: float, tokens_seen=None, measure_steps: int = 3):
    """A transformers ``TrainerCallback`` reporting training: step/total, loss, train tokens/s and ETA, then each
    validation-loss pass; after ``measure_steps`` steps beyond the first it notes the estimated training time and
    records it beside the actual time (``timing('train')``). The first step of a run carries one-time costs (kernels
    chosen, optimizer state allocated), so the rate, the ETA and the estimate come from the steps after it: the
    estimate is the first step's time plus the tokens still to train at that rate.
    ``tokens_seen()``, when given, counts the tokens the steps so far actually trained on: batches grouped by length
    come longest first, so the mean ``tokens_per_step`` would make the first steps look slow."""
    from transformers import TrainerCallback

    class TrainProgress(TrainerCallback):
        def on_train_begin(self, args, state, control, **kw):
            self.start, self.t0, self.loss, self.estimated = None, time.perf_counter(), None, False
            self.first = None  # (training seconds, tokens) at the end of this run's first step
            self.eval_batches, self.eval_t0, self.eval_s = 0, 0.0, 0.0  # validation-loss passes: time kept apart

        def on_step_begin(self, args, state, control, **kw):
            if self.start is None:  # here, unlike on_train_begin, a resumed run's state is loaded
                self.start, self.t0 = state.global_step, time.perf_counter()
                self.seen0 = tokens_seen() if tokens_seen else 0
                if self.start:
                    note(f"training resumes at step {self.start}/{state.max_steps}")
                update("train", self.start, state.max_steps, "steps")

        def on_log(self, args, state, control, logs=None, **kw):
            if logs and "loss" in logs:
                self.loss = logs["loss"]

        def on_step_end(self, args, state, control, **kw):
            if self.start is None:
                return
            done, elapsed = state.global_step - self.start, time.perf_counter() - self.t0
            training = elapsed - self.eval_s
            if not done or training <= 0:
                return
            seen = tokens_seen() - self.seen0 if tokens_seen else tokens_per_step * done
            if self.first is None:
                self.first = (training, seen)
            first_s, first_tokens = self.first
            steady = done > 1 and training > first_s
            tps = (seen - first_tokens) / (training - first_s) if steady else seen / training
            todo = state.max_steps - self.start
            left = max(todo * tokens_per_step - seen, 0.0)  # tokens still to train
            if not self.estimated and (done > measure_steps or state.global_step >= state.max_steps):
                self.estimated = True
                est = first_s + max(todo * tokens_per_step - first_tokens, 0.0) / tps  # after 1 step: todo / rate
                evals = eval_passes(args, state, self.start)
                measured = f"steps 2-{done}" if steady else f"first {done} step{'s' if done > 1 else ''}"
                note(f"estimate for training: {todo} steps x ~{tokens_per_step:.0f} tokens / {tps:.0f} train tok/s "
                     f"({measured}) = ~{duration(est)} on this machine"
                     + (f", plus {evals} validation-loss pass{'es' if evals > 1 else ''}" if evals else ""))
                timing("train", estimate_s=est, steps=todo, measured_steps=done, train_tokens_per_s=tps)
            update("train", state.global_step, state.max_steps, "steps", rate=tps, rate_unit="train tok/s",
                   eta_s=left / tps if tps else None,
                   info=f"loss {self.loss:.3f}" if self.loss is not None else "")

        def on_prediction_step(self, args, state, control, eval_dataloader=None, **kw):
            if not self.eval_batches:
                self.eval_t0 = time.perf_counter()
            self.eval_batches += 1
            total = len(eval_dataloader) if eval_dataloader is not None else None
            update("validation loss", self.eval_batches, total, "batches", info=f"at step {state.global_step}")

        def on_evaluate(self, args, state, control, metrics=None, **kw):
            if self.eval_batches:
                self.eval_s += time.perf_counter() - self.eval_t0
            self.eval_batches = 0

        def on_train_end(self, args, state, control, **kw):
            timing("train", actual_s=time.perf_counter() - self.t0,
                   steps_trained=state.global_step - (state.global_step if self.start is None else self.start))
            update("after training: the best checkpoint, the adapter, a sample answer", None, None)

    return TrainProgress()
