"""Run the numbered notebooks in order with papermill; skip the steps whose manifest still matches."""
from __future__ import annotations

import argparse
import logging
import os
import sys
import threading
import time
from pathlib import Path

from . import config as config_mod
from . import allocator, interrupt, paths, progress, runlock
from .pipeline import STEPS, is_current, manifest_path

KERNEL = "medillama"


def kernel_name() -> str:
    """The project's registered kernel (run_all.sh registers it); Colab and bare Jupyter fall back to python3."""
    from jupyter_client.kernelspec import find_kernel_specs

    from jupyter_client.kernelspec import KernelSpecManager

    name = os.environ.get("MEDILLAMA_KERNEL", KERNEL)
    if name in find_kernel_specs():
        exe = KernelSpecManager().get_kernel_spec(name).argv[0]
        # a spec left by another checkout would run that checkout's code
        if Path(exe).resolve().parent == Path(sys.executable).resolve().parent or not Path(exe).is_absolute():
            return name
        print(f"kernel {name!r} runs {exe}, not this environment's Python ({sys.executable}); using 'python3'")
    else:
        print(f"kernel {name!r} is not registered; using 'python3' (register with: "
              f"python -m ipykernel install --sys-prefix --name {KERNEL})")
    return "python3"


def parse_args(argv=None):
    ap = argparse.ArgumentParser(prog="run_all.sh", description=__doc__)
    ap.add_argument("--profile", default="auto", choices=["auto", *config_mod.PROFILES])
    ap.add_argument("--run", default="", help="run name (outputs/<run>/); default: the profile name")
    ap.add_argument("--from", dest="start", default=None, help="first step to run, e.g. 03")
    ap.add_argument("--only", default=None, help="run just this step, e.g. 02")
    ap.add_argument("--force", action="store_true", help="re-run steps even when their manifest matches")
    ap.add_argument("-p", nargs=2, action="append", default=[], metavar=("KEY", "VALUE"),
                    help="override a config key (dotted, or a unique leaf name)")
    ap.add_argument("--timeout", type=int, default=6 * 3600, help="per-cell execution timeout in seconds")
    ap.add_argument("--no-preflight", action="store_true",
                    help="skip the preflight checks (medillama preflight) run before the first model step")
    ap.add_argument("--list-keys", action="store_true", help="print the valid config keys and exit")
    return ap.parse_args(argv)


def select_steps(start: str | None, only: str | None) -> list[str]:
    names = list(STEPS)
    for flag, val in (("--from", start), ("--only", only)):
        if val is not None and not any(n.startswith(val) for n in names):
            raise SystemExit(f"{flag} {val}: no such step; steps are {', '.join(names)}")
    if only is not None:
        return [n for n in names if n.startswith(only)]
    if start is not None:
        return names[next(i for i, n in enumerate(names) if n.startswith(start)):]
    return names


POLL_S = 0.5
# the kernel's own log (its stderr is the terminal's): only critical errors. Not "[IPKernelApp] WARNING | Kernel is
# running over TCP without encryption ..." (ipykernel's kernelapp) at every step, nor "ERROR | KeyboardInterrupt caught
# in kernel" where jupyter_client's shutdown interrupts a kernel still finishing a step's last reply (it always sends
# SIGINT before the shutdown request). A failing cell is reported by papermill, with its traceback, whatever this level.
KERNEL_ARGS = ["--IPKernelApp.log_level=CRITICAL"]


_WORKERS: list[threading.Thread] = []  # papermill's threads: after Ctrl-C they finish writing the notebook


