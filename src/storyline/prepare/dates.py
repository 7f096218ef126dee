"""Dates: parse publication dates, and estimate the date of the happening from the text.

The event-date estimator is pure regex (English, French, German, Spanish, Italian,
Portuguese, Icelandic, Russian month names; Japanese ``6月11日``): it finds date mentions,
resolves them against the publication date (or a dateline found at the top of the text),
and prefers mentions in the lead. Background dates ("since 3 January 2020", a date deep in the
body, a date far before publication) do not win over the lead.
"""

from __future__ import annotations

import calendar
import datetime as dt
import logging
import re
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

logger = logging.getLogger(__name__)

__all__ = ["estimate_event_date", "find_dateline", "parse_date"]

_MONTHS: dict[str, int] = {}
for _i, _names in enumerate(
    [
        "january jan janvier janv januar jänner enero gennaio janeiro janúar января",
        "february feb febr février fevrier févr februar febrero febbraio fevereiro febrúar февраля",
        "march mar mars märz maerz marzo março marco марта",
        "april apr avril abril aprile apríl апреля",
        "may mai mayo maggio maio maí мая",
        "june jun juin juni junio giugno junho júní июня",
        "july jul juillet juil juli julio luglio julho júlí июля",
        "august aug août aout agosto ágúst августа",
        "september sep sept septembre septiembre setiembre settembre setembro сентября",
        "october oct octobre oktober octubre ottobre outubro október октября",
        "november nov novembre noviembre novembro nóvember ноября",
        "december dec décembre decembre déc dezember diciembre dicembre dezembro desember декабря",
    ],
    start=1,
):
    for _n in _names.split():
        _MONTHS[_n] = _i
_WEEKDAYS: dict[str, int] = {}
for _i, _names in enumerate(
    [
        "monday mon lundi montag lunes lunedì lunedi",
        "tuesday tue tues mardi dienstag martes martedì martedi",
        "wednesday wed mercredi mittwoch miércoles miercoles mercoledì mercoledi",
        "thursday thu thur thurs jeudi donnerstag jueves giovedì giovedi",
        "friday fri vendredi freitag viernes venerdì venerdi",
        "saturday sat samedi samstag sonnabend sábado sabado sabato",
        "sunday sun dimanche sonntag domingo domenica",
    ]
):
    for _n in _names.split():
        _WEEKDAYS[_n] = _i
_FULL_WEEKDAYS = {n: i for n, i in _WEEKDAYS.items() if len(n) > 4}


def _alt(names: dict[str, int]) -> str:
    """One regex alternative for all ``names``, as a trie: ``ma(?:y|r(?:ch|s|zo)?)``.

    At a position of the text the names that match are prefixes of one another, and the trie
    tries them longest first, as a flat alternation sorted by length would; but it reads each
    character once instead of trying every name in turn (the date patterns are scanned over
    every article's text)."""
    tree: dict[str, dict] = {}
    for name in names:
        node = tree
        for ch in name:
            node = node.setdefault(ch, {})
        node[""] = {}

    def emit(node: dict[str, dict]) -> str:
        alts = [re.escape(ch) + emit(node[ch]) for ch in sorted(node) if ch]
        if not alts:
            return ""
        body = alts[0] if len(alts) == 1 and "" not in node else "(?:" + "|".join(alts) + ")"
        return body + "?" if "" in node else body

    return emit(tree)


