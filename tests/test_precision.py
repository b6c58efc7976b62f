"""The precision choice for each kind of CPU, and that the chosen autocast reaches the training step of each
trainer class and generation (a tiny random Llama, as in test_train.py)."""
import pytest
import torch

from medillama import precision, train, training_data
from medillama.generate import HFBackend
from test_train import LORA, rows, sft, tiny_model, tokenizer  # noqa: F401  (tokenizer: a fixture)

AVX2 = {"fpu", "sse4_2", "avx", "avx2", "fma"}
FAST_BF16 = lambda: {"fp32_gflops": 300.0, "bf16_gflops": 900.0}  # noqa: E731
SLOW_BF16 = lambda: {"fp32_gflops": 34.5, "bf16_gflops": 0.6}  # noqa: E731


def no_probe():
    raise AssertionError("a CPU without native bf16 needs no probe")


@pytest.mark.parametrize("flags,measure,expected", [
    (AVX2, no_probe, "fp32"),
    (AVX2 | {"avx512f", "avx512bw"}, no_probe, "fp32"),  # AVX-512 without its bf16 extension
    (AVX2 | {"avx512f", "amx_tile", "amx_bf16", "amx_int8"}, FAST_BF16, "bf16"),
    (AVX2 | {"avx512f", "avx512_bf16"}, FAST_BF16, "bf16"),
    (AVX2 | {"amx_bf16"}, SLOW_BF16, "fp32"),  # the probe overrules the flags
])
def test_auto_choice_for_each_kind_of_cpu(flags, measure, expected):
    p = precision.choose("auto", "cpu", flags=flags, measure=measure)
    assert p.autocast == expected and p.bf16 == (expected == "bf16")
    assert p.reason and p.reason in p.describe()
    if measure is SLOW_BF16:
        assert "slower" in p.reason and "0.6" in p.reason


@pytest.mark.parametrize("setting", ["bf16", "fp32"])
def test_a_forced_setting_wins_over_the_machine(setting):
    for flags, measure in ((AVX2, no_probe), (AVX2 | {"amx_bf16"}, FAST_BF16), (AVX2 | {"amx_bf16"}, SLOW_BF16)):
        p = precision.choose(setting, "cpu", flags=flags, measure=measure)
        assert p.autocast == setting and "forced" in p.reason


def test_cuda_and_bad_settings():
    assert not precision.choose("bf16", "cuda").bf16  # on CUDA sft.fp16/bf16 decide
    with pytest.raises(ValueError, match="auto, bf16, fp32"):
        precision.choose("fast", "cpu")


def test_cpu_flags_reads_the_flags_line(tmp_path):
    f = tmp_path / "cpuinfo"
    f.write_text("processor\t: 0\nflags\t\t: fpu avx2 amx_bf16\n\nprocessor\t: 1\nflags\t\t: fpu avx2 amx_bf16\n")
    assert precision.cpu_flags(f) == {"fpu", "avx2", "amx_bf16"}
    assert precision.cpu_flags(tmp_path / "missing") == set()


def q_proj_dtypes(model) -> list:
    seen = []
    for name, mod in model.named_modules():
        if name.endswith("layers.0.self_attn.q_proj"):
            mod.register_forward_hook(lambda m, i, out: seen.append(out.dtype))
            break
    return seen


@pytest.fixture
def step_precision():
    yield precision.use
    precision.use(None)


@pytest.mark.parametrize("fused,setting", [(True, "bf16"), (False, "bf16"), (False, "fp32")],
                         ids=["stock SFTTrainer bf16", "plain-loss trainer bf16", "plain-loss trainer fp32"])
