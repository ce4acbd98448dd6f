"""People's own data: everything stored about them (/mydata), erasing it (/deleteme),
and the retention purge of closed mentorships.

What the export holds follows the confidentiality rules: everything this person
wrote or chose, and of the partner only what the partner shared with them
(shared diary entries, the shared parts of check-ins, shared closing feedback,
goals once sent). The partner's private items are never read here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.domain import goals as goal_rules
from bot.domain import privacy as rules
from bot.domain.mentorship import OPEN_STATES, check_transition
from bot.i18n import N_, t
from bot.usecases import Refused, closing, notify
from bot.usecases import directory as directory_uc
from bot.usecases.pairing import display_name
from bot.usecases.programmes import name_of as programme_name
from storage import announcements, contracts, goals, meetings, mentorships, programmes
from storage import directory as directory_store
from storage import privacy as store
from storage.mentorships import Pairing
from storage.models import (
    CheckIn,
    ClosingFeedback,
    Contract,
    DiaryEntry,
    Goal,
    Meeting,
    Mentorship,
    MentorshipState,
    Role,
    User,
    Visibility,
)

REMINDER_KIND = "retention_reminder"
# What the partner is told when someone erases their data: no name, their role.
PARTNER_TOLD = {
    Role.ADEPT: N_("privacy.erase.partner_told.adept"),
    Role.MENTOR: N_("privacy.erase.partner_told.mentor"),
}
# How an ended mentorship counts in the coordinators' reasons.
ERASE_END_REASON = "other"


def _iso(value: datetime | date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _who(author_id: int | None, user: User) -> str | None:
    if author_id is None:
        return None
    return "me" if author_id == user.id else "partner"


# -- /mydata -----------------------------------------------------------------------------------


async def export(session: AsyncSession, *, user: User, now: datetime) -> dict[str, Any]:
    """Everything stored about `user`, as plain JSON-ready data (dates in ISO 8601)."""
    assert user.id is not None
    quiet = f"{user.quiet_start}–{user.quiet_end}" if user.quiet_start and user.quiet_end else None
    found: list[dict[str, Any]] = []
    for membership in await store.memberships_of(session, user_id=user.id):
        seen = await mentorships.pairing(
            session, mentorship_id=membership.mentorship_id, user_id=user.id
        )
        if seen is not None:
            found.append(await _mentorship(session, seen=seen, user=user))
    return {
        "about": t(user.language, "privacy.export.about"),
        "exported_at": _iso(now),
        "profile": {
            "telegram_id": user.telegram_id,
            "first_name": user.first_name,
            "last_name": user.last_name,
            "username": user.username,
            "language": user.language,
            "language_chosen": user.language_chosen,
            "timezone": user.timezone,
            "quiet_hours": quiet,
            "created_at": _iso(user.created_at),
        },
        "mentorships": found,
        "diary_without_mentorship": [
            _diary(entry)
            for entry in await store.diary_of(session, author_id=user.id, mentorship_id=None)
        ],
        "support_reports": [
            {"created_at": _iso(r.created_at), "sent_at": _iso(r.sent_at), "text": r.text}
            for r in await store.reports_of(session, user_id=user.id)
        ],
        "directory": await directory_uc.export_of(session, user=user),
        "programmes": [
            {"programme": programme_name(programme, user.language), "roles": sorted(roles)}
            for programme, roles in await programmes.programmes_of(session, user_id=user.id)
        ],
        "announcements": [
            {
                "programme": await _programme_named(session, a.programme_id, user.language),
                "audience": a.audience,
                "created_at": _iso(a.created_at),
                "sent_at": _iso(a.confirmed_at),
                "recipients": a.recipients,
                "text": a.text,
            }
            for a in await announcements.authored_by(session, author_id=user.id)
        ],
    }


async def _programme_named(session: AsyncSession, programme_id: int, language: str) -> str:
    found = await programmes.get(session, programme_id=programme_id)
    return programme_name(found, language) if found is not None else ""


async def _mentorship(session: AsyncSession, *, seen: Pairing, user: User) -> dict[str, Any]:
    mentorship, me = seen.mentorship, seen.me
    assert mentorship.id is not None and user.id is not None
    mentorship_id = mentorship.id
    history = await mentorships.transitions(session, mentorship_id=mentorship_id)
    # The reason for ending early belongs to whoever ended it.
    ended_by_me = any(
        move.to_state == MentorshipState.ENDED_EARLY and move.actor_id == user.id
        for move in history
    )
    invite = await store.invite_by(session, mentorship_id=mentorship_id, user_id=user.id)
    partner = seen.partner
    return {
        "my_role": me.role,
        "state": mentorship.state,
        "mode": mentorship.mode,
        "created_at": _iso(mentorship.created_at),
        "started_at": _iso(mentorship.started_at),
        "planned_end": _iso(mentorship.planned_end),
        "ended_at": _iso(mentorship.ended_at),
        "my_reason_for_ending": mentorship.end_reason if ended_by_me else None,
        "partner": {
            "name": display_name(partner),
            "role": seen.partner_membership.role if seen.partner_membership else None,
        }
        if partner is not None
        else None,
        "history": [
            {
                "from_state": move.from_state,
                "to_state": move.to_state,
                "at": _iso(move.at),
                "by": _who(move.actor_id, user),
            }
            for move in history
        ],
        "invitation": {
            "created_at": _iso(invite.created_at),
            "expires_at": _iso(invite.expires_at),
            "used_at": _iso(invite.used_at),
            "declined_at": _iso(invite.declined_at),
            "revoked_at": _iso(invite.revoked_at),
        }
        if invite is not None
        else None,
        "intro": {
            "decision": me.intro_decision,
            "decided_at": _iso(me.intro_decided_at),
            "areas": me.intro_areas,
            "private_reason": me.intro_private_reason,
            "confidentiality_agreed_at": _iso(me.confidentiality_agreed_at),
        },
        "contracts": [
            _contract(c, user=user, role=me.role)
            for c in await contracts.versions(session, mentorship_id=mentorship_id)
            if _contract_seen(c, user=user, role=me.role) or c.change_request is not None
        ],
        **await _goals(session, mentorship_id=mentorship_id, user=user),
        "meetings": [
            await _meeting(session, meeting=m, user=user)
            for m in await meetings.of_mentorship(session, mentorship_id=mentorship_id)
            # A meeting the partner is still drafting is theirs alone.
            if m.state != "draft" or m.booked_by_id == user.id
        ],
        "diary": [
            _diary(e)
            for e in await store.diary_of(session, author_id=user.id, mentorship_id=mentorship_id)
        ],
        "diary_shared_by_partner": [
            _diary(e)
            for e in (
                await store.diary_of(session, author_id=partner.id, mentorship_id=mentorship_id)
                if partner is not None and partner.id is not None
                else []
            )
            if e.visibility == Visibility.SHARED
        ],
        **_checkins(await store.checkins_in(session, mentorship_id=mentorship_id), user=user),
        **_feedback(await store.feedback_in(session, mentorship_id=mentorship_id), user=user),
    }


def _accepted_by(contract: Contract, role: str) -> datetime | None:
    return contract.adept_accepted_at if role == Role.ADEPT else contract.mentor_accepted_at


def _contract_seen(contract: Contract, *, user: User, role: str) -> bool:
    """Versions this person wrote, was sent or agreed to; the partner's unsent drafts are theirs."""
    return (
        contract.drafted_by_id == user.id
        or contract.submitted_at is not None
        or _accepted_by(contract, role) is not None
    )


