"""Text generation: a small backend interface, a batched HF backend, a fake for tests, and a resumable cache."""
from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Protocol

from medillama import io, precision, progress


@dataclass
class GenResult:
    text: str
    prompt_tokens: int
    completion_tokens: int
    finish_reason: str  # "stop" (EOS or a stop string) or "length" (max_new_tokens)


@dataclass
class GenStats:
    rows: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0

    @property
    def tokens_per_s(self) -> float:
        return self.completion_tokens / self.seconds if self.seconds else 0.0


class Backend(Protocol):
    name: str  # model id; part of cache keys

    def generate(self, prompts: list[str], *, max_new_tokens: int, temperature: float = 0.0,
                 seed: int = 0, stop: list[str] | None = None,
                 no_repeat_ngram_size: int = 0, urgency_bias: float = 0.0) -> list[GenResult]: ...


def cut_at_stop(text: str, stop: list[str] | None) -> tuple[str, bool]:
    """``text`` up to the earliest stop string, and whether one was found."""
    cuts = [i for i in (text.find(s) for s in stop or []) if i >= 0]
    return (text[:min(cuts)], True) if cuts else (text, False)


def longest_first(lengths: list[int]) -> list[int]:
    """Indices ordered by length, longest first (stable), so batches hold similar lengths."""
    return sorted(range(len(lengths)), key=lambda i: -lengths[i])


def batches(items: list, size: int) -> list[list]:
    return [items[i:i + size] for i in range(0, len(items), size)]


class AnswerNoRepeatNGram:
    """A logits processor that bans any token completing an n-gram the answer already holds. Unlike
    transformers' ``no_repeat_ngram_size`` it ignores the prompt, so the answer may still quote the patient;
    it stops the loops a small model falls into ("cough, malaise, cough, malaise, ...")."""

    def __init__(self, n: int, prompt_len: int):
        self.n, self.start = n, prompt_len
        self.seen: list[dict] | None = None  # per row: (n-1)-gram -> tokens that followed it

    def __call__(self, input_ids, scores):
        gen = input_ids[:, self.start:]
        length, n = gen.shape[1], self.n
        if self.seen is None:
            self.seen = [{} for _ in range(gen.shape[0])]
        if length >= n:  # called once per new token: record the n-gram that token completed
            for row, g in zip(self.seen, gen[:, length - n:].tolist()):
                row.setdefault(tuple(g[:-1]), set()).add(g[-1])
        if length >= n - 1:
            for b, (row, p) in enumerate(zip(self.seen, gen[:, length - n + 1:].tolist())):
                banned = row.get(tuple(p))
                if banned:
                    scores[b, sorted(banned)] = float("-inf")
        return scores


class CueBias:
    """Adds ``bias`` to the logit of ``token`` wherever the answer so far ends with the text ``cue``: a decision's
    operating point moved at decoding time, with no retraining (``evaluate.urgency_bias``)."""

    def __init__(self, tokenizer, cue: str, token: int, bias: float, prompt_len: int):
        self.tokenizer, self.cue, self.token, self.bias, self.start = tokenizer, cue, token, bias, prompt_len
        self.width = len(tokenizer(cue, add_special_tokens=False)["input_ids"]) + 2  # tokens the cue's text spans

    def __call__(self, input_ids, scores):
        for b, tail in enumerate(input_ids[:, self.start:][:, -self.width:].tolist()):
            if tail and self.tokenizer.decode(tail, skip_special_tokens=True).endswith(self.cue):
                scores[b, self.token] += self.bias
        return scores


def urgency_bias_processor(tokenizer, bias: float, prompt_len: int) -> CueBias:
    """``bias`` (log-odds) on the emergency advice's first token where the answer's urgency line starts: above 0, a
    message the model reads as a near emergency gets the emergency advice rather than its disease's usual level."""
    from .answer import SECTIONS
    from .knowledge import triage_advice

    token = tokenizer(" " + triage_advice("emergency"), add_special_tokens=False)["input_ids"][0]
    return CueBias(tokenizer, f"{SECTIONS[1]}:", token, bias, prompt_len)


