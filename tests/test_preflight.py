"""The preflight (medillama preflight): each check on a made-up machine (``preflight.Env``), the memory estimate
against the tensors autograd really saves on the offline model, the time estimate's arithmetic, the CLI and the
runner's call. No GPU needed."""
import pytest

from medillama import config, preflight, runner
from medillama.preflight import Env, Gpu

CPU_ONLY = Env(torch="2.13.0+cpu")
A100 = Gpu("NVIDIA A100-SXM4-40GB", 39.4, (8, 0))
T4 = Gpu("Tesla T4", 14.7, (7, 5))


def failed(cfg, env):
    checks, _, _ = preflight.run_checks(cfg, env)
    return {c.name: c for c in checks if c.status == "FAIL"}


def status(cfg, env, name):
    checks, _, _ = preflight.run_checks(cfg, env)
    return next(c for c in checks if c.name == name).status


def test_t4_profile_on_this_cpu_names_each_fix(capsys):
    cfg = config.load_config("t4")
    assert not preflight.preflight(cfg, CPU_ONLY)
    out = capsys.readouterr().out
    fails = failed(cfg, CPU_ONLY)
    assert {"torch with CUDA", "bitsandbytes", "model base", "optimizer"} <= set(fails), fails
    assert "precision" not in fails  # fp16 on a T4 is right
    assert "huggingface-cli login" in fails["model base"].fix and "Llama-3.2-1B" in fails["model base"].fix
    assert "CUDA build of torch" in fails["torch with CUDA"].fix
    # the memory and time tables, for a T4 since no GPU is found
    assert "step 04 peak GPU memory" in out and "estimated time on Tesla T4 (assumed" in out
    for step in ("03_synthesize", "04_finetune", "05_evaluate"):
        assert step in out
    assert "check(s) failed; to fix:" in out


def test_bf16_on_a_t4_fails_and_passes_on_ampere():
    cfg = config.load_config("t4", {"bf16": "true", "fp16": "false"})
    for env in (CPU_ONLY, Env(torch="2.13.0", torch_cuda="12.4", gpu=T4)):
        fails = failed(cfg, env)
        assert "precision" in fails and "bf16 needs 8.0" in fails["precision"].detail
        assert "-p bf16 false -p fp16 true" in fails["precision"].fix
    assert status(cfg, Env(torch="2.13.0", torch_cuda="12.4", gpu=A100, bitsandbytes="0.48.0"), "precision") == "ok"


def test_fp16_without_cuda_fails_on_the_cpu_profile():
    assert "precision" not in failed(config.load_config("cpu"), CPU_ONLY)
    fails = failed(config.load_config("cpu", {"fp16": "true"}), CPU_ONLY)
    assert "without CUDA" in fails["precision"].detail


def test_torch_built_with_cuda_but_no_gpu():
    fails = failed(config.load_config("t4"), Env(torch="2.13.0", torch_cuda="12.4"))
    assert "finds no GPU" in fails["torch with CUDA"].detail and "Runtime" in fails["torch with CUDA"].fix


def test_bitsandbytes_missing_or_too_old_only_when_needed():
    gpu = dict(torch="2.13.0", torch_cuda="12.4", gpu=T4, hf_token=True)
    t4 = config.load_config("t4")
    assert "bitsandbytes" in failed(t4, Env(**gpu))
    old = failed(t4, Env(**gpu, bitsandbytes="0.41.0"))["bitsandbytes"]
    assert "0.41.0 <" in old.detail and "pip install -U" in old.fix
    assert "bitsandbytes" not in failed(t4, Env(**gpu, bitsandbytes="99.0"))
    plain = config.load_config("t4", {"quantization": "none", "optim": "adamw_torch"})
    assert not failed(plain, Env(**gpu)), failed(plain, Env(**gpu))  # the whole recipe passes without bitsandbytes


