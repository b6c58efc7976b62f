"""How close training comes to this machine's matmul peak: the FLOPs a training step must do for the tokens it
trained on, and the peak of a large matmul in the precision the training's matmuls run in, sampled while it runs.

Step 04 records the share for its whole training (``peak_sampler`` and ``summary``); ``bench/training.py`` the same
for a few steps, one change at a time. A small VM's matmul speed drifts by a third within minutes, so the peak is
sampled before, during (every ``every`` steps) and after training, and the share is taken against their median: the
machine as fast as it was while training. Sampling time is left out of the training time.
"""
from __future__ import annotations

import statistics
import time

PEAK_N = 2048  # the matmul's side: large enough that a CPU's kernels run at their best
PEAK_SECONDS = 0.3  # per sample, after a warm-up
TARGET_SHARE = 0.6  # of the matmul peak in the training's precision: the target


def matmul_peak(dtype: str = "float32", seconds: float = PEAK_SECONDS, n: int = PEAK_N) -> float:
    """FLOP/s of an n x n matmul in ``dtype`` ("float32" or "bfloat16"), timed for about ``seconds``."""
    import torch

    from medillama import precision

    return precision.matmul_gflops(getattr(torch, dtype), seconds=seconds, n=n) * 1e9


def attention_flops(model, pairs: int) -> int:
    """Attention scores and values for ``pairs`` (the sum over rows of length x (length + 1): causal query-key pairs,
    twice): 4 x hidden size per pair forward, x3 with the backward; padding not counted."""
    c = model.config
    return 3 * 4 * c.num_hidden_layers * c.hidden_size * pairs // 2


def training_flops(model, tokens: int, labelled: int, pairs: int) -> int:
    """FLOPs that training ``model`` on ``tokens`` real (not padding) tokens must do at least, ``labelled`` of them
    with a label and ``pairs`` as ``attention_flops`` takes them.

    A trained weight costs 6 per token (forward 2, activation and weight gradients 4), a frozen one 4 (no weight
    gradient): every weight trained, 6 x parameters; LoRA, 4 x the frozen model + 6 x the adapters. The LM head
    counts on labelled tokens only: both trainers project only those onto the vocabulary (the plain loss, and TRL's
    fused head). An input embedding not tied to the head is a lookup, no matmul, and is not counted."""
    head = model.get_output_embeddings().weight
    lookup = model.get_input_embeddings().weight
    flops = (6 if head.requires_grad else 4) * head.numel() * labelled + attention_flops(model, pairs)
    for p in model.parameters():
        if p is not head and p is not lookup:
            flops += (6 if p.requires_grad else 4) * p.numel() * tokens
    return flops


def peak_sampler(dtype: str, every: int = 100):
    """A ``TrainerCallback`` that samples ``matmul_peak(dtype)`` when training begins, every ``every`` steps (0:
    never) and when it ends: ``.peaks`` (FLOP/s), ``.seconds`` (the time the samples took) and ``.eval_seconds``
    (the validation passes inside training, whose forwards the training's FLOPs do not count); ``.train_seconds``
    the samples taken inside ``train()``'s runtime (all but the last: transformers times the run before
    ``on_train_end``)."""
    from transformers import TrainerCallback

    class PeakSampler(TrainerCallback):
        def __init__(self):
            self.dtype, self.peaks, self.seconds, self.eval_seconds, self.train_seconds = dtype, [], 0.0, 0.0, 0.0

        def sample(self):
            t = time.perf_counter()
            self.peaks.append(matmul_peak(dtype))
            self.seconds += time.perf_counter() - t

        def on_train_begin(self, args, state, control, **kw):
            self.sample()

        def on_step_end(self, args, state, control, **kw):
            if every and state.global_step % every == 0:
                self.sample()

        def on_evaluate(self, args, state, control, metrics=None, **kw):
            self.eval_seconds += (metrics or {}).get("eval_runtime", 0.0)

        def on_train_end(self, args, state, control, **kw):
            self.train_seconds = self.seconds
            self.sample()

    return PeakSampler()


def summary(trainer, runtime_s: float) -> dict:
    """What the trainer's training in this process achieved (``runtime_s``: ``train()``'s runtime): GFLOP/s from
    the tokens its steps were given (``tokens_seen``, ``labelled_seen``, ``pairs_seen``) over the runtime less the
    peak samples and validation passes, and its share of the median matmul peak sampled while it trained (its
    ``peak_sampler``; none on a GPU: {})."""
    sampler = getattr(trainer, "peak_sampler", None)
    if sampler is None or not sampler.peaks:
        return {}
    flops = training_flops(trainer.model, trainer.tokens_seen, trainer.labelled_seen, trainer.pairs_seen)
    seconds = max(runtime_s - sampler.train_seconds - sampler.eval_seconds, 1e-9)
    peak = statistics.median(sampler.peaks)
    return {"train_gflops": round(flops / seconds / 1e9, 1), "matmul_peak_gflops": round(peak / 1e9, 1),
            "matmul_peak_dtype": sampler.dtype, "share_of_matmul_peak": round(flops / seconds / peak, 4)}