def _contract(contract: Contract, *, user: User, role: str) -> dict[str, Any]:
    if not _contract_seen(contract, user=user, role=role):
        # The partner is revising it after this person's change request: only the request.
        return {
            "version": contract.version,
            "drafted_by": _who(contract.drafted_by_id, user),
            "change_request": contract.change_request,
        }
    other = Role.MENTOR if role == Role.ADEPT else Role.ADEPT
    return {
        "version": contract.version,
        "drafted_by": _who(contract.drafted_by_id, user),
        "aims": contract.aims,
        "mode": contract.mode,
        "duration_months": contract.duration_months,
        "cadence": contract.cadence,
        "meeting_minutes": contract.meeting_minutes,
        "time_budget_hours": contract.time_budget_hours,
        "cancel_notice": contract.cancel_notice,
        "feedback_cadence": contract.feedback_cadence,
        "rules": contract.rules,
        "change_request": contract.change_request,
        "submitted_at": _iso(contract.submitted_at),
        "accepted_by_me_at": _iso(_accepted_by(contract, role)),
        "accepted_by_partner_at": _iso(_accepted_by(contract, other)),
        "created_at": _iso(contract.created_at),
    }


async def _goals(session: AsyncSession, *, mentorship_id: int, user: User) -> dict[str, Any]:
    mine, theirs = [], []
    for goal in await goals.of_mentorship(session, mentorship_id=mentorship_id):
        if goal.owner_id == user.id:
            mine.append(await _goal(session, goal=goal, own=True))
        elif goal_rules.visible_to(goal, user.id):
            theirs.append(await _goal(session, goal=goal, own=False))
    return {"goals": mine, "goals_shared_by_partner": theirs}


