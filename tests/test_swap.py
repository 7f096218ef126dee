"""Swapping a part is one constructor argument and one class: for each swappable part (encoder,
scorer, store, reader, story linker) a small implementation written here, from scratch, passes
its contract check (``storyline.checks``) and is really used by ``Pipeline``.
"""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
import zlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from storyline import Pipeline
from storyline.checks import check_encoder, check_linker, check_reader, check_scorer, check_store
from storyline.ingest import Skip, default_readers
from storyline.model import Article, Assignment, Event, Merge, Processed, Story
from storyline.represent.encoder import HashingEncoder
from storyline.represent.features import ArticleFeatures
from storyline.store.base import Store

JUNE_1 = dt.date(2020, 6, 1)

ARTICLES = [
    Article("q1", "A strong earthquake hit central Chile on Monday, killing 12 people and damaging "
            "buildings in Santiago.", title="Quake kills 12 in Chile", lang="en", published=JUNE_1),
    Article("q2", "An earthquake of magnitude 7 struck central Chile on Monday. Twelve people died "
            "in Santiago, officials said.", lang="en", published=JUNE_1),
    Article("q3", "Rescue teams searched the rubble in Santiago on Tuesday after the earthquake that "
            "killed 12 people in Chile.", lang="en", published=JUNE_1 + dt.timedelta(days=1)),
    Article("f1", "The football club won the national cup final on Saturday after a penalty "
            "shoot-out in front of 60,000 fans.", lang="en", published=dt.date(2021, 3, 6)),
    Article("b1", "The government presented its budget for 2022 to parliament on Tuesday, with "
            "higher spending on schools.", lang="en", published=dt.date(2021, 9, 21)),
]
IDS = [a.id for a in ARTICLES]


def assigned(report: Any) -> list[str]:
    return [a.article_id for a in report.assignments]


# -- encoder --------------------------------------------------------------------------------------
class TrigramEncoder:
    """Character trigrams hashed into ``dim`` buckets: an encoder in a dozen lines."""

    name = "trigram-96"
    dim = 96

    def __init__(self) -> None:
        self.calls = 0
        self.texts = 0

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        self.calls += 1
        self.texts += len(texts)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            t = f"  {text.lower()} "
            for i in range(len(t) - 2):
                out[row, zlib.crc32(t[i : i + 3].encode()) % self.dim] += 1.0
            out[row, 0] += 1e-3  # never a zero row
        return out / np.linalg.norm(out, axis=1, keepdims=True)

    def covers(self, lang: str) -> bool:
        return True


def test_swap_encoder() -> None:
    check_encoder(TrigramEncoder)
    enc = TrigramEncoder()
    pipe = Pipeline(":memory:", encoder=enc, second=False)
    report = pipe.run(ARTICLES)
    assert assigned(report) == IDS
    assert enc.calls > 0 and enc.texts >= len(ARTICLES)
    stored = pipe.store.get_vectors([a.hash for a in ARTICLES], f"{enc.name}:sents")
    assert len(stored) == len(ARTICLES)  # its vectors, cached under its name
    assert all(v.shape[-1] == enc.dim for v in stored.values())


# -- scorer ---------------------------------------------------------------------------------------
class CosineScorer:
    """The probability of a pair is its rescaled document cosine (no model, no second encoder)."""

    meta: Mapping[str, object] = {"threshold": 0.5, "merge_threshold": 0.6}

    def __init__(self) -> None:
        self.second = None
        self.pairs = 0

    def score_grid(
        self, a: Sequence[ArticleFeatures], b: Sequence[ArticleFeatures], need: np.ndarray | None = None
    ) -> np.ndarray:
        self.pairs += len(a) * len(b)
        if not len(a) or not len(b):
            grid = np.zeros((len(a), len(b)))
        else:
            va = np.stack([f.doc for f in a]).astype(np.float64)
            vb = np.stack([f.doc for f in b]).astype(np.float64)
            grid = np.clip((va @ vb.T - 0.2) / 0.6, 0.0, 1.0)
        return grid if need is None else grid[need]

    def score_many(self, a: ArticleFeatures, others: Sequence[ArticleFeatures]) -> np.ndarray:
        return self.score_grid([a], others)[0]

    def fill_second(self, a: ArticleFeatures, others: Sequence[ArticleFeatures]) -> None:
        return None

    def fingerprint(self) -> tuple[object, ...]:
        return (self,)


def test_swap_scorer() -> None:
    check_scorer(CosineScorer)
    scorer = CosineScorer()
    pipe = Pipeline(":memory:", encoder=HashingEncoder(), scorer=scorer, second=False)
    report = pipe.run(ARTICLES)
    assert assigned(report) == IDS
    assert pipe.clusterer.scorer is scorer
    assert pipe.clusterer.threshold == 0.5  # its meta gives the clusterer's default
    assert scorer.pairs > 0