class HFBackend:
    """Batched ``model.generate`` with left padding; greedy at temperature 0, else seeded sampling."""

    def __init__(self, model, tokenizer, batch_size: int = 32, chat: bool | None = None,
                 system: str | None = None, name: str | None = None):
        self.model, self.tokenizer, self.batch_size, self.system = model, tokenizer, batch_size, system
        self.chat = bool(tokenizer.chat_template) if chat is None else chat
        self.name = name or getattr(model, "name_or_path", "") or "hf"
        dtype = str(getattr(model, "dtype", "")).removeprefix("torch.")
        if dtype not in ("", "float32"):  # other weights, other answers: a cache must not serve fp32 ones
            self.name += f"@{dtype}"
        self.stats = GenStats()
        tokenizer.padding_side = "left"  # right padding would put pad tokens between prompt and answer
        eos = model.generation_config.eos_token_id
        self.eos_ids = set(eos if isinstance(eos, list) else [eos]) | {tokenizer.eos_token_id}

    @classmethod
    def from_name(cls, name: str, dtype: str = "float32", device: str = "auto", batch_size: int = 32,
                  chat: bool | None = None, system: str | None = None) -> "HFBackend":
        from medillama.models import load_model
        from medillama.precision import for_inference

        model, tokenizer = load_model(name, dtype=dtype, device=device)
        # a generator only generates: the current precision's inference weights (bf16 where bf16 autocast was chosen)
        return cls(for_inference(model), tokenizer, batch_size=batch_size, chat=chat, system=system, name=name)

    def encode(self, prompt: str) -> list[int]:
        if not self.chat:
            return self.tokenizer(prompt)["input_ids"]
        messages = ([{"role": "system", "content": self.system}] if self.system else [])
        messages.append({"role": "user", "content": prompt})
        text = self.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        # The template already holds the special tokens; don't let the tokenizer add a second BOS.
        return self.tokenizer(text, add_special_tokens=False)["input_ids"]

    def generate(self, prompts: list[str], *, max_new_tokens: int, temperature: float = 0.0,
                 seed: int = 0, stop: list[str] | None = None, no_repeat_ngram_size: int = 0,
                 urgency_bias: float = 0.0) -> list[GenResult]:
        ids = [self.encode(p) for p in prompts]
        order = longest_first([len(x) for x in ids])
        results: list[GenResult | None] = [None] * len(prompts)
        for b, idx in enumerate(batches(order, self.batch_size)):
            start = time.perf_counter()
            out = self.generate_batch([ids[i] for i in idx], max_new_tokens, temperature, seed + b, stop,
                                      no_repeat_ngram_size, urgency_bias)
            self.stats.seconds += time.perf_counter() - start
            for i, r in zip(idx, out):
                results[i] = r
                self.stats.rows += 1
                self.stats.completion_tokens += r.completion_tokens
            progress.tick(len(idx), sum(r.completion_tokens for r in out))  # counts into an open progress.phase
        return results

    def generate_batch(self, ids: list[list[int]], max_new_tokens: int, temperature: float,
                       seed: int, stop: list[str] | None, no_repeat_ngram_size: int = 0,
                       urgency_bias: float = 0.0) -> list[GenResult]:
        import torch
        from transformers import LogitsProcessorList

        tok = self.tokenizer
        enc = tok.pad({"input_ids": ids}, padding=True, return_tensors="pt").to(self.model.device)
        # use_cache: a model fresh from training may carry use_cache=False, which makes decoding quadratic
        kwargs = dict(max_new_tokens=max_new_tokens, pad_token_id=tok.pad_token_id, do_sample=temperature > 0,
                      use_cache=True)
        if temperature > 0:
            kwargs.update(temperature=temperature, top_k=0, top_p=1.0)  # plain temperature sampling
            torch.manual_seed(seed)
        if stop:
            kwargs.update(stop_strings=stop, tokenizer=tok)  # lets finished rows stop the batch early
        prompt_len, processors = enc["input_ids"].shape[1], LogitsProcessorList()
        if no_repeat_ngram_size:
            processors.append(AnswerNoRepeatNGram(no_repeat_ngram_size, prompt_len))
        if urgency_bias:
            processors.append(urgency_bias_processor(tok, urgency_bias, prompt_len))
        if processors:
            kwargs["logits_processor"] = processors
        # bf16 autocast where the step's precision says so (precision.py; a CPU with native bf16)
        with torch.inference_mode(), precision.autocast(self.model.device.type):
            out = self.model.generate(**enc, **kwargs)
        new = out[:, enc["input_ids"].shape[1]:].tolist()
        return [self.result(len(p), row, max_new_tokens, stop) for p, row in zip(ids, new)]

    def result(self, prompt_tokens: int, row: list[int], max_new_tokens: int, stop) -> GenResult:
        # Finished rows are filled with pad; count generated tokens up to and including EOS.
        n = next((k + 1 for k, t in enumerate(row) if t in self.eos_ids), None)
        hit_eos = n is not None
        if n is None:
            n = len(row)
            while n and row[n - 1] == self.tokenizer.pad_token_id:
                n -= 1
        text, hit_stop = cut_at_stop(self.tokenizer.decode(row[:n], skip_special_tokens=True), stop)
        reason = "stop" if hit_eos or hit_stop else "length"
        return GenResult(text, prompt_tokens, n, reason)


