"""Families (copies and translations) on labelled sets: what ``FamilyFinder`` groups.

* ``wmt21_dev``: a gold cluster is one article and its human translations, i.e. one family;
  grouped over all 518 articles at once, B³ against the gold clusters.
* ``meantime_dev``: a gold event is one Wikinews article and its three translations (en, es,
  it, nl), one family; grouped over all 216 articles, B³.
* ``gva_dev``: different English reports of one gun-violence incident; grouped within each
  incident (as the pipeline groups within an event). Reported: the share of pairs of
  different articles put in one family, and of incidents with any such pair.
* ``examples/mixed.jsonl``: the bundled sample's ``family`` labels, grouped within each
  gold event.

Sentence vectors (USE, ``split_sentences`` of title and body without boilerplate: the pipeline
gives a family its title vector first, then its sentence vectors) are cached in ``$TMPDIR/storyline-bench-cache/families-<set>.npz``.

    OMP_NUM_THREADS=1 PYTHONPATH=src python bench/families.py [--sets wmt21_dev,meantime_dev,gva_dev,mixed]
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("STORYLINE_SHARED", REPO.parent / "shared")) / "data"
CACHE = Path(tempfile.gettempdir()) / "storyline-bench-cache"


def load(name: str) -> tuple[list[dict], dict[str, dict]]:
    if name == "mixed":
        rows = [json.loads(x) for x in (REPO / "examples" / "mixed.jsonl").open(encoding="utf-8")]
        gold = [json.loads(x) for x in (REPO / "examples" / "mixed.gold.jsonl").open(encoding="utf-8")]
    else:
        rows = [json.loads(x) for x in (DATA / f"{name}.jsonl").open(encoding="utf-8")]
        gold = [json.loads(x) for x in (DATA / f"{name}.gold.jsonl").open(encoding="utf-8")]
    return rows, {g["id"]: g for g in gold}


def docs_of(name: str, rows: list[dict]):  # type: ignore[no-untyped-def]
    from storyline.describe.families import FamilyDoc
    from storyline.prepare.clean import is_boilerplate, split_sentences

    texts = [f"{r.get('title') or ''}\n{r['text']}".strip() for r in rows]
    sents = [[s for s in split_sentences(t) if not is_boilerplate(s)] for t in texts]
    CACHE.mkdir(exist_ok=True)
    path = CACHE / f"families-{name}.npz"
    if path.exists():
        z = np.load(path)
        flat, bounds = z["flat"], z["bounds"]
    else:
        from storyline.represent.encoder import USEEncoder

        enc = USEEncoder()
        all_s = [s for ss in sents for s in ss]
        flat = np.concatenate([enc.encode(all_s[i : i + 256]) for i in range(0, len(all_s), 256)])
        bounds = np.cumsum([0] + [len(ss) for ss in sents])
        np.savez(path, flat=flat, bounds=bounds)
    out = []
    for k, r in enumerate(rows):
        v = flat[bounds[k] : bounds[k + 1]] if bounds[k + 1] > bounds[k] else None
        out.append(FamilyDoc(r["id"], r["lang"], texts[k], v, sents[k]))
    return out


def run(name: str) -> dict:
    from storyline.describe.families import FamilyFinder
    from storyline.evaluate.metrics import bcubed

    rows, gold = load(name)
    docs = docs_of(name, rows)
    ff = FamilyFinder()
    t0 = time.perf_counter()
    if name in ("wmt21_dev", "meantime_dev"):
        pred = ff.group(docs)
        b = bcubed(pred, {k: g["event"] for k, g in gold.items()})
        res = {"precision": round(b.precision, 4), "recall": round(b.recall, 4), "f1": round(b.f1, 4)}
    else:
        key = "story" if name == "gva_dev" else "event"
        groups: dict[str, list] = defaultdict(list)
        for d in docs:
            groups[gold[d.id].get(key) or gold[d.id]["event"]].append(d)
        pred = {}
        for members in groups.values():
            pred.update(ff.group(members))
        if name == "mixed":
            b = bcubed(pred, {k: g["family"] for k, g in gold.items()})
            res = {"precision": round(b.precision, 4), "recall": round(b.recall, 4), "f1": round(b.f1, 4),
                   "families": sorted({tuple(sorted(i for i in pred if pred[i] == f)) for f in pred.values()})}
        else:
            pairs = joined = copies = 0
            bad_groups = 0
            for members in groups.values():
                hit = False
                for a, b2 in itertools.combinations(members, 2):
                    pairs += 1
                    if pred[a.id] == pred[b2.id]:
                        joined += 1
                        hit = True
                        # near-verbatim copies (syndicated wire copy): word 5-shingle Jaccard
                        copies += ff.shingle_similarity(a, b2) >= ff.minhash_threshold
                bad_groups += hit
            res = {"pairs": pairs, "joined": joined, "share": round(joined / max(pairs, 1), 4),
                   "joined_verbatim_copies": copies,
                   "incidents": len(groups), "incidents_with_a_joined_pair": bad_groups}
    res["seconds"] = round(time.perf_counter() - t0, 1)
    return res


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sets", default="wmt21_dev,meantime_dev,gva_dev,mixed")
    args = ap.parse_args()
    for name in args.sets.split(","):
        print(name, json.dumps(run(name), ensure_ascii=False), flush=True)


if __name__ == "__main__":
    main()
