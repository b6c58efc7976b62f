"""How close training comes to this machine's matmul peak: the FLOPs a training step must do for the tokens it
trained on, and the peak of a large matmul in the precision the training's matmuls run in, sampled while it runs.

Step 04 records the share for its whole training (``PeakSampler`` and ``summary``); ``bench/training.py`` the same
for a few steps, one change at a time. A small VM's matmul speed drifts by a third within minutes, so the peak is
sampled before, during (every ``every`` steps) and after training, and the share is taken against their median: the
machine as fast as it was while training. Sampling time is left out of the training time.
"""
from __future__ import annotations

import statistics
import time

PEAK_N = 2048  # the matmul's side: large enough that a CPU's kernels run at their best
PEAK_SECONDS = 0.3  # per sample, after a warm-up


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


def training_flops(model, tokens: int, labelled: int, pairs: int, *, trainable: int, head_on_labelled: bool) -> int:
    """FLOPs that training ``model`` (with ``trainable`` of its parameters trained) on ``tokens`` real (not padding)
    tokens must do at least, ``labelled`` of them with a label and ``pairs`` as ``attention_flops`` takes them.

    A trained parameter costs 6 per token (forward 2, activation and weight gradients 4), a frozen one 4 (no weight
    gradient): every weight trained, 6 x parameters; LoRA, 4 x the frozen model + 6 x the adapters. The LM head
    counts only on labelled tokens where the loss projects only those (``head_on_labelled``: the plain-loss
    trainer). An input embedding not tied to the head is a lookup, no matmul, and is not counted."""
    n = sum(p.numel() for p in model.parameters())
    full = trainable >= n
    head = model.get_output_embeddings().weight
    embedding = model.get_input_embeddings().weight
    n -= head.numel() + (0 if embedding is head else embedding.numel())
    head_tokens = labelled if head_on_labelled else tokens
    if full:
        return 6 * n * tokens + 6 * head.numel() * head_tokens + attention_flops(model, pairs)
    return (4 * (n - trainable) * tokens + 4 * head.numel() * head_tokens + 6 * trainable * tokens
            + attention_flops(model, pairs))


def peak_sampler(dtype: str, every: int = 100):
    """A ``TrainerCallback`` that samples ``matmul_peak(dtype)`` when training begins, every ``every`` steps (0:
    never) and when it ends: ``.peaks`` (FLOP/s), ``.seconds`` (the time the samples took) and ``.eval_seconds``
    (the validation passes inside training, whose forwards the training's FLOPs do not count)."""
    from transformers import TrainerCallback

    class PeakSampler(TrainerCallback):
        def __init__(self):
            self.dtype, self.peaks, self.seconds, self.eval_seconds = dtype, [], 0.0, 0.0

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
    model = trainer.model
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    flops = training_flops(model, trainer.tokens_seen, trainer.labelled_seen, trainer.pairs_seen,
                           trainable=trainable, head_on_labelled=trainer.plain_loss)
    seconds = max(runtime_s - sampler.seconds - sampler.eval_seconds, 1e-9)
    peak = statistics.median(sampler.peaks)
    return {"train_gflops": round(flops / seconds / 1e9, 1), "matmul_peak_gflops": round(peak / 1e9, 1),
            "matmul_peak_dtype": sampler.dtype, "share_of_matmul_peak": round(flops / seconds / peak, 4)}
