"""Training FLOPs and the share of the matmul peak that step 04 records (throughput.py)."""
import pytest
import torch

from medillama import throughput, train, training_data
from test_train import LORA, rows, sft, tiny_model, tokenizer  # noqa: F401  (tokenizer: a fixture)


def _llama(tied: bool):
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    return LlamaForCausalLM(LlamaConfig(vocab_size=500, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                                        num_attention_heads=4, num_key_value_heads=2, tie_word_embeddings=tied))


def _flops(model, tokens, labelled=None, pairs=0):
    return throughput.training_flops(model, tokens, tokens if labelled is None else labelled, pairs)


def test_every_weight_trained_costs_six_flops_per_parameter_and_token_and_a_lookup_none():
    tied, untied = _llama(True), _llama(False)
    n = sum(p.numel() for p in tied.parameters())
    assert sum(p.numel() for p in untied.parameters()) == n + 500 * 32  # the input embedding apart from the head
    for model in (tied, untied):
        assert _flops(model, 100) == 6 * n * 100  # the 6N rule, an untied embedding's lookup not counted


def test_the_head_counts_only_the_labelled_tokens_both_trainers_project():
    model = _llama(True)
    assert _flops(model, 100) - _flops(model, 100, labelled=30) == 6 * 500 * 32 * 70


def test_a_frozen_weight_costs_four_per_token_and_a_trained_one_six():
    model = _llama(True)
    n = sum(p.numel() for p in model.parameters())
    for name, p in model.named_parameters():
        p.requires_grad = "q_proj" in name  # as LoRA trains only its adapters
    trained = sum(p.numel() for p in model.parameters() if p.requires_grad)
    assert 0 < trained < n
    assert _flops(model, 10) == 4 * (n - trained) * 10 + 6 * trained * 10


def test_attention_grows_with_the_query_key_pairs():
    model = _llama(True)
    one = throughput.attention_flops(model, pairs=2 * 11)  # one row of 10 tokens: 10 x 11
    assert one == 3 * 4 * 2 * 32 * 11 and throughput.attention_flops(model, pairs=4 * 11) == 2 * one
    assert _flops(model, 10, pairs=2 * 11) - _flops(model, 10) == one


@pytest.mark.parametrize("fused", [False, True])
def test_a_training_records_its_tokens_and_its_share_of_the_peak_sampled_while_it_ran(tokenizer, tmp_path,  # noqa: F811
                                                                                      monkeypatch, fused):
    """The counts are the rows' own (one epoch, one batch): real tokens, labelled tokens, query-key pairs, with TRL's
    fused head as with the plain loss; the peak is sampled when training begins and when it ends, and the share is
    the achieved rate over their median, the time less the validation pass and the sample inside the run."""
    import time

    peaks = iter([4e9, 2e9, 3e9])

    def peak(dtype):
        time.sleep(0.05)
        return next(peaks)

    monkeypatch.setattr(throughput, "matmul_peak", peak)
    ds = training_data.to_prompt_completion(rows(4), "alpaca", tokenizer)
    trainer = train.make_trainer(tiny_model(tokenizer), tokenizer, ds, ds,
                                 sft(tmp_path, max_steps=-1, num_train_epochs=1, eval_strategy="steps", eval_steps=1),
                                 LORA, tmp_path / "out", fused_lm_head=fused, use_peft=False)
    result = trainer.train()
    lengths = [len(x) for x in trainer.train_dataset["input_ids"]]
    assert trainer.tokens_seen == sum(lengths)
    assert trainer.pairs_seen == sum(n * (n + 1) for n in lengths)
    assert trainer.labelled_seen == sum(sum(x != -100 for x in lab[1:]) for lab in trainer.train_dataset["labels"])
    assert 0 < trainer.labelled_seen < trainer.tokens_seen
    sampler = trainer.peak_sampler
    assert sampler.peaks == [4e9, 2e9] and sampler.dtype == "float32"
    assert 0.04 < sampler.train_seconds < sampler.seconds  # the end's sample falls after the run was timed
    assert sampler.eval_seconds > 0
    got = throughput.summary(trainer, result.metrics["train_runtime"])
    flops = throughput.training_flops(trainer.model, trainer.tokens_seen, trainer.labelled_seen, trainer.pairs_seen)
    seconds = result.metrics["train_runtime"] - sampler.train_seconds - sampler.eval_seconds
    assert got["matmul_peak_gflops"] == 3.0 and got["matmul_peak_dtype"] == "float32"
    assert got["share_of_matmul_peak"] == pytest.approx(flops / 3e9 / seconds, rel=1e-3)
    assert got["share_of_matmul_peak"] == pytest.approx(got["train_gflops"] / 3.0, rel=1e-2)


def test_each_training_call_counts_its_own_tokens(tokenizer, tmp_path, monkeypatch):  # noqa: F811
    """A training cell run again in the same kernel (after Ctrl-C, say) reports the tokens of its own steps over its
    own runtime, not those of both calls."""
    monkeypatch.setattr(throughput, "matmul_peak", lambda dtype: 1e9)
    ds = training_data.to_prompt_completion(rows(2), "alpaca", tokenizer)
    trainer = train.make_trainer(tiny_model(tokenizer), tokenizer, ds, ds,
                                 sft(tmp_path, max_steps=-1, num_train_epochs=1), LORA, tmp_path / "out",
                                 use_peft=False)
    lengths = sum(len(x) for x in trainer.train_dataset["input_ids"])
    trainer.train()
    assert trainer.tokens_seen == lengths
    trainer.train()
    assert trainer.tokens_seen == lengths