async def _goal(session: AsyncSession, *, goal: Goal, own: bool) -> dict[str, Any]:
    assert goal.id is not None
    return {
        "kind": goal.kind,
        "state": goal.state,
        "visibility": goal.visibility,
        "target_date": _iso(goal.target_date),
        "progress_percent": goal.progress_percent,
        "closed_reason": goal.closed_reason,
        "created_at": _iso(goal.created_at),
        "versions": [
            {
                "version": r.version,
                "specific": r.specific,
                "measurable": r.measurable,
                "realistic": r.realistic,
                "target_date": _iso(r.target_date),
                "written_at": _iso(r.created_at),
                "mentor_response": r.mentor_response,
                "mentor_comment": r.mentor_comment,
                "responded_at": _iso(r.responded_at),
            }
            for r in await goals.revisions(session, goal_id=goal.id)
            # Of the partner's goal, only the versions they sent.
            if own or r.version <= goal.current_version
        ],
        "progress": [
            {"percent": p.percent, "note": p.note, "at": _iso(p.created_at)}
            for p in await goals.progress(session, goal_id=goal.id)
        ],
    }


async def _meeting(session: AsyncSession, *, meeting: Meeting, user: User) -> dict[str, Any]:
    assert meeting.id is not None and user.id is not None
    evaluation = await meetings.evaluation_of(session, meeting_id=meeting.id, user_id=user.id)
    return {
        "kind": meeting.kind,
        "starts_at": _iso(meeting.starts_at),
        "duration_minutes": meeting.duration_minutes,
        "place": meeting.place,
        "state": meeting.state,
        "booked_by": _who(meeting.booked_by_id, user),
        "my_agenda": [
            {"text": item.text, "written_at": _iso(item.created_at)}
            for item in await store.agenda_by(session, meeting_id=meeting.id, author_id=user.id)
        ],
        "my_evaluation": {
            "useful": evaluation.useful,
            "next_steps": evaluation.next_steps,
            "rating": evaluation.rating,
            "written_at": _iso(evaluation.created_at),
        }
        if evaluation is not None
        else None,
    }


def _diary(entry: DiaryEntry) -> dict[str, Any]:
    return {
        "written_at": _iso(entry.created_at),
        "visibility": entry.visibility,
        "text": entry.text,
    }


