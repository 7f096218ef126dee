"""Same-template match reports, one round of four matches a week: how many events mix weeks
or mix matches of one round. Uses the shipped pipeline (USE, pair scorer).

    python bench/templates.py [--n 200] [--out bench/results/templates.md]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from test_templates import match_reports

from storyline import Pipeline


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "templates.md"))
    args = ap.parse_args()
    rows = match_reports(args.n)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "m.jsonl"
        path.write_text("".join(json.dumps(r) + "\n" for r in rows))
        t = time.time()
        report = Pipeline(str(Path(tmp) / "m.db"), offload=False).run([str(path)])
        took = time.time() - t
    day = {r["id"]: r["published"] for r in rows}
    members: dict[str, list[str]] = defaultdict(list)
    for a in report.assignments:
        members[a.event].append(a.article_id)
    weeks = sum(len({day[m] for m in ms}) > 1 for ms in members.values())
    mixed = sum(len(ms) > 1 for ms in members.values())
    rounds = sum(len({day[m] for m in ms}) < len(ms) for ms in members.values())  # 2 of one day
    text = (
        f"# Same-template match reports ({args.n} reports, 4 matches a week)\n\n"
        f"- events: {len(members)} (one per report would be right)\n"
        f"- events joining reports of different weeks: {weeks}\n"
        f"- events joining two or more reports: {mixed}\n"
        f"- events joining two matches of one round (one day): {rounds}\n"
        f"- run time: {took:.0f} s\n"
    )
    Path(args.out).write_text(text)
    print(text)


if __name__ == "__main__":
    main()
