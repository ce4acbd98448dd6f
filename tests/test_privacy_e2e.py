"""/mydata and /deleteme through the real bot and the emulator, in Swedish and English.

Every free text of a mentorship is seeded with a unique marker, sorted by who
wrote it and who may read it, so the tests can say exactly what an export must
hold and what an erasure must leave behind. The database is then read through a
plain SQL connection, every text column of every table, encrypted values opened
with the test key, so nothing can hide behind the ORM.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import JSON, String, Text, text
from sqlmodel import SQLModel, col, select

from bot.app import AnyApplication
from bot.clock import TravellingClock
from bot.i18n import t
from bot.sandbox.emulator import BotAPIEmulator
from bot.usecases import notify
from bot.usecases import pairing as pairing_usecase
from bot.usecases import privacy as usecase
from storage import crypto, outbox, programmes
from storage import health as health_counts
from storage.db import Database
from storage.models import (
    AgendaItem,
    CheckIn,
    ClosingFeedback,
    Contract,
    DiaryEntry,
    Goal,
    GoalProgress,
    GoalRevision,
    Meeting,
    MeetingEvaluation,
    Membership,
    Mentorship,
    Notification,
    SupportReport,
    User,
)
from storage.types import EncryptedText
from tests.factories import ActivePair, active_pair
from tests.harness import Person

People = Callable[..., Person]


@dataclass
class Written:
    """What one person wrote: `shared` reaches the partner's export, `private` never does,
    `seen` is shown to the partner in the chat but belongs to this person's export only."""

    shared: list[str] = field(default_factory=list)
    private: list[str] = field(default_factory=list)
    seen: list[str] = field(default_factory=list)

    @property
    def everything(self) -> list[str]:
        return self.shared + self.private + self.seen


class Markers:
    def __init__(self) -> None:
        self.token = secrets.token_hex(3)
        self.by: dict[int, Written] = {}

    def new(self, user: User, kind: str, what: str) -> str:
        """A marker for a text `user` wrote; `kind` is shared, private or seen."""
        # "<&>" in every marker: the readable export must escape it.
        value = f"M{self.token}-{user.id}-{what}-<&>"
        getattr(self.by.setdefault(user.id or 0, Written()), kind).append(value)
        return value


