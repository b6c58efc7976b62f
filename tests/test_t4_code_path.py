"""The t4 profile's code path on a CPU: its config with only the model names, device and precision overridden
(the offline model stands in for Qwen2.5-0.5B-Instruct and Llama-3.2-1B) and the sizes cut to a smoke run. It
runs step 03's generator through the chat template, step 04's LoRA training on alpaca prompts, step 05's base vs
fine-tuned answers, and the 8-bit loader's refusal without CUDA: the library calls the notebooks make."""
import pytest
import torch

from medillama import config, paths, train
from medillama.answer import ALPACA
from medillama.balance import add_severity, balanced_sample
from medillama.evaluation import answer_all, load_models
from medillama.generate import CachedGenerator, HFBackend
from medillama.models import OFFLINE_MODEL, load_for_training
from medillama.splits import group_split
from medillama.synth import synthesize
from medillama.training_data import training_rows

pytestmark = pytest.mark.slow

# what a CPU needs changed: the models (no hub here), device and precision (fp16 and the paged 8-bit optimizer
# need CUDA; 8-bit loading is checked separately below)
MACHINE = {"generator": OFFLINE_MODEL, "base": OFFLINE_MODEL, "device": "cpu", "dtype": "float32",
           "fp16": "false", "quantization": "none", "optim": "adamw_torch"}
SIZES = {"diseases": "[malaria, dengue]", "samples_per_disease": "2",
         "llm_tasks": "[patient_query]", "max_new_tokens_query": "16", "synth.batch_size": "8",
         "drill_rows_per_disease": "1", "max_steps": "2", "per_device_train_batch_size": "2",
         "eval_strategy": "no", "save_strategy": "no", "load_best_model_at_end": "false", "probe_csv": "''"}


@pytest.fixture(scope="module")
def cfg():
    c = config.load_config("t4", {**MACHINE, **SIZES})
    t4 = config.load_config("t4")
    # everything else is the t4 recipe: alpaca prompts for the base model, LoRA settings, epochs, learning rate
    assert c["train"]["prompt_style"] == t4["train"]["prompt_style"] == "alpaca"
    assert c["lora"] == t4["lora"] and c["sft"]["learning_rate"] == t4["sft"]["learning_rate"]
    return c


def spy_encode(backend: HFBackend) -> list[str]:
    """Record the text of every prompt the backend tokenizes (after its chat template, if any)."""
    seen, encode = [], backend.encode

    def wrapped(prompt):
        ids = encode(prompt)
        seen.append(backend.tokenizer.decode(ids))
        return ids

    backend.encode = wrapped
    return seen


def test_t4_code_path_on_cpu(cfg, ingested, tmp_path, monkeypatch):
    monkeypatch.setattr(paths, "cache_dir", lambda name: tmp_path / name)  # step 05's answer cache
    bcfg, scfg, mcfg = cfg["balance"], cfg["synth"], cfg["models"]
    cases = add_severity(ingested.cases, ingested.symptoms, bcfg["severity_bands"])
    base = balanced_sample(cases, bcfg["samples_per_disease"], cfg["seed"], bcfg["min_subset_size"], bcfg["diseases"])
    base = add_severity(base, ingested.symptoms, bcfg["severity_bands"], max_total=int(cases["severity_total"].max()))

    # step 03: the generator (an instruct model) through its chat template
    backend = HFBackend.from_name(mcfg["generator"], dtype=mcfg["dtype"], device=mcfg["device"],
                                  batch_size=scfg["batch_size"])
    assert backend.chat
    gen_prompts = spy_encode(backend)
    result = synthesize(base, ingested.diseases, CachedGenerator(backend, tmp_path / "gen", scfg["batch_size"]),
                        scfg, cfg["seed"])
    assert len(gen_prompts) == len(base)  # one patient query per base row
    assert all(p.count("<|im_start|>user") == 1 and p.rstrip().endswith("<|im_start|>assistant")
               for p in gen_prompts), gen_prompts[0]
    df = result.rows
    df["split"] = group_split(df, scfg["split_ratios"], cfg["seed"])
    splits = {s: df[df["split"] == s].reset_index(drop=True) for s in ("train", "validation", "test")}

    # step 04: the base model on alpaca prompts, LoRA
    tcfg, sft, lora = cfg["train"], cfg["sft"], cfg["lora"]
    interim = tmp_path / "interim"
    interim.mkdir()
    ingested.cases.to_parquet(interim / "cases.parquet")
    ingested.symptoms.to_parquet(interim / "symptoms.parquet")
    model, tok = load_for_training(mcfg["base"], mcfg["dtype"], mcfg["device"], tcfg["quantization"])
    _, _, train_ds = training_rows(splits, tcfg, tok, interim, sft["seed"])
    assert all(p.startswith("### Input:\n") and p.endswith("### Output:\n") and "<|im_start|>" not in p
               for p in train_ds["prompt"])
    trainer = train.make_trainer(model, tok, train_ds, None, sft, lora, tmp_path / "ckpt",
                                 fused_lm_head=tcfg["fused_lm_head"], decision_weight=tcfg["decision_weight"])
    masking = train.masking_report(trainer)
    assert masking["ok"], masking
    before = {n: p.detach().clone() for n, p in trainer.model.named_parameters() if p.requires_grad}
    out = trainer.train()
    assert out.global_step == 2 and all(n.count("lora_") for n in before)
    after = dict(trainer.model.named_parameters())
    assert any(not torch.equal(before[n], after[n]) for n in before)  # the adapter learnt something
    adapter = tmp_path / "adapter"
    train.save_adapter(trainer.model, tok, adapter)

    # step 05: base and fine-tuned answers, both on alpaca prompts
    peft, etok = load_models(mcfg["base"], adapter, mcfg["dtype"], mcfg["device"])
    seen = []
    encode = HFBackend.encode
    monkeypatch.setattr(HFBackend, "encode", lambda self, p: seen.append(self.tokenizer.decode(encode(self, p)))
                        or encode(self, p))
    queries = df["input_text"].tolist()[:2]
    gen = answer_all(peft, etok, adapter, mcfg["base"], queries, tcfg["prompt_style"], 8, 2, "t4_path")
    assert len(gen["base"]) == len(gen["finetuned"]) == 2
    assert len(seen) == 4 and all("### Input:\n" in s and "<|im_start|>" not in s for s in seen), seen
    assert sorted(seen) == sorted(2 * [ALPACA.format(input_text=q) for q in queries])  # base and fine-tuned


def test_8bit_refuses_clearly_without_cuda(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(RuntimeError, match="needs a CUDA GPU.*quantization: none"):
        load_for_training(OFFLINE_MODEL, "float16", "cuda", "8bit")
