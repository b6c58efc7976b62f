"""Live progress: what library code reports (generation, training), the status file, and the runner's view."""
import io as stdio
import json

import pytest

from medillama import progress, train, training_data
from medillama.generate import CachedGenerator, FakeBackend
from test_train import LORA, rows, sft, tiny_model, tokenizer  # noqa: F401  (tokenizer: a fixture)

PARAMS = {"max_new_tokens": 16, "temperature": 0.0}


@pytest.fixture
def status(tmp_path):
    path = tmp_path / progress.FILE
    progress.bind(path, "03_synthesize")
    yield path
    progress.bind(None)


@pytest.fixture
def updates(monkeypatch):
    seen = []
    real = progress.update
    monkeypatch.setattr(progress, "update", lambda *a, **kw: (seen.append((a, kw)), real(*a, **kw)))
    return seen


def test_generation_reports_rows_rate_and_an_estimate_then_the_actual_time(status, tmp_path, updates):
    gen = CachedGenerator(FakeBackend(), tmp_path / "cache", batch_size=10, progress=False)
    gen.run("patient_query", "t1", [f"prompt {i}" for i in range(30)], PARAMS)
    st = json.loads(status.read_text())
    assert st["step"] == "03_synthesize"
    assert st["current"]["phase"] == "patient_query" and st["current"]["done"] == st["current"]["total"] == 30
    assert [a[1] for a, _ in updates] == [0, 10, 20, 30]
    assert st["current"]["rate"] > 0 and st["current"]["rate_unit"] == "tok/s"
    assert len(st["notes"]) == 2 and st["notes"][0].startswith("estimate for patient_query: 30 rows x ~")
    assert st["notes"][1].startswith("patient_query: 30/30 rows, ")  # the phase's last state, kept for the runner
    t = st["timings"]["patient_query"]
    assert t["rows_to_generate"] == 30 and t["estimate_s"] >= 0 and t["actual_s"] >= 0
    # all cached now: nothing to estimate, 30 rows done at once per batch
    progress.bind(status, "03_synthesize")
    gen.run("patient_query", "t1", [f"prompt {i}" for i in range(30)], PARAMS)
    st = json.loads(status.read_text())
    assert st["notes"] == ["patient_query: 30/30 rows"]  # no estimate to make, only the finished phase
    assert st["timings"] == {} and st["current"]["info"] == "" and st["current"]["done"] == 30


def test_a_phase_counts_the_batches_of_a_plain_backend(status, updates):
    with progress.phase("probe (condition line)", 3):
        progress.tick(2, tokens=10)
        progress.tick(1, tokens=5)
    progress.tick(5)  # no phase open: ignored
    st = json.loads(status.read_text())
    assert st["current"]["phase"] == "probe (condition line)" and st["current"]["done"] == 3
    assert [a[1] for a, _ in updates] == [0, 2, 3]


def test_training_reports_steps_loss_estimate_and_validation(status, tokenizer, tmp_path, updates):  # noqa: F811
    ds = training_data.to_prompt_completion(rows(8), "alpaca", tokenizer)
    trainer = train.make_trainer(tiny_model(tokenizer), tokenizer, ds, ds, sft(
        tmp_path, max_steps=4, per_device_train_batch_size=2, logging_steps=1, eval_strategy="steps", eval_steps=2,
        per_device_eval_batch_size=4), LORA, tmp_path / "out")
    trainer.train()
    st = json.loads(status.read_text())
    phases = [(a[0], a[1], a[2]) for a, _ in updates]
    assert ("train", 4, 4) in phases and ("validation loss", 2, 2) in phases
    last_train = [kw for a, kw in updates if a[0] == "train"][-1]
    assert last_train["rate"] > 0 and last_train["info"].startswith("loss ")
    assert any(n.startswith("estimate for training: 4 steps x ~") and "2 validation-loss passes" in n
               for n in st["notes"])
    t = st["timings"]["train"]
    assert t["steps"] == 4 and t["estimate_s"] > 0 and t["actual_s"] > 0 and t["steps_trained"] == 4


