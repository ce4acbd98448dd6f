"""Rules for people's own data: the confirmation before erasing it, when the texts of a
closed mentorship are purged, and the two files of `/mydata` (JSON and readable HTML).

Plain functions: no PTB, no session. The export itself is a plain dict built by
`bot.usecases.privacy.export`; here it only becomes bytes.
"""

from __future__ import annotations

import calendar
import html
import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from bot.i18n import N_, t

# -- erasing -----------------------------------------------------------------------------------

# A confirmation button older than this asks the person to start again: it may have
# been pressed by mistake in an old part of the chat.
CONFIRMATION_VALID = timedelta(minutes=30)
# The word to type, in the person's language ("RADERA", "DELETE").
CONFIRMATION_WORD = N_("privacy.erase.word")


def confirmation_fresh(*, issued: datetime, now: datetime) -> bool:
    return timedelta(0) <= now - issued <= CONFIRMATION_VALID


def is_confirmation(typed: str, word: str) -> bool:
    """The word as typed, in any case, with stray quotes, spaces or a full stop around it."""
    cleaned = typed.strip().strip("\"'«»“”.!").strip()
    return bool(cleaned) and cleaned.casefold() == word.strip().casefold()


# -- retention ---------------------------------------------------------------------------------

# The reminder goes this many months before the purge, and the purge never comes
# sooner than this after the reminder (a bot switched on late still gives people time).
REMINDER_LEAD_MONTHS = 1