def test_models_gated_token_cache_and_offline(tmp_path):
    cfg = config.load_config("t4")
    gpu = dict(torch="2.13.0", torch_cuda="12.4", gpu=T4, bitsandbytes="99.0")
    assert status(cfg, Env(**gpu), "model base") == "FAIL"
    assert status(cfg, Env(**gpu, hf_token=True), "model base") == "ok"
    assert status(cfg, Env(**gpu), "model generator") == "warn"  # a public-looking hub id: cannot verify offline
    assert status(cfg, Env(**gpu, hub_offline=True), "model generator") == "FAIL"
    cached = Env(**gpu, hub_offline=True, cached={"Qwen/Qwen2.5-0.5B-Instruct", "meta-llama/Llama-3.2-1B"})
    assert status(cfg, cached, "model generator") == "ok" and status(cfg, cached, "model base") == "ok"
    local = config.load_config("t4", {"base": str(tmp_path), "generator": "smollm2-135m-instruct"})
    assert status(local, Env(**gpu, hub_offline=True), "model base") == "ok"
    assert status(local, Env(**gpu, hub_offline=True), "model generator") == "ok"
    # no LLM task: step 03 loads no generator, so an unavailable one is no failure
    no_llm = config.load_config("t4", {"llm_tasks": "[]"})
    assert "model generator" not in failed(no_llm, Env(**gpu, hub_offline=True))
    assert status(no_llm, Env(**gpu, hub_offline=True), "model base") == "FAIL"


def test_config_fields_the_trainer_would_reject():
    fails = failed(config.load_config("cpu", {"lr_scheduler_type": "sometimes"}), CPU_ONLY)
    assert "sft/lora fields" in fails and "sometimes" in fails["sft/lora fields"].detail
    for key, value, says in (("task_type", "CHAT", "CHAT"), ("lora.r", "0", "r >= 1"),
                             ("target_modules", "[q_proj, c_attn]", "c_attn")):
        fails = failed(config.load_config("cpu", {key: value}), CPU_ONLY)
        assert says in fails["sft/lora fields"].detail, fails
    assert "sft/lora fields" not in failed(config.load_config("cpu"), CPU_ONLY)


def test_known_bad_combinations(monkeypatch):
    gpu = Env(torch="2.13.0", torch_cuda="12.4", gpu=T4, bitsandbytes="99.0", hf_token=True)
    # a bitsandbytes optimizer without CUDA
    cpu_paged = config.load_config("cpu", {"optim": "paged_adamw_8bit"})
    assert "CUDA" in failed(cpu_paged, CPU_ONLY)["optimizer"].detail
    assert "optimizer" not in failed(config.load_config("t4"), gpu)
    # fp16 mixed precision over fp16 trainable weights: PEFT keeps LoRA weights fp32 over fp16 weights, unless
    # an older PEFT does not (then the grad scaler refuses)
    fp16_weights = config.load_config("t4", {"quantization": "none", "optim": "adamw_torch"})
    assert preflight.trainable_dtype(fp16_weights) == "float32"
    assert not failed(fp16_weights, gpu)
    monkeypatch.setattr(preflight, "trainable_dtype", lambda cfg: "float16")
    assert "unscale FP16" in failed(fp16_weights, gpu)["fp16 over fp16 weights"].detail
    monkeypatch.undo()
    # activation checkpointing on a PEFT model: fails unless the trainer enables input gradients
    ckpt = config.load_config("t4", {"activation_checkpointing": "true"})
    assert preflight._trl_enables_input_grads()  # the installed TRL does
    assert status(ckpt, gpu, "activation checkpointing") == "ok"
    monkeypatch.setattr(preflight, "_trl_enables_input_grads", lambda: False)
    assert "enable_input_require_grads" in failed(ckpt, gpu)["activation checkpointing"].detail
    # 8-bit without CUDA
    assert "quantization" in failed(config.load_config("t4", {"device": "cpu", "fp16": "false", "dtype": "float32"}),
                                    CPU_ONLY)


def test_memory_check_against_the_gpu():
    gpu = dict(torch="2.13.0", torch_cuda="12.4", bitsandbytes="99.0", hf_token=True)
    cfg = config.load_config("t4")
    assert not failed(cfg, Env(**gpu, gpu=T4))
    big = config.load_config("t4", {"per_device_train_batch_size": "16", "max_length": "2048"})
    fail = failed(big, Env(**gpu, gpu=T4))["step 04 memory"]
    assert "per_device_train_batch_size" in fail.fix and "Tesla T4" in fail.detail
    assert "step 04 memory" not in failed(big, Env(**gpu, gpu=Gpu("NVIDIA H200", 139.8, (9, 0))))
    # and for a T4 when none is found
    assert "step 04 memory" in failed(big, CPU_ONLY)