_M = rf"(?P<m>{_alt(_MONTHS)})\.?"
_W = rf"(?P<w>{_alt(_WEEKDAYS)})\.?"
_D = r"(?P<d>[0-3]?\d)(?:st|nd|rd|th|er|e|\.|º)?(?!\d)"
_Y = r"(?P<y>(?:1[89]|20)\d\d)(?!\d)"
_F = re.IGNORECASE
_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("wdm", re.compile(rf"\b{_W}[\s,(]+{_D}\s*(?:de\s+)?{_M}\b(?:[\s,]+(?:de\s+)?{_Y})?", _F)),
    ("wmd", re.compile(rf"\b{_W}[\s,(]+{_M}\s+{_D}(?:,?\s+{_Y})?", _F)),
    ("dm", re.compile(rf"\b{_D}\s*(?:de\s+)?{_M}\b(?:[\s,]+(?:de\s+)?{_Y})?", _F)),
    ("md", re.compile(rf"\b{_M}\s+{_D}(?:,?\s+{_Y})?", _F)),
    ("iso", re.compile(r"\b(?P<y>(?:19|20)\d\d)-(?P<m>[01]?\d)-(?P<d>[0-3]?\d)\b")),
    ("ja", re.compile(r"(?:(?P<y>(?:19|20)\d\d)年)?(?P<m>[01]?\d)月(?P<d>[0-3]?\d)日")),
]
_NUMERIC = re.compile(
    r"\b(?:(?P<a>\d{1,2})\s*([/.])\s*(?P<b>\d{1,2})\s*\2\s*(?P<y>(?:19|20)\d\d)"
    r"|(?P<y2>(?:19|20)\d\d)\.(?P<m2>[01]\d)\.(?P<d2>[0-3]\d))\b"
)
# words for "the day before yesterday" (r2), "yesterday" (r1) and "today" (r0); the last of
# each is written without word boundaries (Chinese and Japanese)
_RELATIVE_WORDS = (
    ("r2", ("day before yesterday", "avant-veille", "vorgestern", "anteayer", "l['’]altro ieri", "позавчера"), "一昨日"),
    ("r1", ("yesterday", "hier", "gestern", "ayer", "ieri", "вчера", "í gær"), "昨日"),
    ("r0", ("today", "this morning", "aujourd['’]hui", "ce matin", "heute", "hoy", "oggi", "сегодня"), "今日"),
)
# (the lookahead on their first letters lets most positions fail at once)
_RELATIVE = re.compile(
    "(?=[" + "".join(sorted({w[0] for _, ws, cjk in _RELATIVE_WORDS for w in (*ws, cjk)})) + "])(?:"
    + "|".join(rf"(?P<{g}>\b(?:{'|'.join(ws)})\b|{cjk})" for g, ws, cjk in _RELATIVE_WORDS)
    + ")",
    _F,
)
_WEEKDAY_ALONE = re.compile(rf"\b(?P<w>{_alt(_FULL_WEEKDAYS)})\b", _F)
_NEXT = re.compile(r"(?:next|coming|prochain|prochaine|nächsten|próximo|prossimo)\W*$", _F)
_NEXT_AFTER = re.compile(r"^\W*(?:prochain|prochaine|próximo|prossimo|qui vient)\b", _F)
_BACKGROUND = re.compile(
    r"\b(?:since|until|born|depuis|jusqu['’]?(?:au|à)?|né|née|seit|bis|desde|hasta|dal|fino)"
    r"\W+(?:\w+\W+)?$",
    _F,
)
_YEAR = re.compile(r"(?<![\d.,])(?:19|20)\d\d(?![\d.,]\d)")
_DATELINE_KEY = re.compile(r"\b(?:published|posted|updated|publié|mis à jour|veröffentlicht)", _F)
_SENT_END = re.compile(r"(?<=[.!?。])\s+")

_KIND_RANK = {
    "wdm": 0,
    "wmd": 0,
    "iso": 1,
    "ja": 1,
    "dm": 1,
    "md": 1,
    "numeric": 1,
    "weekday": 2,
    "rel": 3,
}
_LEAD_SENTENCES = 3
_MAX_SCAN = 6000  # characters of text scanned for mentions


def parse_date(value: str | None) -> tuple[dt.date | None, str]:
    """Parse a publication date; returns ``(date, precision)``, precision day/month/year/none.

    >>> parse_date("2024-01")
    (datetime.date(2024, 1, 1), 'month')
    >>> parse_date("Thu, 11 Jun 2020 10:00:00 +0000")
    (datetime.date(2020, 6, 11), 'day')
    >>> parse_date("2020-06-11T08:00:00Z"), parse_date("nonsense")
    ((datetime.date(2020, 6, 11), 'day'), (None, 'none'))
    """
    if not value or not isinstance(value, str):
        return None, "none"
    s = value.strip()
    m = re.match(r"^(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?(?:$|[T\s])", s)
    if m:
        y, mo, d = int(m.group(1)), m.group(2), m.group(3)
        try:
            if d:
                return dt.date(y, int(mo), int(d)), "day"
            if mo:
                return dt.date(y, int(mo), 1), "month"
            return dt.date(y, 1, 1), "year"
        except (ValueError, OverflowError):
            return None, "none"
    try:
        return parsedate_to_datetime(s).date(), "day"
    except (TypeError, ValueError, IndexError, OverflowError):
        pass
    for mention in _mentions(s[:200]):
        if mention.y:
            got = _safe_date(mention.y, mention.m, mention.d)
            if got:
                return got, "day"
    return None, "none"


