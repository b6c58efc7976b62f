"""LoRA SFT on a tiny random Llama (SmolLM2 tokenizer): masking, learning, adapter round trip."""
import json

import pandas as pd
import pytest
import torch
from transformers import TrainerCallback

from medillama.answer import build_prompt, format_answer
from medillama.models import resolve_model, set_pad_token
from medillama import config, train, training_data

LORA = {"r": 8, "lora_alpha": 16, "lora_dropout": 0.0, "target_modules": ["q_proj", "k_proj", "v_proj", "o_proj",
        "gate_proj", "up_proj", "down_proj"], "task_type": "CAUSAL_LM"}


@pytest.fixture(scope="module")
def tokenizer():
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(resolve_model("smollm2-135m-instruct"))
    set_pad_token(tok)
    tok.padding_side = "right"
    return tok


def tiny_model(tok):
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    cfg = LlamaConfig(vocab_size=len(tok), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                      num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=512,
                      pad_token_id=tok.pad_token_id, eos_token_id=tok.eos_token_id, bos_token_id=tok.bos_token_id,
                      initializer_range=0.3)  # a frozen, tiny-std head would cap the logits LoRA can reach
    return LlamaForCausalLM(cfg)


def rows(n=8):
    ans = format_answer("Malaria", "Fever with chills fits malaria.", ["consult nearest hospital"],
                        "See a doctor within 24 hours.", "Local name: malaria bukhar.")
    return pd.DataFrame({"input_text": [f"I have fever and chills for {i} days" for i in range(n)],
                         "output_text": [ans] * n, "disease": ["malaria"] * n,
                         "base_row_id": [f"m-{i // 2}" for i in range(n)]})


def train_cfg(**over) -> dict:
    """A ``train`` config section for training_data, everything off but what a test sets."""
    return {"rows_per_disease": 0, "answer_copies": 1, "drill_rows_per_disease": 0, "drill_min_symptoms": 2,
            "decision_copies": 1, "prompt_style": "alpaca", "varied_queries": False, "hinglish_share": 0.2,
            "gloss_training_share": 0.0, "gloss_training_keep": 1.0, "gloss_style": "brackets", "hinglish_weight": 1.0,
            "answer_copies_loss": "whole", **over}


def symptom_rows(**cols) -> pd.DataFrame:
    """Four malaria rows with ids and two symptom sets (what reworded queries are asked from)."""
    return rows(4).assign(id=[f"m-{i}-o" for i in range(4)],
                          symptoms=[["chills", "high_fever", "sweating"], ["chills", "vomiting", "headache"]] * 2, **cols)


def sft(tmp_path, **kw):
    base = dict(num_train_epochs=1, max_steps=30, learning_rate=1e-2, per_device_train_batch_size=4,
                gradient_accumulation_steps=1, max_length=256, logging_steps=5, eval_strategy="no",
                save_strategy="no", activation_checkpointing=False, seed=0, data_seed=0, use_cpu=True, bf16=False)
    return {**base, **kw}


def masked_rows(tokenizer):
    drill = pd.DataFrame({"input_text": ["fever, chills and sweating"],
                          "output_text": ["Likely condition: Malaria\nSee a doctor: See a doctor within 24 hours.\n"]})
    ds = training_data.to_prompt_completion(rows(), "alpaca", tokenizer, rows(4), decision_copies=2, drill_df=drill)
    return drill, ds


def test_masking(tokenizer, tmp_path):
    drill, ds = masked_rows(tokenizer)
    assert ds[0]["prompt"] == "### Input:\nI have fever and chills for 0 days\n\n### Output:\n"
    assert ds[0]["completion"].endswith(tokenizer.eos_token)
    assert ds["kind"].count("decision") == 8
    assert ds[8]["completion"] == "Likely condition: Malaria\nSee a doctor: See a doctor within 24 hours.\n"
    assert ds["kind"][-1] == "drill" and ds[-1]["completion"] == drill["output_text"][0]
    model = tiny_model(tokenizer)
    trainer = train.make_trainer(model, tokenizer, ds, None, sft(tmp_path), LORA, tmp_path / "out")
    report = train.masking_report(trainer)
    assert report["ok"], report
    answer = [r for r in report["rows"] if r["kind"] == "answer"]
    decision = [r for r in report["rows"] if r["kind"] == "decision"]
    drilled = [r for r in report["rows"] if r["kind"] == "drill"]
    assert len(answer) == 4 and len(decision) == 4 and len(drilled) == 1
    assert all(r["prompt_tokens"] > 5 and r["labelled_tokens"] > 20 for r in answer)
    lines = "Likely condition: Malaria\nSee a doctor: See a doctor within 24 hours.\n"
    n_lines = len(tokenizer("### Output:\n" + lines)["input_ids"]) - len(tokenizer("### Output:\n")["input_ids"])
    assert all(r["labelled_tokens"] == n_lines for r in decision + drilled)
    params = train.trainable_parameters(trainer.model)
    assert 0 < params["share"] < 0.5


