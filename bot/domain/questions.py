"""Choosing questions from the bank that fit what the adept wants to talk about.

Pure functions: the agenda text in, questions out. Matching is by word stems
per theme in both languages (agendas often mix Swedish with English work
words), and Swedish stems match inside compounds, so "lönesamtal" is career.
"""

from __future__ import annotations

import random
import re
from collections.abc import Collection, Sequence

from bot.domain.question_bank import BANK, CHALLENGE, OPEN, THEMES, Question

LANGUAGES = ("sv", "en")

# Stems that start a word (\b) or may sit inside a Swedish compound (no \b).
_THEME_WORDS: dict[str, str] = {
    "leadership": r"chef|ledar|ledning|\bleda\b|\bleder\b|team|medarbetar|delegera"
    r"|\blead|\bmanag|\bboss|\bdelegat|direct report",
    "career": r"karriär|lön|befordr|jobbyte|\bjobb|anställning|\broll\b|\brollen\b"
    r"|intervju|\bcv\b|career|salary|\bpay\b|\braise\b|promot|\bjob|interview|\brole\b"
    r"|\bposition|resume",
    "communication": r"kommunic|\bsamtal|prata|presentera|presentation|lyssna|\bmejl|\btala\b"
    r"|communicat|\bpresent|\btalk|listen|\bspeak|\bemail|\bpitch",
    "conflict": r"konflikt|bråk|osams|oenig|irriter|\bgnabb|conflict|disagree|\bargu"
    r"|tension|\bclash|dispute|friction|difficult colleague",
    "stress": r"stress|belastning|\bhinn|deadline|trött|utbränd|utmatt|sjukskriv|tidsbrist"
    r"|tidspress|\bpress(ad|at|en)?\b|workload|overwhelm|\bbusy|burn.?out|\btired"
    r"|exhaust|too much|pressure|overtime|övertid",
    "confidence": r"självförtroende|självkänsla|osäker|tvivl|\bvåga|\bmodig|bluff"
    r"|confiden|insecur|doubt|\bdare|\bbrave|self.?esteem|impost",
    "learning": r"\blär|kompetens|kunskap|utbild|\bkurs|färdighet|\blearn|skill|\bcourse"
    r"|training|\bstud|competen|knowledge",
    "goals": r"mål|målsättning|\bsyfte|vision|\buppnå|\bgoal|\baim|\btarget|objective"
    r"|ambition|purpose",
    "networking": r"nätverk|kontakter|kontaktnät|mingel|mingla|linkedin|network|contacts"
    r"|\bmingl|connections|referral",
    "balance": r"balans|fritid|familj|privatliv|semester|föräldraledig|\bbarn|\bhelg"
    r"|work.?life|balance|family|spare time|holiday|vacation|personal life|weekend",
    "change": r"förändring|omorganis|omstrukturer|flytt|varsel|uppsägning|\bbyta\b|\bbyter"
    r"|change|reorgani|restructur|transition|merger|layoff|laid off|\bredundan",
    "feedback": r"feedback|återkoppling|kritik|beröm|medarbetarsamtal|utvecklingssamtal"
    r"|omdöme|criticism|critique|praise|\breview|appraisal",
}
_THEME_PATTERNS = {
    theme: re.compile(rf"{words}|\b{theme}\b", re.IGNORECASE)
    for theme, words in _THEME_WORDS.items()
}
# Signs of a stuck or negative view, which call for the challenging family.
_STUCK = re.compile(
    r"\boro|rädd|misslyck|hopplös|\baldrig\b|omöjlig|meningslös|ingen idé|ångest|nervös"
    r"|\bpanik|katastrof|klarar inte|kört fast|sitter fast|\bfastnat|\bfastnar|värdelös"
    r"|\bworr|afraid|\bfear|\bfail|\bstuck\b|hopeless|\bnever\b|impossible|pointless"
    r"|anxious|anxiety|nervous|\bpanic|disaster|\bcan'?t\b|\bcannot\b|\bcan’t\b|useless"
    r"|no point|\bdread",
    re.IGNORECASE,
)
STUCK_WORD = "stuck"  # what `steer` writes for a stuck view; `_STUCK` matches it


def themes_in(text: str) -> frozenset[str]:
    """The themes whose words occur in `text`."""
    return frozenset(theme for theme, pattern in _THEME_PATTERNS.items() if pattern.search(text))


def sounds_stuck(text: str) -> bool:
    return _STUCK.search(text) is not None


def steer(text: str, *, limit: int = 40) -> str:
    """What in `text` decides the choice, compactly ("career.stress.stuck"), for button data.

    `suggest` reads it back like any agenda. Themes beyond `limit` characters are left out.
    """
    words = [theme for theme in THEMES if theme in themes_in(text)]
    if sounds_stuck(text):
        words.insert(0, STUCK_WORD)
    kept: list[str] = []
    for word in words:
        if len(".".join([*kept, word])) <= limit:
            kept.append(word)
    return ".".join(kept)


def this_round(history: Sequence[str]) -> set[str]:
    """The ids a pair has seen since they last went through the whole bank.

    `history` is oldest first; ids no longer in the bank are ignored.
    """
    every = {question.id for question in BANK}
    seen: set[str] = set()
    for question_id in history:
        if question_id not in every:
            continue
        seen.add(question_id)
        if seen == every:
            seen = set()
    return seen


def suggest(
    agenda_text: str,
    language: str,
    used_ids: set[str],
    count: int = 3,
    rng_seed: int | None = None,
) -> list[Question]:
    """`count` questions fitting `agenda_text`, none of `used_ids` while others remain.

    Open questions of the agenda's themes come first, then all-purpose open
    ones; a stuck or negative agenda brings challenging questions to the front.
    When the bank runs out, it starts over with the questions least recently new.
    `language` is the reader's (texts are read with `Question.text`); the agenda
    is matched in both languages whichever it is.
    """
    if language not in LANGUAGES:
        raise ValueError(f"no questions in language {language!r}")
    if count <= 0:
        return []
    rng = random.Random(rng_seed)
    wanted = themes_in(agenda_text)
    stuck = sounds_stuck(agenda_text)
    fresh = [question for question in BANK if question.id not in used_ids]
    picked = _pick(fresh, wanted, stuck, count, rng)
    if len(picked) < count:
        taken = {question.id for question in picked}
        again = [question for question in BANK if question.id not in taken]
        picked += _pick(again, wanted, stuck, count - len(picked), rng)
    return picked


def _pick(
    pool: Collection[Question],
    wanted: frozenset[str],
    stuck: bool,
    count: int,
    rng: random.Random,
) -> list[Question]:
    def fit(question: Question) -> int:
        return len(question.themes & wanted)

    ties = {question.id: rng.random() for question in pool}
    ordered = sorted(
        pool,
        key=lambda q: (-fit(q), "general" not in q.themes, ties[q.id]),
    )
    fitting = [q for q in ordered if q.family == OPEN and fit(q) > 0]
    other = [q for q in ordered if q.family == OPEN and fit(q) == 0]
    challenging = [q for q in ordered if q.family == CHALLENGE]
    if stuck:
        # Mostly challenging, yet one open question keeps the conversation exploring.
        lead = max(1, count - 1)
        queue = challenging[:lead] + fitting + other + challenging[lead:]
    else:
        queue = fitting + other + challenging
    return queue[:count]