def _checkins(rows: list[CheckIn], *, user: User) -> dict[str, Any]:
    mine = [
        {
            "period": c.period,
            "due_at": _iso(c.due_at),
            "answered_at": _iso(c.answered_at),
            "works_well": c.works_well,
            "could_improve": c.could_improve,
            "rating": c.rating,
            "note_to_partner": c.note_to_partner,
            "shared": c.shared,
            "note_shared": c.note_shared,
        }
        for c in rows
        if c.user_id == user.id
    ]
    theirs = []
    for c in rows:
        if c.user_id == user.id or c.answered_at is None or not (c.shared or c.note_shared):
            continue
        # Only the parts the partner chose to share.
        shown: dict[str, Any] = {"period": c.period, "answered_at": _iso(c.answered_at)}
        if c.shared:
            shown |= {"works_well": c.works_well, "could_improve": c.could_improve}
            shown["rating"] = c.rating
        if c.note_shared and c.note_to_partner:
            shown["note_to_partner"] = c.note_to_partner
        theirs.append(shown)
    return {"checkins": mine, "checkins_shared_by_partner": theirs}


def _feedback(rows: list[ClosingFeedback], *, user: User) -> dict[str, Any]:
    mine = next((f for f in rows if f.user_id == user.id), None)
    theirs = next(
        (f for f in rows if f.user_id != user.id and f.shared and f.submitted_at is not None),
        None,
    )
    return {
        "closing_feedback": {
            "goal_outcomes": dict(mine.goal_outcomes),
            "most_valuable": mine.most_valuable,
            "could_be_better": mine.could_be_better,
            "rating": mine.rating,
            "stay_in_touch": mine.stay_in_touch,
            "shared": mine.shared,
            "submitted_at": _iso(mine.submitted_at),
        }
        if mine is not None
        else None,
        "closing_feedback_from_partner": {
            "most_valuable": theirs.most_valuable,
            "could_be_better": theirs.could_be_better,
            "rating": theirs.rating,
            "stay_in_touch": theirs.stay_in_touch,
            "submitted_at": _iso(theirs.submitted_at),
        }
        if theirs is not None
        else None,
    }


# -- /deleteme ---------------------------------------------------------------------------------


async def open_pairings(session: AsyncSession, *, user: User) -> list[Pairing]:
    """The mentorships erasing would end (and the open invitations it would withdraw)."""
    assert user.id is not None
    return await mentorships.pairings_of(session, user_id=user.id, states=OPEN_STATES)


async def check_button(
    _session: AsyncSession, *, user: User, user_id: int, issued: datetime, now: datetime
) -> None:
    """The first confirmation counts only from its own person and while fresh."""
    if user_id != user.id or not rules.confirmation_fresh(issued=issued, now=now):
        raise Refused("privacy.erase.stale")


async def erase_confirmed(session: AsyncSession, *, user: User, typed: str, now: datetime) -> int:
    """Erase, if `typed` is the confirmation word of the person's language; else nothing."""
    word = t(user.language, rules.CONFIRMATION_WORD)
    if not rules.is_confirmation(typed, word):
        raise Refused("privacy.erase.wrong_word", word=word)
    return await erase(session, user=user, now=now)