class FakeBackend:
    """Deterministic stand-in: ``fn(prompt)`` or a hash-derived echo; tokens are whitespace words."""

    def __init__(self, fn: Callable[[str], str] | None = None, name: str = "fake"):
        self.fn, self.name = fn, name
        self.calls = 0  # generate() calls, for cache tests
        self.stats = GenStats()

    def text(self, prompt: str, temperature: float, seed: int) -> str:
        if self.fn is not None:
            return self.fn(prompt)
        salt = f"{seed}:" if temperature > 0 else ""
        digest = hashlib.sha256((salt + prompt).encode()).hexdigest()[:8]
        return f"[{digest}] " + " ".join(prompt.split()[:8])

    def generate(self, prompts: list[str], *, max_new_tokens: int, temperature: float = 0.0,
                 seed: int = 0, stop: list[str] | None = None, no_repeat_ngram_size: int = 0,
                 urgency_bias: float = 0.0) -> list[GenResult]:
        self.calls += 1  # no_repeat_ngram_size, urgency_bias: accepted, not applied (the fake has no logits)
        out = []
        for p in prompts:
            text, hit_stop = cut_at_stop(self.text(p, temperature, seed), stop)
            words = text.split()
            reason = "length" if len(words) > max_new_tokens else "stop"
            if len(words) > max_new_tokens:
                text = " ".join(words[:max_new_tokens])
            out.append(GenResult(text, len(p.split()), min(len(words), max_new_tokens), reason))
        self.stats.rows += len(out)
        self.stats.completion_tokens += sum(r.completion_tokens for r in out)
        return out


def estimate(task: str, rows: int, max_new_tokens: int | None, batch_rows: int, seconds: float,
             tokens: int) -> float:
    """Print and record the time ``rows`` generations will take here, from the first batch (``batch_rows`` rows,
    ``tokens`` new tokens in ``seconds``): the tokens to generate (that batch's tokens per row) / its tokens/s.
    Batches go longest prompt first, so the first is the slowest per row: an upper estimate."""
    per_row = tokens / batch_rows if batch_rows else 0.0
    rate = tokens / seconds if seconds else 0.0
    est = rows * per_row / rate if rate else 0.0
    budget = f" (at most {rows * max_new_tokens:,})" if max_new_tokens else ""
    progress.note(f"estimate for {task}: {rows} rows x ~{per_row:.0f} new tokens{budget} / {rate:.1f} tok/s "
                  f"(first batch) = ~{progress.duration(est)} on this machine")
    progress.timing(task, estimate_s=est, rows_to_generate=rows, first_batch_tokens_per_s=rate)
    return est


