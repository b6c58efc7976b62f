"""Step 04: LoRA supervised fine-tuning with TRL's SFTTrainer on prompt/completion pairs.

The loss is on the completion only (prompt tokens labelled -100) and the completion ends with EOS, so the
model learns the five-section answer *and* to stop. Config keys in the ``sft`` and ``lora`` sections are passed
straight to ``SFTConfig`` and ``LoraConfig``.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path

import pandas as pd

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


def to_prompt_completion(df: pd.DataFrame, style: str, tokenizer):
    from datasets import Dataset

    eos = tokenizer.eos_token
    prompts = [build_prompt(q, style, tokenizer) for q in df["input_text"]]
    completions = [a if a.endswith(eos) else a + eos for a in df["output_text"]]
    return Dataset.from_dict({"prompt": prompts, "completion": completions})


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


def make_trainer(model, tokenizer, train_ds, eval_ds, sft: dict, lora: dict, out_dir: Path,
                 early_stopping_patience: int = 0):
    from peft import LoraConfig
    from transformers import EarlyStoppingCallback
    from trl import SFTConfig, SFTTrainer

    import torch

    check_sft_fields(sft, lora)
    sft = {"dataloader_pin_memory": torch.cuda.is_available(), **sft}
    args = SFTConfig(output_dir=str(out_dir), eos_token=tokenizer.eos_token, completion_only_loss=True, report_to="none", disable_tqdm=True, **sft)
    callbacks = [EarlyStoppingCallback(early_stopping_patience)] if early_stopping_patience > 0 else []
    return SFTTrainer(model=model, args=args, train_dataset=train_ds, eval_dataset=eval_ds,
                      processing_class=tokenizer, peft_config=LoraConfig(**lora), callbacks=callbacks)


def masking_report(trainer, n: int = 4) -> dict:
    """Collate the first ``n`` training examples the way training does and check the labels:
    prompt tokens are -100, the completion is labelled, and the last label of every row is EOS."""
    import torch

    ds = trainer.train_dataset
    tok = trainer.processing_class
    batch = trainer.data_collator([ds[i] for i in range(min(n, len(ds)))])
    labels, ids = batch["labels"], batch["input_ids"]
    rows = []
    for i in range(labels.shape[0]):
        n_prompt = len(tok(ds[i]["prompt"])["input_ids"])
        lab = labels[i]
        kept = (lab != -100).nonzero().flatten()
        rows.append({
            "prompt_tokens": n_prompt, "labelled_tokens": int(len(kept)),
            "prompt_masked": bool((lab[:n_prompt] == -100).all()),
            "first_label_at_completion": bool(len(kept) and int(kept[0]) == n_prompt),
            "ends_with_eos": bool(len(kept) and int(lab[kept[-1]]) == tok.eos_token_id),
            "labels_match_ids": bool(torch.equal(lab[kept], ids[i][kept])),
        })
    ok = all(r["prompt_masked"] and r["first_label_at_completion"] and r["ends_with_eos"] and r["labels_match_ids"]
             for r in rows)
    return {"ok": ok, "rows": rows}


def trainable_parameters(model) -> dict:
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    total = sum(p.numel() for p in model.parameters())
    return {"trainable": trainable, "total": total, "share": round(trainable / total, 5)}


def last_checkpoint(out_dir: Path) -> str | None:
    from transformers.trainer_utils import get_last_checkpoint

    return get_last_checkpoint(str(out_dir)) if Path(out_dir).is_dir() else None


def train_tokens(trainer) -> int:
    return int(sum(len(x) for x in trainer.train_dataset["input_ids"]))