def state(phase, done, total, **kw):
    return {"step": "04_finetune", "notes": kw.pop("notes", []),
            "current": {"phase": phase, "done": done, "total": total, "unit": "steps", "rate": kw.get("rate"),
                        "rate_unit": "train tok/s", "eta_s": kw.get("eta_s"), "info": kw.get("info", "")}}


def test_plain_view_prints_notes_once_each_phase_and_then_every_interval(monkeypatch):
    out = stdio.StringIO()
    clock = [0.0]
    monkeypatch.setattr(progress.time, "monotonic", lambda: clock[0])
    view = progress.Terminal("04_finetune", stream=out, tty=False, every_s=20)
    view.show(None)
    view.show({**state("train", 0, 10), "step": "03_synthesize"})  # another step's file: not shown
    view.show(state("train", 1, 10, notes=["precision: fp32 on cpu (...)"], info="loss 2.608", rate=203.4, eta_s=90))
    clock[0] = 5
    view.show(state("train", 2, 10, notes=["precision: fp32 on cpu (...)"]))  # same phase, 5 s later: quiet
    clock[0] = 21
    view.show(state("train", 5, 10, notes=["precision: fp32 on cpu (...)"], eta_s=30))
    view.show(state("validation loss", 1, 3, notes=["precision: fp32 on cpu (...)"]))
    view.show(state("validation loss", 3, 3, notes=["precision: fp32 on cpu (...)"]), final=True)
    lines = out.getvalue().splitlines()
    assert lines == ["[04_finetune] precision: fp32 on cpu (...)",
                     "[04_finetune] train: 1/10 steps, loss 2.608, 203.4 train tok/s, ETA 1m30s (0m00s into the step)",
                     "[04_finetune] train: 5/10 steps, ETA 0m30s (0m21s into the step)",
                     "[04_finetune] validation loss: 1/3 steps (0m21s into the step)",
                     "[04_finetune] validation loss: 3/3 steps (0m21s into the step)"]


def test_terminal_view_draws_a_tqdm_bar():
    out = stdio.StringIO()
    view = progress.Terminal("04_finetune", stream=out, tty=True)
    view.show(state("train", 3, 10, info="loss 1.5", notes=["estimate for training: ..."]))
    view.close()
    text = out.getvalue()
    assert "[04_finetune] estimate for training: ..." in text
    assert "[04_finetune] train:  30%|" in text and "3/10 steps" in text and "loss 1.5" in text


def test_a_model_step_records_its_precision_and_timings_in_its_manifest(tmp_path, monkeypatch):
    from medillama import paths, precision
    from medillama.pipeline import Step

    monkeypatch.setattr(paths, "OUTPUTS", tmp_path / "outputs")  # a throw-away run folder
    run_name = "precision"
    monkeypatch.setattr(precision, "cpu_flags", lambda: {"avx2"})  # no native bf16: fp32 without a probe
    try:
        step = Step("04_finetune", "smoke", run_name)
        assert precision.current() == step.precision and not step.precision.bf16
        st = json.loads((step.dir / progress.FILE).read_text())
        assert st["step"] == "04_finetune" and st["notes"] == [step.precision.describe()]
        progress.timing("train", estimate_s=12.0, actual_s=15.5)
        m = step.finish({})
        assert Step("02_severity_balance", "smoke", run_name).precision is None  # no model forwards there
    finally:
        precision.use(None)
        progress.bind(None)
    assert m["precision"] == {"autocast": "fp32", "reason": step.precision.reason, "device": "cpu"}
    assert "amx_bf16" in m["precision"]["reason"] and m["timings"] == {"train": {"estimate_s": 12.0, "actual_s": 15.5}}