def test_masking_of_body_rows(tokenizer, tmp_path):  # train.answer_copies_loss: body
    df = rows(4).assign(query_pass=[0, 0, 1, 1])
    ds = training_data.to_prompt_completion(df, "alpaca", tokenizer, body_only=True)
    assert ds["kind"] == ["answer", "answer", "body", "body"]
    trainer = train.make_trainer(tiny_model(tokenizer), tokenizer, ds, None, sft(tmp_path), LORA, tmp_path / "out")
    report = train.masking_report(trainer)
    assert report["ok"], report
    body = [r for r in report["rows"] if r["kind"] == "body"]
    answer = [r for r in report["rows"] if r["kind"] == "answer"]
    assert len(body) == 2 and all(b["labelled_tokens"] < a["labelled_tokens"] for b, a in zip(body, answer))
    assert all(b["prompt_tokens"] > a["prompt_tokens"] for b, a in zip(body, answer))  # the decision lines moved


@pytest.mark.slow
def test_the_training_loop_learns_a_repeated_batch(tokenizer, tmp_path):
    _, ds = masked_rows(tokenizer)
    trainer = train.make_trainer(tiny_model(tokenizer), tokenizer, ds, None, sft(tmp_path), LORA, tmp_path / "out")
    trainer.train()
    losses = [h["loss"] for h in trainer.state.log_history if "loss" in h]
    assert losses[-1] < 0.5 * losses[0], losses  # the loop really learns a repeated batch


def test_adapter_round_trip_gives_identical_logits(tokenizer, tmp_path):
    from peft import PeftModel

    ds = training_data.to_prompt_completion(rows(4), "alpaca", tokenizer)
    model = tiny_model(tokenizer)
    trainer = train.make_trainer(model, tokenizer, ds, None, sft(tmp_path, max_steps=3), LORA, tmp_path / "out")
    trainer.train()
    train.save_adapter(trainer.model, tokenizer, tmp_path / "adapter")
    saved = json.loads((tmp_path / "adapter" / "adapter_config.json").read_text())
    assert saved["target_modules"] == sorted(LORA["target_modules"])  # not the process's set order
    trainer.model.eval()
    x = tokenizer(build_prompt("I have fever", "alpaca"), return_tensors="pt")
    with torch.no_grad():
        want = trainer.model(**x).logits
    base = tiny_model(tokenizer)  # same seed: same base weights
    loaded = PeftModel.from_pretrained(base, tmp_path / "adapter").eval()
    with torch.no_grad():
        got = loaded(**x).logits
    assert torch.allclose(want, got, atol=1e-5)


@pytest.mark.parametrize("fused", [True, False])
def test_full_fine_tuning_trains_every_weight_and_step_05_loads_it_beside_the_base(tokenizer, tmp_path, fused):
    from medillama.evaluation import load_models

    base_dir = tmp_path / "base"
    tiny_model(tokenizer).save_pretrained(base_dir)
    tokenizer.save_pretrained(base_dir)
    ds = training_data.to_prompt_completion(rows(4), "alpaca", tokenizer)
    trainer = train.make_trainer(tiny_model(tokenizer), tokenizer, ds, None, sft(tmp_path, max_steps=3), LORA,
                                 tmp_path / "out", fused_lm_head=fused, use_peft=False)
    assert train.trainable_parameters(trainer.model)["share"] == 1.0
    trainer.train()
    train.save_finetuned(trainer.model, tokenizer, tmp_path / "model")
    assert not (tmp_path / "model" / "adapter_config.json").exists()
    x = tokenizer(build_prompt("I have fever", "alpaca"), return_tensors="pt")
    with torch.no_grad():
        want, before = trainer.model.eval()(**x).logits, tiny_model(tokenizer)(**x).logits
    systems, _ = load_models(str(base_dir), tmp_path / "model", "float32", "cpu")
    with torch.no_grad(), systems.use("finetuned") as tuned, systems.use("base") as base:
        assert torch.allclose(tuned(**x).logits, want, atol=1e-5)
        assert torch.allclose(base(**x).logits, before, atol=1e-5)
    assert not torch.allclose(want, before, atol=1e-3)  # every weight moved, not an adapter


