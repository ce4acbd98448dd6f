"""The look-back a pair receives when their mentorship closes: the facts they share
(period, meetings, hours, goals), a chart of their check-in ratings, and a document
with the same content plus the recipient's own shared notes. Nothing the partner
kept private is read here."""

from __future__ import annotations

import base64
import html
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.domain.closing import CLOSING_MEETING, meeting_end
from bot.i18n import N_, t
from bot.usecases.checkins import ratings_series
from bot.usecases.closing import assessed_goals
from bot.usecases.pairing import display_name
from storage import meetings as meeting_store
from storage import mentorships
from storage.models import CheckIn, ClosingFeedback, DiaryEntry, Meeting, MeetingEvaluation, User

OUTCOME_TEXTS = {
    "reached": N_("lookback.outcome.reached"),
    "partly": N_("lookback.outcome.partly"),
    "not": N_("lookback.outcome.not"),
}


@dataclass
class Summary:
    partner: str
    started: date | None
    ended: date | None
    meetings_held: int
    hours: float
    goals: list[tuple[str, int, str | None]]  # (goal, progress %, this person's outcome)
    ratings: dict[str, list[tuple[date, int]]]
    own_notes: list[tuple[date, str]] = field(default_factory=list)


async def gather(
    session: AsyncSession, *, mentorship_id: int, user: User, now: datetime
) -> Summary | None:
    assert user.id is not None
    seen = await mentorships.pairing(session, mentorship_id=mentorship_id, user_id=user.id)
    if seen is None or seen.partner is None:
        return None
    zone = ZoneInfo(user.timezone)
    mentorship = seen.mentorship
    end = mentorship.ended_at or now
    feedback = list(
        await session.exec(
            select(ClosingFeedback).where(ClosingFeedback.mentorship_id == mentorship_id)
        )
    )
    # After an early end, the closing meeting comes after the end: counted up to the look-back.
    counted_until = max(end, mentorship.lookback_sent_at or end)
    held = await _held(session, mentorship_id=mentorship_id, end=counted_until, feedback=feedback)
    mine = next((f for f in feedback if f.user_id == user.id), None)
    outcomes = mine.goal_outcomes if mine else {}
    goals = [
        (
            (revision.specific if revision else None) or "—",
            shown_progress(goal.progress_percent, outcomes.get(str(goal.id))),
            outcomes.get(str(goal.id)),
        )
        for goal, revision in await assessed_goals(session, mentorship_id=mentorship_id)
    ]
    # The partner's ratings only from check-ins they chose to share.
    ratings = await ratings_series(session, mentorship_id=mentorship_id, viewer=user)
    notes = [
        (entry.created_at.astimezone(zone).date(), entry.text)
        for entry in await session.exec(
            select(DiaryEntry)
            .where(
                DiaryEntry.mentorship_id == mentorship_id,
                DiaryEntry.author_id == user.id,
                DiaryEntry.visibility == "shared",
            )
            .order_by(col(DiaryEntry.created_at))
        )
    ]
    for checkin in await session.exec(
        select(CheckIn).where(
            CheckIn.mentorship_id == mentorship_id,
            CheckIn.user_id == user.id,
            CheckIn.note_shared == True,  # noqa: E712 (SQL comparison)
            col(CheckIn.note_to_partner).is_not(None),
        )
    ):
        # "" (left out) is told apart in Python: the column is encrypted, so SQL
        # cannot compare it with "".
        if not checkin.note_to_partner:
            continue
        moment = checkin.answered_at or checkin.due_at
        notes.append((moment.astimezone(zone).date(), checkin.note_to_partner))
    return Summary(
        partner=display_name(seen.partner),
        started=mentorship.started_at.astimezone(zone).date() if mentorship.started_at else None,
        ended=end.astimezone(zone).date(),
        meetings_held=len(held),
        hours=sum(m.duration_minutes for m in held) / 60,
        goals=goals,
        ratings=ratings,
        own_notes=sorted(notes),
    )