def test_memory_estimate_parts_follow_the_config():
    arch = preflight.architecture("meta-llama/Llama-3.2-1B")
    fp16 = preflight.memory_estimate(config.load_config("t4", {"quantization": "none"}), arch)
    int8 = preflight.memory_estimate(config.load_config("t4"), arch)
    assert 1.2e9 < fp16["base_params"] < 1.3e9 and 11e6 < fp16["lora_params"] < 12e6  # Llama-3.2-1B, r 16, 7 modules
    assert fp16["gib"]["weights"] == pytest.approx(fp16["base_params"] * 2 / 2 ** 30, rel=1e-3)
    assert int8["gib"]["weights"] < fp16["gib"]["weights"]
    one, two = (preflight.memory_estimate(config.load_config("t4", {"per_device_train_batch_size": str(n)}), arch)
                for n in (1, 2))
    assert two["gib"]["activations"] == pytest.approx(2 * one["gib"]["activations"], rel=1e-3)
    ck = preflight.memory_estimate(config.load_config("t4", {"activation_checkpointing": "true"}), arch)
    assert ck["gib"]["activations"] < int8["gib"]["activations"] / 4


@pytest.mark.parametrize("dropout", [0.0, 0.05])
def test_activation_estimate_matches_what_autograd_saves(dropout):
    """The activation term against the bytes autograd really keeps for backward: the offline model with LoRA on
    every linear, under bf16 autocast over fp32 weights (as 8-bit training keeps an fp32 residual stream under fp16
    autocast), parameters excluded."""
    import torch
    from peft import LoraConfig, get_peft_model

    from medillama.models import load_model

    cfg = config.load_config("cpu", {"use_peft": "true", "lora_dropout": str(dropout), "per_device_train_batch_size": "2",
                                     "max_length": "96", "bf16": "true"})
    model, _ = load_model("smollm2-135m-instruct", "float32", "cpu")
    model.model.layers = model.model.layers[:4]  # 4 of its 30 layers: the estimate is per layer
    model.config.num_hidden_layers = 4
    model.train()
    peft_model = get_peft_model(model, LoraConfig(**cfg["lora"]))
    params = {p.untyped_storage().data_ptr() for p in peft_model.parameters()}
    saved = {}

    def pack(t):
        ptr = t.untyped_storage().data_ptr()
        if ptr not in params:
            saved[ptr] = t.untyped_storage().nbytes()
        return t

    ids = torch.randint(100, 40000, (2, 96), generator=torch.Generator().manual_seed(0))
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t), torch.autocast("cpu", dtype=torch.bfloat16):
        peft_model.base_model.model.model(input_ids=ids)
    est = preflight.memory_estimate(cfg, {**preflight.architecture("smollm2-135m-instruct"), "layers": 4})
    measured = sum(saved.values())
    assert measured == pytest.approx(est["saved_activation_bytes"], rel=0.25), (measured, est)


def test_time_estimate_from_counts():
    cfg = config.load_config("t4")
    n = preflight.row_counts(cfg)
    assert n["base"] == 41 * 15 and n["rows"] == 1230 and n["train"] == 984 and n["drill"] == 40 * 41
    t = preflight.time_estimate(cfg, CPU_ONLY)
    assert t["where"].startswith("Tesla T4")
    s04 = t["steps"]["04_finetune"]
    rows_tokens = (n["answers"] * preflight.ANSWER_ROW_TOKENS + n["drill"] * preflight.DECISION_ROW_TOKENS) * 3.0
    assert s04["tokens"] == round(rows_tokens)
    longer = preflight.time_estimate(config.load_config("t4", {"num_train_epochs": "6"}), CPU_ONLY)
    assert longer["steps"]["04_finetune"]["tokens"] == round(2 * rows_tokens)
    twice = config.load_config("t4", {"answer_copies": "2"})
    assert preflight.row_counts(twice)["answers"] == 2 * n["answers"]
    slower = preflight.time_estimate(cfg, Env(torch="2", torch_cuda="12", gpu=Gpu("NVIDIA A100", 40, (8, 0))))
    assert slower["steps"]["04_finetune"]["seconds"] < s04["seconds"]
    no_llm = preflight.time_estimate(config.load_config("t4", {"llm_tasks": "[]"}), CPU_ONLY)
    assert no_llm["steps"]["03_synthesize"]["tokens"] == 0