def run_step(name: str, profile: str, run: str, overrides: dict, kernel: str, timeout: int) -> Path:
    """Execute the step's notebook with papermill in a thread, showing the step's progress file
    (progress.py) on stderr meanwhile; a Ctrl-C reaches this (main) thread."""
    import papermill as pm

    out_nb = paths.run_dir(run) / "notebooks" / f"{name}.ipynb"
    log_file = paths.run_dir(run) / "logs" / f"{name}.log"
    out_nb.parent.mkdir(parents=True, exist_ok=True)
    log_file.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(log_file, mode="w", encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    pm_log = logging.getLogger("papermill")
    pm_log.addHandler(handler)
    pm_log.setLevel(logging.INFO)
    status = paths.run_dir(run) / name / progress.FILE
    status.unlink(missing_ok=True)  # a previous run's
    errors: list[BaseException] = []

    def execute():
        try:
            pm.execute_notebook(
                str(STEPS[name].notebook), str(out_nb),
                parameters={"profile": profile, "run": run, "overrides": overrides},
                kernel_name=kernel, cwd=str(paths.ROOT), execution_timeout=timeout,
                log_output=True, progress_bar=False, extra_arguments=KERNEL_ARGS,
            )
        except BaseException as e:  # handed to the main thread
            errors.append(e)

    view = progress.Terminal(name)
    worker = threading.Thread(target=execute, name=f"papermill {name}", daemon=True)
    _WORKERS.append(worker)
    worker.start()
    try:
        while worker.is_alive():
            worker.join(POLL_S)
            view.show(progress.read(status))
        view.show(progress.read(status), final=True)
    finally:
        view.close()
        pm_log.removeHandler(handler)
        handler.close()
    if errors:
        raise errors[0]
    return out_nb


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.list_keys:
        print("\n".join(config_mod.valid_keys()))
        return 0
    overrides = dict(args.p)
    try:
        profile = config_mod.resolve_profile(args.profile)
        cfg = config_mod.load_config(profile, overrides)  # fails early on an unknown key or a bad type
    except config_mod.ConfigError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    run = args.run or profile
    steps = select_steps(args.start, args.only)
    try:
        lock = runlock.RunLock(paths.run_dir(run)).acquire()  # one run at a time on outputs/<run>/
    except runlock.RunLocked as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    summary: list[list] = []  # [step, status, seconds]
    try:
        with interrupt.sigterm_as_interrupt():
            return _run_steps(args, cfg, profile, run, steps, overrides, summary)
    except KeyboardInterrupt as e:
        stopped = interrupt.stop_children()
        time.sleep(0.5)  # papermill's thread may have been starting a kernel: a second sweep
        stopped += interrupt.stop_children()
        for worker in _WORKERS:  # with its kernel gone, papermill writes the rendered notebook and ends
            worker.join(3)
        if summary and summary[-1][1] == "running":
            summary[-1][1:] = ["interrupted", time.perf_counter() - summary[-1][2]]
        print(f"interrupted: stopped {'kernel pid ' + ', '.join(map(str, stopped)) if stopped else 'no kernel'}; "
              "the step's manifest was not written, so the next call re-runs it (step 04 resumes from its last "
              "checkpoint)", file=sys.stderr)
        return interrupt.EXIT_SIGTERM if isinstance(e, interrupt.Terminated) else interrupt.EXIT_SIGINT
    finally:
        lock.release()
        if summary and summary[-1][1] == "running":  # an error other than Ctrl-C ended the step
            summary[-1][1:] = ["failed", time.perf_counter() - summary[-1][2]]
        print_summary(summary, steps)


def _run_steps(args, cfg, profile, run, steps, overrides, summary) -> int:
    os.environ.setdefault("TQDM_DISABLE", "1")  # progress bars belong in a terminal, not in rendered notebooks
    os.environ.setdefault("PYTHONWARNINGS", "ignore:IProgress not found")  # tqdm.auto, imported by datasets
    allocator.for_children()  # the kernels' big tensors reused from the heap (allocator.py)
    kernel = kernel_name()
    print(f"run {run!r} (profile {profile}); steps: {', '.join(steps)}; outputs in {paths.run_dir(run)}")
    checked = False  # the preflight runs once, before the first model step that is not current
    for name in steps:
        spec = STEPS[name]
        if not args.force and is_current(spec, cfg, run):
            print(f"[{name}] skipped: manifest matches ({manifest_path(run, name)})")
            summary.append([name, "skipped", None])
            continue
        if STEPS[name].loads_model and not args.no_preflight and not checked:
            from . import preflight

            checked = True
            if not preflight.preflight(cfg):
                print(f"[{name}] not run: the preflight failed (fixes above); --no-preflight runs anyway",
                      file=sys.stderr)
                summary.append([name, "FAILED", None])
                return 1
        print(f"[{name}] running ...", flush=True)
        # an outdated manifest goes first: a step stopped half-way (Ctrl-C, a crash) then has none, and is re-run
        manifest_path(run, name).unlink(missing_ok=True)
        t0 = time.perf_counter()
        summary.append([name, "running", t0])
        out_nb = paths.run_dir(run) / "notebooks" / f"{name}.ipynb"
        try:
            run_step(name, profile, run, overrides, kernel, args.timeout)
        except Exception as e:  # papermill's PapermillExecutionError carries the cell's traceback
            summary[-1][1:] = ["FAILED", time.perf_counter() - t0]
            reason = getattr(e, "ename", type(e).__name__) + ": " + str(getattr(e, "evalue", e)).splitlines()[0][:500]
            print(f"[{name}] FAILED after {time.perf_counter() - t0:.1f} s -- {reason}", file=sys.stderr)
            print(f"  the rendered notebook shows the error: {out_nb}", file=sys.stderr)
            print(f"  log: {paths.run_dir(run) / 'logs' / f'{name}.log'}", file=sys.stderr)
            _report(run)
            return 1
        summary[-1][1:] = ["run", time.perf_counter() - t0]
        if not is_current(spec, cfg, run):
            summary[-1][1] = "FAILED"
            print(f"[{name}] FAILED: the notebook ran but wrote no matching manifest; see {out_nb}", file=sys.stderr)
            return 1
        print(f"[{name}] done in {time.perf_counter() - t0:.1f} s -> {out_nb}")
    _report(run)
    return 0


def print_summary(summary: list[list], steps: list[str]) -> None:
    """One table on stderr: each step, skipped / run / FAILED / interrupted / not run, and its wall time."""
    if not summary:
        return
    rows = summary + [[s, "not run", None] for s in steps[len(summary):]]
    width = max(len(r[0]) for r in rows)
    total = sum(r[2] for r in rows if r[2] is not None and r[1] != "running")
    lines = [f"{'step':<{width}}  {'status':<11}  wall time"]
    lines += [f"{r[0]:<{width}}  {r[1]:<11}  {progress.duration(r[2]) if r[2] is not None else '-'}" for r in rows]
    lines.append(f"{'total':<{width}}  {'':<11}  {progress.duration(total)}")
    print("summary:\n  " + "\n  ".join(lines), file=sys.stderr, flush=True)


def _report(run: str) -> None:
    from .report import build

    index = build(run)
    if index:
        print(f"report: {index}")


if __name__ == "__main__":
    sys.exit(main())