def months_before(moment: datetime, months: int) -> datetime:
    """`moment` moved back by calendar months (the 31st becomes the month's last day)."""
    index = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(index, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


def months_after(moment: datetime, months: int) -> datetime:
    return months_before(moment, -months)


def reminder_cutoff(*, now: datetime, months: int) -> datetime:
    """Mentorships closed at or before this are due for the reminder."""
    return months_before(now, max(months - REMINDER_LEAD_MONTHS, 0))


def purge_cutoffs(*, now: datetime, months: int) -> tuple[datetime, datetime]:
    """(closed at or before, reminded at or before): both must hold for the purge."""
    return months_before(now, months), months_before(now, REMINDER_LEAD_MONTHS)


def purge_date(*, ended_at: datetime, reminded_at: datetime | None, months: int) -> datetime:
    """When the texts go: `months` after closing, and at least a month after the reminder."""
    due = months_after(ended_at, months)
    if reminded_at is not None:
        due = max(due, months_after(reminded_at, REMINDER_LEAD_MONTHS))
    return due


# -- the export as files -----------------------------------------------------------------------


def to_json(data: Mapping[str, Any]) -> bytes:
    return json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8")


# Headings and field names of the readable version; the JSON keeps the keys.
LABELS: dict[str, str] = {
    "about": N_("privacy.label.about"),
    "exported_at": N_("privacy.label.exported_at"),
    "profile": N_("privacy.label.profile"),
    "telegram_id": N_("privacy.label.telegram_id"),
    "first_name": N_("privacy.label.first_name"),
    "last_name": N_("privacy.label.last_name"),
    "username": N_("privacy.label.username"),
    "language": N_("privacy.label.language"),
    "language_chosen": N_("privacy.label.language_chosen"),
    "timezone": N_("privacy.label.timezone"),
    "quiet_hours": N_("privacy.label.quiet_hours"),
    "created_at": N_("privacy.label.created_at"),
    "mentorships": N_("privacy.label.mentorships"),
    "my_role": N_("privacy.label.my_role"),
    "state": N_("privacy.label.state"),
    "mode": N_("privacy.label.mode"),
    "started_at": N_("privacy.label.started_at"),
    "planned_end": N_("privacy.label.planned_end"),
    "ended_at": N_("privacy.label.ended_at"),
    "my_reason_for_ending": N_("privacy.label.my_reason_for_ending"),
    "partner": N_("privacy.label.partner"),
    "name": N_("privacy.label.name"),
    "role": N_("privacy.label.role"),
    "history": N_("privacy.label.history"),
    "from_state": N_("privacy.label.from_state"),
    "to_state": N_("privacy.label.to_state"),
    "at": N_("privacy.label.at"),
    "by": N_("privacy.label.by"),
    "invitation": N_("privacy.label.invitation"),
    "expires_at": N_("privacy.label.expires_at"),
    "used_at": N_("privacy.label.used_at"),
    "declined_at": N_("privacy.label.declined_at"),
    "revoked_at": N_("privacy.label.revoked_at"),
    "intro": N_("privacy.label.intro"),
    "decision": N_("privacy.label.decision"),
    "decided_at": N_("privacy.label.decided_at"),
    "areas": N_("privacy.label.areas"),
    "private_reason": N_("privacy.label.private_reason"),
    "confidentiality_agreed_at": N_("privacy.label.confidentiality_agreed_at"),
    "contracts": N_("privacy.label.contracts"),
    "version": N_("privacy.label.version"),
    "drafted_by": N_("privacy.label.drafted_by"),
    "aims": N_("privacy.label.aims"),
    "duration_months": N_("privacy.label.duration_months"),
    "cadence": N_("privacy.label.cadence"),
    "meeting_minutes": N_("privacy.label.meeting_minutes"),
    "time_budget_hours": N_("privacy.label.time_budget_hours"),
    "cancel_notice": N_("privacy.label.cancel_notice"),
    "feedback_cadence": N_("privacy.label.feedback_cadence"),
    "rules": N_("privacy.label.rules"),
    "change_request": N_("privacy.label.change_request"),
    "submitted_at": N_("privacy.label.submitted_at"),
    "accepted_by_me_at": N_("privacy.label.accepted_by_me_at"),
    "accepted_by_partner_at": N_("privacy.label.accepted_by_partner_at"),
    "goals": N_("privacy.label.goals"),
    "goals_shared_by_partner": N_("privacy.label.goals_shared_by_partner"),
    "kind": N_("privacy.label.kind"),
    "visibility": N_("privacy.label.visibility"),
    "target_date": N_("privacy.label.target_date"),
    "progress_percent": N_("privacy.label.progress_percent"),
    "closed_reason": N_("privacy.label.closed_reason"),
    "versions": N_("privacy.label.versions"),
    "specific": N_("privacy.label.specific"),
    "measurable": N_("privacy.label.measurable"),
    "realistic": N_("privacy.label.realistic"),
    "written_at": N_("privacy.label.written_at"),
    "mentor_response": N_("privacy.label.mentor_response"),
    "mentor_comment": N_("privacy.label.mentor_comment"),
    "responded_at": N_("privacy.label.responded_at"),
    "progress": N_("privacy.label.progress"),
    "percent": N_("privacy.label.percent"),
    "note": N_("privacy.label.note"),
    "meetings": N_("privacy.label.meetings"),
    "starts_at": N_("privacy.label.starts_at"),
    "duration_minutes": N_("privacy.label.duration_minutes"),
    "place": N_("privacy.label.place"),
    "booked_by": N_("privacy.label.booked_by"),
    "my_agenda": N_("privacy.label.my_agenda"),
    "text": N_("privacy.label.text"),
    "my_evaluation": N_("privacy.label.my_evaluation"),
    "useful": N_("privacy.label.useful"),
    "next_steps": N_("privacy.label.next_steps"),
    "rating": N_("privacy.label.rating"),
    "diary": N_("privacy.label.diary"),
    "diary_shared_by_partner": N_("privacy.label.diary_shared_by_partner"),
    "checkins": N_("privacy.label.checkins"),
    "checkins_shared_by_partner": N_("privacy.label.checkins_shared_by_partner"),
    "period": N_("privacy.label.period"),
    "due_at": N_("privacy.label.due_at"),
    "answered_at": N_("privacy.label.answered_at"),
    "works_well": N_("privacy.label.works_well"),
    "could_improve": N_("privacy.label.could_improve"),
    "note_to_partner": N_("privacy.label.note_to_partner"),
    "shared": N_("privacy.label.shared"),
    "note_shared": N_("privacy.label.note_shared"),
    "closing_feedback": N_("privacy.label.closing_feedback"),
    "closing_feedback_from_partner": N_("privacy.label.closing_feedback_from_partner"),
    "goal_outcomes": N_("privacy.label.goal_outcomes"),
    "most_valuable": N_("privacy.label.most_valuable"),
    "could_be_better": N_("privacy.label.could_be_better"),
    "stay_in_touch": N_("privacy.label.stay_in_touch"),
    "diary_without_mentorship": N_("privacy.label.diary_without_mentorship"),
    "support_reports": N_("privacy.label.support_reports"),
    "sent_at": N_("privacy.label.sent_at"),
    "directory": N_("privacy.label.directory"),
    "mentor_profiles": N_("privacy.label.mentor_profiles"),
    "programme": N_("privacy.label.programme"),
    "other_areas": N_("privacy.label.other_areas"),
    "career": N_("privacy.label.career"),
    "languages": N_("privacy.label.languages"),
    "organisation": N_("privacy.label.organisation"),
    "capacity": N_("privacy.label.capacity"),
    "published_at": N_("privacy.label.published_at"),
    "paused_at": N_("privacy.label.paused_at"),
    "my_organisations": N_("privacy.label.my_organisations"),
    "requests_sent": N_("privacy.label.requests_sent"),
    "requests_received": N_("privacy.label.requests_received"),
    "decline_reason": N_("privacy.label.decline_reason"),
    "programmes": N_("privacy.label.programmes"),
    "roles": N_("privacy.label.roles"),
    "announcements": N_("privacy.label.announcements"),
    "audience": N_("privacy.label.audience"),
    "recipients": N_("privacy.label.recipients"),
}
# Values that are codes rather than texts, shown in words.
VALUES: dict[str, str] = {
    "me": N_("privacy.value.me"),
    "partner": N_("privacy.value.partner"),
    "adept": N_("privacy.value.adept"),
    "mentor": N_("privacy.value.mentor"),
    "coordinator": N_("privacy.value.coordinator"),
    "all": N_("privacy.value.all"),
}
# Only these fields hold codes; a person's own text that happens to read "me" stays as typed.
CODED_FIELDS = frozenset(
    {"my_role", "role", "roles", "kind", "by", "drafted_by", "booked_by", "audience"}
)

_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:52rem;margin:2rem auto;padding:0 1rem;"
    "line-height:1.45;color:#222}h1{font-size:1.5rem}h2{font-size:1.25rem;margin-top:2rem}"
    "section{border-left:3px solid #8ab;padding-left:.8rem;margin:.8rem 0}"
    "dl{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem;margin:.4rem 0}"
    "dt{font-weight:600;color:#456}dd{margin:0;white-space:pre-wrap}.empty{color:#888}"
)


