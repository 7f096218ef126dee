"""Story linking measured on what the real pipeline builds (ECB+ dev and the seeds).

ECB+ dev: every topic holds two unrelated events of one kind (gold labels ``7`` / ``7plus``),
so a story must never hold events of two topics, and a topic's two events should stay apart.
The articles are clustered by ``Pipeline(db).run([path])`` (the same code as
``storyline cluster``) into a store; then, from that store:

* **online**: the stories the pipeline made while clustering (the store's assignments);
* **rebuild**: ``Pipeline.rebuild_stories()`` on the reopened store (the batch path).

Each pipeline event gets the gold label held by most of its articles (its topic = the label
without ``plus``). Reported per run:

* ``purity``: share of articles whose gold topic is their story's majority topic;
* ``spanning``: stories holding events of two gold topics (must be 0);
* ``topics_joined``: topics whose two gold events (``7`` and ``7plus``) share a story;
* ``split_joined``: gold events split by the clusterer into several pipeline events whose
  pieces the story linker put back into one story, out of ``split_events``.

Seeds: the five seed articles (one story: June 2020 dialogue → January 2024 talks) are run in
one go and in both orders of arrival (003 first, 003 last); a pass means one story holding two
events.

    python bench/stories_ecb.py                 # build ECB+ in a temp store (~1.5 min)
    python bench/stories_ecb.py --db /tmp/ecb.db  # build once there, reuse on later runs

Prints a table and writes ``bench/results/stories_ecb.json``.
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

REPO = Path(__file__).resolve().parents[1]


def find_shared() -> Path:
    import os

    for cand in (os.environ.get("STORYLINE_SHARED"), REPO.parent / "shared"):
        if cand and (Path(cand) / "data").is_dir():
            return Path(cand)
    sys.exit("shared data not found: set STORYLINE_SHARED (folder with seeds/ and data/)")


def topic_of(label: str) -> str:
    return label.replace("plus", "")


def metrics(
    story_events: dict[str, list[str]],
    event_articles: dict[str, list[str]],
    gold: dict[str, str],
) -> dict[str, object]:
    """Story metrics against gold topics (see the module doc)."""
    ev_label = {
        ev: Counter(gold[a] for a in arts).most_common(1)[0][0]
        for ev, arts in event_articles.items()
    }
    n_art = sum(len(event_articles[e]) for evs in story_events.values() for e in evs)
    pure = 0
    spanning: list[list[str]] = []
    for evs in story_events.values():
        topics = Counter(topic_of(gold[a]) for e in evs for a in event_articles[e])
        pure += topics.most_common(1)[0][1]
        ev_topics = sorted({topic_of(ev_label[e]) for e in evs})
        if len(ev_topics) > 1:
            spanning.append(ev_topics)
    labels_in: dict[str, set[str]] = {sid: {ev_label[e] for e in evs} for sid, evs in story_events.items()}
    topics = sorted({topic_of(lab) for lab in gold.values()}, key=lambda t: (len(t), t))
    joined = [
        t for t in topics if any({t, f"{t}plus"} <= labs for labs in labels_in.values())
    ]
    story_of = {e: sid for sid, evs in story_events.items() for e in evs}
    pieces: dict[str, set[str]] = defaultdict(set)
    for ev, lab in ev_label.items():
        pieces[lab].add(ev)
    split = {lab: evs for lab, evs in pieces.items() if len(evs) > 1}
    split_joined = sum(len({story_of[e] for e in evs}) == 1 for evs in split.values())
    return {
        "events": len(event_articles),
        "stories": len(story_events),
        "multi_event_stories": sum(len(v) > 1 for v in story_events.values()),
        "purity": round(pure / n_art, 4) if n_art else 1.0,
        "spanning": len(spanning),
        "spanning_topics": spanning,
        "topics": len(topics),
        "topics_joined": len(joined),
        "joined": joined,
        "split_events": len(split),
        "split_joined": split_joined,
    }


def load_gold(data: Path) -> dict[str, str]:
    gold = {}
    for line in (data / "ecbplus_dev.gold.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        gold[row["id"]] = row["event"]
    return gold


def online_stories(store) -> tuple[dict[str, list[str]], dict[str, list[str]]]:  # type: ignore[no-untyped-def]
    """(story → events, event → articles) from the store's assignments."""
    ev_arts: dict[str, list[str]] = defaultdict(list)
    st_evs: dict[str, set[str]] = defaultdict(set)
    for a in store.iter_assignments():
        ev_arts[a.event].append(a.article_id)
        st_evs[a.story].add(a.event)
    return {s: sorted(v) for s, v in st_evs.items()}, dict(ev_arts)


