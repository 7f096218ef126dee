"""Features of every development article, computed once by the product's own code and cached.

    python scripts/featurize_dev.py [--data ../shared/data] [--out /tmp/storyline-feats]

For each set: the articles' :class:`~storyline.represent.features.ArticleFeatures` (USE
vectors, names, numbers, dates), the second encoder's (e5) lead vectors of every article, the
gold event, story and fold group, pickled to ``OUT/NAME.pkl``. ``scripts/train_scorer.py``
and the baselines read these files; vectors are cached in ``OUT/vectors.db`` so a rerun only
encodes new texts.
"""

from __future__ import annotations

import argparse
import pickle
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from storyline.evaluate.datasets import load_articles, shared_data_dir
from storyline.ingest.jsonl import article_from_record
from storyline.prepare.article import prepare
from storyline.represent.builder import FeatureBuilder, second_text
from storyline.represent.encoder import E5Encoder, USEEncoder
from storyline.store import open_store

SETS = ["seeds", "meantime_dev", "wmt21_dev", "ecbplus_dev", "gva_dev"]


def group_of(name: str, gold: dict) -> str:
    """The unit no fold may split: ECB+ topic, gva incident, else the gold event."""
    if name == "ecbplus_dev":
        return f"{name}:{re.sub('plus$', '', gold['event'])}"
    if name == "gva_dev":
        return f"{name}:{gold.get('story', gold['event'])}"
    return f"{name}:{gold['event']}"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=None)
    ap.add_argument("--out", default="/tmp/storyline-feats")
    ap.add_argument("--sets", nargs="*", default=SETS)
    args = ap.parse_args()
    data = Path(args.data) if args.data else shared_data_dir()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    store = open_store(out / "vectors.db")
    e5 = E5Encoder()
    for name in args.sets:
        t = time.time()
        rows = load_articles(data / f"{name}.jsonl")
        golds = {r["id"]: r for r in load_articles(data / f"{name}.gold.jsonl")}
        arts = [article_from_record(r, f"{name}:{n}") for n, r in enumerate(rows, 1)]
        items = [prepare(a) for a in arts]
        fb = FeatureBuilder(USEEncoder(), store)
        fb.observe(items)
        feats = fb.build(items)
        # every article's e5 vector of its lead (what the product reads outside USE's
        # languages), for the e5 baseline
        texts = [second_text(p, covered=False) for p in items]
        keys = [f"e5lead:{p.article.hash}" for p in items]
        have = store.get_vectors(keys, "e5-baseline")
        todo = [i for i, k in enumerate(keys) if k not in have]
        for s in range(0, len(todo), 64):
            idx = todo[s : s + 64]
            vecs = e5.encode([texts[i] for i in idx])
            new = {keys[i]: v for i, v in zip(idx, vecs, strict=True)}
            store.put_vectors(new, "e5-baseline")
            have.update(new)
        lead = {p.id: have[k] for p, k in zip(items, keys, strict=True)}
        meta = {
            p.id: {
                "published": p.article.published,
                "title": p.title,
                "text": p.clean_text,
                "lang": p.lang,
            }
            for p in items
        }
        gold = {i: g["event"] for i, g in golds.items()}
        story = {i: g.get("story", g["event"]) for i, g in golds.items()}
        groups = {i: group_of(name, g) for i, g in golds.items()}
        with open(out / f"{name}.pkl", "wb") as fh:
            pickle.dump(
                {"feats": feats, "e5": lead, "meta": meta, "gold": gold, "story": story, "groups": groups},
                fh,
            )
        print(f"{name}: {len(feats)} articles in {time.time() - t:.0f}s", flush=True)


if __name__ == "__main__":
    main()