@dataclass
class _Mention:
    kind: str
    start: int
    end: int
    surface: str
    y: int | None = None
    m: int = 0
    d: int = 0
    w: int | None = None
    offset: int = 0  # for relative mentions: days before the reference


def _safe_date(y: int, m: int, d: int) -> dt.date | None:
    if not 1000 <= y <= 3000:  # far from any news date: arithmetic near the limits overflows
        return None
    try:
        return dt.date(y, m, d)
    except (ValueError, OverflowError):
        return None


def _mentions(text: str) -> list[_Mention]:
    found: list[_Mention] = []
    for kind, pat in _PATTERNS:
        for mt in pat.finditer(text):
            g = mt.groupdict()
            month = _MONTHS.get(g["m"].lower()) if not g["m"].isdigit() else int(g["m"])
            if not month or not 1 <= month <= 12:
                continue
            day = int(g["d"])
            if not 1 <= day <= 31:
                continue
            wd = _WEEKDAYS.get(g["w"].lower()) if g.get("w") else None
            y = int(g["y"]) if g.get("y") else None
            surface = mt.group(0).strip().rstrip(" .,(")
            found.append(_Mention(kind, mt.start(), mt.end(), surface, y, month, day, wd))
    for mt in _NUMERIC.finditer(text):
        if mt.group("y2"):
            y, mo, d = int(mt.group("y2")), int(mt.group("m2")), int(mt.group("d2"))
        else:
            a, b, y = int(mt.group("a")), int(mt.group("b")), int(mt.group("y"))
            # "3 / 27 / 2012" is month first; "08.07.2012" is day first
            mo, d = (a, b) if mt.group(2) == "/" and a <= 12 else (b, a)
        if 1 <= mo <= 12 and 1 <= d <= 31:
            found.append(_Mention("numeric", mt.start(), mt.end(), mt.group(0), y, mo, d))
    for mt in _RELATIVE.finditer(text):
        off = 2 if mt.group("r2") else 1 if mt.group("r1") else 0
        found.append(_Mention("rel", mt.start(), mt.end(), mt.group(0), offset=off))
    for mt in _WEEKDAY_ALONE.finditer(text):
        if _NEXT.search(text[max(0, mt.start() - 12) : mt.start()]) or _NEXT_AFTER.match(
            text[mt.end() : mt.end() + 12]
        ):
            continue
        found.append(
            _Mention(
                "weekday", mt.start(), mt.end(), mt.group(0), w=_WEEKDAYS[mt.group("w").lower()]
            )
        )
    # Keep the longest mention at each place, drop those inside another.
    found.sort(key=lambda x: (x.start, -(x.end - x.start)))
    kept: list[_Mention] = []
    for m in found:
        if kept and m.start < kept[-1].end:
            continue
        kept.append(m)
    return kept


def _explicit_years(text: str, today: dt.date) -> list[int]:
    return [y for y in map(int, _YEAR.findall(text)) if 1900 <= y <= today.year]


def _infer_year(m: _Mention, years: list[int], today: dt.date) -> int | None:
    """Year for weekday+day+month without a reference: a matching year the text mentions (the
    most recent), else the most recent matching year not after today, at or after the latest
    year the text mentions and within 15 years of it. None
    when the text mentions no year: a weekday fits every five or six years, and the latest
    such year is a guess (an undated 2020 report of "Sunday, July 26" is not from 2026)."""
    cands = [
        y
        for y in range(today.year, 1969, -1)
        if (d := _safe_date(y, m.m, m.d)) and d <= today and d.weekday() == m.w
    ]
    if not cands:
        return None
    if years:
        if said := [y for y in cands if y in years]:  # "Sunday, July 26" ... "in 2020"
            return said[0]
        lo = max(years)
        near = [y for y in cands if lo <= y <= lo + 15]
        if near:
            return near[0]
        after = [y for y in cands if y >= lo]
        return after[-1] if after else None
    return None


def _resolve(
    m: _Mention,
    ref: tuple[dt.date, dt.date] | None,
    day_ref: bool,
    years: list[int],
    today: dt.date,
    sentence: str,
) -> dt.date | None:
    """A mention's date, or None when it cannot be resolved with what is known."""
    if m.kind == "rel":
        return ref[1] - dt.timedelta(days=m.offset) if ref and day_ref else None
    if m.kind == "weekday":
        if not (ref and day_ref):
            return None
        return ref[1] - dt.timedelta(days=(ref[1].weekday() - (m.w or 0)) % 7)
    if m.y:
        return _safe_date(m.y, m.m, m.d)
    if ref:
        hi = ref[1]
        for y in (hi.year + 1, hi.year, hi.year - 1):
            d = _safe_date(y, m.m, m.d)
            if d and d <= hi + dt.timedelta(days=2):
                return d
        return None
    if m.w is not None:
        y = _infer_year(m, years, today)
        return _safe_date(y, m.m, m.d) if y else None
    sent_years = _explicit_years(sentence, today)
    return _safe_date(sent_years[-1], m.m, m.d) if sent_years else None


