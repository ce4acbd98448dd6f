"""Choosing questions from the bank that fit what the adept wants to talk about.

Pure functions: the agenda text in, questions out. Matching is by word stems and
phrases per theme in both languages (agendas often mix Swedish with English work
words), and Swedish stems match inside compounds, so "lönesamtal" is career.
An agenda that names nothing gets questions that open a conversation, never the
follow-ups that only make sense in the middle of one.
"""

from __future__ import annotations

import random
import re
from collections.abc import Collection, Sequence
from functools import cache

from bot.domain.question_bank import BANK, CHALLENGE, OPEN, THEMES, Question

LANGUAGES = ("sv", "en")
# Meetings with a question set of their own.
OCCASIONS = ("intro", "closing")

# Words and phrases per theme. A stem with a leading \b starts a word; one without may
# sit inside a Swedish compound ("karriärmålet"). Generic verbs ("prata", "talk", "jobb",
# "change") tag almost any agenda, so they count only inside a phrase that names a theme.
_THEME_WORDS: dict[str, str] = {
    "leadership": r"chef|ledar|ledning|\bled(a|er)\b|\bteam(et|en|s)?\b|delegera"
    r"|medarbetar(?!samtal)|\blead(er|ers|ership|ing)?\b|\bmanag(er|ers|ement)\b"
    r"|\bmanaging (a|my|the|people)"
    r"|\bboss\b|\bdelegat|direct reports?",
    "career": r"karriär|lön\b|lönen\b|löne|befordr|jobbyte|byta jobb|nytt jobb|nya jobbet"
    r"|söka jobb|jobbsök|jobbansökan|anställning|\broll(en)?\b|intervju|\bcv\b|\bcareer"
    r"|salary|\bpay rise|\braise\b|promot(ion|ed)\b|new job|job (interview|offer|search|hunt)"
    r"|\binterview|\bposition\b|\bresume\b|\brole\b",
    "communication": r"kommunic|presentation|presentera|\blyssna|\bmejl|tala inför|inför publik"
    r"|föredrag|svåra samtal|svårt samtal|communicat|\bpresent(ing)? (to|at|for)"
    r"|public speaking|\blisten(ing)?\b|\be-?mails?\b|\bpitch|difficult conversation"
    r"|speak(ing)? up|säga ifrån",
    "conflict": r"konflikt|bråk|osams|oenig|irriter|\bgnabb|\bgräl|conflict|disagree"
    r"|\bargu(e|ing|ment)|tension|\bclash|dispute|friction|difficult colleague|svår kollega",
    "stress": r"stress|belastning|\bhinner inte|hinna med|\bhann inte|deadline|\btrött"
    r"|utbränd|utmatt|sjukskriv|tidsbrist|tidspress|\bpress(ad|at|en)\b|workload|overwhelm"
    r"|\bbusy\b|burn.?out|burnt out|\btired\b|exhaust|too much (work|to do)|pressure"
    r"|overtime|övertid|\bsömn|\bsleep",
    "confidence": r"självförtroende|självkänsla|osäker|tvivl|\bvåga|\bmodig|bluff"
    r"|ta (mer )?plats|confiden(ce|t)\b|insecur|\bdoubt|\bdare\b|\bbrave\b|self.?esteem"
    r"|impost",
    "learning": r"\blär(a|de|er)? (mig|dig|oss|sig)\b|\blärande|kompetens|kunskap|utbild"
    r"|\bkurs|färdighet|certifi|\blearn|\bskills?\b|upskill|\bcourses?\b|training|\bstud(y|ies|ying)\b"
    r"|competen|knowledge",
    "goals": r"mål(et|en|s|bild|sättning|sättningar)?\b|\bsyfte|vision|\buppnå|\bgoals?\b"
    r"|\baims?\b|\btargets?\b|objectives?\b|ambition|purpose|\bsmart\b",
    "networking": r"nätverk|kontakter|kontaktnät|mingel|mingla|linkedin|network"
    r"|\bcontacts\b|connections|referral",
    "balance": r"balans|fritid|familj|privatliv|semester|föräldraledig|\bbarn(en)?\b"
    r"|work.?life|\bbalance|family|spare time|free time|holiday|vacation|personal life"
    r"|parental leave|\bkids\b|children",
    "change": r"förändring|omorganis|omstrukturer|\bflytt(a|ar|en)?\b|varsel|uppsägning"
    r"|byta (bransch|roll|karriär)|\bnya? chef|\bchange management|big change|changes at work"
    r"|organi[sz]ational change|reorgani|restructur|transition|merger|layoff|laid off"
    r"|\bredundan|new (boss|manager|organi[sz]ation)",
    "feedback": r"feedback|återkoppling|kritik|beröm|medarbetarsamtal|utvecklingssamtal"
    r"|omdöme|criticism|critique|praise|performance review|appraisal",
    "intro": r"\bintro|introduktion|första möte|lära känna varandra|lära känna dig"
    r"|first meeting|get(ting)? to know (each other|you)|kick.?off",
    "closing": r"avslutningsmöte|avslutande möte|avsluta mentorskapet|mentorskapets slut"
    r"|sista mötet|tillbakablick|\bclosing\b|last meeting|final meeting|wrap(ping)? up"
    r"|look(ing)? back on (the|our) mentorship|end of (the|our) mentorship",
    "relationship": r"vårt samarbete|våra möten|hur vi (jobbar|arbetar) (ihop|tillsammans)"
    r"|\bkemin?\b|dig som mentor|\bour (meetings|collaboration|mentorship|relationship)"
    r"|how we work together|chemistry|you as (a|my) mentor",
}


