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


def test_every_weight_trained_costs_six_flops_per_parameter_and_token_and_a_lookup_none():
    tied, untied = _llama(True), _llama(False)
    n = sum(p.numel() for p in tied.parameters())
    assert sum(p.numel() for p in untied.parameters()) == n + 500 * 32  # the input embedding apart from the head
    for model in (tied, untied):
        flops = throughput.training_flops(model, tokens=100, labelled=100, pairs=0, trainable=10 ** 9,
                                          head_on_labelled=True)
        assert flops == 6 * n * 100  # the 6N rule, an untied embedding's lookup not counted


def test_the_head_counts_only_labelled_tokens_where_the_loss_projects_only_those():
    model = _llama(True)
    head = 500 * 32
    kw = dict(tokens=100, labelled=30, pairs=0, trainable=10 ** 9)
    every = throughput.training_flops(model, head_on_labelled=False, **kw)
    assert every - throughput.training_flops(model, head_on_labelled=True, **kw) == 6 * head * 70


def test_lora_costs_four_per_frozen_parameter_and_six_per_adapter_parameter():
    model = _llama(True)
    n = sum(p.numel() for p in model.parameters())
    adapters = 1000  # counted among the model's parameters, as a PeftModel's are
    flops = throughput.training_flops(model, tokens=10, labelled=10, pairs=0, trainable=adapters,
                                      head_on_labelled=True)
    assert flops == 4 * (n - adapters) * 10 + 6 * adapters * 10


def test_attention_grows_with_the_query_key_pairs():
    model = _llama(True)
    one = throughput.attention_flops(model, pairs=2 * 11)  # one row of 10 tokens: 10 x 11
    assert one == 3 * 4 * 2 * 32 * 11 and throughput.attention_flops(model, pairs=4 * 11) == 2 * one


def test_a_trained_step_records_its_tokens_and_its_share_of_the_sampled_peak(tokenizer, tmp_path,  # noqa: F811
                                                                             monkeypatch):
    """The counts are the rows' own (one epoch, one batch): real tokens, labelled tokens, query-key pairs; the peak is
    sampled when training begins and ends, and the share is the achieved rate over its median."""
    peaks = iter([4e9, 2e9, 3e9])
    monkeypatch.setattr(throughput, "matmul_peak", lambda dtype: next(peaks))
    ds = training_data.to_prompt_completion(rows(4), "alpaca", tokenizer)
    trainer = train.make_trainer(tiny_model(tokenizer), tokenizer, ds, None,
                                 sft(tmp_path, max_steps=-1, num_train_epochs=1), LORA, tmp_path / "out",
                                 fused_lm_head=False, use_peft=False)
    result = trainer.train()
    lengths = [len(x) for x in trainer.train_dataset["input_ids"]]
    assert trainer.tokens_seen == sum(lengths)
    assert trainer.pairs_seen == sum(n * (n + 1) for n in lengths)
    assert trainer.labelled_seen == sum(sum(x != -100 for x in lab[1:]) for lab in trainer.train_dataset["labels"])
    assert 0 < trainer.labelled_seen < trainer.tokens_seen
    assert trainer.peak_sampler.peaks == [4e9, 2e9] and trainer.peak_sampler.dtype == "float32"
    got = throughput.summary(trainer, result.metrics["train_runtime"])
    flops = throughput.training_flops(trainer.model, trainer.tokens_seen, trainer.labelled_seen, trainer.pairs_seen,
                                      trainable=sum(p.numel() for p in trainer.model.parameters()),
                                      head_on_labelled=True)
    assert got["matmul_peak_gflops"] == 3.0 and got["matmul_peak_dtype"] == "float32"
    assert got["share_of_matmul_peak"] == pytest.approx(flops / 3e9 / result.metrics["train_runtime"], rel=1e-3)
    assert got["share_of_matmul_peak"] == pytest.approx(got["train_gflops"] / 3.0, rel=1e-2)


def test_on_a_gpu_no_peak_is_sampled_and_the_summary_is_empty():
    class Trainer:
        pass

    assert throughput.summary(Trainer(), 10.0) == {}