def test_cpu_training_estimate_scales_with_the_measured_matmul_rate():
    cpu = config.load_config("cpu", {"models.device": "cpu"})
    assert not cpu["train"]["use_peft"]
    unmeasured = preflight.time_estimate(cpu, CPU_ONLY)["steps"]["04_finetune"]
    slow, fast = (preflight.time_estimate(cpu, Env(torch="2.13.0+cpu", cpu_gflops=g))["steps"]["04_finetune"]
                  for g in (40.0, 300.0))
    n_params = preflight._params(preflight.architecture(cpu["models"]["base"]))
    # every weight trained: 6 FLOPs per parameter per token, at CPU_TRAIN_SHARE of the measured fp32 rate
    assert fast["tokens_per_s"] == round(preflight.CPU_TRAIN_SHARE * 300e9 / (6 * n_params))
    assert slow["tokens_per_s"] == round(preflight.CPU_TRAIN_SHARE * 40e9 / (6 * n_params))
    assert unmeasured["tokens_per_s"] == round(preflight.CPU_TRAIN_TFLOPS * 1e12 / (6 * n_params))
    assert slow["seconds"] > fast["seconds"]
    lora = preflight.time_estimate(config.load_config("cpu", {"models.device": "cpu", "use_peft": "true"}),
                                   Env(torch="2.13.0+cpu", cpu_gflops=300.0))["steps"]["04_finetune"]
    assert lora["tokens_per_s"] > fast["tokens_per_s"]  # frozen weights get no weight gradient


def test_cpu_training_estimate_follows_the_precision_step_04_will_choose():
    cpu = config.load_config("cpu", {"models.device": "cpu"})
    n_params = preflight._params(preflight.architecture(cpu["models"]["base"]))
    amx, avx2 = {"avx2", "amx_bf16", "amx_tile"}, {"avx2", "fma"}

    def estimate(cfg, flags, fp32=200.0, bf16=600.0):
        env = Env(torch="2.13.0+cpu", cpu_gflops=fp32, cpu_bf16_gflops=bf16, cpu_flags=flags)
        return preflight.time_estimate(cfg, env)

    native = estimate(cpu, amx)
    assert native["assumptions"]["cpu_precision"] == "bf16"
    assert native["steps"]["04_finetune"]["tokens_per_s"] == round(preflight.CPU_TRAIN_SHARE_BF16 * 600e9
                                                                    / (6 * n_params))
    for fp32 in (estimate(cpu, avx2, bf16=0.6),  # no native bf16: fp32, at the fp32 rate
                 estimate(cpu, amx, bf16=150.0),  # flags say bf16, the probe says slower: fp32
                 estimate(config.load_config("cpu", {"models.device": "cpu", "models.autocast": "fp32"}), amx)):
        assert fp32["assumptions"]["cpu_precision"] == "fp32"
        assert fp32["steps"]["04_finetune"]["tokens_per_s"] == round(preflight.CPU_TRAIN_SHARE * 200e9 / (6 * n_params))
    text = preflight.report(cpu, [preflight.Check("x", "ok", "")], None, native, Env(cpu_gflops=200.0))
    assert "estimated time on cpu, training in bf16 autocast" in text


def test_cli_exit_codes(monkeypatch, capsys):
    monkeypatch.setattr(preflight, "probe_env", lambda ids=(): CPU_ONLY)
    assert preflight.main(["--profile", "t4", "-p", "bf16", "true", "-p", "fp16", "false"]) == 1
    out = capsys.readouterr().out
    assert "bf16 needs 8.0" in out and "- precision:" in out
    assert preflight.main(["--profile", "cpu"]) == 0
    assert "preflight passed" in capsys.readouterr().out
    assert preflight.main(["--profile", "cpu", "-p", "no_such_key", "1"]) == 2


def test_runner_runs_it_before_the_first_model_step(monkeypatch, tmp_path):
    calls, ran = [], []
    monkeypatch.setattr(runner.paths, "OUTPUTS", tmp_path)
    monkeypatch.setattr(runner, "kernel_name", lambda: "python3")
    monkeypatch.setattr(runner, "is_current", lambda spec, cfg, run: spec.name in ran)
    monkeypatch.setattr(runner, "run_step", lambda name, *a: ran.append(name))
    monkeypatch.setattr(runner, "_report", lambda run: None)
    monkeypatch.setattr(preflight, "preflight", lambda cfg: calls.append(cfg["profile"]) or False)
    assert runner.main(["--profile", "cpu", "--run", "x", "--from", "02"]) == 1
    assert calls == ["cpu"] and ran == ["02_severity_balance"]  # stopped before 03
    calls.clear(), ran.clear()
    runner.main(["--profile", "cpu", "--run", "x", "--only", "03", "--no-preflight"])
    assert calls == [] and ran == ["03_synthesize"]
