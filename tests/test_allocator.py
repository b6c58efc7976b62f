"""allocator.py: the glibc settings reach the processes that run torch, and a user's own value is kept."""
import os
import platform
import subprocess
import sys

from medillama import allocator

SHOW = "import os; print(os.getpid(), os.environ.get('MALLOC_MMAP_MAX_'), os.environ.get('MALLOC_TRIM_THRESHOLD_'))"


def clean_env(**extra):
    env = {k: v for k, v in os.environ.items() if k not in allocator.SETTINGS and k != allocator.OPT_OUT}
    return {**env, **extra}


def test_for_children_sets_what_is_missing_and_keeps_what_a_user_set(monkeypatch):
    monkeypatch.setattr(allocator, "applies", lambda: True)
    for k in allocator.SETTINGS:
        monkeypatch.delenv(k, raising=False)
    monkeypatch.setenv("MALLOC_MMAP_MAX_", "65536")  # a value the user set
    assert allocator.for_children() == {"MALLOC_TRIM_THRESHOLD_": allocator.SETTINGS["MALLOC_TRIM_THRESHOLD_"]}
    assert os.environ["MALLOC_MMAP_MAX_"] == "65536"
    assert allocator.for_children() == {}  # nothing left to set: a second call (or a re-executed process) is a no-op
    monkeypatch.setattr(allocator, "applies", lambda: False)
    monkeypatch.delenv("MALLOC_TRIM_THRESHOLD_")
    assert allocator.for_children() == {} and "MALLOC_TRIM_THRESHOLD_" not in os.environ


def test_opting_out_or_a_small_machine_keeps_glibc_defaults(monkeypatch):
    monkeypatch.setenv(allocator.OPT_OUT, "default")
    assert not allocator.applies()
    monkeypatch.setenv(allocator.OPT_OUT, "")
    glibc = sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc"
    monkeypatch.setattr(allocator, "ram_gib", lambda: allocator.MIN_RAM_GIB)
    assert allocator.applies() == glibc
    monkeypatch.setattr(allocator, "ram_gib", lambda: 16.0)  # a laptop: the peak memory the settings add matters more
    assert not allocator.applies()
    monkeypatch.setattr(allocator, "ram_gib", lambda: 23.5)  # the developers' VMs: with the heap trimmed every
    assert allocator.applies() == glibc                      # TRIM_STEPS steps, step 04 stays well inside their RAM


def test_trim_gives_the_freed_heap_back():
    """With the settings, 400 MB freed stays in the process (the next step reuses it); ``trim`` returns it."""
    code = ("import os; from medillama import allocator\n"
            "rss = lambda: int(open('/proc/self/statm').read().split()[1]) * os.sysconf('SC_PAGE_SIZE') >> 20\n"
            "block = bytearray(400 << 20); held = rss(); del block; freed = rss()\n"
            "print(held, freed, allocator.trim(), rss())")
    if not allocator.glibc():
        assert not allocator.trim()
        return
    res = subprocess.run([sys.executable, "-c", code], env=clean_env(**allocator.SETTINGS), capture_output=True,
                         text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    held, freed, trimmed, after = res.stdout.split()
    assert int(freed) > int(held) - 50 and trimmed == "True" and int(after) < int(held) - 350


def test_reexec_restarts_the_program_once_with_the_settings_in_the_same_process_id():
    code = f"from medillama import allocator; {SHOW}; allocator.reexec(); {SHOW}"
    res = subprocess.run([sys.executable, "-c", code], env=clean_env(), capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    lines = res.stdout.split("\n")[:-1]
    if allocator.applies():  # unset, then the program starts again (exec: the same pid) with them, and goes on
        pid, on = lines[0].split()[0], f"0 {allocator.SETTINGS['MALLOC_TRIM_THRESHOLD_']}"
        assert lines == [f"{pid} None None", f"{pid} {on}", f"{pid} {on}"]
    else:
        assert len(lines) == 2 and lines[0] == lines[1]


def test_the_command_line_runs_with_the_settings_and_a_user_value_wins():
    # `python -m medillama --help`, printing the setting before the module runs: once as started, once re-executed
    code = ("import os, runpy, sys; sys.argv[1:] = ['--help']; print(os.environ.get('MALLOC_MMAP_MAX_'), flush=True); "
            "runpy.run_module('medillama', run_name='__main__')")
    for env, want in ((clean_env(), "0"), (clean_env(MALLOC_MMAP_MAX_="65536"), "65536")):
        res = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
        assert res.returncode == 0, res.stderr
        *before, usage = res.stdout.splitlines()
        assert usage.startswith("usage: medillama")
        assert before[-1] == (want if allocator.applies() else env.get("MALLOC_MMAP_MAX_", "None")), res.stdout
