"""Step 04: LoRA supervised fine-tuning with TRL's SFTTrainer on prompt/completion pairs.

The loss is on the completion only (prompt tokens labelled -100) and the completion ends with EOS, so the
model learns the five-section answer *and* to stop. Config keys in the ``sft`` and ``lora`` sections are passed
straight to ``SFTConfig`` and ``LoraConfig``.
"""
from __future__ import annotations

import dataclasses
import functools
import json
from pathlib import Path

import pandas as pd

from . import precision, progress
from .answer import build_prompt


def select_rows(df: pd.DataFrame, per_disease: int, seed: int) -> pd.DataFrame:
    """At most ``per_disease`` rows of each disease (seeded, whole original+paraphrase pairs first); 0 = all."""
    if per_disease <= 0:
        return df.reset_index(drop=True)
    parts = []
    for _, g in df.groupby("disease", sort=True):
        parts.append(g.sample(frac=1.0, random_state=seed).sort_values("base_row_id", kind="stable")
                     .head(per_disease) if len(g) > per_disease else g)
    return pd.concat(parts).sample(frac=1.0, random_state=seed).reset_index(drop=True)


DECISION_LINES = 2  # 'Likely condition' and 'See a doctor': what the patient must get right


def decision_lines(answer: str) -> str:
    """The answer's decision: its first DECISION_LINES lines (the condition and how urgently to see a doctor),
    each with its newline."""
    return "".join(line + "\n" for line in answer.split("\n")[:DECISION_LINES])


def _tokenized(prompt: str, completion: str, tokenizer) -> dict:
    # As TRL tokenizes a prompt/completion pair: the completion starts where the two tokenizations diverge.
    from trl.data_utils import common_prefix_length

    ids = tokenizer(prompt + completion)["input_ids"]
    n = common_prefix_length(tokenizer(prompt)["input_ids"], ids)
    return {"input_ids": ids, "completion_mask": [0] * n + [1] * (len(ids) - n)}


def to_prompt_completion(df: pd.DataFrame, style: str, tokenizer, decision_df: pd.DataFrame | None = None,
                         decision_copies: int = 0, drill_df: pd.DataFrame | None = None):
    """Tokenized training rows. ``kind='answer'``: prompt + the full answer + EOS (the model learns the format and to
    stop). ``kind='decision'``: ``decision_copies`` passes over ``decision_df`` of prompt + the decision lines
    only (condition and urgency), with no EOS, so the model does not learn to stop there. The decision is ~25
    tokens of a ~190-token answer; these short rows (~95 tokens) drill it at a third of the cost of a full row.
    ``kind='drill'``: one pass over ``drill_df`` (``drill.drill_rows``), built like decision rows."""
    from datasets import Dataset

    eos = tokenizer.eos_token
    rows = [{"prompt": build_prompt(q, style, tokenizer), "completion": a if a.endswith(eos) else a + eos,
             "kind": "answer"} for q, a in zip(df["input_text"], df["output_text"])]
    if decision_df is not None and decision_copies > 0:
        one = [{"prompt": build_prompt(q, style, tokenizer), "completion": decision_lines(a), "kind": "decision"}
               for q, a in zip(decision_df["input_text"], decision_df["output_text"])]
        rows += one * decision_copies
    if drill_df is not None:
        rows += [{"prompt": build_prompt(q, style, tokenizer), "completion": decision_lines(a), "kind": "drill"}
                 for q, a in zip(drill_df["input_text"], drill_df["output_text"])]
    rows = [{**r, **_tokenized(r["prompt"], r["completion"], tokenizer)} for r in rows]
    return Dataset.from_list(rows)


