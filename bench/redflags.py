"""The red-flag banner on the labelled messages (data/redflags/messages.csv): its recall and false alarms on the
reported half (never used to write or fit anything), per language, and how it carries over to a writer it has not
read (each dev writer scored by a classifier fitted on the others: how the thresholds were chosen). No model, no run.

    python bench/redflags.py
"""
import time

from common import save


def main():
    from medillama import paths, redflags, safety

    t0 = time.perf_counter()
    report = safety.red_flag_set_scores(paths.RED_FLAG_MESSAGES, "report")
    by_writer = redflags.writer_out_scores()
    redflags.emergency_probability("warm up")
    texts = [f"message {i}: seene mein dard aur pasina since {i} min" for i in range(200)]
    t1 = time.perf_counter()
    for t in texts:
        redflags.flags_in_text(t)
    per_query_ms = (time.perf_counter() - t1) / len(texts) * 1000
    save("redflags", {"report": {k: v for k, v in report.items() if k != "missed"}, "missed": report["missed"],
                      "writer_out": by_writer, "per_query_ms": round(per_query_ms, 3),
                      "seconds": round(time.perf_counter() - t0, 1)})


if __name__ == "__main__":
    main()
