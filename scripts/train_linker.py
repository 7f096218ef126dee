"""Fit the story linker's weights on dated dev data, and measure story linking out-of-sample.

    python scripts/train_scorer.py --no-ship        # FEATS/loco-NAME.npz (events out-of-sample)
    python scripts/train_linker.py [--feats /tmp/storyline-feats]

Events come from the whole pipeline with each set's leave-one-corpus-out pair scorer. Every
pair of events the linker would look at (they share a specific entity key) becomes a row:
centroid cosine, rarity-weighted shared actors by kind (person, organisation, place, other),
keyphrase overlap, years apart; label = same gold story (gva: the incident; ECB+: every
event its own story — its topics are two look-alike events; seeds: one story). A logistic
regression on these rows gives :class:`~storyline.stories.event.LinkWeights` (written to
``src/storyline/data/linker.json``). Story figures are out-of-sample: the events are split in
two halves by gold story; weights fitted on one half (plus the other sets) link all events
of the other half, and B³ is computed over its articles.
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import sys
import tempfile
from collections import Counter
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from storyline.cluster.scorer import PairScorer, TreeModel
from storyline.evaluate.crossval import group_folds
from storyline.evaluate.datasets import load_articles, shared_data_dir
from storyline.evaluate.metrics import bcubed
from storyline.run.pipeline import Pipeline
from storyline.stories.event import LinkWeights
from storyline.stories.linker import StoryLinker

ROOT = Path(__file__).resolve().parents[1]
SETS = ["gva_dev", "ecbplus_dev", "seeds"]
KINDS = [("per", ("per",)), ("org", ("org",)), ("place", ("city", "loc")), ("other", ())]
COLUMNS = ["cosine", *[f"actors_{k}" for k, _ in KINDS], "keyphrases", "years", "shared", "rarest", "gap"]


def kind_of(key: str) -> str:
    prefix = key.split(":", 1)[0] if ":" in key else "other"
    for name, prefixes in KINDS:
        if prefix in prefixes:
            return name
    return "other"


def run_events(name: str, feats: Path, data: Path):  # type: ignore[no-untyped-def]
    """The pipeline's events of a set (LOCO scorer): StoryEvents, article → event, gold."""
    model, meta = TreeModel.load(feats / f"loco-{name if name != 'seeds' else 'ecbplus_dev'}.npz")
    scorer = PairScorer(model=model)
    scorer.meta = meta
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "run.db"
        shutil.copy(feats / "vectors.db", db)
        pipe = Pipeline(str(db), scorer=scorer, offload=False)
        report = pipe.run([str(data / f"{name}.jsonl")])
        events = dict(pipe.linker.events_)  # type: ignore[attr-defined]
    event_of = {a.article_id: a.event for a in report.assignments}
    gold = {r["id"]: r.get("story") or (r["event"] if name != "seeds" else "seeds") for r in load_articles(data / f"{name}.gold.jsonl")}
    return events, event_of, gold


def event_story(event_of: dict[str, str], gold: dict[str, str]) -> dict[str, str]:
    """Each predicted event's gold story: the majority of its articles'."""
    votes: dict[str, Counter[str]] = {}
    for a, ev in event_of.items():
        votes.setdefault(ev, Counter())[gold[a]] += 1
    return {ev: c.most_common(1)[0][0] for ev, c in votes.items()}


def rows(events: dict, story: dict[str, str]):  # type: ignore[no-untyped-def]
    """Features and labels of the event pairs sharing a specific key."""
    probe = StoryLinker()
    for ev in sorted(events.values(), key=lambda e: (e.date is None, e.date or 0, e.id)):
        probe.events_[ev.id] = ev
        probe._count(ev, +1)
    x, y, pairs = [], [], []
    for ev in events.values():
        for other in probe._candidates(ev):
            if other <= ev.id:
                continue
            o = events[other]
            x.append(features(probe, ev, o))
            y.append(story[ev.id] == story[other])
            pairs.append((ev.id, other))
    return np.array(x).reshape(-1, len(COLUMNS)), np.array(y, bool), pairs


