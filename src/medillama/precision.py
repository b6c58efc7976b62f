"""The precision forwards run in on a CPU: bf16 autocast only where the CPU computes bf16 natively, else fp32.

``models.autocast`` (auto | bf16 | fp32) decides. ``auto`` reads the CPU flags (AMX ``amx_bf16`` or
``avx512_bf16``) and confirms with a one-second matmul probe that bf16 is not slower than fp32: without native
support bf16 is emulated and many times slower (docs/performance.md).
``bf16`` and ``fp32`` force the choice. On CUDA this key is not used: ``models.dtype`` and ``sft.fp16``/``sft.bf16``
decide there, as before.

A pipeline step resolves the choice once (``pipeline.Step``) and ``use`` makes it the process's current one, so
every forward of the step -- training (``train.make_trainer``), the eval loss, generation (``generate.HFBackend``)
-- runs in it without each notebook passing it along. A model that only generates (a trained one, step 05's) is
cast to bf16 by ``for_inference`` instead: decoding under autocast gains nothing.
"""
from __future__ import annotations

import contextlib
import functools
import time
from dataclasses import asdict, dataclass
from pathlib import Path

SETTINGS = ("auto", "bf16", "fp32")
NATIVE_BF16_FLAGS = ("amx_bf16", "avx512_bf16")


@dataclass(frozen=True)
class Precision:
    autocast: str  # "bf16" or "fp32" (no autocast)
    reason: str
    device: str = "cpu"

    @property
    def bf16(self) -> bool:
        """Whether forwards run under bf16 autocast (the bool TRL's SFTConfig takes on a CPU)."""
        return self.autocast == "bf16"

    def as_dict(self) -> dict:
        return asdict(self)

    def describe(self) -> str:
        what = "bf16 autocast" if self.bf16 else "fp32"
        return f"precision: {what} on {self.device} ({self.reason})"


def cpu_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> set[str]:
    """The CPU's feature flags (Linux); empty where /proc/cpuinfo is not readable."""
    try:
        text = cpuinfo.read_text()
    except OSError:
        return set()
    for line in text.splitlines():
        if line.startswith(("flags", "Features")):
            return set(line.split(":", 1)[1].split())
    return set()


def matmul_gflops(dtype, seconds: float = 0.4, n: int = 512) -> float:
    """GFLOP/s of an n x n matmul in ``dtype``, timed for about ``seconds``."""
    import torch

    g = torch.Generator().manual_seed(0)
    a, b = (torch.randn(n, n, generator=g).to(dtype) for _ in range(2))
    a @ b  # warm-up (kernel selection, allocation)
    count, t0 = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - t0) < seconds:
        a @ b
        count += 1
    return 2 * n ** 3 * count / elapsed / 1e9


@functools.lru_cache(maxsize=1)
def probe(rounds: int = 4, seconds: float = 0.1) -> dict:
    """fp32 and bf16 matmul throughput here: the best of ``rounds`` short timings of each, the two dtypes in turn,
    so another process's burst of work lowers a sample, not the comparison (~1 s in all, cached for the process)."""
    import torch

    best = {torch.float32: 0.0, torch.bfloat16: 0.0}
    for _ in range(rounds):
        for dtype in best:
            best[dtype] = max(best[dtype], matmul_gflops(dtype, seconds))
    return {"fp32_gflops": round(best[torch.float32], 1), "bf16_gflops": round(best[torch.bfloat16], 1)}


def choose(setting: str = "auto", device: str = "cpu", flags: set[str] | None = None,
           measure=probe) -> Precision:
    """The precision for ``setting`` on ``device``. ``flags`` (default: this CPU's) and ``measure`` (a function
    returning ``{"fp32_gflops", "bf16_gflops"}``) are parameters so the choice can be tested for any machine."""
    if setting not in SETTINGS:
        raise ValueError(f"models.autocast must be one of {', '.join(SETTINGS)}; got {setting!r}")
    if device != "cpu":
        return Precision("fp32", f"{device}: models.dtype and sft.fp16/bf16 decide", device)
    if setting != "auto":
        return Precision(setting, f"forced by models.autocast: {setting}")
    flags = cpu_flags() if flags is None else set(flags)
    native = [f for f in NATIVE_BF16_FLAGS if f in flags]
    if not native:
        return Precision("fp32", "no native bf16 on this CPU (neither amx_bf16 nor avx512_bf16 in its flags); "
                                 "emulated bf16 is many times slower than fp32")
    speed = measure()
    rates = f"matmul {speed['bf16_gflops']} GFLOP/s in bf16 vs {speed['fp32_gflops']} in fp32"
    if speed["bf16_gflops"] < speed["fp32_gflops"]:
        return Precision("fp32", f"{'+'.join(native)} in the CPU flags, but bf16 measured slower: {rates}")
    return Precision("bf16", f"native bf16 ({'+'.join(native)}), {rates}")


def for_config(cfg: dict) -> Precision:
    """The precision for a resolved config (``models.autocast`` on ``models.device``)."""
    from .models import pick_device

    return choose(cfg["models"]["autocast"], pick_device(cfg["models"]["device"]))


_current: Precision | None = None


def use(p: Precision | None) -> Precision | None:
    """Make ``p`` the process's precision (None: plain fp32 forwards); returns it."""
    global _current
    _current = p
    return p


def current() -> Precision | None:
    return _current


def bf16_enabled(device_type: str = "cpu", p: Precision | None = None) -> bool:
    """Whether a forward on ``device_type`` should run under bf16 autocast (``p``, default the current one)."""
    p = p if p is not None else _current
    return device_type == "cpu" and p is not None and p.bf16


def for_inference(model, p: Precision | None = None):
    """``model`` ready to generate in precision ``p`` (default the current one): on a CPU where bf16 was chosen,
    its weights cast to bf16 in place; else unchanged. Autocast keeps fp32 weights and casts them again for every
    matmul, which in token-by-token decoding costs what the bf16 matmul saves (no faster than fp32 on an AMX CPU),
    while bf16 weights decode about twice as fast (bench/decoding_precision.py). Only for a model that is done
    training: the cast is not undone, so save it first. A model trained with eager attention
    (``train.attn_implementation``) decodes with SDPA again: on a CPU eager is the faster kernel for short training
    batches, SDPA the faster one for decoding (docs/performance.md)."""
    import torch

    if bf16_enabled(model.device.type, p) and model.dtype == torch.float32:
        model.to(torch.bfloat16)
    if getattr(model.config, "_attn_implementation", None) == "eager" and hasattr(model, "set_attn_implementation"):
        model.set_attn_implementation("sdpa")
    return model


def autocast(device_type: str = "cpu", enabled: bool | None = None):
    """A ``torch.autocast`` context for a forward on ``device_type``: bf16 when ``enabled`` (default: the current
    precision says so), else a no-op."""
    import torch

    on = bf16_enabled(device_type) if enabled is None else enabled
    if not on:
        return contextlib.nullcontext()
    return torch.autocast(device_type, dtype=torch.bfloat16)


def trainer_autocast(args, device_type: str):
    """The autocast accelerate puts around ``model.forward`` for TrainingArguments ``args``, for a forward that
    does not go through it (the plain-loss trainer calls the decoder directly)."""
    import torch

    if args.bf16:
        return torch.autocast(device_type, dtype=torch.bfloat16)
    if args.fp16:
        return torch.autocast(device_type, dtype=torch.float16)
    return contextlib.nullcontext()
