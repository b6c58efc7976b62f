"""End to end: wall time of each step of runs, from their manifests, and step 04's training speed: train tokens/s
and, on a CPU, the share of the matmul peak sampled while it trained (``throughput.py``).

    python bench/end_to_end.py [--runs cpu smoke]
"""
import argparse
import json

from common import save

from medillama import paths, throughput

TARGETS_MIN = {"cpu": 45, "smoke": 5}  # minutes: the issue targets for a fresh run
TRAINING = ("train_tokens_per_s", "train_gflops", "matmul_peak_gflops", "matmul_peak_dtype", "share_of_matmul_peak")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", nargs="+", default=["cpu", "smoke"])
    a = ap.parse_args()
    result = {}
    for run in a.runs:
        steps, training = {}, {}
        for m in sorted(paths.run_dir(run).glob("*/manifest.json")):
            info = json.loads(m.read_text())
            steps[info["step"]] = {"wall_seconds": info["wall_seconds"], "peak_memory_mb": info["peak_memory_mb"],
                                   "finished": info["finished"]}
            if info["step"] == "04_finetune":
                metrics = info.get("metrics", {})
                training = {k: metrics[k] for k in TRAINING if k in metrics}
        total = sum(s["wall_seconds"] for s in steps.values())
        result[run] = {"steps": steps, "total_minutes": round(total / 60, 1),
                       "target_minutes": TARGETS_MIN.get(run),
                       "training": {**training, "target_share": throughput.TARGET_SHARE} if training else None}
    save("end_to_end", result)


if __name__ == "__main__":
    main()