def run_ecb(db: Path, data: Path, encoder) -> dict[str, object]:  # type: ignore[no-untyped-def]
    from storyline import Pipeline

    gold = load_gold(data)
    out: dict[str, object] = {}
    if not db.exists():
        t0 = time.perf_counter()
        pipe = Pipeline(str(db), encoder=encoder)
        pipe.run([str(data / "ecbplus_dev.jsonl")])
        pipe.store.close()
        out["build_seconds"] = round(time.perf_counter() - t0, 1)
    # Work on a copy: rebuild_stories writes stories into the store.
    work = Path(tempfile.mkdtemp(prefix="stories-ecb-")) / "ecb.db"
    shutil.copyfile(db, work)
    pipe = Pipeline(str(work), encoder=encoder)
    st, ev_arts = online_stories(pipe.store)
    out["online"] = metrics(st, ev_arts, gold)
    t0 = time.perf_counter()
    pipe.rebuild_stories()
    out["rebuild_seconds"] = round(time.perf_counter() - t0, 1)
    out["rebuild"] = metrics(dict(pipe.linker.stories_), ev_arts, gold)
    pipe.store.close()
    shutil.rmtree(work.parent, ignore_errors=True)
    return out


def run_seeds(seeds: Path, encoder) -> dict[str, object]:  # type: ignore[no-untyped-def]
    from storyline import Pipeline

    files = sorted(str(p) for p in seeds.glob("*.txt"))
    late = [f for f in files if Path(f).name.startswith("003")]
    early = [f for f in files if f not in late]
    res: dict[str, object] = {}
    for name, batches in (
        ("one_run", [files]),
        ("2024_first", [late, early]),
        ("2024_last", [early, late]),
    ):
        pipe = Pipeline(":memory:", encoder=encoder)
        for b in batches:
            pipe.run(b)
        stories = {
            s.id: [(e, str(pipe.store.get_event(e).date)) for e in s.event_ids]  # type: ignore[union-attr]
            for s in pipe.store.iter_stories()
            if s.event_ids
        }
        live = {sid: evs for sid, evs in pipe.linker.stories_.items()}
        evs = list(pipe.linker.events_.values())
        link = pipe.linker.link(evs[0], evs[1]) if len(evs) == 2 else None
        res[name] = {
            "stories": len(live),
            "events": len(evs),
            "timeline": stories.get(next(iter(live)), []) if len(live) == 1 else stories,
            "link": link._asdict() if link else None,
            "pass": len(live) == 1 and len(evs) == 2,
        }
        pipe.rebuild_stories()
        res[name]["rebuild_stories"] = len(pipe.linker.stories_)  # type: ignore[index]
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", type=Path, help="ECB+ store to build once and reuse (default: temp)")
    ap.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "stories_ecb.json")
    ap.add_argument("--label", default="", help="a name for this measurement in the JSON")
    args = ap.parse_args()

    from storyline.represent.encoder import USEEncoder
    from storyline.stories.linker import StoryLinker

    shared = find_shared()
    encoder = USEEncoder()
    tmp = None
    db = args.db
    if db is None:
        tmp = Path(tempfile.mkdtemp(prefix="stories-ecb-build-"))
        db = tmp / "ecb.db"
    ecb = run_ecb(db, shared / "data", encoder)
    seeds = run_seeds(shared / "seeds", encoder)
    if tmp:
        shutil.rmtree(tmp, ignore_errors=True)

    print(f"{'ECB+ dev (pipeline events)':30} {'online':>10} {'rebuild':>10}")
    for k in ("events", "stories", "multi_event_stories", "purity", "spanning", "topics_joined",
              "split_events", "split_joined"):
        print(f"{k:30} {ecb['online'][k]!s:>10} {ecb['rebuild'][k]!s:>10}")  # type: ignore[index]
    print(f"{'topics':30} {ecb['online']['topics']!s:>10}")  # type: ignore[index]
    print("joined topics (online): ", ", ".join(ecb["online"]["joined"]))  # type: ignore[index]
    print("joined topics (rebuild):", ", ".join(ecb["rebuild"]["joined"]))  # type: ignore[index]
    print()
    print(f"{'seeds':12} {'stories':>8} {'rebuild':>8} {'score':>7} {'cosine':>7} {'actors':>7} {'kp':>6}  pass")
    for name, r in seeds.items():
        link = r["link"] or {}  # type: ignore[index]
        print(
            f"{name:12} {r['stories']:>8} {r['rebuild_stories']:>8} "  # type: ignore[index]
            f"{link.get('score', 0):>7.3f} {link.get('cosine', 0):>7.3f} "
            f"{link.get('actors', 0):>7.2f} {link.get('keyphrases', 0):>6.2f}  {r['pass']}"  # type: ignore[index]
        )
    result = {
        "label": args.label,
        "linker": StoryLinker().get_params(),
        "ecbplus_dev": ecb,
        "seeds": seeds,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1, default=str) + "\n", encoding="utf-8")
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
