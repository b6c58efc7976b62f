"""How much of a Hinglish message the gloss reads: recall and precision of the symptoms the gloss finds
(``gloss.glossed_symptoms``) against the symptom tokens a writer labelled (data/gloss/), with no model. A symptom
stated in English words is left to the model by design, so recall below 1 is expected on code-mixed messages.

    python bench/gloss_recall.py data/gloss/h1_messages.csv [--knowledge FOLDER] [--name NAME]

``--knowledge`` reads another knowledge folder (an older lexicon, to compare); the JSON goes to outputs/bench/.
"""
import argparse
from collections import Counter
from pathlib import Path

from common import save


def score(df, folder=None) -> dict:
    """Recall and precision over all labelled symptoms, by script, with the most missed and most wrongly read."""
    from medillama import gloss
    from medillama.ingest import normalise_symptom_token as token  # the dataset's stray spaces, as step 01 reads them

    out, missed, extra = {}, Counter(), Counter()
    for script, part in [("all", df), *df.groupby("script")]:
        hit = want_n = got_n = 0
        for text, symptoms in zip(part["text"], part["symptoms"]):
            want = {token(t) for t in symptoms.split(";")}
            got = {t for t, _ in gloss.glossed_symptoms(text, folder)}
            hit, want_n, got_n = hit + len(want & got), want_n + len(want), got_n + len(got)
            if script == "all":
                missed.update(want - got)
                extra.update(got - want)
        out[script] = {"rows": len(part), "recall": hit / want_n, "precision": hit / got_n if got_n else None,
                       "symptoms": want_n, "read": got_n}
    return {**out, "most_missed": missed.most_common(15), "most_read_unlabelled": extra.most_common(15)}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("csv")
    ap.add_argument("--knowledge", default=None, help="a knowledge folder other than data/knowledge")
    ap.add_argument("--name", default="")
    a = ap.parse_args(argv)

    import pandas as pd

    result = {"csv": a.csv, "knowledge": a.knowledge or "data/knowledge",
              **score(pd.read_csv(a.csv), Path(a.knowledge) if a.knowledge else None)}
    save(a.name or f"gloss_recall_{Path(a.csv).stem}", result)


if __name__ == "__main__":
    main()
