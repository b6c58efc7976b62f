"""Step 04's training rows, before the trainer sees them.

Three kinds of rows, each a prompt (the patient query in the chosen prompt style) and a completion:

- **answer**: a train row's full five-section answer + EOS (``select_rows`` picks how many per disease), so the
  model learns the format and to stop; with ``answer_copies`` above 1, the passes after the first ask each query
  anew (``reworded``, in shapes of their own), so the body is also written after queries in other words; with
  ``answer_copies_loss: body`` those later passes carry the decision lines in the prompt (``kind='body'``): they
  teach the body after those words and add nothing to what decides the condition and urgency;
- **decision**: ``decision_copies`` passes over the train split with only the first DECISION_LINES lines of the
  answer (the condition and how urgently to see a doctor) and no EOS, so the model does not learn to stop there.
  With ``varied_queries`` the passes after the first ask each query anew (``reworded``) from the row's symptoms;
- **drill**: decision rows for new subsets of the **train** symptom sets (``drill_rows``), which give each disease
  more ways to be described than its few source sets. A subset is kept only when it

  - names this disease only: no other disease's train set contains it (an ambiguous pair such as fever +
    headache would teach noise), and
  - equals no symptom set of the validation or test split and no source case, so the split guarantee holds.

``training_frames`` builds the three frames from the config's ``train`` section, ``to_prompt_completion``
tokenizes them as TRL does, and ``training_queries`` lists every training query (for a baseline that sees the
same queries as the fine-tuned model).
"""
from __future__ import annotations

import random
from pathlib import Path

import pandas as pd

from . import knowledge
from .answer import build_prompt, format_decision
from .balance import symptom_weights
from .gloss import LEGACY_STYLE, glossed_symptoms, hindi_gloss
from .config import check_choice, drills
from .queries import persona_query

DRILL_COLUMNS = ["input_text", "output_text", "disease", "symptoms", "triage"]
MAX_SYMPTOMS = 8  # a drill subset's largest size: longer subsets add tokens, not new evidence


def select_rows(df: pd.DataFrame, per_disease: int, seed: int) -> pd.DataFrame:
    """At most ``per_disease`` rows of each disease (seeded, whole original+paraphrase pairs first); 0 = all."""
    if per_disease <= 0:
        return df.reset_index(drop=True)
    parts = []
    for _, g in df.groupby("disease", sort=True):
        parts.append(g.sample(frac=1.0, random_state=seed).sort_values("base_row_id", kind="stable")
                     .head(per_disease) if len(g) > per_disease else g)
    return pd.concat(parts).sample(frac=1.0, random_state=seed).reset_index(drop=True)


DECISION_LINES = 2  # 'Likely condition' and 'See a doctor': what the patient must get right
WHOLE_ANSWER_KINDS = ("answer", "body")  # rows whose completion runs to the answer's end and its EOS


def decision_lines(answer: str) -> str:
    """The answer's decision: its first DECISION_LINES lines (the condition and how urgently to see a doctor),
    each with its newline."""
    return "".join(line + "\n" for line in answer.split("\n")[:DECISION_LINES])


def _tokenized(prompt: str, completion: str, tokenizer) -> dict:
    # As TRL tokenizes a prompt/completion pair: the completion starts where the two tokenizations diverge.
    from trl.data_utils import common_prefix_length

    ids = tokenizer(prompt + completion)["input_ids"]
    n = common_prefix_length(tokenizer(prompt)["input_ids"], ids)
    return {"input_ids": ids, "completion_mask": [0] * n + [1] * (len(ids) - n)}


