"""Boilerplate removal, repeated-line filter, sentence splitting, title heuristic."""

from __future__ import annotations

from pathlib import Path

import pytest

from storyline.prepare.clean import (
    RepeatedLineFilter,
    clean_text,
    looks_like_title,
    split_sentences,
)


def _shared() -> Path:
    """The bundled seeds (``tests/data/seeds``): seed tests run on any clone."""
    return Path(__file__).resolve().parent / "data"


BOILER = [
    "I subscribe",
    "Download the France 24 app",
    "Take international news everywhere with you! Download the France 24 app",
    "The France 24 week summary invites you to come back to the news that marked the week",
    "google-play-badge_FR",
    "Publicité",
    "Laisser un commentaire",
    "Votre adresse e-mail ne sera pas publiée. Les champs obligatoires sont indiqués avec *",
    "also Read “The United States is not the ally of saudi Arabia”",
    "Read also The surprising call from the foot of Trump in Iran",
    "Lire aussi : Le gouvernement annonce un plan",
    "À lire aussi - Les négociations reprennent",
    "See also: the full interview",
    ">> Read: Faced with the specter of an American departure",
    '>> See: "Yankee go home"? In Iraq, the coalition',
    ">> Exclusive report: Protesters in Iraq denounce kidnapping",
    "writing will advise you",
    "PUBLISHED: 22:07 GMT, 7 July 2012",
    "UPDATED: 22:07 GMT, 7 July 2012",
    ".",
    "Share this article",
    "Lesen Sie auch: Die Regierung plant neue Gesetze",
    "Anzeige",
    "Lea también: El Gobierno anuncia medidas",
    "Suscríbete a nuestro boletín",
    "Leggi anche: il governo annuncia",
    "Riproduzione riservata ©",
    "We use cookies to improve your experience.",
    "Subscribe to our newsletter",
]


@pytest.mark.parametrize("line", BOILER)
def test_boilerplate_lines_removed(line: str) -> None:
    text = f"The talks resumed on Thursday.\n\n{line}\n\nBoth sides agreed."
    assert clean_text(text) == "The talks resumed on Thursday.\n\nBoth sides agreed."


@pytest.mark.parametrize(
    "line",
    [
        (
            "Many readers subscribe to several newspapers, and the minister said on Thursday "
            "that the subsidy would be extended to every regional title until the year's end."
        ),
        "Cookies were handed out to the children at the start of the ceremony in the town hall.",
        "Published in 1999, the report was never read by the committee.",
        "Read the statement carefully, the judge told the jury on Monday, before adjourning.",
        "US-Iraqi relations will not be redefined overnight",
        "2008",
    ],
)
def test_content_is_kept(line: str) -> None:
    assert clean_text(f"Lead.\n\n{line}") == f"Lead.\n\n{line}"


def test_whitespace_normalised_paragraphs_kept() -> None:
    raw = "  First\u00a0 line  \r\nsecond line\n\n\n\n  Third\t para \n\n"
    assert clean_text(raw) == "First line\nsecond line\n\nThird para"


def test_seed_trailers_removed() -> None:
    shared = _shared()
    if shared is None:
        pytest.skip("shared seeds not found (../shared or $STORYLINE_SHARED)")
    for path in sorted((shared / "seeds").glob("*.txt")):
        out = clean_text(path.read_text("utf-8"))
        for bad in (
            "I subscribe",
            "google-play-badge",
            "Publicité",
            "Laisser un commentaire",
            "also Read",
            ">> Read",
            "writing will advise",
        ):
            assert bad not in out, (path.name, bad)
        assert len(out) > 1000


def test_repeated_line_filter() -> None:
    f = RepeatedLineFilter()
    footer = "Follow Daily Wire on every platform"
    for i in range(3):
        f.observe("wire", f"Story number {i}.\n{footer}")
    assert f.filter("wire", f"New story.\n{footer}") == f"New story.\n{footer}"  # 3 seen < 4
    f.observe("wire", f"Story 4.\n{footer}")
    assert f.filter("wire", f"New story.\n\n{footer}") == "New story."
    assert f.filter("other", f"New story.\n{footer}") == f"New story.\n{footer}"
    g = RepeatedLineFilter.from_json(f.to_json())
    assert g.to_json() == f.to_json()
    assert g.filter("wire", f"x\n{footer.upper()}!") == "x"
    for i in range(6):  # share drops below 50%: no longer repeated
        f.observe("wire", f"Other {i}.")
    assert f.filter("wire", f"x\n{footer}") == f"x\n{footer}"


def test_split_sentences() -> None:
    text = (
        "Mr. Smith met M. Macron in the U.S. on Monday. They had 5.200 soldiers there! "
        "\u201cIt is over,\u201d he said. Was it? Yes.\n\nNew paragraph line"
    )
    assert split_sentences(text) == [
        "Mr. Smith met M. Macron in the U.S. on Monday.",
        "They had 5.200 soldiers there!",
        "\u201cIt is over,\u201d he said.",
        "Was it?",
        "Yes.",
        "New paragraph line",
    ]
    assert split_sentences(
        "« C'est fini. » Il part demain. Les autres restent ici pour l'instant."
    ) == [
        "« C'est fini. »",
        "Il part demain.",
        "Les autres restent ici pour l'instant.",
    ]
    assert split_sentences("会談は11日に行われた。両国は合意した。") == [
        "会談は11日に行われた。",
        "両国は合意した。",
    ]
    assert split_sentences("\n\n  \n") == []


def test_looks_like_title() -> None:
    assert looks_like_title("US and Iraq resume strategic dialogue")
    assert not looks_like_title("The talks resumed.")
    assert not looks_like_title(" ".join(["word"] * 25))
    assert not looks_like_title("2020")