def features(linker: StoryLinker, a, b) -> list[float]:  # type: ignore[no-untyped-def]
    shared = a.entities & b.entities
    by_kind = dict.fromkeys((k for k, _ in KINDS), 0.0)
    for k in shared:
        if not k.startswith("country:"):
            by_kind[kind_of(k)] += linker._rarity(linker._df[k])
    gap = abs((a.date - b.date).days) if a.date and b.date else 0
    specific = [linker._rarity(linker._df[k]) for k in shared if not k.startswith("country:")]
    return [
        float(np.dot(a.centroid, b.centroid)),
        *by_kind.values(),
        linker._keyphrase_overlap(a.keyphrases, b.keyphrases),
        min(gap / 365.25, 1.0),
        math.log1p(len(specific)),
        max(specific, default=0.0),
        math.log1p(min(gap, GAP_CAP[0])),
    ]


def weights_from(coef: np.ndarray, intercept: float) -> tuple[LinkWeights, float]:
    """LinkWeights whose linear score is the fitted logit, and the matching threshold."""
    c = dict(zip(COLUMNS, coef.tolist(), strict=True))
    kinds = (
        ("per", c["actors_per"]), ("org", c["actors_org"]), ("city", c["actors_place"]),
        ("loc", c["actors_place"]), ("country", 0.0), ("other", c["actors_other"]),
    )
    w = LinkWeights(
        centroid=c["cosine"], actors=1.0, keyphrases=c["keyphrases"], per_year=-c["years"],
        max_years=1.0, kinds=kinds, intercept=intercept,
        terms=(("shared", c["shared"]), ("rarest", c["rarest"]), ("gap", c["gap"])),
        gap_cap_days=GAP_CAP[0], fitted_days=FITTED_DAYS[0], hand_floor=HAND_FLOOR[0],
        vouch_rarity=VOUCH_RARITY[0],
    )
    return w, 0.5


DROP: set[str] = set()  # columns left out (--drop)
FITTED_DAYS = [36525.0]  # beyond: the hand rule (--fitted-days)
GAP_CAP = [36525.0]
C_ = [1.0]
HAND_FLOOR = [1.0]
VOUCH_RARITY = [0.0]  # ... counting keys at least this rare (--vouch-rarity)
CW: list[object] = [None]  # days counted by the "gap" column (--gap-cap)


def fit(x: np.ndarray, y: np.ndarray):  # type: ignore[no-untyped-def]
    from sklearn.linear_model import LogisticRegression

    keep = [i for i, c in enumerate(COLUMNS) if c not in DROP]
    m = LogisticRegression(C=C_[0], class_weight=CW[0], max_iter=2000).fit(x[:, keep], y)
    coef = np.zeros(len(COLUMNS))
    coef[keep] = m.coef_[0]
    return weights_from(coef, float(m.intercept_[0]))


def link_all(events: dict, weights: LinkWeights, threshold: float) -> dict[str, str]:  # type: ignore[no-untyped-def]
    gates = {"actor_min": 0.0, "min_cosine": 0.0} if weights.intercept is not None else {}
    linker = StoryLinker(weights=weights, threshold=threshold, **gates)
    linker.fit(events.values())
    return {ev: linker.resolve(linker.story_of_[ev]) for ev in events}


