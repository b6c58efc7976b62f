"""The Hindi gloss's reading of every message a run's steps 04 and 05 read -- both probes, the validation and test
splits, an external CSV -- as JSON, with no model: a change to the gloss is compared on two checkouts' files, and
where no message reads differently no number of a run can move (docs/experiments.md, row 51). Written in brackets
whatever the run's ``train.gloss_style``: the style changes how the same glossed symptoms are written, not which.

    python bench/gloss_readings.py [--profile cpu] [--run NAME] [--external CSV] [--against FILE]

``--against`` another checkout's JSON of this bench: the messages that read differently, listed. Run each checkout
with its own environment (an editable install reads its own checkout's gloss and lexicon); the JSON records which
code it read (commit and a hash of the gloss, textnorm and lexicon files) and is named by its commit.
"""
import argparse
import hashlib
import json
import subprocess
from pathlib import Path

from common import OUT, add_run_args, machine, parse_run_args, splits


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_run_args(ap)
    ap.add_argument("--external", default="", help="a CSV with a text column (every row; step 05 reads a sample)")
    ap.add_argument("--against", default="", help="this bench's JSON from another checkout, to compare with")
    a = parse_run_args(ap, argv)

    import pandas as pd
    from medillama import config, gloss, io, paths
    from medillama.config import PROBES

    cfg = config.load_config(a.profile)
    texts = {label: list(pd.read_csv(paths.resolve(cfg["train"][key]))["text"])
             for label, key in PROBES.items() if cfg["train"].get(key)}
    sp = splits(a.run)
    texts.update({name: list(sp[name]["input_text"]) for name in ("validation", "test")})
    if a.external:
        texts["external"] = list(pd.read_csv(paths.resolve(a.external))["text"])
    readings = {k: [gloss.hindi_gloss(t) for t in v] for k, v in texts.items()}
    src = Path(gloss.__file__).parent  # the code this environment imports
    files = [src / "gloss.py", src / "textnorm.py", paths.KNOWLEDGE / "symptom_lexicon.yaml"]
    commit = subprocess.run(["git", "-C", str(paths.ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip() or "unknown"
    code = {"root": str(paths.ROOT), "commit": commit,
            "sha256": hashlib.sha256(b"".join(f.read_bytes() for f in files)).hexdigest()}
    out = {"run": a.run, "code": code, "messages": {k: len(v) for k, v in readings.items()},
           "glossed": {k: sum(r != str(t).strip() for r, t in zip(readings[k], texts[k])) for k in readings}}
    if a.against:
        other = json.loads(paths.resolve(a.against).read_text())
        if other.get("code", {}).get("sha256") == code["sha256"]:
            raise SystemExit(f"{a.against} was made from the same gloss, textnorm and lexicon: run this bench in the "
                             "other checkout with its own environment")
        if other["run"] != a.run or other["messages"] != out["messages"]:
            raise SystemExit(f"{a.against} holds other messages (run {other['run']}, {other['messages']}; here run "
                             f"{a.run}, {out['messages']}): make both from the same run and --external")
        out["read_differently"] = {k: [{"before": b, "now": r} for b, r in zip(other["readings"][k], readings[k])
                                       if b != r] for k in readings}
        out["read_differently_count"] = sum(len(v) for v in out["read_differently"].values())
    path = io.write_json(OUT / f"gloss_readings_{a.run}_{commit}.json",
                         {"machine": machine(), **out, "readings": readings})
    print(json.dumps(out, indent=2, ensure_ascii=False))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