async def seed(db: Database, pair: ActivePair, clock: TravellingClock) -> Markers:
    """Texts of every kind from both, as the flows would leave them."""
    marks = Markers()
    now = clock.now()
    adept, mentor = pair.adept, pair.mentor
    async with db.session() as session:
        members = list(
            await session.exec(
                select(Membership).where(Membership.mentorship_id == pair.mentorship_id)
            )
        )
        for membership in members:
            person = adept if membership.user_id == adept.id else mentor
            membership.intro_areas = marks.new(person, "seen", "areas")
            membership.intro_private_reason = marks.new(person, "private", "intro-reason")
            session.add(membership)
        contract = (
            await session.exec(select(Contract).where(Contract.mentorship_id == pair.mentorship_id))
        ).one()
        contract.aims = marks.new(adept, "shared", "aims")
        contract.rules = marks.new(adept, "shared", "rules")
        session.add(contract)
        # A new version the mentor asked to change, now back with the adept.
        session.add(
            Contract(
                mentorship_id=pair.mentorship_id,
                version=2,
                aims=marks.new(adept, "private", "aims-v2-draft"),
                drafted_by_id=adept.id or 0,
                change_request=marks.new(mentor, "shared", "change-request"),
            )
        )
        revisions: dict[int, GoalRevision] = {}
        for person, kind in ((adept, "adept"), (mentor, "mentor")):
            goal = Goal(
                mentorship_id=pair.mentorship_id,
                owner_id=person.id or 0,
                kind=kind,
                state="achieved",
                visibility="shared",
                current_version=1,
                progress_percent=100,
                closed_reason=marks.new(person, "shared", "goal-closed"),
            )
            draft = Goal(
                mentorship_id=pair.mentorship_id, owner_id=person.id or 0, kind=kind, state="draft"
            )
            session.add_all([goal, draft])
            await session.flush()
            sent = GoalRevision(
                goal_id=goal.id or 0,
                version=1,
                specific=marks.new(person, "shared", "specific"),
                measurable=marks.new(person, "shared", "measurable"),
                realistic=marks.new(person, "shared", "realistic"),
                author_id=person.id or 0,
            )
            revisions[person.id or 0] = sent
            session.add_all(
                [
                    sent,
                    GoalRevision(
                        goal_id=goal.id or 0,
                        version=2,
                        specific=marks.new(person, "private", "specific-v2-draft"),
                        author_id=person.id or 0,
                    ),
                    GoalRevision(
                        goal_id=draft.id or 0,
                        version=1,
                        specific=marks.new(person, "private", "draft-goal"),
                        author_id=person.id or 0,
                    ),
                    GoalProgress(
                        goal_id=goal.id or 0,
                        percent=60,
                        note=marks.new(person, "shared", "progress"),
                    ),
                ]
            )
        adept_goal = revisions[adept.id or 0]
        adept_goal.mentor_response = "challenged"
        adept_goal.mentor_comment = marks.new(mentor, "shared", "mentor-comment")
        adept_goal.responded_at = now
        for person, partner in ((adept, mentor), (mentor, adept)):
            meeting = Meeting(
                mentorship_id=pair.mentorship_id,
                starts_at=now - timedelta(days=3),
                state="confirmed",
                booked_by_id=person.id or 0,
                place=marks.new(person, "shared", "place"),
            )
            drafted = Meeting(
                mentorship_id=pair.mentorship_id,
                starts_at=now + timedelta(days=9),
                state="draft",
                booked_by_id=person.id or 0,
                place=marks.new(person, "private", "draft-place"),
            )
            session.add_all([meeting, drafted])
            await session.flush()
            for who in (person, partner):
                session.add(
                    AgendaItem(
                        meeting_id=meeting.id or 0,
                        author_id=who.id or 0,
                        text=marks.new(who, "seen", "agenda"),
                    )
                )
                session.add(
                    MeetingEvaluation(
                        meeting_id=meeting.id or 0,
                        user_id=who.id or 0,
                        useful=marks.new(who, "private", "useful"),
                        next_steps=marks.new(who, "private", "next-steps"),
                        rating=4,
                    )
                )
            for visibility in ("private", "shared"):
                session.add(
                    DiaryEntry(
                        author_id=person.id or 0,
                        mentorship_id=pair.mentorship_id,
                        meeting_id=meeting.id,
                        visibility=visibility,
                        text=marks.new(person, visibility, f"diary-{visibility}"),
                    )
                )
            session.add(
                DiaryEntry(
                    author_id=person.id or 0,
                    text=marks.new(person, "private", "diary-alone"),
                )
            )
            # Answers shared but the note kept, then the other way round.
            session.add(
                CheckIn(
                    mentorship_id=pair.mentorship_id,
                    user_id=person.id or 0,
                    period=1,
                    due_at=now - timedelta(days=40),
                    answered_at=now - timedelta(days=40),
                    works_well=marks.new(person, "shared", "works-well-1"),
                    could_improve=marks.new(person, "shared", "could-improve-1"),
                    note_to_partner=marks.new(person, "private", "note-1"),
                    rating=4,
                    shared=True,
                    note_shared=False,
                )
            )
            session.add(
                CheckIn(
                    mentorship_id=pair.mentorship_id,
                    user_id=person.id or 0,
                    period=2,
                    due_at=now - timedelta(days=10),
                    answered_at=now - timedelta(days=10),
                    works_well=marks.new(person, "private", "works-well-2"),
                    could_improve=marks.new(person, "private", "could-improve-2"),
                    note_to_partner=marks.new(person, "shared", "note-2"),
                    rating=5,
                    shared=False,
                    note_shared=True,
                )
            )
            # The adept shares the closing feedback, the mentor keeps it.
            shares = person is adept
            session.add(
                ClosingFeedback(
                    mentorship_id=pair.mentorship_id,
                    user_id=person.id or 0,
                    most_valuable=marks.new(person, "shared" if shares else "private", "valuable"),
                    could_be_better=marks.new(person, "shared" if shares else "private", "better"),
                    rating=5,
                    shared=shares,
                    submitted_at=now,
                )
            )
            session.add(
                SupportReport(
                    user_id=person.id or 0,
                    text=marks.new(person, "private", "report"),
                    created_at=now,
                )
            )
        session.add(adept_goal)
    return marks


def _text_columns() -> list[tuple[str, str, str | None]]:
    """(table, column, encryption label) for every column that can hold text."""
    found = []
    for table in SQLModel.metadata.sorted_tables:
        for column in table.columns:
            if isinstance(column.type, EncryptedText):
                found.append((table.name, column.name, column.type.label))
            elif isinstance(column.type, String | Text | JSON):
                found.append((table.name, column.name, None))
    return found