def training_frames(splits: dict[str, pd.DataFrame], tcfg: dict, interim: Path, seed: int):
    """(answer rows, decision rows, decision copies, drill rows): what step 04 trains on for the ``train`` config
    section, before prompts and tokens. ``splits``: the dataset's train, validation and test frames; ``interim``:
    the run's folder with the source cases and symptom weights (drill rows only)."""
    from . import knowledge
    from .drill import COLUMNS, drill_rows, reworded

    tr = splits["train"]
    answers = select_rows(tr, tcfg["rows_per_disease"], seed)
    drill = pd.DataFrame(columns=COLUMNS)  # off: the source files are not read (nor step 04's inputs)
    varied = tcfg["varied_queries"]
    if tcfg["drill_rows_per_disease"] > 0:
        drill = drill_rows(tr, pd.concat([splits["validation"], splits["test"]]),
                           pd.read_parquet(Path(interim) / "cases.parquet"),
                           pd.read_parquet(Path(interim) / "symptoms.parquet"), knowledge.lexicon(),
                           tcfg["drill_rows_per_disease"], tcfg["drill_min_symptoms"], seed, varied)
    decision, copies = tr, tcfg["decision_copies"]
    if varied and copies > 1:  # the first pass keeps the dataset's queries, the others ask anew
        decision = pd.concat([tr] + [reworded(tr, knowledge.lexicon(), seed, c) for c in range(1, copies)])
        copies = 1
    return answers, decision, copies, drill


def training_rows(splits: dict[str, pd.DataFrame], tcfg: dict, tokenizer, interim: Path, seed: int):
    """(answer rows, drill rows, tokenized dataset): the rows step 04 trains on (``training_frames``)."""
    answers, decision, copies, drill = training_frames(splits, tcfg, interim, seed)
    return answers, drill, to_prompt_completion(answers, tcfg["prompt_style"], tokenizer, decision, copies, drill)


def training_queries(splits: dict[str, pd.DataFrame], tcfg: dict, interim: Path, seed: int) -> pd.DataFrame:
    """``input_text`` and ``disease`` of every row step 04 trains on, row for row (answers, each decision pass,
    drill rows): for a baseline that sees the same queries as the fine-tuned model."""
    answers, decision, copies, drill = training_frames(splits, tcfg, interim, seed)
    cols = ["input_text", "disease"]
    return pd.concat([answers[cols]] + [decision[cols]] * copies + [drill[cols]], ignore_index=True)


def check_sft_fields(sft: dict, lora: dict) -> None:
    """Fail early, with the valid names, on a key SFTConfig or LoraConfig would not accept."""
    from peft import LoraConfig
    from trl import SFTConfig

    for cls, d in ((SFTConfig, sft), (LoraConfig, lora)):
        valid = {f.name for f in dataclasses.fields(cls)}
        bad = sorted(set(d) - valid)
        if bad:
            raise ValueError(f"{cls.__name__} has no field(s) {bad}; see its documentation for valid names")


def load_for_training(name: str, dtype: str, device: str, quantization: str = "none"):
    """Model + tokenizer for training (right padding); 8/4-bit through bitsandbytes on CUDA."""
    from .models import load_model, load_tokenizer, resolve_model

    if quantization == "none":
        model, tok = load_model(name, dtype=dtype, device=device, padding_side="right")
        model.train()
        return model, tok
    import torch
    from peft import prepare_model_for_kbit_training
    from transformers import AutoModelForCausalLM, BitsAndBytesConfig

    if not torch.cuda.is_available():
        raise RuntimeError(f"quantization '{quantization}' needs a CUDA GPU (bitsandbytes); use quantization: none")
    tok = load_tokenizer(name, padding_side="right")  # fails early, with the fix, on a gated or missing model
    bnb = (BitsAndBytesConfig(load_in_8bit=True) if quantization == "8bit" else
           BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4",
                              bnb_4bit_compute_dtype=getattr(torch, dtype)))
    model = AutoModelForCausalLM.from_pretrained(resolve_model(name), quantization_config=bnb, device_map={"": 0},
                                                 dtype=getattr(torch, dtype))
    model.config.pad_token_id = tok.pad_token_id
    return prepare_model_for_kbit_training(model, use_gradient_checkpointing=False), tok


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


def trainer_class(fused_lm_head: bool, decision_weight: float):
    """TRL's SFTTrainer, or a subclass with a plain cross-entropy loss on the labelled positions' logits (in
    training the prompt positions skip the LM head). The subclass is used when the
    decision lines are up-weighted (a few tokens among ~190 the loss averages over) or when the
    fused LM head is switched off: its chunked log-probs are ~25% slower than plain cross-entropy on a CPU
    (bench/training.py), while on a GPU they save the memory of the full logits."""
    from trl import SFTTrainer

    if fused_lm_head and decision_weight == 1.0:
        return SFTTrainer

    class PlainLossSFTTrainer(SFTTrainer):
        def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
            import torch
            import torch.nn.functional as F

            inputs = {**inputs, "use_cache": False}
            labels = inputs.pop("labels")
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
            if model.training and decision_weight != 1.0:
                # A weighted mean, so a batch of short decision rows weighs no more than a batch of answers
                # (a plain sum would give it decision_weight times the gradient and starve the answer body).
                # Scaled by the micro-batch's share of labelled tokens when gradients accumulate.
                first = decision_mask(target, newline_token_ids(self.processing_class))[keep]
                w = 1.0 + (decision_weight - 1.0) * first
                loss = (per_token * w).sum() / w.sum().clamp(min=1) * (labelled / n)
            else:
                loss = per_token.sum() / n
            return (loss, outputs) if return_outputs else loss

    return PlainLossSFTTrainer