def test_embedding_lr_scale_gives_the_embedding_matrix_alone_its_multiple_through_the_schedule(tokenizer, tmp_path):
    """train.embedding_lr_scale: the optimizer holds every trainable weight once, the token embeddings in a group
    at 3x the learning rate of the rest, and the scheduler keeps that ratio as it decays."""
    model = tiny_model(tokenizer)
    ds = training_data.to_prompt_completion(rows(4), "alpaca", tokenizer)
    trainer = train.make_trainer(model, tokenizer, ds, None, sft(tmp_path, max_steps=4, warmup_steps=0), LORA,
                                 tmp_path / "out", fused_lm_head=False, use_peft=False, embedding_lr_scale=3.0)
    emb = model.get_input_embeddings().weight
    groups = trainer.optimizer.param_groups
    held = [p for g in groups for p in g["params"]]
    assert len(held) == len({id(p) for p in held}) == sum(1 for p in model.parameters() if p.requires_grad)
    lr = {any(p is emb for p in g["params"]): g["lr"] for g in groups}
    assert lr[True] == pytest.approx(3 * lr[False]) and lr[False] == pytest.approx(trainer.args.learning_rate)
    seen = []

    class Rates(TrainerCallback):
        def on_step_end(self, args, state, control, optimizer=None, **kw):
            seen.append({any(p is emb for p in g["params"]): g["lr"] for g in optimizer.param_groups})

    trainer.add_callback(Rates())
    trainer.train()
    assert 0 < seen[1][False] < lr[False] and seen[1][True] == pytest.approx(3 * seen[1][False])  # mid-decay


def test_lora_systems_switch_the_adapter_off_for_the_base(tokenizer, tmp_path):
    from medillama.evaluation import load_models

    base_dir = tmp_path / "base"
    tiny_model(tokenizer).save_pretrained(base_dir)
    tokenizer.save_pretrained(base_dir)
    ds = training_data.to_prompt_completion(rows(4), "alpaca", tokenizer)
    trainer = train.make_trainer(tiny_model(tokenizer), tokenizer, ds, None, sft(tmp_path, max_steps=3), LORA,
                                 tmp_path / "out")
    trainer.train()
    train.save_finetuned(trainer.model, tokenizer, tmp_path / "adapter")
    x = tokenizer(build_prompt("I have fever", "alpaca"), return_tensors="pt")
    with torch.no_grad():
        want, before = trainer.model.eval()(**x).logits, tiny_model(tokenizer)(**x).logits
    systems, _ = load_models(str(base_dir), tmp_path / "adapter", "float32", "cpu")
    assert systems.base is None  # one set of weights serves both
    with torch.no_grad():
        with systems.use("base") as base:
            assert torch.allclose(base(**x).logits, before, atol=1e-5)
        with systems.use("finetuned") as tuned:
            assert torch.allclose(tuned(**x).logits, want, atol=1e-5)


def test_bad_field_names_fail_early():
    with pytest.raises(ValueError, match="SFTConfig has no field"):
        train.check_sft_fields({"learning_rat": 1e-4}, {})
    with pytest.raises(ValueError, match="LoraConfig has no field"):
        train.check_sft_fields({}, {"rank": 8})


def test_chat_prompt_needs_template(tokenizer):
    p = build_prompt("I have fever", "chat", tokenizer)
    assert "I have fever" in p and p.rstrip().endswith("assistant")
    with pytest.raises(ValueError):
        build_prompt("x", "chat", None)


def test_decision_mask_marks_condition_and_urgency_lines(tokenizer):
    nl = train.newline_token_ids(tokenizer)
    assert tokenizer("\n")["input_ids"][-1] in nl
    prompt = tokenizer("### Output:\n")["input_ids"]
    lines = tokenizer("Likely condition: Malaria\n")["input_ids"] + tokenizer("See a doctor: today.\n")["input_ids"]
    rest = tokenizer("Why: fever.\nPrecautions: rest.")["input_ids"]
    labels = torch.tensor([[-100] * len(prompt) + lines + rest + [-100, -100]])
    mask = train.decision_mask(labels, nl)[0]
    assert mask.sum().item() == len(lines)
    assert mask[len(prompt):len(prompt) + len(lines)].all()
    assert not mask[:len(prompt)].any() and not mask[len(prompt) + len(lines):].any()


