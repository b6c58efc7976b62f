import json

import pytest
import torch

from medillama import models
from medillama.generate import (AnswerNoRepeatNGram, CachedGenerator, FakeBackend, GenResult, HFBackend, cut_at_stop,
                                urgency_bias_processor)

PROMPTS = ["short", "a much longer prompt with many words in it", "mid length one",
           "x", "another fairly long prompt here", "tiny"]
PARAMS = {"max_new_tokens": 16, "temperature": 0.0}


# ---- FakeBackend and CachedGenerator (no model) ----

def test_fake_backend_deterministic():
    a, b = FakeBackend(), FakeBackend()
    out = a.generate(PROMPTS, max_new_tokens=50)
    assert out == b.generate(PROMPTS, max_new_tokens=50)
    assert len({r.text for r in out}) == len(PROMPTS)
    assert all(isinstance(r, GenResult) and r.finish_reason == "stop" for r in out)
    r = a.generate(["one two three four"], max_new_tokens=2)[0]
    assert (r.completion_tokens, r.finish_reason, r.prompt_tokens) == (2, "length", 4)
    assert FakeBackend(lambda p: p + " END more").generate(["hi"], max_new_tokens=9, stop=[" END"])[0].text == "hi"


def test_cut_at_stop():
    assert cut_at_stop("abc\ndef###", ["###", "\n"]) == ("abc", True)
    assert cut_at_stop("abc", None) == ("abc", False)


def make_gen(tmp_path, **kw):
    backend = FakeBackend(lambda p: p.upper())
    return backend, CachedGenerator(backend, tmp_path, batch_size=2, progress=False, **kw)


def test_cache_order_and_resume(tmp_path):
    backend, gen = make_gen(tmp_path)
    out = gen.run("task", "t1", PROMPTS, PARAMS)
    assert [r.text for r in out] == [p.upper() for p in PROMPTS]
    assert backend.calls == 3 and gen.last_run_stats["cached_batches"] == 0
    assert len(list((tmp_path / "task").glob("*.json"))) == 3

    backend, gen = make_gen(tmp_path)
    assert gen.run("task", "t1", PROMPTS, PARAMS) == out
    assert backend.calls == 0
    st = gen.last_run_stats
    assert (st["rows"], st["batches"], st["cached_batches"], st["completion_tokens"]) == (6, 3, 3, 0)


def test_corrupt_cache_file_is_regenerated(tmp_path):
    _, gen = make_gen(tmp_path)
    out = gen.run("task", "t1", PROMPTS, PARAMS)
    files = sorted((tmp_path / "task").glob("*.json"))
    files[0].write_text(files[0].read_text()[:20])  # a half-written file
    files[1].write_text(json.dumps({"prompts": [], "results": []}))  # wrong content
    backend, gen = make_gen(tmp_path)
    assert gen.run("task", "t1", PROMPTS, PARAMS) == out
    assert backend.calls == 2 and gen.last_run_stats["cached_batches"] == 1


def test_keys_depend_on_params_template_and_model(tmp_path):
    backend, gen = make_gen(tmp_path)
    base = gen.key("task", "t1", PROMPTS[:2], PARAMS)
    assert base != gen.key("task", "t1", PROMPTS[:2], {**PARAMS, "temperature": 0.7})
    assert base != gen.key("task", "t2", PROMPTS[:2], PARAMS)
    backend.name = "other-model"
    assert base != gen.key("task", "t1", PROMPTS[:2], PARAMS)
    backend.name = "fake"
    gen.run("task", "t1", PROMPTS, PARAMS)
    gen.run("task", "t1", PROMPTS, {**PARAMS, "max_new_tokens": 32})
    assert backend.calls == 6
    assert len(list((tmp_path / "task").glob("*.json"))) == 6


def test_progress_is_short(tmp_path, capsys):
    gen = CachedGenerator(FakeBackend(), tmp_path, batch_size=1, progress=True)
    gen.run("task", "t1", [f"prompt {i}" for i in range(100)], PARAMS)
    estimate, *lines = capsys.readouterr().out.splitlines()
    assert estimate.startswith("estimate for task: 100 rows x ~") and "on this machine" in estimate
    assert 1 <= len(lines) <= 20
    assert lines[-1].startswith("task: 100/100 rows,")


# ---- HFBackend on a tiny random Llama with the real SmolLM2 tokenizer ----

@pytest.fixture(scope="module")
def tiny():
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    tok = AutoTokenizer.from_pretrained(models.resolve_model(models.OFFLINE_MODEL), padding_side="left")
    models.set_pad_token(tok)
    assert tok.pad_token_id != tok.eos_token_id
    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=len(tok), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=256,
                         bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id,
                         pad_token_id=tok.pad_token_id)
    return LlamaForCausalLM(config).eval(), tok


