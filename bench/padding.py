"""Padding waste: share of pad tokens in generation batches (length-sorted, as the generator does, vs the
dataset's order) and in training batches (TRL's collator in random order, vs padding-free).

    python bench/padding.py [--profile cpu] [--run NAME] [--batch-size 64] [--train-batch 8]
"""
import argparse
import random

from common import add_run_args, parse_run_args, queries, save, splits

from medillama.answer import build_prompt
from medillama.generate import batches, longest_first


def waste(lengths, size):
    pads = total = 0
    for b in batches(lengths, size):
        total += max(b) * len(b)
        pads += max(b) * len(b) - sum(b)
    return pads / total if total else 0.0


def main():
    ap = argparse.ArgumentParser()
    add_run_args(ap)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--train-batch", type=int, default=8)
    a = parse_run_args(ap)

    import pandas as pd
    import torch
    from transformers.trainer_pt_utils import LengthGroupedSampler

    from medillama import config, paths, training_data as T
    from medillama.models import load_tokenizer

    tok = load_tokenizer("smollm2-135m-instruct")
    qs = queries(a.run, 100000)
    gen = [len(tok(build_prompt(q, "alpaca"))["input_ids"]) for q in qs]

    df = pd.read_json(paths.processed_dir(a.run) / "dataset.jsonl", lines=True)
    df = df[df["split"] == "train"]
    # the training rows exactly as step 04 tokenizes them (answers + EOS)
    train = [len(x) for x in T.to_prompt_completion(df, "alpaca", tok)["input_ids"]]
    shuffled = train[:]
    random.Random(0).shuffle(shuffled)
    # the profile's rows as step 04 builds them: answers, decision rows, drill rows
    cfg = config.load_config(a.profile)
    _, _, ds = T.training_rows(splits(a.run), cfg["train"], tok, paths.interim_dir(a.run), cfg["sft"]["seed"])
    mixed = [len(x) for x in ds["input_ids"]]
    mixed_shuffled = mixed[:]
    random.Random(0).shuffle(mixed_shuffled)
    grouped = [mixed[i] for i in LengthGroupedSampler(a.train_batch, lengths=mixed,
                                                       generator=torch.Generator().manual_seed(0))]
    save("padding", {
        "generation": {"prompts": len(gen), "batch_size": a.batch_size,
                       "pad_share_dataset_order": waste(gen, a.batch_size),
                       "pad_share_length_sorted": waste([gen[i] for i in longest_first(gen)], a.batch_size)},
        "training": {"rows": len(train), "batch_size": a.train_batch,
                     "pad_share_random_order": waste(shuffled, a.train_batch),
                     "pad_share_padding_free": 0.0,
                     "cpu_profile_rows": len(mixed),
                     "cpu_profile_pad_share_random_order": waste(mixed_shuffled, a.train_batch),
                     "cpu_profile_pad_share_group_by_length": waste(grouped, a.train_batch),
                     "note": "SFTConfig(padding_free=True) packs a batch into one row: no pad tokens, but it needs "
                             "flash-attention kernels for correctness, which this CPU build lacks; we keep padding"},
    })


if __name__ == "__main__":
    main()