@pytest.mark.parametrize("weight", [1.0, 5.0])
def test_plain_loss_matches_the_fused_head(tokenizer, tmp_path, weight):
    """The plain cross-entropy equals TRL's fused-head loss at weight 1. At weight > 1 the training loss is the
    weighted mean over labelled tokens (decision lines x weight), the eval loss stays the plain mean, and a batch
    of decision rows has the same loss at any weight (it gets no more gradient than a batch of answers)."""
    ds = training_data.to_prompt_completion(rows(4), "alpaca", tokenizer, decision_df=rows(4), decision_copies=1)
    answers = [i for i, k in enumerate(ds["kind"]) if k == "answer"]
    conditions = [i for i, k in enumerate(ds["kind"]) if k == "decision"]
    losses = {}
    for fused in (True, False):
        trainer = train.make_trainer(tiny_model(tokenizer), tokenizer, ds, None, sft(tmp_path), LORA,
                                     tmp_path / f"out{fused}", fused_lm_head=fused,
                                     decision_weight=1.0 if fused else weight)
        collate = lambda idx: dict(trainer.data_collator([trainer.train_dataset[i] for i in idx]))  # noqa: E731
        batch, cond = collate(answers), collate(conditions)
        trainer.model.train()
        with torch.no_grad():
            losses[fused] = trainer.compute_loss(trainer.model, dict(batch)).item()
            losses[fused, "condition"] = trainer.compute_loss(trainer.model, dict(cond)).item()
            if not fused:
                logits = trainer.model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
                trainer.model.eval()
                losses["eval"] = trainer.compute_loss(trainer.model, dict(batch)).item()
    labels = batch["labels"][:, 1:]
    per_token = torch.nn.functional.cross_entropy(logits[:, :-1].float().transpose(1, 2), labels,
                                                  ignore_index=-100, reduction="none")
    first = train.decision_mask(labels, train.newline_token_ids(tokenizer))
    w = (1.0 + (weight - 1.0) * first) * (labels != -100)
    assert 0.02 < (first.sum() / (labels != -100).sum()).item() < 0.5
    assert losses["eval"] == pytest.approx(losses[True], rel=1e-4)
    assert losses[False] == pytest.approx(((per_token * w).sum() / w.sum()).item(), rel=1e-4)
    assert losses[False, "condition"] == pytest.approx(losses[True, "condition"], rel=1e-4)
    if weight == 1.0:
        assert losses[False] == pytest.approx(losses[True], rel=1e-4)
    else:
        assert losses[False] != pytest.approx(losses[True], rel=1e-3)


def test_hinglish_weight_counts_each_hindi_decision_row_that_often_in_the_training_sum(tokenizer, tmp_path):
    """train.hinglish_weight: decision and drill rows whose query states a symptom in Hindi words carry the weight,
    answers and English rows 1; the batch keeps it through TRL's column pruning and collator, and the training loss
    is the sum of each row's token losses times its weight over the labelled tokens (the eval loss stays the mean)."""
    hindi = rows(2).assign(input_text=["tez bukhar aur kapkapi ho rahi hai", "sar dard aur ulti ho rahi hai"])
    dec = pd.concat([rows(2), hindi], ignore_index=True)
    ds = training_data.to_prompt_completion(hindi, "alpaca", tokenizer, decision_df=dec, decision_copies=1,
                                            hinglish_weight=3.0)
    assert list(zip(ds["kind"], ds["loss_weight"])) == [("answer", 1.0)] * 2 + [("decision", 1.0)] * 2 + [
        ("decision", 3.0)] * 2
    assert "loss_weight" not in training_data.to_prompt_completion(hindi, "alpaca", tokenizer).column_names
    trainer = train.make_trainer(tiny_model(tokenizer), tokenizer, ds, None, sft(tmp_path, per_device_train_batch_size=6),
                                 LORA, tmp_path / "out", fused_lm_head=True)
    assert type(trainer).__name__ == "PlainLossSFTTrainer"  # the fused head has no per-row weights
    batch = next(iter(trainer.get_train_dataloader()))
    assert sorted(batch["loss_weight"].tolist()) == [1.0] * 4 + [3.0] * 2
    pick = [2, 3, 4, 5]
    batch = trainer.data_collator([trainer.train_dataset[i] for i in pick])
    trainer.model.train()
    with torch.no_grad():
        loss = trainer.compute_loss(trainer.model, dict(batch)).item()
        logits = trainer.model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
        trainer.model.eval()
        plain = trainer.compute_loss(trainer.model, dict(batch)).item()
    labels = batch["labels"][:, 1:]
    per_token = torch.nn.functional.cross_entropy(logits[:, :-1].float().transpose(1, 2), labels,
                                                  ignore_index=-100, reduction="none")
    w = torch.tensor([1.0, 1.0, 3.0, 3.0])[:, None]
    assert loss == pytest.approx(((per_token * w).sum() / (labels != -100).sum()).item(), rel=1e-4)
    assert plain == pytest.approx((per_token.sum() / (labels != -100).sum()).item(), rel=1e-4)
    assert loss > plain * 1.2