def to_prompt_completion(df: pd.DataFrame, style: str, tokenizer, decision_df: pd.DataFrame | None = None,
                         decision_copies: int = 0, drill_df: pd.DataFrame | None = None, gloss_share: float = 0.0,
                         seed: int = 0, gloss_style: str = LEGACY_STYLE, gloss_keep: float = 1.0,
                         hinglish_weight: float = 1.0, body_only: bool = False):
    """Tokenized training rows. ``kind='answer'``: prompt + the full answer + EOS (the model learns the format and to
    stop). ``kind='decision'``: ``decision_copies`` passes over ``decision_df`` of prompt + the decision lines
    only (condition and urgency), with no EOS, so the model does not learn to stop there. The decision is ~25
    tokens of a ~190-token answer; these short rows (~95 tokens) drill it at a third of the cost of a full row.
    ``kind='drill'``: one pass over ``drill_df`` (``drill_rows``), built like decision rows. ``gloss_share``: the
    seeded share of rows whose prompt carries the Hindi gloss as the model's reading does, in ``gloss_style``
    (``train.gloss_training_share``; a row without Hindi symptom words reads the same either way); ``gloss_keep``: the
    seeded share of such a row's Hindi-stated symptoms its gloss writes, each drawn alone
    (``train.gloss_training_keep``; 1: all, as the model's reading writes them). ``hinglish_weight`` != 1: a
    ``loss_weight`` column, that weight on decision and drill rows whose query states a symptom in Hindi words (the
    gloss's reading of it, before any gloss is written), 1 on every other row (``train.hinglish_weight``).
    ``body_only``: answer rows of a pass after the first (``asked_anew``'s ``query_pass``) are ``kind='body'``: their
    decision lines follow the prompt, unlabelled, and the rest of the answer is the completion
    (``train.answer_copies_loss: body``)."""
    from datasets import Dataset

    eos = tokenizer.eos_token
    passes = df["query_pass"] if "query_pass" in df else [0] * len(df)
    rows = []
    for q, a, n in zip(df["input_text"], df["output_text"], passes):
        a = a if a.endswith(eos) else a + eos
        lead = decision_lines(a) if body_only and n > 0 else ""
        if lead and a.count("\n") < DECISION_LINES:
            raise ValueError(f"train.answer_copies_loss body: an answer without its {DECISION_LINES} decision lines "
                             f"and a body after them: {a[:80]!r}")
        rows.append((q, a[len(lead):], "body" if lead else "answer", lead))
    if decision_df is not None and decision_copies > 0:
        rows += [(q, decision_lines(a), "decision", "")
                 for q, a in zip(decision_df["input_text"], decision_df["output_text"])] * decision_copies
    if drill_df is not None:
        rows += [(q, decision_lines(a), "drill", "") for q, a in zip(drill_df["input_text"], drill_df["output_text"])]
    rng, drawn = random.Random(f"{seed}:gloss"), random.Random(f"{seed}:gloss_keep")

    def prompt(q: str) -> str:
        if rng.random() < gloss_share:  # the gloss as build_prompt writes it; in part, each symptom on a draw
            q = hindi_gloss(q, style=gloss_style, keep=None if gloss_keep >= 1 else lambda: drawn.random() < gloss_keep)
        return build_prompt(q, style, tokenizer)

    def weight(q: str, k: str) -> dict:
        if hinglish_weight == 1.0:
            return {}
        return {"loss_weight": hinglish_weight if k not in WHOLE_ANSWER_KINDS and glossed_symptoms(q) else 1.0}

    rows = [{"prompt": prompt(q) + lead, "completion": c, "kind": k, **weight(q, k)} for q, c, k, lead in rows]
    rows = [{**r, **_tokenized(r["prompt"], r["completion"], tokenizer)} for r in rows]
    return Dataset.from_list(rows)


def training_frames(splits: dict[str, pd.DataFrame], tcfg: dict, interim: Path, seed: int):
    """(answer rows, decision rows, decision copies, drill rows): what step 04 trains on for the ``train`` config
    section, before prompts and tokens. ``splits``: the dataset's train, validation and test frames; ``interim``:
    the run's folder with the source cases and symptom weights (drill rows only)."""
    tr = splits["train"]
    answers = asked_anew(select_rows(tr, tcfg["rows_per_disease"], seed), tcfg["answer_copies"], seed,
                         tcfg["hinglish_share"], "answer")
    drill = pd.DataFrame(columns=DRILL_COLUMNS)  # off: the source files are not read (nor step 04's inputs)
    varied = tcfg["varied_queries"]
    if drills(tcfg):
        drill = drill_rows(tr, pd.concat([splits["validation"], splits["test"]]),
                           pd.read_parquet(Path(interim) / "cases.parquet"),
                           pd.read_parquet(Path(interim) / "symptoms.parquet"), knowledge.lexicon(),
                           tcfg["drill_rows_per_disease"], tcfg["drill_min_symptoms"], seed, varied,
                           tcfg["hinglish_share"], tcfg["drill_emergency_share"])
    decision, copies = tr, tcfg["decision_copies"]
    if varied and copies > 1:
        decision, copies = asked_anew(tr, copies, seed, tcfg["hinglish_share"]), 1
    return answers, decision, copies, drill


