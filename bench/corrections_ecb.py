"""Corrections on ECB+ dev: move 20 wrongly placed articles to their gold events.

ECB+ dev is clustered by the default pipeline (``Pipeline(db).run([path])``, the code of
``storyline cluster``). An article's *gold event* in the store is the pipeline event that holds
most of the articles of its gold label, when that event's majority label is its own; a
*wrongly placed* article is one outside its gold event: in an event held mostly by another
gold label (a precision error; these come first), or split off in a piece of its own (a recall
error). The first 20 (by that order, then id) are moved to their gold events with
``Corrector.move`` (``storyline move``), one by one.

Reported: B³ precision / recall / F1 before and after; whether every other article's
assignment is unchanged (the partition of the other 631 articles, compared pair by pair) and
per-article B³ F1 of the others (none may drop); then the same after ``recluster`` of the
whole archive (corrections kept), and after a restart.

    python bench/corrections_ecb.py                  # build in a temp store (~2 min)
    python bench/corrections_ecb.py --db /tmp/ecb.db # build once there, reuse on later runs

Writes ``bench/results/corrections_ecb.json``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import read_jsonl, shared_data

from storyline import Pipeline
from storyline.corrections import Corrector
from storyline.evaluate.metrics import bcubed
from storyline.recluster import recluster

N_MOVES = 20


def assignments(p: Pipeline) -> dict[str, str]:
    return {a.article_id: a.event for a in p.store.iter_assignments()}


def per_item_f1(pred: dict[str, str], gold: dict[str, str]) -> dict[str, float]:
    by_p: dict[str, set[str]] = defaultdict(set)
    by_g: dict[str, set[str]] = defaultdict(set)
    for a, e in pred.items():
        by_p[e].add(a)
    for a, g in gold.items():
        by_g[g].add(a)
    out = {}
    for a in pred:
        both = len(by_p[pred[a]] & by_g[gold[a]])
        pr, rc = both / len(by_p[pred[a]]), both / len(by_g[gold[a]])
        out[a] = 2 * pr * rc / (pr + rc)
    return out


def pick_moves(pred: dict[str, str], gold: dict[str, str], n: int) -> list[tuple[str, str]]:
    members: dict[str, list[str]] = defaultdict(list)
    for a, e in pred.items():
        members[e].append(a)
    major = {e: Counter(gold[a] for a in ids).most_common(1)[0][0] for e, ids in members.items()}
    home: dict[str, str] = {}  # gold label -> the pipeline event holding most of it, if it is theirs
    for label in set(gold.values()):
        counts = Counter(pred[a] for a in pred if gold[a] == label)
        ev, _ = min(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        if major[ev] == label:
            home[label] = ev
    # articles not in their gold label's home event: those in an event of another label
    # first (precision errors), then those split off in a piece of their own (recall errors)
    wrong = [a for a in pred if gold[a] in home and home[gold[a]] != pred[a]]
    wrong.sort(key=lambda a: (major[pred[a]] == gold[a], a))
    return [(a, home[gold[a]]) for a in wrong[:n]]


def others_unchanged(before: dict[str, str], after: dict[str, str], moved: set[str]) -> bool:
    """The partition of the articles not moved is the same (pair by pair)."""
    rest = sorted(a for a in before if a not in moved)
    b = np.array([before[a] for a in rest])
    c = np.array([after[a] for a in rest])
    return bool(((b[:, None] == b[None, :]) == (c[:, None] == c[None, :])).all())


def score(pred: dict[str, str], gold: dict[str, str]) -> dict[str, float]:
    m = bcubed(pred, gold)
    return {"precision": round(m.precision, 4), "recall": round(m.recall, 4), "f1": round(m.f1, 4)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", help="store to build (or reuse when it exists)")
    args = ap.parse_args()
    data = shared_data()
    gold = {r["id"]: r["event"] for r in read_jsonl(data / "ecbplus_dev.gold.jsonl")}
    tmp = None
    if args.db:
        db = Path(args.db)
    else:
        tmp = Path(tempfile.mkdtemp(prefix="sl-corr-"))
        db = tmp / "ecb.db"
    t0 = time.time()
    p = Pipeline(str(db))
    if not p.store.count_articles():
        p.run([str(data / "ecbplus_dev.jsonl")])
    built = time.time() - t0
    if p.store.corrections():
        sys.exit(f"{db} already holds corrections; give a fresh --db")
    before = assignments(p)
    moves = pick_moves(before, gold, N_MOVES)
    f1_before = per_item_f1(before, gold)
    cor = Corrector(p)
    t1 = time.time()
    for a, ev in moves:
        cor.move(a, p.store.resolve("event", ev), author="bench")
    took = time.time() - t1
    after = assignments(p)
    moved = {a for a, _ in moves}
    f1_after = per_item_f1(after, gold)
    worse = sorted(a for a in before if a not in moved and f1_after[a] < f1_before[a] - 1e-12)
    better = sorted(a for a in before if a not in moved and f1_after[a] > f1_before[a] + 1e-12)
    placed = sum(1 for a, ev in moves if after[a] == p.store.resolve("event", ev))
    result: dict[str, object] = {
        "articles": len(before), "moves": len(moves), "placed": placed,
        "bcubed_before": score(before, gold), "bcubed_after": score(after, gold),
        "others_partition_unchanged": others_unchanged(before, after, moved),
        "others_worse": len(worse), "others_better": len(better),
        "build_seconds": round(built, 1), "seconds_per_move": round(took / max(len(moves), 1), 2),
    }  # fmt: skip
    p.store.close()
    q = Pipeline(str(db))  # a restart
    restarted = assignments(q)
    result["after_restart_same"] = restarted == after
    rep = recluster(q)
    re_ = assignments(q)
    result["recluster"] = {
        "bcubed": score(re_, gold),
        "moved_still_with_gold_event_members": sum(
            1 for a, _ in moves if any(re_[b] == re_[a] for b in before if b != a and gold[b] == gold[a] and b not in moved)
        ),
        "moved_still_apart_from_old_event": sum(
            1 for a, _ in moves
            if not any(re_[b] == re_[a] for b in before if b != a and before[b] == before[a] and gold[b] != gold[a])
        ),
        "summary": rep.summary(),
    }  # fmt: skip
    q.store.close()
    out = Path(__file__).resolve().parent / "results" / "corrections_ecb.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    if tmp is not None:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