@pytest.mark.parametrize("strategy", ["random", "group_by_length"])
def test_answers_first_trains_every_whole_answer_before_the_decision_rows(tokenizer, tmp_path, strategy):
    """train.curriculum: answers_first: the batches training draws hold every whole answer (labels ending in EOS)
    before any decision or drill row, in a seeded order (the same on a second trainer, as a resumed run needs);
    none mixes the kinds. Other batch strategies are refused."""
    _, ds = masked_rows(tokenizer)  # 8 answers, 8 decision rows, 1 drill row

    def batches(curriculum, seed=0, global_seed=1234):
        trainer = train.make_trainer(tiny_model(tokenizer), tokenizer, ds, None,
                                     sft(tmp_path, train_sampling_strategy=strategy, seed=seed, data_seed=seed),
                                     LORA, tmp_path / "out", curriculum=curriculum)
        torch.manual_seed(global_seed)  # the global generator must not decide the curriculum's order
        out = list(trainer.get_train_dataloader())
        torch.manual_seed(4321)
        return [(b["labels"] == tokenizer.eos_token_id).any(dim=1).tolist() for b in out], \
            [b["input_ids"].tolist() for b in out]

    kinds, order = batches("answers_first")
    flat = [k for b in kinds for k in b]
    assert flat == [True] * 8 + [False] * 9
    assert batches("answers_first", global_seed=99)[1] == order  # seeded by data_seed: the same draw again
    assert batches("answers_first", seed=1)[1] != order
    mixed = [k for b in batches("none")[0] for k in b]
    assert sorted(mixed) == sorted(flat) and mixed != flat
    with pytest.raises(ValueError, match="train.curriculum: 'decisions_first'"):
        train.make_trainer(tiny_model(tokenizer), tokenizer, ds, None, sft(tmp_path), LORA, tmp_path / "out",
                           curriculum="decisions_first")
    with pytest.raises(ValueError, match="orders rows, not batches"):
        train.make_trainer(tiny_model(tokenizer), tokenizer, ds, None,
                           sft(tmp_path, train_sampling_strategy="batch_rebalance"), LORA, tmp_path / "out",
                           curriculum="answers_first")


def test_checkpoints_of_another_fingerprint_are_not_resumed(tmp_path):
    ck = tmp_path / "checkpoints"
    (ck / "checkpoint-20").mkdir(parents=True)
    assert train.last_checkpoint(ck, "aaa") is None and not (ck / "checkpoint-20").exists()
    (ck / "checkpoint-20").mkdir()
    (ck / "checkpoint-20" / "trainer_state.json").write_text('{"global_step": 20}')
    assert train.last_checkpoint(ck, "aaa").endswith("checkpoint-20")  # same key: an interrupted run resumes
    (ck / "checkpoint-40").mkdir()  # cut short by Ctrl-C: the Trainer writes trainer_state.json last
    assert train.last_checkpoint(ck, "aaa").endswith("checkpoint-20") and not (ck / "checkpoint-40").exists()
    assert train.last_checkpoint(ck, "bbb") is None