def find_dateline(text: str) -> tuple[dt.date, str] | None:
    """A publication date written at the top of the text ("PUBLISHED: 22:07 GMT, 7 July 2012",
    "March 8, 2013 5:47 PM"): a short line among the first three that is mostly a full date.

    >>> find_dateline("PUBLISHED: 22:07 GMT, 7 July 2012\\nKlitschko won.")
    (datetime.date(2012, 7, 7), 'PUBLISHED: 22:07 GMT, 7 July 2012')
    """
    lines = [ln.strip() for ln in text[:1000].split("\n") if ln.strip()][:3]
    for line in lines:
        if len(line) > 100:
            continue
        for m in _mentions(line):
            if not m.y:
                continue
            d = _safe_date(m.y, m.m, m.d)
            if d and ((m.end - m.start) >= 0.4 * len(line) or _DATELINE_KEY.search(line)):
                return d, line
    return None


def _month_range(d: dt.date, precision: str) -> tuple[dt.date, dt.date]:
    if precision == "month":
        return d.replace(day=1), d.replace(day=calendar.monthrange(d.year, d.month)[1])
    if precision == "year":
        return dt.date(d.year, 1, 1), dt.date(d.year, 12, 31)
    return d, d


def estimate_event_date(
    text: str,
    lang: str | None,
    published: dt.date | None,
    precision: str = "day",
    today: dt.date | None = None,
) -> tuple[dt.date | None, str | None]:
    """The date of the happening, from the text, resolved against the publication date.

    Returns ``(date, explanation)``, e.g. ``(date(2020, 6, 11), "text:Thursday, June 11")``;
    ``(published, "published")`` when the text gives no usable date; ``(None, None)`` when
    nothing is known. Pass the raw article text: a dateline at its top is used as the
    publication date when ``published`` is None.

    >>> estimate_event_date("Talks were held on Thursday, June 11.", "en", dt.date(2020, 6, 12))
    (datetime.date(2020, 6, 11), 'text:Thursday, June 11')
    >>> estimate_event_date("Le gouvernement a parlé ce 27 janvier.", "fr", dt.date(2024, 1, 1), "month")
    (datetime.date(2024, 1, 27), 'text:27 janvier')
    """
    del lang  # the patterns are multilingual
    today = today or dt.date.today()
    head = text[:_MAX_SCAN]
    dateline: tuple[dt.date, str] | None = None
    if published is None:
        dateline = find_dateline(head)
        if dateline:
            published, precision = dateline[0], "day"
    ref = _month_range(published, precision) if published else None
    day_ref = published is not None and precision == "day"
    years = _explicit_years(head, today)

    lines = [
        ln for ln in head.split("\n") if ln.strip() and not (dateline and ln.strip() == dateline[1])
    ]
    sentences: list[str] = []
    for ln in lines:
        sentences.extend(s for s in _SENT_END.split(ln.strip()) if s)
    for idx, sentence in enumerate(sentences):
        lead = idx < _LEAD_SENTENCES
        if not lead and ref is None:
            break
        best: tuple[int, dt.date, str] | None = None
        for m in _mentions(sentence):
            if _BACKGROUND.search(sentence[max(0, m.start - 25) : m.start]):
                continue
            d = _resolve(m, ref, day_ref, years, today, sentence)
            if d is None:
                continue
            if ref:
                lo, hi = ref
                if d > hi + dt.timedelta(days=2):
                    continue  # future dates are not event dates
                if d < lo - dt.timedelta(days=31 if lead else 7):
                    continue  # background: well before publication
            elif d > today:
                continue
            rank = _KIND_RANK[m.kind]
            if best is None or rank < best[0]:
                best = (rank, d, m.surface)
        if best:
            return best[1], f"text:{best[2]}"
    if dateline:
        return dateline[0], f"dateline:{dateline[1]}"
    if published:
        return published, "published" if precision == "day" else f"published ({precision})"
    return None, None
