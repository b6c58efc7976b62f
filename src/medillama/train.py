"""Step 04: supervised fine-tuning with TRL's SFTTrainer on prompt/completion pairs, LoRA (``train.use_peft``) or
every weight: the trainer, its loss, checkpoints and the saved adapter or model. The rows it trains on come from ``training_data``.

The loss is on the completion only (prompt tokens labelled -100); a full answer's completion ends with EOS, so the
model learns the five-section answer *and* to stop. Config keys in the ``sft`` and ``lora`` sections are passed
straight to ``SFTConfig`` and ``LoraConfig``.
"""
from __future__ import annotations

import dataclasses
import functools
import json
from pathlib import Path

from . import allocator, precision, progress, throughput
from .config import check_choice
from .training_data import DECISION_LINES, WHOLE_ANSWER_KINDS


def check_sft_fields(sft: dict, lora: dict) -> None:
    """Fail early, with the valid names, on a key SFTConfig or LoraConfig would not accept."""
    from peft import LoraConfig
    from trl import SFTConfig

    for cls, d in ((SFTConfig, sft), (LoraConfig, lora)):
        valid = {f.name for f in dataclasses.fields(cls)}
        bad = sorted(set(d) - valid)
        if bad:
            raise ValueError(f"{cls.__name__} has no field(s) {bad}; see its documentation for valid names")


@functools.lru_cache(maxsize=4)
def newline_token_ids(tokenizer) -> tuple[int, ...]:
    """Ids of every vocabulary token whose text holds a newline (tokenizers merge '\\n' into other pieces).
    A scan of the whole vocabulary, so computed once per tokenizer."""
    vocab = tokenizer.get_vocab()
    return tuple(sorted(i for t, i in vocab.items() if "\n" in tokenizer.convert_tokens_to_string([t])))


def decision_mask(labels, newline_ids):
    """True on each row's decision lines ('Likely condition', 'See a doctor'): the labelled tokens up to and
    including the DECISION_LINES-th one that holds a newline. ``labels`` are already shifted (predicted
    positions)."""
    import torch

    labelled = labels != -100
    is_nl = torch.isin(labels, torch.as_tensor(newline_ids, device=labels.device)) & labelled
    # newlines seen strictly before each position; the decision lines are where fewer than DECISION_LINES were
    before = torch.cumsum(is_nl.int(), dim=1) - is_nl.int()
    return labelled & (before < DECISION_LINES)


class RowWeightCollator:
    """TRL's collator for the rows, with each row's ``loss_weight`` (1 where a row has none) as a tensor beside."""

    def __init__(self, inner):
        self.inner = inner

    def __call__(self, examples):
        import torch

        weights = torch.tensor([float(e.get("loss_weight", 1.0)) for e in examples])
        batch = self.inner([{k: v for k, v in e.items() if k != "loss_weight"} for e in examples])
        return {**batch, "loss_weight": weights}


class AnswersFirstSampler:
    """The trainer's own sampler (random, or grouped by length), with the rows of ``first`` (indices) taken ahead of
    the others, each part in the order the inner sampler drew it: a curriculum, whole answers first, then the decision
    and drill rows (``train.curriculum: answers_first``). The inner draw is made under ``seed`` + the epoch, so a
    resumed run skips the batches of the same order."""

    def __init__(self, inner, first, seed: int):
        self.inner, self.first, self.seed, self.epoch = inner, frozenset(first), seed, 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __iter__(self):
        import torch

        with torch.random.fork_rng():
            torch.manual_seed(self.seed + self.epoch)
            order = list(self.inner)
        yield from (i for i in order if i in self.first)
        yield from (i for i in order if i not in self.first)

    def __len__(self):
        return len(self.inner)