def test_varied_decision_passes_keep_the_first_and_ask_anew(tokenizer, tmp_path):
    tr = symptom_rows()
    tcfg = train_cfg(decision_copies=3, varied_queries=True)
    splits = {"train": tr, "validation": tr[:0], "test": tr[:0]}
    _, _, ds = training_data.training_rows(splits, tcfg, tokenizer, tmp_path, 0)
    prompts = [r["prompt"] for r in ds if r["kind"] == "decision"]
    assert len(prompts) == 3 * len(tr)
    assert all(q in p for q, p in zip(tr["input_text"], prompts[:4]))  # the first pass: the dataset's queries
    assert not any(q in p for q in tr["input_text"] for p in prompts[4:])
    assert len(set(prompts[4:])) == 8  # each later pass asks anew
    _, _, plain = training_data.training_rows(splits, {**tcfg, "varied_queries": False}, tokenizer, tmp_path, 0)
    assert [r["prompt"] for r in plain if r["kind"] == "decision"] == prompts[:4] * 3
    # the all-queries baseline reads the same queries, row for row, varied or not
    for cfg, data in ((tcfg, ds), ({**tcfg, "varied_queries": False}, plain)):
        q = training_data.training_queries(splits, cfg, tmp_path, 0)
        assert len(q) == len(data) and all(t in r["prompt"] for t, r in zip(q["input_text"], data))
        assert (q["disease"] == "malaria").all()


def test_whole_answer_passes_after_the_first_ask_anew_and_keep_the_answer(tokenizer, tmp_path):
    tr = symptom_rows(output_text=[f"Likely condition: Malaria\nAnswer {i}." for i in range(4)])
    tcfg = train_cfg(answer_copies=2, decision_copies=2, varied_queries=True, hinglish_share=0.6)
    splits = {"train": tr, "validation": tr[:0], "test": tr[:0]}
    answers, _, ds = training_data.training_rows(splits, tcfg, tokenizer, tmp_path, 0)
    whole = [r for r in ds if r["kind"] == "answer"]
    assert len(answers) == len(whole) == 2 * len(tr)
    assert all(q in r["prompt"] for q, r in zip(tr["input_text"], whole[:4]))  # the first pass: the dataset's queries
    assert not any(q in r["prompt"] for q in tr["input_text"] for r in whole[4:])
    assert all(r["completion"] == a["completion"] for r, a in zip(whole[4:], whole[:4]))  # the same answers
    decided = {r["prompt"] for r in ds if r["kind"] == "decision"}
    assert not decided & {r["prompt"] for r in whole[4:]}  # asked in shapes of their own, not the decision pass's
    q = training_data.training_queries(splits, tcfg, tmp_path, 0)
    assert len(q) == len(ds) and all(t in r["prompt"] for t, r in zip(q["input_text"], ds))
    one, _, _ = training_data.training_rows(splits, {**tcfg, "answer_copies": 1}, tokenizer, tmp_path, 0)
    assert len(one) == len(tr)
    with pytest.raises(ValueError, match="train.answer_copies"):  # refused when the config loads
        config.load_config("cpu", {"answer_copies": 0})


def test_body_passes_put_the_decision_in_the_prompt_and_learn_only_the_rest(tokenizer, tmp_path):
    tr = symptom_rows(output_text=[f"Likely condition: Malaria\nSee a doctor: Within 24 hours.\nWhy: Fever {i}.\n"
                                   f"Precautions: Rest." for i in range(4)])
    tcfg = train_cfg(answer_copies=2, varied_queries=True, hinglish_share=0.6, answer_copies_loss="body")
    splits = {"train": tr, "validation": tr[:0], "test": tr[:0]}
    _, _, ds = training_data.training_rows(splits, tcfg, tokenizer, tmp_path, 0)
    _, _, whole = training_data.training_rows(splits, {**tcfg, "answer_copies_loss": "whole"}, tokenizer, tmp_path, 0)
    assert [r["kind"] for r in ds] == ["answer"] * 4 + ["body"] * 4 + ["decision"] * 4
    assert ds[:4] == whole[:4] and ds[8:] == whole[8:]  # the first pass and the decision rows are unchanged
    for r, w in zip(ds.select(range(4, 8)), whole.select(range(4, 8))):
        assert r["prompt"] == w["prompt"] + "Likely condition: Malaria\nSee a doctor: Within 24 hours.\n"
        assert r["completion"].startswith("Why: ") and r["completion"].endswith(tokenizer.eos_token)
        labelled = tokenizer.decode([t for t, m in zip(r["input_ids"], r["completion_mask"]) if m])
        assert "Likely condition" not in labelled and "Within 24 hours" not in labelled
        assert labelled.startswith("Why: ") and "Precautions: Rest." in labelled
        assert r["input_ids"] == w["input_ids"]  # the same tokens; only what is learnt differs
    with pytest.raises(ValueError, match="train.answer_copies_loss"):
        config.load_config("cpu", {"answer_copies_loss": "decision"})
    with pytest.raises(ValueError, match="decision_weight"):  # it would weight the body's first two lines
        config.load_config("cpu", {"answer_copies_loss": "body", "decision_weight": 3})
    with pytest.raises(ValueError, match="without its 2 decision lines"):
        training_data.training_rows({**splits, "train": tr.assign(output_text="Likely condition: Malaria")}, tcfg,
                                    tokenizer, tmp_path, 0)