def training_rows(splits: dict[str, pd.DataFrame], tcfg: dict, tokenizer, interim: Path, seed: int):
    """(answer rows, drill rows, tokenized dataset): the rows step 04 trains on (``training_frames``)."""
    answers, decision, copies, drill = training_frames(splits, tcfg, interim, seed)
    return answers, drill, to_prompt_completion(answers, tcfg["prompt_style"], tokenizer, decision, copies, drill,
                                                tcfg["gloss_training_share"], seed, tcfg["gloss_style"],
                                                tcfg["gloss_training_keep"], tcfg["hinglish_weight"],
                                                tcfg["answer_copies_loss"] == "body")


def training_queries(splits: dict[str, pd.DataFrame], tcfg: dict, interim: Path, seed: int) -> pd.DataFrame:
    """``input_text`` and ``disease`` of every row step 04 trains on, row for row (answers, each decision pass,
    drill rows): for a baseline that sees the same queries as the fine-tuned model."""
    answers, decision, copies, drill = training_frames(splits, tcfg, interim, seed)
    cols = ["input_text", "disease"]
    return pd.concat([answers[cols]] + [decision[cols]] * copies + [drill[cols]], ignore_index=True)


# --- drill rows: new, unambiguous subsets of the train symptom sets ------------------------------------------

def group_sets(df: pd.DataFrame) -> dict[str, list[frozenset]]:
    """Per disease, the symptom sets of its groups (a group's rows are its set and subsets of it)."""
    out: dict[str, list[frozenset]] = {}
    for (disease, _), syms in df.groupby(["disease", "group_id"], sort=True)["symptoms"]:
        out.setdefault(disease, []).append(frozenset().union(*(frozenset(s) for s in syms)))
    return out


def drill_subsets(train: pd.DataFrame, excluded: set[frozenset], per_disease: int, min_size: int = 2,
                  seed: int = 42, tries: int = 200, emergency=None,
                  emergency_share: dict[str, float] | None = None) -> list[tuple[str, list[str]]]:
    """Up to ``per_disease`` (disease, symptoms) pairs per disease: seeded draws of a train set and a subset size,
    kept when the subset is new (not in ``excluded``, not drawn before) and names this disease only.

    With ``emergency`` (``(disease, symptoms) -> bool``) and ``emergency_share`` ({disease: share}), a disease's
    subsets are emergencies in that share (rounded): a random subset often drops one of a red-flag pair (chest
    pain without the vomiting that makes GERD an emergency), which would teach the disease's usual urgency for
    sets that carry its red flags. When one kind runs out of new, unambiguous subsets, fewer of the other are
    kept, so the share holds."""
    sets = group_sets(train)
    out = []
    for disease in sorted(sets):
        rng = random.Random(f"{seed}:{disease}:drill")
        others = [s for d, ss in sets.items() if d != disease for s in ss]
        seen: set[frozenset] = set()
        picks: dict[bool, list] = {True: [], False: []}  # by whether the subset is an emergency
        want = None
        if emergency is not None and emergency_share is not None:
            n = round(emergency_share.get(disease, 0.0) * per_disease)
            want = {True: n, False: per_disease - n}
        for _ in range(per_disease * tries):
            if len(picks[True]) + len(picks[False]) >= per_disease:
                break
            source = sorted(rng.choice(sets[disease]))
            if len(source) <= min_size:
                continue
            sub = frozenset(rng.sample(source, rng.randint(min_size, min(len(source) - 1, MAX_SYMPTOMS))))
            if sub in seen or sub in excluded or any(sub <= o for o in others):
                continue
            kind = want is not None and bool(emergency(disease, sorted(sub)))
            seen.add(sub)
            if want is None or len(picks[kind]) < want[kind]:  # else drawn, not kept: its kind is full
                picks[kind].append(sorted(sub))
        if want is not None and all(want.values()):
            for short, full in ((True, False), (False, True)):
                if len(picks[short]) < want[short]:  # keep the share: fewer of the kind that did not run out
                    picks[full] = picks[full][:round(len(picks[short]) * want[full] / want[short])]
        out += [(disease, sub) for kind in (True, False) for sub in picks[kind]]
    return out