def test_training_rate_and_eta_come_from_the_tokens_the_steps_trained_on(status, updates, monkeypatch):
    """Batches grouped by length come longest first: a rate from the mean row length would make the first steps
    look slow, so the callback counts the tokens each step was actually given."""
    from types import SimpleNamespace

    clock = iter([0.0, 2.0, 4.0])
    monkeypatch.setattr(progress.time, "perf_counter", lambda: next(clock))
    seen = iter([0, 250, 400])  # tokens trained so far: at the start, after step 1 (the longest), after step 2
    cb = progress.training_callback(tokens_per_step=100.0, tokens_seen=lambda: next(seen), measure_steps=1)
    args = SimpleNamespace(eval_strategy="no", eval_steps=None)
    cb.on_train_begin(args, SimpleNamespace(global_step=0, max_steps=4), None)
    cb.on_step_begin(args, SimpleNamespace(global_step=0, max_steps=4), None)
    cb.on_step_end(args, SimpleNamespace(global_step=1, max_steps=4), None)
    last = [kw for a, kw in updates if a[0] == "train"][-1]
    assert last["rate"] == pytest.approx(125.0)  # 250 tokens in 2 s, not 100 tokens (the mean) in 2 s
    assert last["eta_s"] == pytest.approx((400 - 250) / 125.0)  # the tokens still to train at that rate


def test_training_estimate_leaves_out_the_first_steps_one_time_costs(status, updates, monkeypatch):
    """The first step is slow (kernels chosen, optimizer state allocated): rate and estimate come from the steps after
    it, and the estimate adds the first step's own time."""
    from types import SimpleNamespace

    clock = iter([0.0, 0.0, 10.0, 12.0, 14.0])  # train begin, step begin, then the end of steps 1-3
    monkeypatch.setattr(progress.time, "perf_counter", lambda: next(clock))
    seen = iter([0, 100, 200, 300])
    cb = progress.training_callback(tokens_per_step=100.0, tokens_seen=lambda: next(seen), measure_steps=2)
    args = SimpleNamespace(eval_strategy="no", eval_steps=None)
    cb.on_train_begin(args, SimpleNamespace(global_step=0, max_steps=4), None)
    cb.on_step_begin(args, SimpleNamespace(global_step=0, max_steps=4), None)
    for step in (1, 2, 3):
        cb.on_step_end(args, SimpleNamespace(global_step=step, max_steps=4), None)
    last = [kw for a, kw in updates if a[0] == "train"][-1]
    assert last["rate"] == pytest.approx(50.0)  # 200 tokens in steps 2-3's 4 s; with step 1: 300 in 14 s
    t = json.loads(status.read_text())["timings"]["train"]
    assert t["estimate_s"] == pytest.approx(10.0 + 300 / 50.0) and t["train_tokens_per_s"] == pytest.approx(50.0)


@pytest.mark.parametrize("every, start, expected", [
    (200, 0, 5),      # 200, 400, 600, 800 and the last step, 805
    (0.34, 0, 3),     # a share of the steps: every 274 (274, 548) and the last step
    (0.25, 0, 4),     # every 202: 202, 404, 606, then 805
    (161, 0, 5),      # 805 is a multiple: no extra pass at the end
    (200, 400, 3),    # resumed after step 400: 600, 800, 805
])
def test_eval_passes_counts_the_trainers_validation_passes(every, start, expected):
    """The estimate names the validation-loss passes still to come: the Trainer's own schedule (transformers'
    DefaultFlowCallback), a share below 1 read as steps of this run."""
    from types import SimpleNamespace

    args = SimpleNamespace(eval_strategy="steps", eval_steps=every)
    assert progress.eval_passes(args, SimpleNamespace(max_steps=805), start) == expected
    assert progress.eval_passes(SimpleNamespace(eval_strategy="no", eval_steps=every),
                                SimpleNamespace(max_steps=805), start) == 0