# The patterns are compiled at the first agenda read, not at import: compiling them
# is a start-up cost for a bot that may read no agenda for hours.
@cache
def _theme_patterns() -> dict[str, re.Pattern[str]]:
    return {theme: re.compile(words, re.IGNORECASE) for theme, words in _THEME_WORDS.items()}


# Signs of a stuck or negative view, which call for the challenging family. Words that
# also say something harmless ("fail" in "failover", "can't" in "can't wait") count
# only as whole words or inside a phrase.
_STUCK_WORDS = (
    r"\boro(lig|liga|ar|ad|n)?\b|\brädd\b|\brädda för|rädsla|misslyck|hopplös"
    r"|kommer aldrig|aldrig (att )?(lyckas|klara|fungera|gå)|omöjlig|meningslös|ingen idé"
    r"|ångest|nervös|\bpanik|katastrof|klarar inte|kört fast|sitter fast|\bfastnat"
    r"|\bfastnar|värdelös|orkar inte|ger upp"
    r"|\bworr(y|ied|ies|ying)\b|\bafraid\b|\bfear(s|ful)?\b|\bfail(s|ed|ing|ure|ures)?\b"
    r"|\bstuck\b|hopeless|\bnever (works?|going to|gets?|be able|succeed)|\bwill never\b"
    r"|impossible|pointless|anxious|anxiety|nervous|\bpanic|disaster|useless|no point"
    r"|\bdread|give up|giving up"
    r"|\bcan(no|'|’)?t (cope|handle|do (it|this|anything)|manage|see (a|any) way|go on"
    r"|stand|keep up|get (it|anything) right|seem to)|\bcannot (cope|handle|manage)"
)
STUCK_WORD = "stuck"  # what `steer` writes for a stuck view; `_STUCK_WORDS` match it


@cache
def _stuck() -> re.Pattern[str]:
    return re.compile(_STUCK_WORDS, re.IGNORECASE)


def themes_in(text: str) -> frozenset[str]:
    """The themes whose words occur in `text`. A text of nothing but theme names (what
    `steer` wrote, or "/questions change") is read as those themes."""
    found = {theme for theme, pattern in _theme_patterns().items() if pattern.search(text)}
    words = set(text.lower().split())
    if words and words <= _NAMED | {STUCK_WORD}:
        found |= words - {STUCK_WORD}
    return frozenset(found)


# Theme names as words, "general" aside: it is what no theme at all gets.
_NAMED = frozenset(THEMES) - {"general"}


def sounds_stuck(text: str) -> bool:
    return _stuck().search(text) is not None


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
    occasion: str | None = None,
) -> list[Question]:
    """`count` questions fitting `agenda_text`, none of `used_ids` while others remain.

    Open questions of the agenda's themes come first, then all-purpose open
    ones; a stuck or negative agenda brings challenging questions to the front.
    An agenda that names nothing gets no mid-conversation follow-ups. `occasion`
    ("intro", "closing") adds that meeting's own set, whatever the agenda says.
    When the bank runs out, it starts over with the questions least recently new.
    `language` is the reader's (texts are read with `Question.text`); the agenda
    is matched in both languages whichever it is.
    """
    if language not in LANGUAGES:
        raise ValueError(f"no questions in language {language!r}")
    if occasion is not None and occasion not in OCCASIONS:
        raise ValueError(f"no questions for the occasion {occasion!r}")
    if count <= 0:
        return []
    rng = random.Random(rng_seed)
    wanted = themes_in(agenda_text) | ({occasion} if occasion else set())
    stuck = sounds_stuck(agenda_text)
    # With nothing to go on, the mentor needs openers, not "what happened next?".
    usable = [q for q in BANK if not q.followup] if not wanted and not stuck else list(BANK)
    fresh = [question for question in usable if question.id not in used_ids]
    picked = _pick(fresh, wanted, stuck, count, rng)
    if len(picked) < count:
        taken = {question.id for question in picked}
        again = [question for question in usable if question.id not in taken]
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