def test_generator_decodes_from_the_precisions_inference_weights(tiny, monkeypatch):
    """Step 03's generator only generates: where bf16 autocast was chosen it holds bf16 weights
    (precision.for_inference) and its cache name says so; under fp32 it stays as loaded."""
    from transformers import LlamaConfig, LlamaForCausalLM

    from medillama import precision

    tok = tiny[1]

    def load_model(name, dtype="float32", device="auto"):
        cfg = LlamaConfig(vocab_size=len(tok), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                          num_attention_heads=4, num_key_value_heads=2, pad_token_id=tok.pad_token_id,
                          eos_token_id=tok.eos_token_id, bos_token_id=tok.bos_token_id)
        return LlamaForCausalLM(cfg).eval(), tok

    monkeypatch.setattr(models, "load_model", load_model)
    before = precision.current()
    try:
        for autocast, dtype, name in (("bf16", torch.bfloat16, "gen@bfloat16"), ("fp32", torch.float32, "gen")):
            precision.use(precision.Precision(autocast, "test"))
            backend = HFBackend.from_name("gen", batch_size=2)
            assert backend.model.dtype == dtype and backend.name == name
            assert backend.generate(["Hi"], max_new_tokens=4)[0].completion_tokens > 0
    finally:
        precision.use(before)


HF_PROMPTS = ["Hi", "What are the common symptoms of dengue fever in adults?", "Is paracetamol safe?"]


def test_hf_batched_equals_single_and_keeps_order(tiny):
    model, tok = tiny
    backend = HFBackend(model, tok, batch_size=8, name="tiny")
    batched = backend.generate(HF_PROMPTS, max_new_tokens=8)
    single = HFBackend(model, tok, batch_size=1).generate(HF_PROMPTS, max_new_tokens=8)
    assert [r.text for r in batched] == [r.text for r in single]
    # Each row matches its own generation: results are in input order, not length order.
    for p, r in zip(HF_PROMPTS, batched):
        assert backend.generate([p], max_new_tokens=8)[0] == r
    assert batched[0].prompt_tokens < batched[1].prompt_tokens
    assert all(r.completion_tokens == 8 and r.finish_reason == "length" for r in batched)
    assert backend.stats.completion_tokens > 0 and backend.stats.tokens_per_s > 0


def test_hf_eos_gives_stop(tiny):
    model, tok = tiny
    ids = HFBackend(model, tok).encode("Hi")
    first_id = model.generate(torch.tensor([ids]), max_new_tokens=1, do_sample=False)[0, -1].item()
    saved = model.generation_config.eos_token_id
    model.generation_config.eos_token_id = first_id  # the model's first token now ends the answer
    try:
        r = HFBackend(model, tok).generate(["Hi"], max_new_tokens=8)[0]
    finally:
        model.generation_config.eos_token_id = saved
    assert (r.completion_tokens, r.finish_reason) == (1, "stop")


def test_hf_seeded_sampling_reproducible(tiny):
    model, tok = tiny
    backend = HFBackend(model, tok, batch_size=2, chat=False)
    a = backend.generate(HF_PROMPTS, max_new_tokens=8, temperature=1.0, seed=3)
    b = backend.generate(HF_PROMPTS, max_new_tokens=8, temperature=1.0, seed=3)
    c = backend.generate(HF_PROMPTS, max_new_tokens=8, temperature=1.0, seed=4)
    assert a == b
    assert a != c


def repeats(ids: list[int], n: int) -> bool:
    grams = [tuple(ids[i:i + n]) for i in range(len(ids) - n + 1)]
    return len(grams) != len(set(grams))


def test_no_repeat_ngram_bans_answer_ngrams_not_prompt_ngrams():
    proc = AnswerNoRepeatNGram(3, prompt_len=4)
    prompt = [7, 8, 9, 1]  # the prompt holds 7 8 -> 9; the answer may quote it
    answer = [7, 8, 9, 5, 7, 8]  # the answer has written 7 8 -> 9 once: a second 9 would repeat "7 8 9"
    for k in range(len(answer) + 1):  # the processor sees every step, as in generate()
        scores = proc(torch.tensor([prompt + answer[:k]]), torch.zeros(1, 12))
        banned = set(torch.nonzero(scores[0] == float("-inf")).flatten().tolist())
        if k == 2:
            assert banned == set()  # "7 8" so far only in the prompt (and once in the answer): 9 allowed
        if k == 6:
            assert banned == {9}


def test_hf_no_repeat_ngram_breaks_loops(tiny):
    import copy

    from transformers import LogitsProcessorList

    model, tok = tiny
    model = copy.deepcopy(model)  # made to loop: it can only choose among 4 tokens, so 64 tokens must repeat a pair
    head = torch.zeros_like(model.lm_head.weight)
    v = torch.randn(2, head.shape[1], generator=torch.Generator().manual_seed(0))
    head[100:104] = torch.cat([v, -v])
    model.lm_head.weight = torch.nn.Parameter(head)
    backend = HFBackend(model, tok, batch_size=4, chat=False)
    enc = tok.pad({"input_ids": [backend.encode(p) for p in HF_PROMPTS]}, padding=True, return_tensors="pt")
    start = enc["input_ids"].shape[1]
    kw = dict(max_new_tokens=64, do_sample=False, pad_token_id=tok.pad_token_id)
    def answers(out):  # each row up to EOS (when every favoured token is banned, pad, id 0, wins a tie of zeros)
        return [row[:next((k for k, t in enumerate(row) if t == tok.eos_token_id), len(row))]
                for row in out[:, start:].tolist()]

    plain = answers(model.generate(**enc, **kw))
    blocked = answers(model.generate(**enc, **kw, logits_processor=LogitsProcessorList([AnswerNoRepeatNGram(2, start)])))
    assert all(repeats(row, 2) for row in plain)
    assert not any(repeats(row, 2) for row in blocked)
    # The backend passes the option through.
    texts = [r.text for r in backend.generate(HF_PROMPTS, max_new_tokens=64, no_repeat_ngram_size=2)]
    assert texts == [tok.decode(row, skip_special_tokens=True) for row in blocked]


