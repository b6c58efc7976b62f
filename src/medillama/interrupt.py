"""Ctrl-C for the runner: stop the notebook kernels it started, which run in their own sessions (jupyter_client
starts them with ``start_new_session``), so a terminal's SIGINT never reaches them."""
from __future__ import annotations

import contextlib
import os
import signal
import threading

EXIT_SIGINT, EXIT_SIGTERM = 130, 143


class Terminated(KeyboardInterrupt):
    """SIGTERM, handled as Ctrl-C is."""


def children() -> list:
    import psutil

    return psutil.Process().children(recursive=True)


def stop_children(grace_s: float = 4.0) -> list[int]:
    """SIGTERM every process this one started (each kernel with its process group), SIGKILL what is still alive
    after ``grace_s``; returns the pids that were running."""
    import psutil

    procs = children()
    for p in procs:
        with contextlib.suppress(OSError, psutil.Error):
            if os.getpgid(p.pid) == p.pid:  # a session leader (a kernel): its whole group
                os.killpg(p.pid, signal.SIGTERM)
            else:
                p.terminate()
    _, alive = psutil.wait_procs(procs, timeout=grace_s)
    for p in alive:
        with contextlib.suppress(OSError, psutil.Error):
            p.kill()
    psutil.wait_procs(alive, timeout=2)
    return [p.pid for p in procs]


@contextlib.contextmanager
def sigterm_as_interrupt():
    """Within the block, SIGTERM raises ``Terminated`` (a KeyboardInterrupt) in the main thread."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        raise Terminated()

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
