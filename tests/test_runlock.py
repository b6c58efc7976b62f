"""One run at a time: the run folder's lock, a stale lock taken over, and two real runners on one run name."""
import os
import signal
import subprocess
import sys
import time

import pytest

from medillama import paths, runlock


def dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def test_lock_is_exclusive_and_released(tmp_path):
    with runlock.RunLock(tmp_path) as held:
        assert (tmp_path / ".lock").read_text() == f"{os.getpid()}\n" and held.stale_pid is None
        with pytest.raises(runlock.RunLocked, match=f"pid {os.getpid()}") as e:
            runlock.RunLock(tmp_path).acquire()
        assert e.value.pid == os.getpid()
    assert not (tmp_path / ".lock").exists()
    runlock.RunLock(tmp_path).acquire().release()  # free again


def test_a_stale_lock_is_taken_over_with_a_warning(tmp_path, capsys):
    pid = dead_pid()
    (tmp_path / ".lock").write_text(f"{pid}\n")
    with runlock.RunLock(tmp_path) as held:
        assert held.stale_pid == pid
        assert (tmp_path / ".lock").read_text() == f"{os.getpid()}\n"
    err = capsys.readouterr().err
    assert f"stale lock {tmp_path / '.lock'} of pid {pid} (no longer running)" in err


@pytest.fixture
def root(tmp_path):
    """A temporary project root (the repository's notebooks, configs and knowledge): no user's run is touched."""
    for d in ("notebooks", "configs", "data/knowledge", "data/probe", "data/redflags"):
        (tmp_path / d).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / d).symlink_to(paths.ROOT / d, target_is_directory=True)
    return tmp_path


def sigint_as_in_a_terminal():
    """A runner started from a terminal takes SIGINT (Ctrl-C); one started by a test suite that was itself started in
    the background of a script inherits SIGINT ignored. The tests press Ctrl-C as a terminal user would."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def runner(root, run: str, raw_dir, *extra) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(paths.ROOT / "src"), "MEDILLAMA_ROOT": str(root),
           "MEDILLAMA_MODELS": str(paths.MODELS)}
    return subprocess.Popen([sys.executable, "-m", "medillama", "run", "--profile", "smoke", "--run", run,
                             "--only", "01", "-p", "raw_dir", str(raw_dir), *extra], cwd=root, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=sigint_as_in_a_terminal)


def wait_for(cond, timeout: float, what: str):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def test_second_runner_exits_2_and_ctrl_c_stops_the_first_and_its_kernel(raw_dir, root):
    """Two runners on one run: the second exits 2 within 5 s naming the first's pid. SIGINT to the first while
    its kernel runs: exit 130 within 10 s, no kernel left, no lock left, no manifest written."""
    import psutil

    run_name = "locked"
    first = runner(root, run_name, raw_dir, "--force")
    lock = root / "outputs" / run_name / ".lock"
    wait_for(lock.exists, 60, "the first runner's lock")
    t = time.monotonic()
    second = runner(root, run_name, raw_dir)
    out, err = second.communicate(timeout=30)
    assert second.returncode == 2 and time.monotonic() - t < 5, (second.returncode, err)
    assert f"pid {first.pid}" in err and str(lock) in err

    proc = psutil.Process(first.pid)
    wait_for(lambda: any("ipykernel" in " ".join(c.cmdline()) for c in proc.children(recursive=True)), 120,
             "the first runner's kernel")
    kernels = proc.children(recursive=True)
    t = time.monotonic()
    first.send_signal(signal.SIGINT)
    out, err = first.communicate(timeout=30)
    assert first.returncode == 130 and time.monotonic() - t < 10, (first.returncode, err)
    gone, alive = psutil.wait_procs(kernels, timeout=1)
    assert not alive, alive
    assert "interrupted" in err and "01_ingest" in err and "summary:" in err
    assert not lock.exists() and not (root / "outputs" / run_name / "01_ingest" / "manifest.json").exists()
