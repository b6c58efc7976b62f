"""The Hindi gloss's reading of every message a run's steps 04 and 05 read -- both probes, the validation and test
splits, an external CSV -- as JSON, with no model: a change to the gloss is compared on two checkouts' files, and
where no message reads differently no number of a run can move (docs/experiments.md, row 51).

    python bench/gloss_readings.py [--profile cpu] [--run NAME] [--external CSV] [--against FILE]

``--against`` another checkout's JSON of this bench: the messages that read differently, listed.
"""
import argparse
import json
from pathlib import Path

from common import OUT, add_run_args, machine, parse_run_args, splits


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_run_args(ap)
    ap.add_argument("--external", default="", help="a CSV with a text column, read as step 05 reads it")
    ap.add_argument("--against", default="", help="this bench's JSON from another checkout, to compare with")
    a = parse_run_args(ap, argv)

    import pandas as pd
    from medillama import config, paths
    from medillama.config import PROBES
    from medillama.gloss import hindi_gloss

    cfg = config.load_config(a.profile)
    texts = {label: list(pd.read_csv(paths.resolve(cfg["train"][key]))["text"])
             for label, key in PROBES.items() if cfg["train"].get(key)}
    sp = splits(a.run)
    texts.update({name: list(sp[name]["input_text"]) for name in ("validation", "test")})
    if a.external:
        texts["external"] = list(pd.read_csv(paths.resolve(a.external))["text"])
    readings = {k: [hindi_gloss(t) for t in v] for k, v in texts.items()}
    out = {"run": a.run, "messages": {k: len(v) for k, v in readings.items()},
           "glossed": {k: sum(r != str(t).strip() for r, t in zip(readings[k], texts[k])) for k in readings}}
    if a.against:
        other = json.loads(Path(a.against).read_text())["readings"]
        if {k: len(v) for k, v in other.items()} != out["messages"]:
            raise SystemExit(f"{a.against} holds other messages ({ {k: len(v) for k, v in other.items()} }): "
                             "make both files from the same run and --external")
        out["read_differently"] = {k: [{"before": b, "now": r} for b, r in zip(other[k], readings[k]) if b != r]
                                   for k in readings}
        out["read_differently_count"] = sum(len(v) for v in out["read_differently"].values())
    from medillama import io

    path = io.write_json(OUT / f"gloss_readings_{a.run}.json", {"machine": machine(), **out, "readings": readings})
    print(json.dumps(out, indent=2, ensure_ascii=False))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