def make_trainer(model, tokenizer, train_ds, eval_ds, sft: dict, lora: dict, out_dir: Path,
                 early_stopping_patience: int = 0, fused_lm_head: bool = True, decision_weight: float = 1.0):
    """The SFT trainer. ``decision_weight`` > 1 weights the loss of the decision lines that much more
    in training, as a weighted mean over the batch's tokens (the eval loss stays the plain mean NLL, so runs stay
    comparable)."""
    from peft import LoraConfig
    from transformers import EarlyStoppingCallback
    from trl import SFTConfig

    import torch

    check_sft_fields(sft, lora)
    cuda = torch.cuda.is_available()
    sft = {"dataloader_pin_memory": cuda, "use_cpu": not cuda, **sft}  # use_cpu: bf16 autocast on CPU
    if not cuda and precision.current() is not None:  # on a CPU the step's precision (models.autocast) decides
        sft["bf16"] = precision.current().bf16
    args = SFTConfig(output_dir=str(out_dir), eos_token=tokenizer.eos_token, completion_only_loss=True,
                     report_to="none", disable_tqdm=True, **sft)
    callbacks = [EarlyStoppingCallback(early_stopping_patience)] if early_stopping_patience > 0 else []
    cls = trainer_class(fused_lm_head, decision_weight)
    trainer = cls(model=model, args=args, train_dataset=train_ds, eval_dataset=eval_ds, processing_class=tokenizer,
                  peft_config=LoraConfig(**lora), callbacks=callbacks)
    per_step = (train_tokens(trainer) / max(len(trainer.train_dataset), 1) * args.per_device_train_batch_size
                * args.gradient_accumulation_steps)
    trainer.add_callback(progress.training_callback(per_step))  # live progress and the estimate (progress.py)
    return trainer


def masking_report(trainer, n: int = 4) -> dict:
    """Collate the first ``n`` training rows of each kind the way training does and check the labels: prompt
    tokens are -100, the completion is labelled from its first token, and the last label is EOS for a full answer,
    a newline (and no EOS anywhere) for a decision or drill row."""
    import torch

    ds = trainer.train_dataset
    tok = trainer.processing_class
    kinds = ds["kind"]
    pick = [i for k in ("answer", "decision", "drill") for i in [j for j, x in enumerate(kinds) if x == k][:n]]
    batch = trainer.data_collator([ds[i] for i in pick])
    labels, ids = batch["labels"], batch["input_ids"]
    newlines = set(newline_token_ids(tok))
    rows = []
    for row, i in enumerate(pick):
        n_prompt = len(tok(ds[i]["prompt"])["input_ids"])
        lab = labels[row]
        kept = (lab != -100).nonzero().flatten()
        last = int(lab[kept[-1]]) if len(kept) else None
        ends = last == tok.eos_token_id if kinds[i] == "answer" else (
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


def trained_tokens(trainer, global_step: int, sft: dict, resumed_from: str | None = None) -> float:
    """Tokens this ``trainer.train`` call trained on, for tokens/s: the split's tokens x epochs (with ``max_steps``:
    steps x effective batch x mean row length). A run resumed from a checkpoint trained only the steps after it,
    so it counts their share (tokens taken as spread evenly over steps)."""
    n = train_tokens(trainer)
    if sft["max_steps"] < 0:
        tokens = n * sft["num_train_epochs"]
    else:
        tokens = (global_step * sft["per_device_train_batch_size"] * sft["gradient_accumulation_steps"]
                  * n / len(trainer.train_dataset))
    start = json.loads((Path(resumed_from) / "trainer_state.json").read_text())["global_step"] if resumed_from else 0
    return tokens * (global_step - start) / global_step if global_step else 0.0