def test_urgency_bias_favours_the_emergency_advice_where_the_answers_urgency_line_starts(tiny):
    from transformers import LogitsProcessorList

    from medillama.knowledge import triage_advice

    model, tok = tiny
    emergency = tok(" " + triage_advice("emergency"), add_special_tokens=False)["input_ids"][0]
    prompt = tok("### Patient: chest pain and vomiting\n### Answer:\n", add_special_tokens=False)["input_ids"]
    answer = tok("Likely condition: GERD\nSee a doctor:", add_special_tokens=False)["input_ids"]
    ids = torch.tensor([prompt + answer])
    kw = dict(max_new_tokens=1, do_sample=False, pad_token_id=tok.pad_token_id)
    plain = model.generate(ids, **kw)[0, -1].item()
    assert plain != emergency  # the random model would not choose it
    # the cue in the answer: the bias decides; the same words in the prompt (the answer not begun) move nothing
    biased = model.generate(ids, **kw, logits_processor=LogitsProcessorList([urgency_bias_processor(tok, 1e4, len(prompt))]))
    assert biased[0, -1].item() == emergency
    # a line that is not the urgency line's start gets no bias, nor the cue in the prompt once the answer has begun
    proc = urgency_bias_processor(tok, 3.0, len(prompt))
    scores = proc(torch.tensor([prompt + answer[:-1]]), torch.zeros(1, len(tok)))
    assert scores.abs().sum() == 0
    assert proc(ids, torch.zeros(1, len(tok)))[0, emergency] == 3.0
    begun = torch.tensor([prompt + answer + [plain]])
    assert urgency_bias_processor(tok, 3.0, len(prompt) + len(answer))(begun, torch.zeros(1, len(tok))).abs().sum() == 0


def test_the_backend_biases_each_left_padded_row_after_its_own_prompt(tiny, monkeypatch):
    from medillama.generate import CueBias

    model, tok = tiny
    seen = {}
    real = model.generate

    def spy(**kw):
        seen.update(kw)
        return real(**kw)

    monkeypatch.setattr(model, "generate", spy)
    backend = HFBackend(model, tok, batch_size=4, chat=False)
    backend.generate(HF_PROMPTS, max_new_tokens=2)
    assert "logits_processor" not in seen  # no bias, no processor: greedy as before
    backend.generate(HF_PROMPTS, max_new_tokens=2, urgency_bias=1.0, no_repeat_ngram_size=3)
    procs = seen["logits_processor"]
    cue = [p for p in procs if isinstance(p, CueBias)]
    longest = max(len(backend.encode(p)) for p in HF_PROMPTS)
    assert len(procs) == 2 and len(cue) == 1 and cue[0].start == longest and cue[0].bias == 1.0


# ---- The real offline model ----

@pytest.mark.slow
def test_real_smollm2_answers(tmp_path):
    backend = HFBackend.from_name(models.OFFLINE_MODEL, batch_size=4)
    gen = CachedGenerator(backend, tmp_path, progress=False)
    r = gen.run("smoke", "t0", ["What is 2+2?"], {"max_new_tokens": 24, "temperature": 0.0})[0]
    assert r.text.strip() and r.finish_reason in {"stop", "length"}
    assert 0 < r.completion_tokens <= 24
    assert gen.last_run_stats["tokens_per_s"] > 0 and backend.stats.tokens_per_s > 0


def test_generation_time_is_recorded_in_the_cache(tmp_path):
    """A re-run from the cache reports the time the generation took when it ran, not the zero it spends now."""
    gen = CachedGenerator(FakeBackend(), tmp_path, batch_size=2, progress=False)
    prompts = [f"p{i}" for i in range(5)]
    gen.run("task", "t1", prompts, PARAMS)
    first = gen.last_run_stats
    assert first["generation_seconds"] == pytest.approx(first["seconds"]) and first["cached_batches"] == 0
    gen.run("task", "t1", prompts, PARAMS)
    again = gen.last_run_stats
    assert again["cached_batches"] == 3 and again["seconds"] == 0
    assert again["generation_seconds"] == first["generation_seconds"]
    for f in (tmp_path / "task").glob("*.json"):  # a cache written before the seconds were recorded
        data = json.loads(f.read_text())
        del data["seconds"]
        f.write_text(json.dumps(data))
    gen.run("task", "t1", prompts, PARAMS)
    assert gen.last_run_stats["generation_seconds"] is None