class CachedGenerator:
    """Generates in batches, caching each batch as JSON, so an interrupted run resumes where it stopped."""

    def __init__(self, backend: Backend, cache_dir, batch_size: int = 64, progress: bool = True):
        self.backend, self.cache_dir = backend, Path(cache_dir)
        self.batch_size, self.progress = batch_size, progress
        self.last_run_stats: dict = {}

    def key(self, task_name: str, template_hash: str, prompts: list[str], gen_params: dict) -> str:
        return io.text_hash([self.backend.name, task_name, template_hash, prompts, gen_params])

    def load(self, path: Path, prompts: list[str]) -> tuple[list[GenResult], float | None] | None:
        """A cached batch and the seconds its generation took (None in a cache written before they were
        recorded), or None when missing or unreadable (then it is regenerated)."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            results = [GenResult(**r) for r in data["results"]]
        except (OSError, ValueError, KeyError, TypeError):
            return None
        if data.get("prompts") != prompts or len(results) != len(prompts):
            return None
        return results, data.get("seconds")

    def run(self, task_name: str, template_hash: str, prompts: list[str], gen_params: dict) -> list[GenResult]:
        order = longest_first([len(p) for p in prompts])  # characters: a tokenizer-free proxy
        groups = batches(order, self.batch_size)
        every = math.ceil(len(groups) / 20) or 1
        results: list[GenResult | None] = [None] * len(prompts)
        # seconds: generating here, this call; generation_seconds: what generating every batch took when it was
        # generated (recorded in the cache), the same on a re-run from the cache; None where a batch lacks it
        st = dict(rows=len(prompts), batches=len(groups), cached_batches=0, completion_tokens=0, seconds=0.0,
                  generation_seconds=0.0)
        done = generated = 0
        plan = []  # (indices, prompts, key, cache path, (cached results, their seconds) or None)
        for idx in groups:
            batch = [prompts[i] for i in idx]
            key = self.key(task_name, template_hash, batch, gen_params)
            path = self.cache_dir / task_name / f"{key}.json"
            plan.append((idx, batch, key, path, self.load(path, batch)))
        todo = sum(len(p[0]) for p in plan if p[4] is None)  # rows to generate
        progress.update(task_name, 0, len(prompts), info=f"{todo} to generate")
        for b, (idx, batch, key, path, cached) in enumerate(plan):
            if cached is None:
                # Seed from the key: a batch's samples depend only on its content, not its position.
                params = {**gen_params, "seed": int(key[:8], 16)}
                start = time.perf_counter()
                out = self.backend.generate(batch, **params)
                took = time.perf_counter() - start
                st["seconds"] += took
                st["completion_tokens"] += sum(r.completion_tokens for r in out)
                io.write_json(path, {"key": key, "prompts": batch, "results": [dataclasses.asdict(r) for r in out],
                                     "seconds": took})
                generated += len(idx)
                if generated == len(idx):  # the first batch generated: the measured rate for the estimate
                    estimate(task_name, todo, gen_params.get("max_new_tokens"), len(idx), st["seconds"],
                             st["completion_tokens"])
            else:
                out, took = cached
                st["cached_batches"] += 1
            if st["generation_seconds"] is not None:
                st["generation_seconds"] = None if took is None else st["generation_seconds"] + took
            for i, r in zip(idx, out):
                results[i] = r
            done += len(idx)
            tps = st["completion_tokens"] / st["seconds"] if st["seconds"] else None
            progress.update(task_name, done, len(prompts), rate=tps, rate_unit="tok/s",
                            eta_s=progress.eta(generated, todo, st["seconds"]))
            if self.progress and ((b + 1) % every == 0 or b + 1 == len(groups)):
                tps = st["completion_tokens"] / st["seconds"] if st["seconds"] else 0.0
                print(f"{task_name}: {done}/{len(prompts)} rows, {st['completion_tokens']} new tokens, "
                      f"{tps:.1f} tok/s, cached {st['cached_batches']}", flush=True)
        st["tokens_per_s"] = st["completion_tokens"] / st["seconds"] if st["seconds"] else 0.0
        if generated:
            progress.timing(task_name, actual_s=st["seconds"], rows_generated=generated)
        self.last_run_stats = st
        return results