def asked_anew(df: pd.DataFrame, passes: int, seed: int, hinglish_share: float, name: str = "") -> pd.DataFrame:
    """``passes`` passes over ``df``: the first with its own queries, each later one asking them anew (``reworded``,
    the pass named ``name`` and its number, so passes of different kinds ask each their own way), each row's pass
    number in ``query_pass`` (0: the first)."""
    return pd.concat([df.assign(query_pass=0)] + [reworded(df, knowledge.lexicon(), seed, f"{name}{c}", hinglish_share)
                                                   .assign(query_pass=c) for c in range(1, passes)])


def reworded(train: pd.DataFrame, lexicon: dict, seed: int, copy, hinglish_share: float = 0.2) -> pd.DataFrame:
    """``train`` with every query asked anew (``queries.persona_query``, varied) from the row's own symptoms; the
    answers stay. Decision copies after the first: each pass over the split then says the same sets in other shapes;
    ``copy`` names the pass (whole-answer passes are named apart from decision passes, so each asks its own way)."""
    out = train.copy()
    out["input_text"] = [persona_query(list(s), lexicon, f"{seed}:{rid}:copy{copy}", varied=True,
                                         hinglish_share=hinglish_share)
                         for rid, s in zip(train["id"], train["symptoms"])]
    return out


def drill_rows(train: pd.DataFrame, heldout: pd.DataFrame, cases: pd.DataFrame, symptoms: pd.DataFrame,
               lexicon: dict, per_disease: int, min_size: int = 2, seed: int = 42, varied: bool = False,
               hinglish_share: float = 0.2, emergency_share: str = "drawn") -> pd.DataFrame:
    """Rows with ``input_text`` (``queries.persona_query``: a query from a seeded persona) and ``output_text`` (the condition and
    urgency lines, urgency from triage.yaml as for every reference answer) for ``drill_subsets``.
    ``heldout``: the validation and test rows; ``cases``: every source symptom set. ``emergency_share``: ``train``
    = each disease's drill rows are emergencies in the share its train rows are; ``drawn`` = as the draws fall."""
    if per_disease <= 0:
        return pd.DataFrame(columns=DRILL_COLUMNS)
    check_choice("train.drill_emergency_share", emergency_share)
    excluded = {frozenset(s) for frame in (train, heldout, cases) for s in frame["symptoms"]}
    weights = symptom_weights(symptoms)
    display = dict(zip(train["disease"], train["condition"]))

    def emergency(disease, syms) -> bool:
        return knowledge.case_level(disease, syms, weights)[0] == "emergency"

    shares = None
    if emergency_share == "train":
        flags = pd.Series([emergency(d, list(s)) for d, s in zip(train["disease"], train["symptoms"])],
                          index=train.index)
        shares = flags.groupby(train["disease"]).mean().to_dict()
    subsets = drill_subsets(train, excluded, per_disease, min_size, seed, emergency=emergency, emergency_share=shares)
    rows = []
    for i, (disease, syms) in enumerate(subsets):
        query = persona_query(syms, lexicon, f"{seed}:{disease}:{i}", varied, hinglish_share)
        level, _ = knowledge.case_level(disease, syms, weights)
        rows.append({"input_text": query, "output_text": format_decision(display[disease], knowledge.triage_advice(level)),
                     "disease": disease, "symptoms": syms, "triage": level})
    return pd.DataFrame(rows, columns=DRILL_COLUMNS)
