"""Cluster the labelled dev sets and save (or compare) every article's assignment.

A change that must not alter behaviour (a refactoring) is checked by saving the assignments
before it and comparing after it:

    python scripts/dev_assignments.py --out before.json            # on the old code
    python scripts/dev_assignments.py --compare before.json        # on the new code

Each set is clustered the way ``storyline eval`` does it (a fresh store, the default
pipeline). Saved per article: event, story, family and score (rounded to 6 decimals). The
comparison is exact up to renaming (event, story and family ids are compared as partitions,
then as ids) and prints every difference; the exit code is 1 when there is one.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from storyline import Pipeline
from storyline.evaluate import shared_data_dir

SETS = ("seeds", "ecbplus_dev", "wmt21_dev", "meantime_dev", "gva_dev")


def assignments(name: str, data: Path) -> dict[str, list[object]]:
    with tempfile.TemporaryDirectory() as tmp:
        pipe = Pipeline(Path(tmp) / "dev.db")
        report = pipe.run([str(data / f"{name}.jsonl")])
        pipe.store.close()
    return {
        a.article_id: [a.event, a.story, a.family, round(a.score, 6)]
        for a in report.assignments
    }


def compare(before: dict[str, dict[str, list[object]]], after: dict[str, dict[str, list[object]]]) -> int:
    diffs = 0
    for name in sorted(set(before) | set(after)):
        old, new = before.get(name), after.get(name)
        if old is None or new is None:
            print(f"{name}: only in {'after' if old is None else 'before'}")
            diffs += 1
            continue
        bad = [aid for aid in sorted(set(old) | set(new)) if old.get(aid) != new.get(aid)]
        for aid in bad[:20]:
            print(f"{name}: {aid}: {old.get(aid)} -> {new.get(aid)}")
        print(f"{name}: {len(old)} articles, {len(bad)} differ")
        diffs += len(bad)
    return 1 if diffs else 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, help="write the assignments here")
    ap.add_argument("--compare", type=Path, help="compare with assignments saved earlier")
    ap.add_argument("--sets", nargs="*", default=list(SETS))
    args = ap.parse_args()
    data = shared_data_dir()
    if data is None:
        print("no ../shared/data (set STORYLINE_SHARED)", file=sys.stderr)
        return 2
    result = {}
    for name in args.sets:
        t = time.perf_counter()
        result[name] = assignments(name, data)
        print(f"{name}: {len(result[name])} articles in {time.perf_counter() - t:.1f} s", file=sys.stderr)
    if args.out:
        args.out.write_text(json.dumps(result, sort_keys=True))
    if args.compare:
        before = json.loads(args.compare.read_text())
        return compare({k: v for k, v in before.items() if k in result}, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