def trainer_class(fused_lm_head: bool, decision_weight: float, row_weights: bool = False):
    """TRL's SFTTrainer counting the tokens each step trains on, or a subclass of it with a plain cross-entropy
    loss on the labelled positions' logits (in training the prompt positions skip the LM head). The subclass is
    used when the decision lines are up-weighted (a few tokens among ~190 the loss averages over), when rows carry
    a ``loss_weight`` (``row_weights``: each row's tokens count that many times in the batch's sum), or when the
    fused LM head is switched off: its chunked log-probs are slower than plain cross-entropy on a CPU
    (bench/training.py measures both), while on a GPU they save the memory of the full logits."""
    import torch
    from trl import SFTTrainer

    class CountingSFTTrainer(SFTTrainer):
        """Counts the tokens each training step was given (``tokens_seen``), for honest tokens/s and ETA, with
        those of them labelled and causal attention's query-key pairs (``throughput.summary``)."""
        tokens_seen = labelled_seen = pairs_seen = 0
        compile_how = "none"  # train.compile: compile_layers around train()
        first_rows = None  # indices trained before the rest (AnswersFirstSampler); None: the sampler's order

        def _get_train_sampler(self, train_dataset=None):
            inner = super()._get_train_sampler(train_dataset)
            if not self.first_rows or inner is None:
                return inner
            return AnswersFirstSampler(inner, self.first_rows, self.args.data_seed or self.args.seed)

        def train(self, *args, **kwargs):
            import contextlib

            # counted per call: a cell re-run after Ctrl-C reports its own steps over its own runtime
            self.tokens_seen = self.labelled_seen = self.pairs_seen = 0
            layers = compile_layers(self.model, self.compile_how)
            # while compiled, a graph inductor cannot build runs eagerly rather than failing the run
            scope = torch._dynamo.config.patch(suppress_errors=True) if layers else contextlib.nullcontext()
            try:
                with scope:
                    return super().train(*args, **kwargs)
            finally:  # generation after training decodes eagerly (a KV cache per token: no graph to reuse)
                for layer in layers:
                    layer._compiled_call_impl = None  # what nn.Module.compile set

        def training_step(self, model, inputs, num_items_in_batch=None):
            ids, mask = inputs["input_ids"], inputs.get("attention_mask")
            lengths = mask.sum(dim=1) if mask is not None else torch.full((len(ids),), ids.shape[1])
            self.tokens_seen += int(lengths.sum())
            self.pairs_seen += int((lengths * (lengths + 1)).sum())
            if inputs.get("labels") is not None:
                self.labelled_seen += int((inputs["labels"][:, 1:] != -100).sum())
            return super().training_step(model, inputs, num_items_in_batch)

    if fused_lm_head and decision_weight == 1.0 and not row_weights:
        return CountingSFTTrainer

    class PlainLossSFTTrainer(CountingSFTTrainer):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            if row_weights:
                self.data_collator = RowWeightCollator(self.data_collator)

        def _set_signature_columns_if_needed(self):
            super()._set_signature_columns_if_needed()
            if row_weights and "loss_weight" not in self._signature_columns:
                self._signature_columns = [*self._signature_columns, "loss_weight"]

        def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
            import torch.nn.functional as F

            inputs = {**inputs, "use_cache": False}
            labels = inputs.pop("labels")
            row_weight = inputs.pop("loss_weight", None)
            target = labels[:, 1:]
            keep = target != -100
            lm = model.get_base_model() if hasattr(model, "get_base_model") else model
            if return_outputs or getattr(lm.config, "final_logit_softcapping", None):
                outputs = model(**inputs)
                logits, target_kept = outputs.logits[:, :-1][keep], target[keep]
            else:
                # The LM head only where a label is: prompt positions (a quarter of an answer row, nine tenths
                # of a decision row) never reach the 49k-wide vocabulary projection.
                # called directly, the decoder misses the autocast accelerate wraps around model.forward
                with precision.trainer_autocast(self.args, labels.device.type):
                    hidden = lm.get_decoder()(**inputs).last_hidden_state
                    logits, target_kept = lm.get_output_embeddings()(hidden[:, :-1][keep]), target[keep]
            per_token = F.cross_entropy(logits.float(), target_kept, reduction="none")
            labelled = keep.sum()
            n = torch.as_tensor(num_items_in_batch if num_items_in_batch is not None else labelled,
                                device=per_token.device).clamp(min=1)
            if model.training and (decision_weight != 1.0 or row_weight is not None):
                # The decision lines' weight as a weighted mean, so a batch of short decision rows weighs no more
                # than a batch of answers (a plain sum would give it decision_weight times the gradient and starve
                # the answer body); scaled by the micro-batch's share of labelled tokens when gradients accumulate.
                # A row's weight multiplies its tokens in the sum only: as if the row were in the batch that often.
                w = torch.ones_like(per_token)
                if decision_weight != 1.0:
                    first = decision_mask(target, newline_token_ids(self.processing_class))[keep]
                    w = 1.0 + (decision_weight - 1.0) * first
                rows = row_weight.to(per_token.device)[:, None].expand_as(target)[keep] if row_weight is not None else 1.0
                loss = (per_token * w * rows).sum() / w.sum().clamp(min=1) * (labelled / n)
            else:
                loss = per_token.sum() / n
            return (loss, outputs) if return_outputs else loss

    return PlainLossSFTTrainer


