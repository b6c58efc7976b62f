import huggingface_hub.constants
import pytest

from medillama import models


def test_resolve_model_converts_once(tmp_path, monkeypatch):
    calls = []

    def fake_convert(src_dir, gguf_file, out):
        calls.append(out)
        out.mkdir(parents=True)
        (out / "config.json").write_text("{}")
        return out

    monkeypatch.setattr(models, "convert_gguf", fake_convert)
    first = models.resolve_model(models.OFFLINE_MODEL, cache_dir=tmp_path)
    second = models.resolve_model(models.OFFLINE_MODEL, cache_dir=tmp_path)
    assert first == second == tmp_path / models.OFFLINE_MODEL
    assert len(calls) == 1


def test_resolve_model_local_dir_and_hub_id(tmp_path):
    assert models.resolve_model(str(tmp_path)) == tmp_path
    assert models.resolve_model("meta-llama/Llama-3.2-1B") == "meta-llama/Llama-3.2-1B"


def test_unavailable_hub_model_says_what_to_do(monkeypatch):
    # The hub reads HF_HUB_OFFLINE at import time, so patch the constant as well as the env.
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(models.ModelUnavailable) as err:
        models.load_model("meta-llama/Llama-3.2-1B")
    msg = str(err.value)
    assert "huggingface-cli login" in msg and "--profile cpu" in msg
    assert "https://huggingface.co/meta-llama/Llama-3.2-1B" in msg
    assert isinstance(err.value, RuntimeError)


class FakeTokenizer:
    def __init__(self, vocab, pad=None, eos="</s>", template=""):
        self.vocab, self.pad_token, self.eos_token, self.bos_token = vocab, pad, eos, "<s>"
        self.chat_template = template

    def get_vocab(self):
        return {t: i for i, t in enumerate(self.vocab)}

    @property
    def all_special_tokens(self):
        return [t for t in self.vocab if t.startswith("<")]

    @property
    def pad_token_id(self):
        return self.get_vocab().get(self.pad_token)

    @property
    def eos_token_id(self):
        return self.get_vocab()[self.eos_token]


def test_pad_token_prefers_llama3_pad():
    tok = FakeTokenizer(["<s>", "</s>", "<|finetune_right_pad_id|>", "a"])
    models.set_pad_token(tok)
    assert tok.pad_token == "<|finetune_right_pad_id|>"


def test_pad_token_falls_back_to_unused_special_then_eos():
    tok = FakeTokenizer(["<s>", "</s>", "<|im_start|>", "<|spare|>"], pad="</s>", template="<|im_start|>")
    models.set_pad_token(tok)  # logged, not warned: expected for SmolLM2
    assert tok.pad_token == "<|spare|>"
    tok = FakeTokenizer(["<s>", "</s>", "a"])
    with pytest.warns(UserWarning, match="EOS"):
        models.set_pad_token(tok)
    assert tok.pad_token == "</s>"
