"""End to end: wall time of each step of runs, from their manifests.

    python bench/end_to_end.py [--runs cpu smoke]
"""
import argparse
import json

from common import save

from medillama import paths

TARGETS_MIN = {"cpu": 45, "smoke": 5}  # minutes: the issue targets for a fresh run


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", nargs="+", default=["cpu", "smoke"])
    a = ap.parse_args()
    result = {}
    for run in a.runs:
        steps = {}
        for m in sorted(paths.run_dir(run).glob("*/manifest.json")):
            info = json.loads(m.read_text())
            steps[info["step"]] = {"wall_seconds": info["wall_seconds"], "peak_memory_mb": info["peak_memory_mb"],
                                   "finished": info["finished"]}
        total = sum(s["wall_seconds"] for s in steps.values())
        result[run] = {"steps": steps, "total_minutes": round(total / 60, 1),
                       "target_minutes": TARGETS_MIN.get(run)}
    save("end_to_end", result)


if __name__ == "__main__":
    main()