# -- store ----------------------------------------------------------------------------------------
class DictStore(Store):
    """Everything in dicts, copied in and out; a transaction is a snapshot put back on error."""

    url = ""  # no other process can open it
    memory = True

    def __init__(self) -> None:
        self.data: dict[str, Any] = {
            "articles": {}, "vectors": {}, "assignments": {}, "events": {}, "stories": {},
            "merges": [], "state": {},
        }
        self.calls = 0

    def close(self) -> None:
        pass

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        snapshot = copy.deepcopy(self.data)
        try:
            yield
        except BaseException:
            self.data = snapshot
            raise

    def add_article(self, item: Processed) -> bool:
        self.calls += 1
        if item.id in self.data["articles"]:
            return False
        self.data["articles"][item.id] = copy.deepcopy(item)
        return True

    def has_article(self, article_id: str) -> bool:
        return article_id in self.data["articles"]

    def get_article(self, article_id: str) -> Processed | None:
        return copy.deepcopy(self.data["articles"].get(article_id))

    def iter_articles(self, ids: Iterable[str] | None = None) -> Iterator[Processed]:
        wanted = None if ids is None else set(ids)
        for aid, p in list(self.data["articles"].items()):
            if wanted is None or aid in wanted:
                yield copy.deepcopy(p)

    def count_articles(self) -> int:
        return len(self.data["articles"])

    def get_vectors(self, hashes: Iterable[str], kind: str) -> dict[str, np.ndarray]:
        table = self.data["vectors"].get(kind, {})
        return {h: table[h].copy() for h in hashes if h in table}

    def put_vectors(self, items: dict[str, np.ndarray], kind: str) -> None:
        table = self.data["vectors"].setdefault(kind, {})
        for h, v in items.items():
            table.setdefault(h, np.array(v, dtype=np.float32))

    def put_assignments(self, items: Iterable[Assignment]) -> None:
        self.data["assignments"].update((a.article_id, a) for a in items)

    def get_assignment(self, article_id: str) -> Assignment | None:
        return self.data["assignments"].get(article_id)

    def iter_assignments(self) -> Iterator[Assignment]:
        table = self.data["assignments"]
        return iter([table[a] for a in self.data["articles"] if a in table])

    def put_event(self, event: Event) -> None:
        self.data["events"][event.id] = copy.deepcopy(event)

    def get_event(self, event_id: str) -> Event | None:
        return copy.deepcopy(self.data["events"].get(self.resolve("event", event_id)))

    def delete_event(self, event_id: str) -> None:
        self.data["events"].pop(event_id, None)

    def iter_events(self) -> Iterator[Event]:
        events = sorted(self.data["events"].values(), key=lambda e: (e.created, e.id))
        return iter(copy.deepcopy(events))

    def put_story(self, story: Story) -> None:
        self.data["stories"][story.id] = copy.deepcopy(story)

    def get_story(self, story_id: str) -> Story | None:
        return copy.deepcopy(self.data["stories"].get(self.resolve("story", story_id)))

    def delete_story(self, story_id: str) -> None:
        self.data["stories"].pop(story_id, None)

    def iter_stories(self) -> Iterator[Story]:
        return iter(copy.deepcopy(list(self.data["stories"].values())))

    def record_merge(self, merge: Merge) -> None:
        self.data["merges"].append(merge)

    def merges(self, kind: str | None = None) -> list[Merge]:
        return [m for m in self.data["merges"] if kind is None or m.kind == kind]

    def get_state(self, key: str) -> str | None:
        return self.data["state"].get(key)

    def set_state(self, key: str, value: str) -> None:
        self.data["state"][key] = value


def test_swap_store() -> None:
    check_store(DictStore)
    store = DictStore()
    pipe = Pipeline(store, encoder=HashingEncoder(), second=False)
    assert pipe.store is store
    report = pipe.run(ARTICLES[:4])
    assert assigned(report) == IDS[:4]
    assert store.calls == 4 and store.count_articles() == 4
    assert list(store.iter_events()) and list(store.iter_stories())
    # a second pipeline over the same store resumes from it
    again = Pipeline(store, encoder=HashingEncoder(), second=False)
    report = again.run(ARTICLES)
    assert report.known == 4 and report.new == 1
    assert assigned(report) == IDS
    assert store.get_assignment("q1") == pipe.store.get_assignment("q1")


# -- reader ---------------------------------------------------------------------------------------
class TsvReader:
    """``.news-tsv`` files: one article a line, ``id <TAB> date <TAB> lang <TAB> text``."""

    def __init__(self) -> None:
        self.read_paths: list[str] = []

    def accepts(self, path: str) -> bool:
        return path.lower().endswith(".news-tsv")

    def read(self, path: str) -> Iterator[Article | Skip]:
        self.read_paths.append(path)
        with open(path, encoding="utf-8") as fh:
            for n, line in enumerate(fh, 1):
                parts = line.rstrip("\n").split("\t")
                if len(parts) != 4 or not parts[3].strip():
                    yield Skip(f"{path}:{n}", "expected id, date, lang and text")
                    continue
                aid, date, lang, text = parts
                yield Article(aid, text, lang=lang or None, published=dt.date.fromisoformat(date),
                              origin=f"{path}:{n}")