async def _held(
    session: AsyncSession, *, mentorship_id: int, end: datetime, feedback: list[ClosingFeedback]
) -> list[Meeting]:
    """The meetings that took place: confirmed, over before the end, and evaluated by
    either of the pair; a closing meeting counts once feedback was given after it (its
    evaluation is the closing feedback). A booked time alone proves nothing."""
    over = [
        m
        for m in await meeting_store.of_mentorship(
            session, mentorship_id=mentorship_id, states=("confirmed",)
        )
        if meeting_end(m) <= end
    ]
    if not over:
        return []
    evaluated = set(
        (
            await session.exec(
                select(MeetingEvaluation.meeting_id).where(
                    col(MeetingEvaluation.meeting_id).in_([m.id for m in over]),
                    or_(
                        col(MeetingEvaluation.rating).is_not(None),
                        col(MeetingEvaluation.useful).is_not(None),
                    ),
                )
            )
        ).all()
    )
    given = [f.submitted_at for f in feedback if f.submitted_at is not None]
    return [
        m
        for m in over
        if m.id in evaluated
        or (m.kind == CLOSING_MEETING and any(at >= m.starts_at for at in given))
    ]


def shown_progress(progress: int, outcome: str | None) -> int:
    """A goal this person calls reached at closing is shown as reached, whatever the
    last progress noted during the mentorship."""
    return 100 if outcome == "reached" else progress


def _goal_line(language: str, goal: str, progress: int, outcome: str | None) -> str:
    verdict = t(language, OUTCOME_TEXTS[outcome]) if outcome else t(language, "lookback.no_outcome")
    return t(language, "lookback.goal_line", goal=goal, percent=progress, outcome=verdict)


def message(summary: Summary, language: str) -> str:
    """The look-back as one chat message."""
    lines = [
        t(
            language,
            "lookback.title",
            name=summary.partner,
            start=summary.started or summary.ended or date.today(),
            end=summary.ended or date.today(),
        ),
        t(
            language,
            "lookback.meetings",
            count=summary.meetings_held,
            hours=round(float(summary.hours), 1),
        ),
    ]
    if summary.goals:
        lines.append(
            t(language, "lookback.goals")
            + "\n"
            + "\n".join(_goal_line(language, *goal) for goal in summary.goals)
        )
    lines.append(t(language, "lookback.thanks"))
    return "\n\n".join(lines)


def document(summary: Summary, language: str, chart_png: bytes | None) -> bytes:
    """A standalone HTML page with the same content and the reader's own shared notes."""

    # t() escapes values for Telegram HTML, which is valid HTML too.
    title = t(language, "lookback.document_title", name=summary.partner)
    chart_title = t(language, "lookback.chart_title")
    notes_title = t(language, "lookback.own_notes")
    no_notes = t(language, "lookback.no_notes")
    parts = [
        "<!doctype html>",
        f'<html lang="{language}"><head><meta charset="utf-8">',
        f"<title>{title}</title>",
        "<style>body{font-family:system-ui,sans-serif;max-width:46rem;margin:2rem auto;"
        "padding:0 1rem;line-height:1.5;color:#222}h1{font-size:1.5rem}"
        "li{margin:.3rem 0}img{max-width:100%}.note{white-space:pre-wrap;"
        "border-left:3px solid #8ab;padding-left:.8rem;margin:.8rem 0}</style></head><body>",
        f"<h1>{title}</h1>",
        f"<p>{message(summary, language).replace(chr(10), '<br>')}</p>",
    ]
    if chart_png:
        encoded = base64.b64encode(chart_png).decode("ascii")
        parts.append(
            f"<h2>{chart_title}</h2>"
            f'<img alt="{html.escape(chart_title)}" '
            f'src="data:image/png;base64,{encoded}">'
        )
    parts.append(f"<h2>{notes_title}</h2>")
    if summary.own_notes:
        for day, note in summary.own_notes:
            parts.append(
                f'<div class="note"><strong>{html.escape(day.isoformat())}</strong>\n'
                f"{html.escape(note)}</div>"
            )
    else:
        parts.append(f"<p>{no_notes}</p>")
    parts.append("</body></html>")
    return "\n".join(parts).encode("utf-8")