def compile_layers(model, how: str) -> list:
    """``train.compile``: ``layers`` compiles each decoder layer of ``model`` for training (torch.compile with
    inductor: the norms, activations, casts and residual adds between the matmuls fused into a few kernels; one graph
    with dynamic shapes, reused by every layer; the state dict unchanged); ``none`` leaves it eager. Returns the layers
    compiled. Inductor builds its CPU kernels with a C++ compiler: where none is found the model trains eagerly, and a
    graph inductor cannot build runs eagerly (dynamo's suppress_errors, set while ``train()`` runs). Numbers are not
    bit-identical to eager: the fused kernels round differently."""
    if check_choice("train.compile", how) == "none":
        return []
    import torch

    try:
        from torch._inductor.cpp_builder import get_cpp_compiler

        compiler = get_cpp_compiler()
    except Exception as e:  # noqa: BLE001  (inductor raises its own errors for a missing compiler)
        print(f"train.compile: layers, but inductor finds no C++ compiler ({e}); training eagerly (install g++ "
              f"or set train.compile: none)")
        return []
    layers = [m for m in model.modules() if type(m).__name__.endswith("DecoderLayer")]
    for layer in layers:
        layer.compile(dynamic=True)
    print(f"train.compile: {len(layers)} decoder layers compiled for training (inductor, {compiler})")
    return layers