def test_glossed_training_rows_take_the_reading_style(tokenizer, tmp_path):  # noqa: F811
    tr = rows(4).assign(input_text=["tez bukhar aur kapkapi ho rahi hai"] * 4)
    tcfg = train_cfg(gloss_training_share=1.0)
    splits = {"train": tr, "validation": tr[:0], "test": tr[:0]}
    for style in ("sentence", "brackets"):
        _, _, ds = training_data.training_rows(splits, {**tcfg, "gloss_style": style}, tokenizer, tmp_path, 0)
        assert len(ds) == 8 and all(r["prompt"] == build_prompt(tr["input_text"][0], gloss=style) for r in ds)
        assert all(("I have " in r["prompt"]) == (style == "sentence") for r in ds)


def test_attention_implementation_reaches_the_model_and_keeps_the_loss(tokenizer, tmp_path):
    """``train.attn_implementation`` (eager on the cpu profile, for speed) changes the kernel, not the numbers."""
    from medillama.models import load_for_training

    tiny_model(tokenizer).save_pretrained(tmp_path / "tiny")
    tokenizer.save_pretrained(tmp_path / "tiny")
    batch = tokenizer(["fever and chills", "a cough for three weeks with night sweats"], return_tensors="pt",
                      padding=True)
    losses = {}
    for impl in ("eager", "sdpa"):
        model, _ = load_for_training(str(tmp_path / "tiny"), "float32", "cpu", attn_implementation=impl)
        assert model.config._attn_implementation == impl and model.training
        labels = batch["input_ids"].masked_fill(batch["attention_mask"] == 0, -100)
        losses[impl] = float(model(**batch, labels=labels).loss)
    assert losses["eager"] == pytest.approx(losses["sdpa"], rel=1e-4)


@pytest.mark.parametrize("alpha", [0.0, 5.0])
def test_neftune_noise_reaches_the_plain_loss_trainer(tokenizer, tmp_path, alpha):  # noqa: F811
    """sft.neftune_noise_alpha: the first decoder layer reads noisy embeddings inside a training step of the
    trainer the cpu profile uses (it calls the decoder itself), and clean ones without it."""
    model = tiny_model(tokenizer)
    seen = {}
    emb, first = model.get_input_embeddings(), model.model.layers[0]

    def clean(m, args):  # what the embedding gives before any hook on its output
        seen.setdefault("clean", m.weight[args[0]].detach().clone())

    def read(m, args, kwargs):  # what the first layer reads
        seen.setdefault("read", (args[0] if args else kwargs["hidden_states"]).detach().clone())

    emb.register_forward_pre_hook(clean)
    first.register_forward_pre_hook(read, with_kwargs=True)
    ds = training_data.to_prompt_completion(rows(4), "alpaca", tokenizer)
    trainer = train.make_trainer(model, tokenizer, ds, None, sft(tmp_path, max_steps=1, neftune_noise_alpha=alpha),
                                 LORA, tmp_path / "out", fused_lm_head=False, use_peft=False)
    trainer.train()
    noise = (seen["read"].float() - seen["clean"].float()).abs().max().item()
    assert (noise > 0) == (alpha > 0) and trainer.args.neftune_noise_alpha == (alpha or None)


def _cpp_compiler() -> bool:
    try:
        from torch._inductor.cpp_builder import get_cpp_compiler

        return bool(get_cpp_compiler())
    except Exception:  # noqa: BLE001
        return False


