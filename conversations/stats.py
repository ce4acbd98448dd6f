"""/stats: a programme's health for its coordinators, as text, a chart and a CSV.

Counts only, never names or anything anyone wrote, and every count from 1 to 4 shown
as "<5" (`bot.domain.health`). Super-coordinators (`ADMIN_IDS`) see every programme,
other coordinators the ones they coordinate; with several, buttons (`hl:p:<id>`)
choose, and each press is checked again.
"""

from __future__ import annotations

import asyncio
from typing import Any
from zoneinfo import ZoneInfo

from telegram import InputFile, Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, filters

from bot import services
from bot.domain import charts
from bot.domain import health as rules
from bot.i18n import N_, format_date, t
from bot.usecases import health as usecase
from bot.usecases.programmes import name_of
from conversations.common import Context, raw_keyboard
from conversations.step import State, Step, step

# A programme's name on a button: long names are cut so the button stays readable.
BUTTON_CHARS = 40


def _line(language: str, key: str, value: rules.Masked) -> str:
    return t(language, "stats.line", label=t(language, key), n=rules.shown(value))


def _month(language: str, rating: rules.MonthRating) -> str:
    month = format_date(rating.month, "LLLL y", locale=language)
    if rating.average is None:
        return t(language, "health.month_rating_hidden", month=month)
    return t(
        language,
        "health.month_rating",
        month=month,
        average=rating.average,
        n=rules.shown(rating.answers),
    )


def health_text(language: str, programme: str, found: rules.Figures) -> str:
    """The figures as a message: what /stats says before the chart and the CSV."""
    lines = [t(language, "stats.title"), t(language, "health.programme", programme=programme)]
    lines += ["", t(language, "health.section.pairs")]
    lines += [_line(language, rules.STATE_NAMES[state], n) for state, n in found.by_state]
    lines.append(_line(language, N_("health.intro_overdue"), found.intro_overdue))
    lines.append(_line(language, N_("health.active_idle"), found.active_idle))
    lines.append(t(language, "stats.meetings", n=rules.shown(found.meetings_last_30_days)))
    lines += ["", t(language, "health.section.checkins")]
    average = found.average_rating if found.average_rating is not None else "—"
    lines.append(
        t(language, "stats.checkins", n=rules.shown(found.checkins_answered), average=average)
    )
    lines.append(_line(language, N_("health.checkins_unanswered"), found.checkins_unanswered))
    lines.append(t(language, "health.ratings_by_month"))
    lines += [_month(language, rating) for rating in found.ratings]
    lines += ["", t(language, "health.section.ended")]
    lines += [
        t(
            language,
            "stats.ended_because",
            label=t(language, rules.REASON_NAMES[reason]),
            n=rules.shown(n),
        )
        for reason, n in found.ended_early
    ]
    lines += ["", t(language, "health.section.to_you")]
    lines.append(t(language, "stats.reports", n=rules.shown(found.reports_sent)))
    lines.append(_line(language, N_("health.contacts"), found.contacts_sent))
    return "\n".join(lines)


def _csv_file(content: bytes, name: str) -> InputFile:
    document = InputFile(content, filename=name)
    document.mimetype = "text/csv"
    return document


async def _show(s: Step, programme_id: int) -> State:
    settings = services.of(s.context).settings
    found = await s.do(
        usecase.health,
        user=s.person,
        programme_id=programme_id,
        super_coordinators=settings.admin_ids,
        now=s.now,
    )
    programme = name_of(found.programme, s.language)
    await s.say(health_text(s.language, programme, found.figures))
    # Drawing takes a moment of CPU: off the event loop, so other people are answered.
    png = await asyncio.to_thread(
        charts.health_chart,
        rules.chart_series(found.figures),
        title=s.t(N_("health.chart.title"), programme=programme),
        language=s.language,
    )
    chat = s.update.effective_chat
    assert chat is not None
    await chat.send_photo(png, caption=s.t(N_("health.chart_caption")))
    stamp = s.now.astimezone(ZoneInfo(found.programme.timezone)).date().isoformat()
    await chat.send_document(
        _csv_file(rules.to_csv(found.figures, s.language), f"programme-{programme_id}-{stamp}.csv"),
        caption=s.t(N_("health.csv_caption")),
    )
    return None


@step()
async def stats(s: Step) -> State:
    """/stats: the one programme's figures, or buttons to choose among several."""
    found = await s.do(
        usecase.programmes_for,
        user=s.person,
        super_coordinators=services.of(s.context).settings.admin_ids,
    )
    if len(found) == 1 and found[0].id is not None:
        return await _show(s, found[0].id)
    rows = [
        [(name_of(programme, s.language)[:BUTTON_CHARS], f"hl:p:{programme.id}")]
        for programme in found
    ]
    await s.say(s.t(N_("health.choose")), raw_keyboard(rows))
    return None


@step()
async def chosen(s: Step) -> State:
    return await _show(s, int(s.parts(3)[2]))


def handlers() -> list[BaseHandler[Update, Context, Any]]:
    return [
        CommandHandler("stats", stats, filters=filters.ChatType.PRIVATE),
        CallbackQueryHandler(chosen, pattern=r"^hl:p:\d{1,18}$"),
    ]