def make_trainer(model, tokenizer, train_ds, eval_ds, sft: dict, lora: dict, out_dir: Path,
                 early_stopping_patience: int = 0, fused_lm_head: bool = True, decision_weight: float = 1.0,
                 use_peft: bool = True, embedding_lr_scale: float = 1.0, curriculum: str = "none",
                 compile_how: str = "none", peak_every: int = 100):
    """The SFT trainer: a LoRA adapter from ``lora`` (``use_peft``), else every weight of the model is trained (the
    ``lora`` section unused), the token embedding matrix at ``embedding_lr_scale`` times the learning rate.
    ``decision_weight`` > 1 weights the loss of the decision lines that much more in training, as a weighted mean
    over the batch's tokens (the eval loss stays the plain mean NLL, so runs stay comparable); a ``loss_weight``
    column in ``train_ds`` (``training_data.to_prompt_completion``) weights each row's tokens in training.
    ``curriculum``: ``none`` (rows in the sampler's order) or ``answers_first`` (every whole answer before the
    decision and drill rows, by the ``kind`` column). ``compile_how``: ``compile_layers`` while ``train()`` runs.
    Training on a CPU samples its matmul peak when it begins, every ``peak_every`` steps and when it ends
    (``trainer.peak_sampler``, for ``throughput.summary``)."""
    from peft import LoraConfig
    from transformers import EarlyStoppingCallback
    from trl import SFTConfig

    import torch

    check_sft_fields(sft, lora)
    cuda = torch.cuda.is_available()
    sft = {"dataloader_pin_memory": cuda, "use_cpu": not cuda, **sft}  # use_cpu: bf16 autocast on CPU
    sft["neftune_noise_alpha"] = sft.get("neftune_noise_alpha") or None  # 0 in the config: off (TrainingArguments: None)
    if not cuda and precision.current() is not None:  # on a CPU the step's precision (models.autocast) decides
        sft["bf16"] = precision.current().bf16
    args = SFTConfig(output_dir=str(out_dir), eos_token=tokenizer.eos_token, completion_only_loss=True,
                     report_to="none", disable_tqdm=True, **sft)
    callbacks = [EarlyStoppingCallback(early_stopping_patience)] if early_stopping_patience > 0 else []
    cls = trainer_class(fused_lm_head, decision_weight, "loss_weight" in train_ds.column_names)
    trainer = cls(model=model, args=args, train_dataset=train_ds, eval_dataset=eval_ds, processing_class=tokenizer,
                  peft_config=LoraConfig(**lora) if use_peft else None, callbacks=callbacks)
    if curriculum == "answers_first":
        if args.train_sampling_strategy not in ("random", "group_by_length"):
            raise ValueError(f"train.curriculum answers_first orders rows, not batches: sft.train_sampling_strategy "
                             f"{args.train_sampling_strategy!r} cannot be used with it (random or group_by_length)")
        trainer.first_rows = frozenset(i for i, k in enumerate(train_ds["kind"]) if k in WHOLE_ANSWER_KINDS)
    else:
        check_choice("train.curriculum", curriculum)
    trainer.compile_how = check_choice("train.compile", compile_how)
    if embedding_lr_scale != 1.0:
        scale_embedding_lr(trainer, embedding_lr_scale)
    per_step = (train_tokens(trainer) / max(len(trainer.train_dataset), 1) * args.per_device_train_batch_size
                * args.gradient_accumulation_steps)
    # live progress and the estimate (progress.py), from the tokens the steps actually trained on
    trainer.add_callback(progress.training_callback(per_step, lambda: trainer.tokens_seen))
    trainer.add_callback(heap_trim_callback())
    if args.device.type == "cpu":  # the share of this CPU's matmul peak the training reaches (throughput.summary)
        dtype = "bfloat16" if precision.bf16_enabled() else "float32"
        trainer.peak_sampler = throughput.peak_sampler(dtype, peak_every)
        trainer.add_callback(trainer.peak_sampler)
    return trainer


def heap_trim_callback():
    """A ``TrainerCallback`` that trims the heap (``allocator.trim``) before (with step-based saving and evaluation)
    and after each checkpoint save and validation pass, at the end of training, and, where the process runs with the
    heap settings (``allocator.active``), every ``allocator.TRIM_STEPS`` steps."""
    from transformers import TrainerCallback

    every = allocator.TRIM_STEPS if allocator.active() else 0

    class HeapTrim(TrainerCallback):
        def on_step_end(self, args, state, control, **kw):
            if control.should_save or control.should_evaluate or (every and state.global_step % every == 0):
                allocator.trim()

        def on_save(self, args, state, control, **kw):
            allocator.trim()

        def on_evaluate(self, args, state, control, **kw):
            allocator.trim()

        def on_train_end(self, args, state, control, **kw):
            allocator.trim()

    return HeapTrim()


def scale_embedding_lr(trainer, scale: float) -> None:
    """The trainer's optimizer, built now, with the token embedding matrix (tied to the LM head where the model ties
    them) in a group of its own at ``scale`` times its group's learning rate; the scheduler, built later by
    ``train()``, keeps the ratio. A frozen matrix (LoRA) is in no group: nothing changes."""
    opt = trainer.create_optimizer()
    emb = trainer.model.get_input_embeddings().weight
    for group in list(opt.param_groups):
        if any(p is emb for p in group["params"]):
            group["params"] = [p for p in group["params"] if p is not emb]
            if not group["params"]:
                opt.param_groups.remove(group)
            opt.add_param_group({**{k: v for k, v in group.items() if k != "params"}, "params": [emb],
                                 "lr": group["lr"] * scale})
            return


