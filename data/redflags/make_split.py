"""Assign the dev/report split of messages.csv, deterministically, and rewrite the file.

Rule: the first writer's rows (writer w1) are split; the rows of w2-w7 and w10-w40 are dev (written later, to write and
check rules on); the rows of w8 and w9 are report (written last and kept unseen, to score a new writer's words). Group w1's rows by (label, flag, language); groups are taken in sorted
order and the rows of each group in id order; rows alternate dev/report inside a group, and the
starting side alternates from one group to the next so odd-sized groups do not all
tilt the same way. Re-running gives the same split (any existing split column is
ignored and recomputed).

Usage: python data/redflags/make_split.py [path/to/messages.csv]
"""
import csv
import sys
from pathlib import Path

COLUMNS = ["id", "text", "language", "label", "flag", "writer", "split"]
REPORT_WRITERS = {"w8", "w9"}


def assign(rows):
    groups = {}
    for row in rows:
        if row["writer"] != "w1":
            row["split"] = "report" if row["writer"] in REPORT_WRITERS else "dev"
            continue
        groups.setdefault((row["label"], row["flag"], row["language"]), []).append(row)
    for g, key in enumerate(sorted(groups)):
        for i, row in enumerate(sorted(groups[key], key=lambda r: r["id"])):
            row["split"] = "dev" if (i + g) % 2 == 0 else "report"
    return rows


def main(path):
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        sys.exit(f"{path}: no rows")
    missing = {"id", "text", "language", "label", "flag", "writer"} - set(rows[0])
    if missing:
        sys.exit(f"{path}: missing columns {sorted(missing)}")
    assign(rows)
    tmp = Path(str(path) + ".tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=COLUMNS, lineterminator="\n")
        w.writeheader()
        w.writerows({c: r[c] for c in COLUMNS} for r in rows)
    tmp.replace(path)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).with_name("messages.csv"))