@pytest.mark.slow
@pytest.mark.skipif(not _cpp_compiler(), reason="inductor needs a C++ compiler (train.compile falls back to eager)")
def test_compiled_layers_train_as_eager_does_and_decode_eagerly_after(tokenizer, tmp_path):
    """train.compile: layers (the cpu profile): inside train() every decoder layer runs compiled (inductor built the
    graphs: dynamo counts them), the losses follow eager training's (fused kernels round differently: close, not
    equal), and afterwards the layers are eager again."""
    from torch._dynamo.utils import counters

    ds = training_data.to_prompt_completion(rows(8), "alpaca", tokenizer)
    losses, compiled_inside = {}, []
    graphs = {}
    for how in ("none", "layers"):
        before = counters["stats"]["unique_graphs"]
        model = tiny_model(tokenizer)
        trainer = train.make_trainer(model, tokenizer, ds, None, sft(tmp_path, max_steps=4, logging_steps=1),
                                     LORA, tmp_path / how, fused_lm_head=False, use_peft=False, compile_how=how)

        class Seen(TrainerCallback):
            def on_step_end(self, args, state, control, **kw):
                compiled_inside.append((how, all(la._compiled_call_impl is not None for la in model.model.layers)))

        trainer.add_callback(Seen())
        trainer.train()
        losses[how] = [h["loss"] for h in trainer.state.log_history if "loss" in h]
        graphs[how] = counters["stats"]["unique_graphs"] - before
        assert all(la._compiled_call_impl is None for la in model.model.layers)  # eager again for generation
    assert set(compiled_inside) == {("none", False), ("layers", True)}
    assert graphs["none"] == 0 and graphs["layers"] > 0
    assert losses["layers"] == pytest.approx(losses["none"], rel=1e-3)
    with pytest.raises(ValueError, match="train.compile: 'decoder'"):
        train.make_trainer(tiny_model(tokenizer), tokenizer, ds, None, sft(tmp_path), LORA, tmp_path / "x",
                           use_peft=False, compile_how="decoder")


def test_without_a_cpp_compiler_the_layers_train_eagerly(tokenizer, monkeypatch, capsys):
    import torch._inductor.cpp_builder as builder

    def missing():
        raise RuntimeError("no C++ compiler found")

    monkeypatch.setattr(builder, "get_cpp_compiler", missing)
    model = tiny_model(tokenizer)
    assert train.compile_layers(model, "layers") == []
    assert all(la._compiled_call_impl is None for la in model.model.layers)
    assert "no C++ compiler" in capsys.readouterr().out
    assert train.compile_layers(model, "none") == []
    with pytest.raises(ValueError, match="train.compile: 'all' is not one of none, layers"):
        train.compile_layers(model, "all")


def test_the_heap_is_trimmed_around_each_save_and_validation_pass(tokenizer, tmp_path, monkeypatch):
    """allocator.trim before and after each checkpoint save and validation pass, and once at the end; not at the
    steps between."""
    from medillama import allocator

    events = []

    class Saw(TrainerCallback):  # added after the trim callback: called after it for the same event
        def on_evaluate(self, args, state, control, **kw):
            events.append("evaluated")

        def on_save(self, args, state, control, **kw):
            events.append("saved")

    monkeypatch.setattr(allocator, "trim", lambda: events.append(f"trim {trainer.state.global_step}") or True)
    ds = training_data.to_prompt_completion(rows(8), "alpaca", tokenizer)
    trainer = train.make_trainer(tiny_model(tokenizer), tokenizer, ds, ds, sft(tmp_path, max_steps=6, eval_strategy="steps",
                                 eval_steps=3, save_strategy="steps", save_steps=3), LORA, tmp_path / "out",
                                 fused_lm_head=False, use_peft=False)
    trainer.add_callback(Saw())
    trainer.train()
    each = ["trim {0}", "trim {0}", "evaluated", "trim {0}", "saved"]  # before, after the pass, after the save
    assert events == [e.format(3) for e in each] + [e.format(6) for e in each] + ["trim 6"]


def test_with_the_heap_settings_the_heap_is_also_trimmed_every_few_steps(tokenizer, tmp_path, monkeypatch):
    """Where the process runs with glibc's heap settings, step 04 trims every ``allocator.TRIM_STEPS`` steps too (what
    fragmentation leaves free goes back to the kernel); without them, only around saves and validation passes."""
    from medillama import allocator

    trims = []
    monkeypatch.setattr(allocator, "trim", lambda: trims.append(trainer.state.global_step) or True)
    monkeypatch.setattr(allocator, "TRIM_STEPS", 2)
    ds = training_data.to_prompt_completion(rows(8), "alpaca", tokenizer)
    for active, expected in ((True, [2, 4, 5]), (False, [5])):  # every 2 steps, and at the end
        monkeypatch.setattr(allocator, "active", lambda: active)
        trims.clear()
        trainer = train.make_trainer(tiny_model(tokenizer), tokenizer, ds, None,
                                     sft(tmp_path, max_steps=5, eval_strategy="no", save_strategy="no"), LORA,
                                     tmp_path / "out", fused_lm_head=False, use_peft=False)
        trainer.train()
        assert trims == expected, (active, trims)