async def everything_stored(db: Database) -> str:
    """Every text value of every table, read with plain SQL, encrypted ones opened."""
    ring = crypto.active()
    values: list[str] = []
    async with db.engine.connect() as conn:
        for table, column, label in _text_columns():
            for (value,) in await conn.execute(text(f'SELECT "{column}" FROM "{table}"')):
                if value is None:
                    continue
                shown = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
                if label is not None and shown.startswith(crypto.PREFIX):
                    shown = ring.decrypt(shown, label)
                values.append(shown)
    return "\n".join(values)


def _people(people: People, language: str) -> tuple[Person, Person]:
    # Names found nowhere else, so a name left behind is found by the scan.
    tag = secrets.token_hex(2)
    return people(f"Adeptina{tag}", language), people(f"Mentorius{tag}", language)


# -- /mydata -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "role", "caption_json", "caption_html"),
    [
        ("sv", "adept", "Dina uppgifter i maskinläsbar", "Dina uppgifter att läsa"),
        ("en", "mentor", "Your data in machine-readable", "Your data to read in a browser"),
    ],
)
async def test_mydata_sends_all_of_ones_own_data_and_only_what_the_partner_shared(
    people: People,
    db: Database,
    clock: TravellingClock,
    bot_app: AnyApplication,
    language: str,
    role: str,
    caption_json: str,
    caption_html: str,
) -> None:
    adept, mentor = _people(people, language)
    pair = await active_pair(db, clock, adept, mentor)
    marks = await seed(db, pair, clock)
    me, partner = (adept, mentor) if role == "adept" else (mentor, adept)
    me_user, partner_user = (
        (pair.adept, pair.mentor) if role == "adept" else (pair.mentor, pair.adept)
    )
    mine, theirs = marks.by[me_user.id or 0], marks.by[partner_user.id or 0]

    await me.send("/mydata")
    intro = await me.expect("JSON")
    assert "HTML" in intro.text
    json_message = await me.expect(caption_json)
    html_message = await me.expect(caption_html)
    assert json_message.document is not None and html_message.document is not None
    data = json.loads(json_message.document.data.decode("utf-8"))
    dumped = json.dumps(data, ensure_ascii=False)
    page = html_message.document.data.decode("utf-8")

    for marker in mine.everything + theirs.shared:
        assert marker in dumped, marker
        assert marker.replace("<&>", "&lt;&amp;&gt;") in page, marker
    for marker in theirs.private:
        assert marker not in dumped and marker.replace("<&>", "&lt;&amp;&gt;") not in page, marker
    assert "<&>" not in page, "every value in the readable version is escaped"

    assert data["profile"]["first_name"] == me.first_name
    assert data["profile"]["language"] == language
    (mentorship,) = data["mentorships"]
    assert mentorship["my_role"] == role and mentorship["state"] == "active"
    assert mentorship["partner"]["name"] == partner.first_name
    assert mentorship["started_at"].endswith("+00:00"), "dates are ISO 8601 with their offset"
    assert [v["version"] for v in mentorship["goals"][0]["versions"]] == [1, 2]
    assert [v["version"] for v in mentorship["goals_shared_by_partner"][0]["versions"]] == [1]
    assert len(mentorship["goals_shared_by_partner"]) == 1, "the partner's draft goal is theirs"
    assert {c["period"] for c in mentorship["checkins_shared_by_partner"]} == {1, 2}
    assert len(mentorship["diary_shared_by_partner"]) == 1
    assert len(data["diary_without_mentorship"]) == 1
    shared_feedback = mentorship["closing_feedback_from_partner"]
    assert (shared_feedback is not None) == (role == "mentor"), "only shared feedback is shown"


async def test_the_export_of_someone_without_a_mentorship_is_just_their_profile(
    people: People, db: Database, clock: TravellingClock, bot_app: AnyApplication
) -> None:
    solo = people("Ensam", "sv")
    await solo.ask("/start")
    async with db.session() as session:
        user = (await session.exec(select(User).where(User.telegram_id == solo.user_id))).one()
        data = await usecase.export(session, user=user, now=clock.now())
    assert data["mentorships"] == [] and data["profile"]["first_name"] == "Ensam"


# -- /deleteme ---------------------------------------------------------------------------------