def test_the_chosen_precision_reaches_the_training_step(tokenizer, tmp_path, step_precision, fused,  # noqa: F811
                                                        setting):
    """The step's precision (not sft.bf16) sets the trainer's autocast, and the q_proj outputs inside a real
    training step have its dtype -- for TRL's trainer (autocast around model.forward) and for the plain-loss one
    (which calls the decoder itself)."""
    step_precision(precision.choose(setting, "cpu"))
    ds = training_data.to_prompt_completion(rows(4), "alpaca", tokenizer)
    trainer = train.make_trainer(tiny_model(tokenizer), tokenizer, ds, None, sft(tmp_path, max_steps=1, bf16=False),
                                 LORA, tmp_path / "out", fused_lm_head=fused, decision_weight=1.0 if fused else 5.0)
    assert (type(trainer).__name__ == "CountingSFTTrainer") == fused  # TRL's loss, only counting tokens
    assert trainer.args.bf16 == (setting == "bf16")
    seen = q_proj_dtypes(trainer.model)
    trainer.train()
    assert seen and set(seen) == {torch.bfloat16 if setting == "bf16" else torch.float32}


@pytest.mark.parametrize("setting", ["bf16", "fp32"])
def test_generation_runs_in_the_chosen_precision(tokenizer, step_precision, setting):  # noqa: F811
    step_precision(precision.choose(setting, "cpu"))
    model = tiny_model(tokenizer).eval()
    seen = q_proj_dtypes(model)
    HFBackend(model, tokenizer, batch_size=2, chat=False).generate(["fever and chills"], max_new_tokens=2)
    assert seen and set(seen) == {torch.bfloat16 if setting == "bf16" else torch.float32}


@pytest.mark.parametrize("setting", ["bf16", "fp32"])
def test_a_model_that_only_generates_gets_bf16_weights_where_bf16_was_chosen(tokenizer, step_precision,  # noqa: F811
                                                                            setting):
    step_precision(precision.choose(setting, "cpu"))
    model = precision.for_inference(tiny_model(tokenizer).eval())
    want = torch.bfloat16 if setting == "bf16" else torch.float32
    assert {p.dtype for p in model.parameters()} == {want}
    seen = q_proj_dtypes(model)
    backend = HFBackend(model, tokenizer, batch_size=2, chat=False, name="tiny")
    out = backend.generate(["fever and chills"], max_new_tokens=2)
    assert seen and set(seen) == {want} and out[0].completion_tokens > 0
    # a cache keyed by the backend's name must not serve answers of the other weights
    assert backend.name == ("tiny@bfloat16" if setting == "bf16" else "tiny")


def test_a_model_trained_with_eager_attention_decodes_with_sdpa(tokenizer, step_precision):  # noqa: F811
    """Eager attention is for training (train.attn_implementation); for_inference hands decoding back to SDPA."""
    step_precision(precision.choose("fp32", "cpu"))
    model = tiny_model(tokenizer).eval()
    model.set_attn_implementation("eager")
    prompts = ["fever and chills", "a cough for three weeks with night sweats"]
    before = [o.text for o in HFBackend(model, tokenizer, batch_size=2, chat=False).generate(prompts, max_new_tokens=4)]
    model = precision.for_inference(model)
    assert model.config._attn_implementation == "sdpa"
    after = [o.text for o in HFBackend(model, tokenizer, batch_size=2, chat=False).generate(prompts, max_new_tokens=4)]
    assert after == before  # the same greedy answers, from the other kernel


def test_the_probe_keeps_each_dtypes_best_sample_taken_in_turn(monkeypatch):
    """A burst of another process's work during one sample (here bf16's second) does not decide the comparison."""
    import torch

    samples = iter([200.0, 800.0, 210.0, 50.0, 190.0, 790.0])
    calls = []

    def fake(dtype, seconds):
        calls.append(dtype)
        return next(samples)

    monkeypatch.setattr(precision, "matmul_gflops", fake)
    rates = precision.probe.__wrapped__(rounds=3, seconds=0.01)
    assert rates == {"fp32_gflops": 210.0, "bf16_gflops": 800.0}
    assert calls == [torch.float32, torch.bfloat16] * 3