def test_swap_reader(tmp_path: Path) -> None:
    path = tmp_path / "wire.news-tsv"
    lines = [f"{a.id}\t{a.published}\t{a.lang}\t{a.text}" for a in ARTICLES] + ["broken line"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    check_reader(TsvReader, path)
    reader = TsvReader()
    pipe = Pipeline(":memory:", encoder=HashingEncoder(), second=False, readers=[reader, *default_readers()])
    report = pipe.run([str(path)])
    assert reader.read_paths == [str(path)]
    assert assigned(report) == IDS
    assert [s.origin for s in report.skipped] == [f"{path}:{len(ARTICLES) + 1}"]
    # in a directory too, next to a format the default readers know
    (tmp_path / "extra.txt").write_text("date: 2020-06-02\nlang: en\nQuake aftershock\n"
                                        "An aftershock shook Santiago, Chile, on Tuesday.")
    report = pipe.run([str(tmp_path)])
    assert set(assigned(report)) == {*IDS, "extra"}


# -- story linker ---------------------------------------------------------------------------------
class DayLinker:
    """One story per day of events: story ids ``day-<date>-<n>``, never given out twice."""

    def __init__(self, prefix: str = "day") -> None:
        self.prefix = prefix
        self.story_of_: dict[str, str] = {}
        self.stories_: dict[str, list[str]] = {}
        self.issued = 0
        self.learned = 0

    def key(self, ev: Any) -> str:
        return ev.date.isoformat() if ev.date else "undated"

    def place(self, ev: Any) -> str:
        want = f"{self.prefix}-{self.key(ev)}-"
        sid = next((s for s in self.stories_ if s.startswith(want)), None)
        if sid is None:
            self.issued += 1
            sid = f"{want}{self.issued}"
        self.stories_.setdefault(sid, []).append(ev.id)
        self.story_of_[ev.id] = sid
        return sid

    def learn_one(self, ev: Any) -> tuple[str, float]:
        self.learned += 1
        return self.place(ev), 1.0

    def update(self, ev: Any) -> list[Merge]:
        old = self.story_of_.get(ev.id)
        if old is None or not old.startswith(f"{self.prefix}-{self.key(ev)}-"):
            self.remove(ev.id)
            self.place(ev)
        return []

    def remove(self, event_id: str) -> str | None:
        sid = self.story_of_.pop(event_id, None)
        if sid is not None:
            self.stories_[sid].remove(event_id)
            if not self.stories_[sid]:
                del self.stories_[sid]
        return sid

    def to_state(self) -> dict[str, Any]:
        return {"stories": self.stories_, "issued": self.issued}

    def load_state(self, state: Mapping[str, Any]) -> DayLinker:
        self.stories_ = {sid: list(ids) for sid, ids in state["stories"].items()}
        self.story_of_ = {e: sid for sid, ids in self.stories_.items() for e in ids}
        self.issued = int(state["issued"])
        return self

    def clone(self) -> DayLinker:
        return type(self)(self.prefix)


def test_swap_linker() -> None:
    check_linker(DayLinker)
    linker = DayLinker()
    store = DictStore()
    pipe = Pipeline(store, encoder=HashingEncoder(), linker=linker, second=False)
    report = pipe.run(ARTICLES)
    assert assigned(report) == IDS
    assert linker.learned > 0 and pipe.linker is linker
    assert all(a.story.startswith("day-") for a in report.assignments)
    assert {s.id for s in store.iter_stories()} == set(linker.stories_)
    # a new pipeline with a fresh linker resumes the stories from the store (load_state)
    again = Pipeline(store, encoder=HashingEncoder(), linker=DayLinker(), second=False)
    assert isinstance(again.linker, DayLinker) and again.linker.story_of_ == linker.story_of_
    later = Article("q4", "A new suspension bridge opened over the river in Lima, Peru, on Wednesday.", lang="en",
                    published=JUNE_1 + dt.timedelta(days=2))
    sid = again.run([later]).assignments[0].story
    assert sid.startswith("day-") and sid not in linker.stories_  # a new day, a new story
    # the first pipeline catches up with the other writer: a clone() of its linker, resumed
    pipe.run([Article("f2", "The cup winners paraded through the city on Sunday.", lang="en",
                      published=dt.date(2021, 3, 7))])
    assert isinstance(pipe.linker, DayLinker) and pipe.linker is not linker
    event = store.get_assignment("q4").event  # type: ignore[union-attr]
    assert pipe.linker.story_of_[event] == sid