TEXTS = {
    "sv": {
        "explain": "Radera dina uppgifter",
        "confirm": "🗑 Ja, radera mina uppgifter",
        "keep": "Nej, behåll allt",
        "type": "skriv ordet",
        "word": "radera",
        "wrong": "så jag har inte raderat något",
        "done": "Ditt namn och allt du har skrivit är raderat",
        "kept": "Inget har raderats",
        "use_button": "Svara med en av knapparna",
        "partner_told": "Din adept har lämnat mentorprogrammet",
        "former": "Tidigare deltagare",
    },
    "en": {
        "explain": "Erase your data",
        "confirm": "🗑 Yes, erase my data",
        "keep": "No, keep everything",
        "type": "type the word",
        "word": " Delete. ",
        "wrong": "so I haven't erased anything",
        "done": "Your name and everything you wrote have been erased",
        "kept": "Nothing has been erased",
        "use_button": "Please answer with one of the buttons",
        "partner_told": "Your mentor has left the mentorship programme",
        "former": "Former participant",
    },
}


@dataclass(frozen=True)
class _Counts:
    """The exact numbers behind the coordinators' /stats (storage.health), over the
    default programme, which holds the pairs made in these tests."""

    checkins_answered: int
    average_rating: float | None
    meetings_last_30_days: int
    reports_sent: int
    by_state: dict[str, int]
    early_end_reasons: dict[str | None, int]


async def coordinator_counts(session: Any, *, now: datetime) -> _Counts:
    default = await programmes.default(session, now=now)
    assert default.id is not None
    scope = health_counts.Scope(default.id, with_unassigned=True)
    answered, _ = await health_counts.checkins_due(session, scope=scope, now=now)
    _, average = await health_counts.ratings_total(session, scope=scope)
    meetings = await health_counts.held_meetings_since(
        session, scope=scope, since=now - timedelta(days=30), now=now
    )
    sent = await health_counts.sent_to_coordinators(session, scope=scope)
    return _Counts(
        checkins_answered=answered,
        average_rating=average,
        meetings_last_30_days=len(meetings),
        reports_sent=sent.get("report", 0),
        by_state=await health_counts.pairs_by_state(session, scope=scope),
        early_end_reasons=await health_counts.early_endings(session, scope=scope),
    )


