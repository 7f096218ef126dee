"""Boilerplate removal: subscribe/share/cookie lines, 'read also' teasers, app badges, bylines.

The rules are generic line patterns in English, French, German, Spanish and Italian. A line is
dropped only when it is short or when the pattern anchors the whole line, so a long sentence
that merely mentions "subscribe" stays.
"""

from __future__ import annotations

import logging
import re
import unicodedata

logger = logging.getLogger(__name__)

__all__ = ["clean_text", "is_boilerplate", "normalize_whitespace"]

# Lines that are boilerplate when they START with one of these (teasers, cross-links).
_TEASER = re.compile(
    r"""^\s*(?:>>+\s*|»\s*|►\s*|▶\s*|→\s*|-\s*)?(?:
        also\s+read|read\s+also|read\s+more|see\s+also|related(?:\s+articles?)?\s*:|
        more\s+on\s+this|watch\s*:|read\s*:|see\s*:|exclusive\s+report|
        lire\s+aussi|[àa]\s+lire\s+aussi|[àa]\s+lire|voir\s+aussi|lire\s+la\s+suite|
        [àa]\s+voir\s+aussi|sur\s+le\s+m[êe]me\s+sujet|
        lesen\s+sie\s+auch|mehr\s+zum\s+thema|auch\s+interessant|siehe\s+auch|
        lea\s+tambi[ée]n|te\s+puede\s+interesar|ver\s+tambi[ée]n|m[áa]s\s+informaci[óo]n\s*:|
        leggi\s+anche|potrebbe\s+interessarti|vedi\s+anche
    )\b""",
    re.IGNORECASE | re.VERBOSE,
)
_TEASER_ARROW = re.compile(r"^\s*>>+\s*\S")  # ">> Read: ..." style cross-links in any language

# Lines that are boilerplate when the WHOLE (short) line matches.
_WHOLE = re.compile(
    r"""^\W*(?:
        i\s+subscribe|subscribe(?:\s+now|\s+here|\s+to\s+our\s+newsletter)?|sign\s+up.*newsletter.*|
        (?:share|tweet|email|print)(?:\s+(?:this|on\s+\w+|article|story))*|
        follow\s+us(?:\s+on\s+\w+)?|advertisement|advertising|sponsored(?:\s+content)?|
        download\s+the\s+.{1,40}\s+app.*|take\s+.{0,40}news\s+everywhere.*|
        .{0,40}app\s+store.*|get\s+it\s+on\s+google\s+play|google-play-badge\w*|app-store-badge\w*|
        writing\s+will\s+advise\s+you|
        (?:with|avec|mit|con|by)\s+(?:afp|reuters|ap|dpa|efe|ansa|agencies|agences)
           (?:\s*(?:,|and|et|und|y|e|&)\s*(?:afp|reuters|ap|dpa|efe|ansa))*|leave\s+a\s+(?:comment|reply)|comments?|
        your\s+email\s+address\s+will\s+not\s+be\s+published.*|
        required\s+fields\s+are\s+marked.*|all\s+rights\s+reserved.*|
        (?:this\s+(?:site|website)\s+uses|we\s+use|nous\s+utilisons|wir\s+verwenden)\s+cookies.*|
        .{0,60}\bcookies?\s+(?:policy|settings|consent|preferences|param[èe]tres).*|
        accept(?:\s+all)?\s+cookies|
        (?:the\s+)?(?:summary\s+of\s+the\s+)?.{0,30}\bweek(?:ly)?\s+summary\b.{0,80}|
        .{0,40}\binvites\s+you\s+to\s+come\s+back\s+to\s+the\s+news.*|
        je\s+m['’]abonne|abonnez-vous.*|s['’]abonner.*|inscrivez-vous.*newsletter.*|
        publicit[ée]|partager(?:\s+sur\s+\w+)?|laisser\s+un\s+commentaire|
        votre\s+adresse\s+(?:e-?mail|de\s+messagerie)\s+ne\s+sera\s+pas\s+publi[ée]e.*|
        les\s+champs\s+obligatoires\s+sont\s+indiqu[ée]s.*|tous\s+droits\s+r[ée]serv[ée]s.*|
        t[ée]l[ée]chargez\s+l['’]application.*|la\s+r[ée]daction\s+vous\s+conseille|
        anzeige|werbung|teilen|jetzt\s+abonnieren|newsletter\s+abonnieren|kommentare?|
        alle\s+rechte\s+vorbehalten.*|
        publicidad|compartir|suscr[íi]bete.*|comentarios?|todos\s+los\s+derechos\s+reservados.*|
        pubblicit[àa]|condividi|iscriviti.*|commenti|riproduzione\s+riservata.*|
        (?:published|updated|last\s+updated|posted|mis\s+[àa]\s+jour|publi[ée]\s+le|
           aktualisiert|ver[öo]ffentlicht|actualizado|publicado|aggiornato|pubblicato)
           (?:\s+(?:on|at|le|am|el|il))?\s*:?\s*(?:[\d(]|[a-z]{3,9}\.?,?\s+\d).{0,80}|
        (?:photo|image|credit|crédit|foto|bild)s?\s*:.{0,80}|
        .{0,120}[.!?]\s+(?:photo|image|credit|crédit|foto|bild)s?(?:\s+by)?\s*:\s*[^.]{0,60}|
        .{0,120}\((?:photo|image|credit|foto|file\s+photo)s?\s*[:/][^)]{0,80}\)|
        buy\s+photo|
        before\s+you\s+go,?\s+we\s+thought\s+you.{0,40}|
        by\s*:?\s+.{1,80}\b(?:updated|posted|published)\s*:?\s*.{0,60}|
        (?:please\s+)?(?:enable|turn\s+on|activate)\s+javascript.*|
        .{0,60}\bjavascript\s+(?:is\s+)?(?:disabled|required|must\s+be\s+enabled).*|
        (?:your|this)\s+browser\s+does\s+(?:not|n['’]t)\s+support.*|
        (?:click|tap)\s+here\s+(?:to|for)\s+.{0,80}|
        [\W_]*
    )\W*$""",
    re.IGNORECASE | re.VERBOSE,
)
_PHOTO_PREFIX = re.compile(r"^(?:buy\s+photo\s+)+", re.IGNORECASE)  # a gallery button before the text
_MAX_BOILER_LEN = 160  # whole-line patterns only apply to lines up to this length
_MAX_TEASER_LEN = 220

