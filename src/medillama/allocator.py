"""The C allocator's settings for torch on a Linux CPU: big tensors reuse heap memory instead of fresh pages.

glibc serves an allocation above its mmap threshold (at most 32 MiB) with fresh pages from the kernel and returns
them on free. A training step allocates and frees tensors of that size every time (the logits over the 49k
vocabulary, the embedding's gradient), so each step pays the kernel to fault in and zero them again: on the cpu
profile this was a sizeable share of a step's time (`bench/training.py`, `docs/performance.md`). With mmap off,
freed memory is reused as it is; the heap gives memory back only past 1 GiB free at its top (never trimmed, it grew
further, at no further speed). Reuse fragments the heap, so a run's peak memory grows (measured in
docs/performance.md): the settings apply only where the machine has MIN_RAM_GIB of RAM.

glibc reads these settings when a process starts, so they are set for child processes (the runner's kernels) or by
starting the process again (``reexec``). A value already in the environment is kept. ``MEDILLAMA_MALLOC=default``
keeps glibc's own behaviour (setting either value by hand is not the same: it also turns off glibc's adaptive
threshold, the slowest of the three).
"""
from __future__ import annotations

import os
import platform
import sys

SETTINGS = {"MALLOC_MMAP_MAX_": "0", "MALLOC_TRIM_THRESHOLD_": str(1 << 30)}
OPT_OUT = "MEDILLAMA_MALLOC"  # "default": leave glibc's settings alone


# The heap reused costs memory, and more the longer step 04 trains: on a 24 GB machine the shipped recipe's step 04
# came near the whole RAM with the settings when the heap was trimmed only around its checkpoint saves and validation
# passes; it is also trimmed every TRIM_STEPS steps (docs/experiments.md, row 73). Below this much RAM the settings are
# left off, so that a run that fits without them keeps its headroom.
MIN_RAM_GIB = 20


# With the settings, step 04 also trims every this many training steps (``train.heap_trim_callback``): what a step
# frees stays for the next one, while the pages that fragmentation leaves free between trims go back to the kernel.
TRIM_STEPS = 25


def ram_gib() -> float:
    """This machine's physical memory, GiB."""
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30


def glibc() -> bool:
    """Whether the C library is glibc on Linux (musl, macOS and Windows know neither the settings nor ``trim``)."""
    return sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc"


def applies() -> bool:
    """Whether to set them: glibc, enough RAM, and not opted out."""
    return glibc() and os.environ.get(OPT_OUT, "") != "default" and ram_gib() >= MIN_RAM_GIB


def active() -> bool:
    """Whether this process reuses its heap for big tensors (``MALLOC_MMAP_MAX_=0``, set for it by its parent, by
    ``reexec`` or by hand)."""
    return glibc() and os.environ.get("MALLOC_MMAP_MAX_") == SETTINGS["MALLOC_MMAP_MAX_"]


def settings() -> dict:
    """The settings the current process was started with (None where unset), for a manifest."""
    return {k: os.environ.get(k) for k in SETTINGS}


def for_children() -> dict:
    """Put the settings in this process's environment, so the processes it starts run with them; returns those set."""
    if not applies():
        return {}
    added = {k: v for k, v in SETTINGS.items() if k not in os.environ}
    os.environ.update(added)
    return added


def reexec() -> None:
    """Start this Python program again with the settings, unless it already runs with them (or they do not apply)."""
    if for_children():
        sys.stdout.flush()
        sys.stderr.flush()
        os.execv(sys.executable, [sys.executable, *sys.orig_argv[1:]])


def trim() -> bool:
    """Give the heap's free pages back to the kernel now (glibc's ``malloc_trim(0)``); False where glibc is not the C
    library. With the settings, memory freed by one step stays in the process for the next; step 04 trims around each
    checkpoint save and validation pass, where other sizes are allocated, and every ``TRIM_STEPS`` steps
    (``train.heap_trim_callback``), so that what fragmentation leaves free does not add up to the run's peak."""
    if not glibc():
        return False
    import ctypes

    ctypes.CDLL(None).malloc_trim(0)
    return True