@pytest.mark.parametrize(("language", "role"), [("sv", "adept"), ("en", "mentor")])
async def test_deleteme_erases_the_person_after_two_confirmations_and_keeps_the_partners_records(
    people: People,
    db: Database,
    clock: TravellingClock,
    bot_app: AnyApplication,
    language: str,
    role: str,
) -> None:
    words = TEXTS[language]
    adept, mentor = _people(people, language)
    pair = await active_pair(db, clock, adept, mentor)
    marks = await seed(db, pair, clock)
    me, partner = (adept, mentor) if role == "adept" else (mentor, adept)
    me_user, partner_user = (
        (pair.adept, pair.mentor) if role == "adept" else (pair.mentor, pair.adept)
    )
    assert me_user.id is not None and partner_user.id is not None
    async with db.session() as session:
        # An invitation nobody has answered, and a reminder planned for this person.
        invite = await pairing_usecase.create_invitation(
            session, creator=me_user, role="mentor", now=clock.now(), ttl_days=14
        )
        invited_id = invite.mentorship_id
        await outbox.enqueue(
            session,
            key="test:planned",
            recipient_id=me_user.id,
            kind="message",
            due_at=clock.now() + timedelta(days=3),
            payload={"key": "privacy.erase.kept", "values": {}},
        )
        counts_before = await coordinator_counts(session, now=clock.now())

    # Pressed by mistake: nothing happens without the word.
    first = await me.ask("/deleteme")
    assert words["explain"] in first.text and partner.first_name in first.text
    old_button = first.buttons[0][0][1]
    assert old_button is not None
    await me.send("hmm")
    await me.expect(words["use_button"])
    await me.press(words["confirm"], message_id=first.message_id)
    await me.expect(words["type"])
    await me.send("nej vänta" if language == "sv" else "no wait")
    await me.expect(words["wrong"])
    # The old button again, after the flow ended: nothing at all.
    await me.press_data(first.message_id, old_button)
    assert words["type"] not in " ".join(m.text for m in await me.quiet(0.4))
    # Changing one's mind, with the button and with /cancel.
    second = await me.ask("/deleteme")
    await me.press(words["keep"], message_id=second.message_id)
    await me.expect(words["kept"])
    third = await me.ask("/deleteme")
    await me.press(words["confirm"], message_id=third.message_id)
    await me.expect(words["type"])
    await me.send("/cancel")
    await me.expect(words["kept"])
    stored = await everything_stored(db)
    assert all(marker in stored for marker in marks.by[me_user.id].everything)
    assert me.first_name in stored

    # Now for real.
    final = await me.ask("/deleteme")
    await me.press(words["confirm"], message_id=final.message_id)
    await me.expect(words["type"])
    partner.mark_read()
    await me.send(words["word"])
    await me.expect(words["done"])
    told = await partner.expect(words["partner_told"])
    assert me.first_name not in told.text
    assert told.buttons, "the partner may still give closing feedback"

    stored = await everything_stored(db)
    for marker in marks.by[me_user.id].everything:
        assert marker not in stored, marker
    assert me.first_name not in stored
    for marker in marks.by[partner_user.id].everything:
        assert marker in stored, marker
    assert partner.first_name in stored

    async with db.session() as session:
        erased = await session.get(User, me_user.id)
        assert erased is not None and erased.erased_at is not None
        assert erased.telegram_id == -me_user.id and erased.first_name == ""
        assert erased.last_name is None and erased.username is None
        ended = await session.get(Mentorship, pair.mentorship_id)
        withdrawn = await session.get(Mentorship, invited_id)
        assert ended is not None and ended.state == "ended_early"
        assert withdrawn is not None and withdrawn.state == "declined"
        planned = await outbox.get_by_key(session, key="test:planned")
        assert planned is not None and planned.state == "cancelled"
        pending_to_me = await outbox.pending_for(session, recipient_id=me_user.id)
        assert pending_to_me == []
        counts_after = await coordinator_counts(session, now=clock.now())
        # The partner's own export shows a former participant, in the partner's language.
        partner_data = await usecase.export(session, user=partner_user, now=clock.now())
    assert counts_after.checkins_answered == counts_before.checkins_answered
    assert counts_after.average_rating == counts_before.average_rating
    assert counts_after.meetings_last_30_days == counts_before.meetings_last_30_days
    assert counts_after.reports_sent == counts_before.reports_sent
    assert sum(counts_after.by_state.values()) == sum(counts_before.by_state.values())
    assert counts_after.by_state.get("ended_early", 0) == 1
    assert counts_after.early_end_reasons == {"other": 1}
    (seen_by_partner,) = partner_data["mentorships"]
    assert seen_by_partner["partner"]["name"] == words["former"]
    assert seen_by_partner["state"] == "ended_early"

    # Writing again is a fresh start as a new person.
    welcome = await me.ask("/start")
    assert me.first_name in welcome.text
    async with db.session() as session:
        again = (await session.exec(select(User).where(User.telegram_id == me.user_id))).one()
        assert again.id != me_user.id and again.erased_at is None
        assert (
            await session.exec(select(Membership).where(Membership.user_id == again.id))
        ).all() == []
    # Nothing more is queued for the erased row, whatever the partner does later.
    async with db.session() as session:
        erased = await session.get(User, me_user.id)
        assert erased is not None
        await notify.tell(
            session, recipient=erased, key="privacy.erase.kept", dedupe="test:late", now=clock.now()
        )
        to_erased = (
            await session.exec(
                select(Notification).where(
                    col(Notification.recipient_id) == me_user.id,
                    col(Notification.state) == "pending",
                )
            )
        ).all()
    assert to_erased == []


async def test_an_erased_person_is_shown_as_a_former_participant_in_either_language(
    people: People, db: Database, clock: TravellingClock, bot_app: AnyApplication
) -> None:
    adept, mentor = _people(people, "sv")
    pair = await active_pair(db, clock, adept, mentor)
    async with db.session() as session:
        erased = await session.get(User, pair.adept.id)
        assert erased is not None
        await usecase.erase(session, user=erased, now=clock.now())
        shown = pairing_usecase.display_name(erased)
    assert t("en", "closing.partner_ended", name=shown).startswith("Former participant")
    assert t("sv", "closing.partner_ended", name=shown).startswith("Tidigare deltagare")
    # Erasing twice changes nothing further.
    async with db.session() as session:
        again = await session.get(User, pair.adept.id)
        assert again is not None
        assert await usecase.erase(session, user=again, now=clock.now()) == 0


async def test_mydata_and_deleteme_are_in_both_menus_and_in_help(
    people: People, emulator: BotAPIEmulator, bot_app: AnyApplication
) -> None:
    for language, described in (("sv", "Radera dina uppgifter"), ("en", "Erase your data")):
        menu = {c["command"]: c["description"] for c in emulator.commands(language_code=language)}
        assert {"mydata", "deleteme"} <= set(menu)
        assert menu["deleteme"].startswith(described)
        shown = (await people(f"Hjälp{language}", language).ask("/help")).text
        assert "/mydata" in shown and "/deleteme" in shown
