"""One run at a time per run name: ``outputs/<run>/.lock`` holds the runner's pid under an ``fcntl.flock``.

The kernel releases a flock when its holder dies, however it dies, so a lock file left behind by a killed runner
is stale by construction: the next runner takes it over (with a warning naming the old pid). The descriptor is not
inherited by the notebook kernels the runner starts.
"""
from __future__ import annotations

import fcntl
import os
import sys
from pathlib import Path

LOCK_FILE = ".lock"


class RunLocked(RuntimeError):
    def __init__(self, path: Path, pid: int | None):
        self.path, self.pid = path, pid
        holder = f"pid {pid}" if pid else "another process"
        super().__init__(f"{path.parent.name!r} is already being run by {holder} (lock {path}); wait for it to "
                         f"finish, stop it (Ctrl-C or kill {pid or '<pid>'}), or use another --run name")


def _pid_in(fd: int) -> int | None:
    try:
        text = os.pread(fd, 64, 0).decode().strip()
        return int(text) if text else None
    except (OSError, ValueError):
        return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class RunLock:
    """The held lock on a run folder; ``release`` (or leaving the ``with`` block) removes the file."""

    def __init__(self, run_dir: Path):
        self.path = Path(run_dir) / LOCK_FILE
        self.fd: int | None = None
        self.stale_pid: int | None = None

    def acquire(self) -> "RunLock":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                pid = _pid_in(fd)
                os.close(fd)
                raise RunLocked(self.path, pid) from None
            try:  # a releasing holder unlinks the file: make sure we locked the one the path names now
                same = os.stat(self.path).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)
        old = _pid_in(fd)
        if old is not None and old != os.getpid():
            self.stale_pid = old
            state = "no longer running" if not _alive(old) else "running, but no longer holding it"
            print(f"warning: taking over the stale lock {self.path} of pid {old} ({state})", file=sys.stderr)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self.fd = fd
        return self

    def release(self) -> None:
        if self.fd is None:
            return
        try:
            os.unlink(self.path)  # while still holding it, so no one takes a file about to vanish
        except FileNotFoundError:
            pass
        os.close(self.fd)
        self.fd = None

    def __enter__(self) -> "RunLock":
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()