async def erase(session: AsyncSession, *, user: User, now: datetime) -> int:
    """End what is open, erase every text this person wrote and their name; how many
    mentorships ended. Called only after the second confirmation."""
    assert user.id is not None
    if user.erased_at is not None:
        return 0
    ended = 0
    for seen in await open_pairings(session, user=user):
        mentorship = seen.mentorship
        assert mentorship.id is not None
        if mentorship.state == MentorshipState.INVITED or seen.partner is None:
            await _withdraw(session, mentorship=mentorship, user=user, now=now)
            continue
        # The same path as /end, so the partner is told and invited to reflect as always.
        await closing.end_early(
            session,
            mentorship_id=mentorship.id,
            user=user,
            reason=ERASE_END_REASON,
            now=now,
            notice=PARTNER_TOLD[Role(seen.me.role)],
        )
        ended += 1
    mentorship_ids = [m.mentorship_id for m in await store.memberships_of(session, user_id=user.id)]
    await store.cancel_pending_to(session, recipient_id=user.id)
    await store.erase_texts_by(session, user_id=user.id)
    await directory_store.erase_of(session, user_id=user.id, now=now)
    # What a coordinator began and never sent goes; an announcement already sent belongs
    # to its programme and finishes its delivery (its text goes once delivered).
    for draft in await announcements.drafts_of(session, author_id=user.id):
        await announcements.delete(session, draft)
    await programmes.discard_drafts(session, user_id=user.id)
    await store.empty_done_notices(session, recipient_id=user.id, mentorship_ids=mentorship_ids)
    store.forget_person(user, now=now)
    await mentorships.save(session, user)
    return ended


async def _withdraw(
    session: AsyncSession, *, mentorship: Mentorship, user: User, now: datetime
) -> None:
    """An invitation nobody has answered yet is withdrawn, as /new's revoke button does."""
    invite = await mentorships.invite_for(session, mentorship_id=mentorship.id or 0)
    if invite is not None and invite.used_at is None and invite.revoked_at is None:
        invite.revoked_at = now
        await mentorships.save(session, invite)
    target = check_transition(mentorship.state, MentorshipState.DECLINED)
    await mentorships.record_transition(
        session, mentorship=mentorship, to_state=target, actor_id=user.id, at=now, reason="revoked"
    )


# -- retention ---------------------------------------------------------------------------------


async def remind_batch(session: AsyncSession, *, now: datetime, months: int, limit: int) -> int:
    """One reminder to each member of up to `limit` mentorships a month before their purge."""
    due = await store.due_for_reminder(
        session, closed_before=rules.reminder_cutoff(now=now, months=months), limit=limit
    )
    for mentorship in due:
        assert mentorship.id is not None
        members = await store.members_of(session, mentorship_id=mentorship.id)
        # An invitation nobody took up has nothing to keep: its purge needs no reminder.
        for membership in members if len(members) == 2 else []:
            person = await session.get(User, membership.user_id)
            if person is None or person.erased_at is not None:
                continue
            await notify.queue(
                session,
                recipient=person,
                kind=REMINDER_KIND,
                dedupe=f"retention:{mentorship.id}:remind:{person.id}",
                due_at=now,
                payload={"mentorship_id": mentorship.id},
                mentorship_id=mentorship.id,
            )
        mentorship.retention_reminded_at = now
        session.add(mentorship)
    await session.flush()
    return len(due)


async def purge_batch(session: AsyncSession, *, now: datetime, months: int, limit: int) -> int:
    """Erase the texts of up to `limit` mentorships whose time is up; how many."""
    closed_before, reminded_before = rules.purge_cutoffs(now=now, months=months)
    ids = await store.due_for_purge(
        session, closed_before=closed_before, reminded_before=reminded_before, limit=limit
    )
    await store.purge_texts_of(session, mentorship_ids=ids, now=now)
    return len(ids)


@dataclass(frozen=True, slots=True)
class Reminder:
    partner: User
    ended: datetime
    purge_on: datetime


async def reminder(
    session: AsyncSession, *, mentorship_id: int, user: User, months: int
) -> Reminder | None:
    """What the reminder says, read when it is sent; None once it no longer applies."""
    assert user.id is not None
    seen = await mentorships.pairing(session, mentorship_id=mentorship_id, user_id=user.id)
    if seen is None or seen.partner is None or seen.mentorship.purged_at is not None:
        return None
    ended = await store.closed_at(session, mentorship_id=mentorship_id)
    if ended is None:
        return None
    purge_on = rules.purge_date(
        ended_at=ended, reminded_at=seen.mentorship.retention_reminded_at, months=months
    )
    return Reminder(seen.partner, ended, purge_on)