_WS = re.compile(r"[ \t\u00a0\u2000-\u200b\u202f\u205f\u3000]+")
_CTRL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufeff\u00ad]")


def normalize_whitespace(text: str) -> str:
    """NFC, one space inside lines, at most one blank line between paragraphs.

    >>> normalize_whitespace("a\\u00a0 b\\r\\n\\n\\n\\nc  ")
    'a b\\n\\nc'
    """
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = _CTRL.sub("", text)
    out: list[str] = []
    blank = False
    for raw in text.split("\n"):
        line = _WS.sub(" ", raw).strip()
        if not line:
            blank = bool(out)
            continue
        if blank:
            out.append("")
            blank = False
        out.append(line)
    return "\n".join(out)


def is_boilerplate(line: str, lang: str | None = None) -> bool:
    """Whether one (whitespace-normalised) line is boilerplate rather than article content.

    >>> is_boilerplate("I subscribe"), is_boilerplate("Lire aussi : la suite")
    (True, True)
    >>> is_boilerplate("He said he would subscribe to the plan once the vote was held in May.")
    False
    >>> is_boilerplate("Please enable Javascript to watch this video")
    True
    >>> is_boilerplate("by: Tom Regan, Tom Jones Updated: Aug 4, 2016 - 7:30 AM")
    True
    >>> is_boilerplate("Jordan Larkin graduated from North Crowley High School. Photo: Courtesy")
    True
    """
    del lang  # the patterns are multilingual; kept for a future per-language rule set
    s = line.strip()
    if not s:
        return False
    if len(s) <= _MAX_BOILER_LEN and _WHOLE.match(s):
        return True
    return len(s) <= _MAX_TEASER_LEN and bool(_TEASER.match(s) or _TEASER_ARROW.match(s))


def clean_text(text: str, lang: str | None = None) -> str:
    """Remove boilerplate lines and normalise whitespace, keeping paragraph breaks.

    >>> clean_text("Real news here.\\n\\nI subscribe\\n\\nRead also: other story\\n.")
    'Real news here.'
    >>> clean_text("Buy Photo Several houses were taped off.\\nPolice Siren (Photo: Media File Photo)")
    'Several houses were taped off.'
    """
    lines = [_PHOTO_PREFIX.sub("", line) for line in normalize_whitespace(text).split("\n")]
    kept: list[str] = []
    dropped = 0
    for line in lines:
        if line and is_boilerplate(line, lang):
            dropped += 1
            continue
        if not line and (not kept or not kept[-1]):
            continue
        kept.append(line)
    while kept and not kept[-1]:
        kept.pop()
    if dropped:
        logger.debug("clean_text dropped %d boilerplate lines", dropped)
    return "\n".join(kept)