def masking_report(trainer, n: int = 4) -> dict:
    """Collate the first ``n`` training rows of each kind the way training does and check the labels: prompt
    tokens are -100, the completion is labelled from its first token, and the last label is EOS for a full answer or
    a body row (its decision lines in the prompt), a newline (and no EOS anywhere) for a decision or drill row."""
    import torch

    ds = trainer.train_dataset
    tok = trainer.processing_class
    kinds = ds["kind"]
    pick = [i for k in (*WHOLE_ANSWER_KINDS, "decision", "drill") for i in [j for j, x in enumerate(kinds) if x == k][:n]]
    batch = trainer.data_collator([ds[i] for i in pick])
    labels, ids = batch["labels"], batch["input_ids"]
    newlines = set(newline_token_ids(tok))
    rows = []
    for row, i in enumerate(pick):
        n_prompt = len(tok(ds[i]["prompt"])["input_ids"])
        lab = labels[row]
        kept = (lab != -100).nonzero().flatten()
        last = int(lab[kept[-1]]) if len(kept) else None
        ends = last == tok.eos_token_id if kinds[i] in WHOLE_ANSWER_KINDS else (
            last in newlines and not bool((lab == tok.eos_token_id).any()))
        rows.append({
            "kind": kinds[i], "prompt_tokens": n_prompt, "labelled_tokens": int(len(kept)),
            "prompt_masked": bool((lab[:n_prompt] == -100).all()),
            "first_label_at_completion": bool(len(kept) and int(kept[0]) == n_prompt),
            "ends_right": bool(ends),
            "labels_match_ids": bool(torch.equal(lab[kept], ids[row][kept])),
        })
    ok = all(r["prompt_masked"] and r["first_label_at_completion"] and r["ends_right"] and r["labels_match_ids"]
             for r in rows)
    return {"ok": ok, "rows": rows}


def save_adapter(model, tokenizer, folder: Path) -> None:
    """The adapter and tokenizer, with ``target_modules`` sorted: PEFT writes that set in the process's hash order,
    so two identical trainings would give adapter folders of different hashes (and step 05 would re-run)."""
    from . import io

    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    cfg_path = Path(folder) / "adapter_config.json"
    cfg = io.read_json(cfg_path)
    if isinstance(cfg.get("target_modules"), list):
        io.write_json(cfg_path, {**cfg, "target_modules": sorted(cfg["target_modules"])})


def save_finetuned(model, tokenizer, folder: Path) -> None:
    """Step 04's output: the adapter (``save_adapter``) of a PEFT model, else the whole model, with the tokenizer."""
    if hasattr(model, "peft_config"):
        save_adapter(model, tokenizer, folder)
    else:
        model.save_pretrained(folder)
        tokenizer.save_pretrained(folder)


def trainable_parameters(model) -> dict:
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    total = sum(p.numel() for p in model.parameters())
    return {"trainable": trainable, "total": total, "share": round(trainable / total, 5)}


def last_checkpoint(out_dir: Path, key: str | None = None) -> str | None:
    """The checkpoint to resume from. With ``key`` (the step's fingerprint), checkpoints written under another
    key (another config, code or dataset) are deleted rather than resumed."""
    import shutil

    from transformers.trainer_utils import get_last_checkpoint

    out_dir = Path(out_dir)
    if key is not None:
        stamp = out_dir / "fingerprint.txt"
        if out_dir.is_dir() and (not stamp.exists() or stamp.read_text() != key):
            shutil.rmtree(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        stamp.write_text(key)
    # the Trainer writes a checkpoint's files one by one, trainer_state.json last: one without a readable state was
    # cut short (Ctrl-C) and is removed rather than resumed
    for ck in out_dir.glob("checkpoint-*") if out_dir.is_dir() else []:
        try:
            json.loads((ck / "trainer_state.json").read_text())
        except (OSError, ValueError):
            progress.note(f"removing the half-written checkpoint {ck}")
            shutil.rmtree(ck, ignore_errors=True)
    last = get_last_checkpoint(str(out_dir)) if out_dir.is_dir() else None
    if last:
        progress.note(f"resuming from checkpoint {last}", echo=False)  # the notebook prints it itself
    return last


def train_tokens(trainer) -> int:
    return int(sum(len(x) for x in trainer.train_dataset["input_ids"]))