def story_scores(event_story_pred: dict[str, str], event_of: dict[str, str], gold: dict[str, str], keep) -> dict[str, float]:  # type: ignore[no-untyped-def]
    pred = {a: event_story_pred[ev] for a, ev in event_of.items() if keep(a)}
    b = bcubed(pred, {a: gold[a] for a in pred})
    return {"f1": round(b.f1, 4), "p": round(b.precision, 4), "r": round(b.recall, 4)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--feats", default="/tmp/storyline-feats")
    ap.add_argument("--out", default=str(ROOT / "src/storyline/data/linker.json"))
    ap.add_argument("--no-ship", action="store_true")
    ap.add_argument("--fitted-days", type=float, default=36525.0)
    ap.add_argument("--balanced", action="store_true")
    ap.add_argument("--hand-floor", type=float, default=1.0)
    ap.add_argument("--gap-cap", type=float, default=36525.0)
    ap.add_argument("--vouch-rarity", type=float, default=0.0)
    ap.add_argument("--drop", nargs="*", default=[], help="columns to leave out")
    ap.add_argument("--reuse", action="store_true", help="reuse the events of the last run")
    args = ap.parse_args()
    data = shared_data_dir()
    assert data is not None
    feats = Path(args.feats)
    DROP.update(args.drop)
    GAP_CAP[0] = args.gap_cap
    FITTED_DAYS[0] = args.fitted_days
    CW[0] = "balanced" if args.balanced else None
    HAND_FLOOR[0] = args.hand_floor
    VOUCH_RARITY[0] = args.vouch_rarity
    runs = {}
    import pickle

    for name in SETS:
        cache = feats / f"events-{name}.pkl"
        if args.reuse and cache.exists():
            events, event_of, gold = pickle.loads(cache.read_bytes())
        else:
            events, event_of, gold = run_events(name, feats, data)
            cache.write_bytes(pickle.dumps((events, event_of, gold)))
        story = event_story(event_of, gold)
        x, y, pairs = rows(events, story)
        runs[name] = {"events": events, "event_of": event_of, "gold": gold, "story": story, "x": x, "y": y, "pairs": pairs}
        print(f"{name}: {len(events)} events, {len(y)} candidate pairs, {int(y.sum())} same story", flush=True)
    report: dict[str, object] = {"columns": COLUMNS, "out_of_sample": {}}
    g = runs["gva_dev"]
    halves = group_folds([g["story"][ev] for ev in g["events"]], 2)
    half_of = dict(zip(g["events"], halves.tolist(), strict=True))
    pred_all: dict[str, str] = {}
    for k in (0, 1):
        xs = [runs[n]["x"] for n in SETS if n != "gva_dev"]
        ys = [runs[n]["y"] for n in SETS if n != "gva_dev"]
        tr = np.array([half_of[a] != k and half_of[b] != k for a, b in g["pairs"]], bool)
        xs.append(g["x"][tr])
        ys.append(g["y"][tr])
        weights, threshold = fit(np.concatenate(xs), np.concatenate(ys))
        test = {ev: e for ev, e in g["events"].items() if half_of[ev] == k}
        pred_all.update({ev: f"{k}:{s}" for ev, s in link_all(test, weights, threshold).items()})
    default = link_all(g["events"], LinkWeights(), 0.65)
    own = {ev: ev for ev in g["events"]}
    report["out_of_sample"] = {
        "gva_dev": {
            "learned_weights_2fold": story_scores(pred_all, g["event_of"], g["gold"], lambda a: True),
            "hand_weights": story_scores(default, g["event_of"], g["gold"], lambda a: True),
            "every_event_its_own_story": story_scores(own, g["event_of"], g["gold"], lambda a: True),
        }
    }
    # ECB+ out-of-sample: fitted without it
    xs = [runs[n]["x"] for n in SETS if n != "ecbplus_dev"]
    ys = [runs[n]["y"] for n in SETS if n != "ecbplus_dev"]
    weights, threshold = fit(np.concatenate(xs), np.concatenate(ys))
    e = runs["ecbplus_dev"]
    ecb_gold = {a: s for a, s in e["gold"].items()}
    report["out_of_sample"]["ecbplus_dev"] = {  # type: ignore[index]
        "learned_weights_loco": story_scores(link_all(e["events"], weights, threshold), e["event_of"], ecb_gold, lambda a: True),
        "hand_weights": story_scores(link_all(e["events"], LinkWeights(), 0.65), e["event_of"], ecb_gold, lambda a: True),
        "every_event_its_own_story": story_scores({ev: ev for ev in e["events"]}, e["event_of"], ecb_gold, lambda a: True),
    }
    print(json.dumps(report, indent=1))
    weights, threshold = fit(np.concatenate([r["x"] for r in runs.values()]), np.concatenate([r["y"] for r in runs.values()]))
    print("weights:", weights)
    seeds = link_all(runs["seeds"]["events"], weights, threshold)
    print("seeds stories:", len(set(seeds.values())), "events:", len(seeds))
    if not args.no_ship:
        from dataclasses import asdict

        w = asdict(weights)
        Path(args.out).write_text(json.dumps({"weights": w, "threshold": threshold, "actor_min": 0.0, "min_cosine": 0.0, "report": report}, indent=2) + "\n")
        print("wrote", args.out)


if __name__ == "__main__":
    main()