def _label(language: str, key: str) -> str:
    found = LABELS.get(key)
    return html.escape(t(language, found) if found else key)


def _scalar(language: str, key: str, value: Any) -> str:
    if value is None or value == "":
        return '<span class="empty">—</span>'
    if isinstance(value, bool):
        return html.escape(
            t(language, N_("privacy.value.yes") if value else N_("privacy.value.no"))
        )
    if key in CODED_FIELDS and isinstance(value, str) and value in VALUES:
        return html.escape(t(language, VALUES[value]))
    return html.escape(str(value))


def _block(language: str, value: Any, key: str, depth: int) -> str:
    """One value as HTML: a mapping as a list of fields, a list as numbered sections."""
    if isinstance(value, Mapping):
        rows = []
        nested = []
        for name, item in value.items():
            if isinstance(item, Mapping | list):
                nested.append(_section(language, str(name), item, depth + 1))
            else:
                rows.append(f"<dt>{_label(language, str(name))}</dt>"
                            f"<dd>{_scalar(language, str(name), item)}</dd>")  # fmt: skip
        return (f"<dl>{''.join(rows)}</dl>" if rows else "") + "".join(nested)
    if isinstance(value, list):
        if not value:
            return '<p class="empty">—</p>'
        return "".join(
            f"<section>{_block(language, item, key, depth)}</section>"
            if isinstance(item, Mapping | list)
            else f"<p>{_scalar(language, key, item)}</p>"
            for item in value
        )
    return f"<p>{_scalar(language, key, value)}</p>"


def _section(language: str, key: str, value: Any, depth: int) -> str:
    level = min(depth + 1, 6)
    return f"<h{level}>{_label(language, key)}</h{level}>{_block(language, value, key, depth)}"


def to_html(data: Mapping[str, Any], language: str) -> bytes:
    """The same content as `to_json`, readable in a browser; every value is escaped."""
    title = html.escape(t(language, "privacy.export.title"))
    parts = [
        "<!doctype html>",
        f'<html lang="{html.escape(language)}"><head><meta charset="utf-8">',
        f"<title>{title}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{title}</h1>",
        _block(language, data, "", 0),
        "</body></html>",
    ]
    return "\n".join(parts).encode("utf-8")
