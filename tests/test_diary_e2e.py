"""The diary through the real bot and the emulator: private by default, shared on request."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import col, select

from bot.clock import TravellingClock
from bot.usecases import Refused, diary
from storage.db import Database
from storage.models import (
    DiaryEntry,
    Meeting,
    Membership,
    Mentorship,
    MentorshipState,
    Notification,
    User,
    Visibility,
)
from tests.harness import Person
from tests.test_pairing_e2e import pair

People = Callable[..., Person]


async def activate(db: Database) -> None:
    """Move the (only) mentorship on to active, as an accepted contract would."""
    async with db.session() as session:
        mentorship = (await session.exec(select(Mentorship))).one()
        mentorship.state = MentorshipState.ACTIVE
        session.add(mentorship)


async def active_pair(people: People, db: Database) -> tuple[Person, Person]:
    """Anna (adept) and Bertil (mentor), Swedish, in an active mentorship, inboxes read."""
    anna, bertil = people("Anna", "sv"), people("Bertil", "sv")
    await pair(anna, bertil, "Jag är adept – bjud in min mentor", "Tacka ja ✅")
    await anna.expect("Före mötet")
    await bertil.expect("introduktionsmöte med Anna")
    await activate(db)
    anna.mark_read()
    bertil.mark_read()
    return anna, bertil


async def open_diary(person: Person) -> None:
    """/diary, waiting for its menu so a press hits the menu's buttons, not older ones."""
    await person.send("/diary")
    await person.expect("📓")


async def write(person: Person, text: str) -> None:
    await open_diary(person)
    await person.press("✍️ Skriv en anteckning")
    await person.expect("Ny anteckning")
    await person.send(text)
    await person.expect("Sparat 🔒")


async def entries(db: Database) -> list[DiaryEntry]:
    async with db.session() as session:
        return list(await session.exec(select(DiaryEntry).order_by(col(DiaryEntry.id))))


def everything_seen_by(person: Person) -> str:
    return "\n".join(message.text for message in person.messages)


async def test_a_private_entry_is_never_shown_to_the_partner(people: People, db: Database) -> None:
    anna, bertil = await active_pair(people, db)
    await open_diary(anna)
    await anna.press("✍️ Skriv en anteckning")
    prompt = await anna.expect("Ny anteckning")
    assert "Vad har jag lärt mig" in prompt.text and "mentorskap med Bertil" in prompt.text
    await anna.send("Hemligt: jag tvivlar på om jag vill bli chef.")
    saved = await anna.expect("Sparat 🔒")
    assert [text for row in saved.buttons for text, _ in row] == [
        "👥 Dela med Bertil",
        "📖 Mina anteckningar",
    ]

    [entry] = await entries(db)
    assert entry.visibility == Visibility.PRIVATE and entry.meeting_id is None
    assert entry.mentorship_id is not None and entry.text.startswith("Hemligt")

    # Bertil's partner view is empty, and nothing ever reached his chat.
    await open_diary(bertil)
    await bertil.press("👥 Delat med mig")
    await bertil.expect("Ingen har delat")
    await bertil.press("📖 Mina anteckningar")
    await bertil.expect("Din dagbok är tom")
    await bertil.quiet()
    assert "Hemligt" not in everything_seen_by(bertil)
    async with db.session() as session:
        kinds = (await session.exec(select(Notification.kind))).all()
    assert "diary_shared" not in kinds


async def test_sharing_tells_the_partner_and_shows_the_entry_in_their_view(
    people: People, db: Database
) -> None:
    anna, bertil = await active_pair(people, db)
    await write(anna, "Privat: det här är bara mitt.")
    await write(anna, "Att fråga 'vad hände sedan?' öppnade hela samtalet.")
    await anna.press("👥 Dela med Bertil")
    await anna.expect("Delad med Bertil")
    notice = await bertil.expect("Anna har delat en dagboksanteckning")
    assert "öppnade hela samtalet" in notice.text and "bara mitt" not in notice.text

    await open_diary(bertil)
    await bertil.press("👥 Delat med mig")
    view = await bertil.expect("Delat med mig · sida 1 av 1")
    assert "öppnade hela samtalet" in view.text and "bara mitt" not in view.text
    assert "Anna" in view.text

    # Anna's own list: newest first, each with its date and who can read it.
    await open_diary(anna)
    await anna.press("📖 Mina anteckningar")
    mine = await anna.expect("Mina anteckningar · sida 1 av 1")
    assert mine.text.index("öppnade hela samtalet") < mine.text.index("bara mitt")
    assert "1. " in mine.text and "👥 delad med Bertil" in mine.text and "🔒 privat" in mine.text
    labels = [text for row in mine.buttons for text, _ in row]
    assert labels == ["🔒 Gör nr 1 privat", "👥 Dela nr 2"]

    # Unsharing takes it out of Bertil's view again.
    await anna.press("🔒 Gör nr 1 privat")
    await anna.expect("Privat igen")
    shared = [e for e in await entries(db) if e.visibility == Visibility.SHARED]
    assert shared == []
    bertil.mark_read()
    await open_diary(bertil)
    await bertil.press("👥 Delat med mig")
    await bertil.expect("Ingen har delat")
    assert "bara mitt" not in everything_seen_by(bertil)


async def test_the_diary_is_paginated_five_at_a_time_newest_first(
    people: People, db: Database
) -> None:
    anna, _ = await active_pair(people, db)
    for number in range(1, 8):
        await write(anna, f"Anteckning nummer {number:02d}")
    await open_diary(anna)
    await anna.press("📖 Mina anteckningar")
    first = await anna.expect("sida 1 av 2")
    assert "nummer 07" in first.text and "nummer 03" in first.text
    assert "nummer 02" not in first.text
    await anna.press("Äldre ▶", message_id=first.message_id)
    second = await anna.expect("sida 2 av 2")
    assert "nummer 02" in second.text and "nummer 01" in second.text
    assert "nummer 03" not in second.text
    assert "6." in second.text and "7." in second.text
    await anna.press("◀ Nyare", message_id=second.message_id)
    await anna.expect("sida 1 av 2")


async def test_a_long_entry_is_stored_whole_and_shown_split(people: People, db: Database) -> None:
    anna, bertil = await active_pair(people, db)
    words = [f"ord{index:04d}" for index in range(715)]
    long_text = " ".join(words)[:4999] + "!"
    assert len(long_text) == 5000
    await write(anna, long_text)
    [entry] = await entries(db)
    assert entry.text == long_text

    await open_diary(anna)
    await anna.press("📖 Mina anteckningar")
    pieces = await anna.replies(2)
    assert all(len(piece.text) <= 4096 for piece in pieces)
    shown = " ".join(piece.text for piece in pieces).split()
    start = shown.index(words[0])
    assert shown[start : start + len(long_text.split())] == long_text.split()

    # Shared, the partner gets a preview and the whole text behind a button.
    await anna.press("👥 Dela nr 1")
    notice = await bertil.expect("Anna har delat en dagboksanteckning")
    assert "(fortsätter)" in notice.text and len(notice.text) < 4096
    await bertil.press("📖 Läs hela anteckningen", message_id=notice.message_id)
    whole = " ".join(piece.text for piece in await bertil.replies(2)).split()
    assert whole[-len(long_text.split()) :] == long_text.split()


async def test_a_message_telegram_split_in_two_becomes_one_entry(
    people: People, db: Database, clock: TravellingClock
) -> None:
    anna, _ = await active_pair(people, db)
    await write(anna, "Första delen av en lång text.")
    await anna.send("Andra delen, som Telegram skickade separat.")
    await anna.expect("Jag lade till det")
    [entry] = await entries(db)
    assert (
        entry.text == "Första delen av en lång text.\nAndra delen, som Telegram skickade separat."
    )

    # Minutes later a stray text is just that: not added, answered as usual.
    clock.advance(timedelta(minutes=3))
    await anna.send("Hej, vad kan du göra?")
    await anna.expect("/help")
    [unchanged] = await entries(db)
    assert unchanged.text == entry.text

    # Nor is a text added to an entry already shared: the partner saw it as it was.
    await write(anna, "Kort och delad.")
    await anna.press("👥 Dela med Bertil")
    await anna.expect("Delad med Bertil")
    await anna.send("En eftertanke.")
    await anna.expect("/help")
    assert [e.text for e in await entries(db)][-1] == "Kort och delad."


async def test_html_like_text_is_shown_literally(people: People, db: Database) -> None:
    anna, bertil = await active_pair(people, db)
    text = "Lärdom: <b>inte fet</b> & <script>alert(1)</script> stannar som text"
    await write(anna, text)
    await anna.press("👥 Dela med Bertil")
    notice = await bertil.expect("Anna har delat")
    assert text in notice.text and notice.entities == [
        e for e in notice.entities if e["type"] == "bold"
    ]
    await open_diary(anna)
    await anna.press("📖 Mina anteckningar")
    mine = await anna.expect("Mina anteckningar")
    assert text in mine.text


async def test_forged_diary_buttons_reveal_and_change_nothing(people: People, db: Database) -> None:
    anna, bertil = await active_pair(people, db)
    cecilia = people("Cecilia", "sv")
    await write(anna, "Min privata reflektion om Bertil.")
    await write(anna, "Den här delar jag.")
    await anna.press("👥 Dela med Bertil")
    await bertil.expect("Den här delar jag")
    private, shared = await entries(db)
    await cecilia.ask("/start")

    # The partner tries to read, share and unshare entries that are not his to handle.
    for data in (f"d:see:{private.id}", f"d:share:{private.id}", f"d:unshare:{shared.id}"):
        await bertil.press_data(bertil.last.message_id, data)
        await bertil.expect("kan jag inte visa eller ändra")
    # Someone outside the pair may not even read what was shared within it.
    for data in (f"d:see:{shared.id}", f"d:see:{private.id}", "d:see:999999"):
        await cecilia.press_data(cecilia.last.message_id, data)
        await cecilia.expect("kan jag inte visa eller ändra")
    await cecilia.press_data(cecilia.last.message_id, "d:shared:0")
    await cecilia.expect("Ingen har delat")

    after = await entries(db)
    assert [(e.id, e.visibility, e.text) for e in after] == [
        (private.id, Visibility.PRIVATE, private.text),
        (shared.id, Visibility.SHARED, shared.text),
    ]
    assert "privata reflektion" not in everything_seen_by(bertil)
    assert "privata reflektion" not in everything_seen_by(cecilia)
    assert "Den här delar jag" not in everything_seen_by(cecilia)
    # Bertil may read the shared one in full through its own button.
    bertil.mark_read()
    await bertil.press_data(bertil.last.message_id, f"d:see:{shared.id}")
    await bertil.expect("Den här delar jag")


async def test_without_a_mentorship_the_diary_is_simply_private(people: People) -> None:
    dora = people("Dora", "en")
    await open_diary(dora)
    await dora.press("✍️ Write an entry")
    prompt = await dora.expect("New entry")
    assert "only you can read it" in prompt.text
    await dora.send("Notes before I find a mentor.")
    saved = await dora.expect("Saved 🔒")
    assert [text for row in saved.buttons for text, _ in row] == ["📖 My entries"]
    await dora.press("📖 My entries")
    mine = await dora.expect("My entries · page 1 of 1")
    assert "Notes before I find a mentor." in mine.text and "🔒 private" in mine.text
    assert mine.buttons == []


async def test_cancel_leaves_the_diary_without_saving(people: People, db: Database) -> None:
    anna, _ = await active_pair(people, db)
    await open_diary(anna)
    await anna.press("✍️ Skriv en anteckning")
    await anna.expect("Ny anteckning")
    await anna.send("/cancel")
    await anna.expect("vi avbryter")
    await anna.send("Det här är inte en anteckning.")
    await anna.quiet()
    assert await entries(db) == []


async def test_entries_are_tied_only_to_the_authors_own_mentorship_and_its_meetings(
    db: Database,
) -> None:
    """What the meetings flow relies on when it ties notes to a meeting."""
    moment = datetime(2027, 6, 1, 9, 0, tzinfo=UTC)
    async with db.session() as session:
        ann = User(telegram_id=990_001, first_name="Ann")
        ben = User(telegram_id=990_002, first_name="Ben")
        session.add_all([ann, ben])
        await session.flush()
        assert ann.id is not None and ben.id is not None
        ours, theirs = Mentorship(created_by_id=ann.id), Mentorship(created_by_id=ben.id)
        session.add_all([ours, theirs])
        await session.flush()
        assert ours.id is not None and theirs.id is not None
        session.add_all(
            [
                Membership(mentorship_id=ours.id, user_id=ann.id, role="adept"),
                Membership(mentorship_id=theirs.id, user_id=ben.id, role="adept"),
            ]
        )
        our_meeting = Meeting(mentorship_id=ours.id, starts_at=moment, booked_by_id=ann.id)
        their_meeting = Meeting(mentorship_id=theirs.id, starts_at=moment, booked_by_id=ben.id)
        session.add_all([our_meeting, their_meeting])
        await session.flush()
        assert our_meeting.id is not None and their_meeting.id is not None
        ids = (ours.id, theirs.id, our_meeting.id, their_meeting.id)

    ours_id, theirs_id, our_meeting_id, their_meeting_id = ids
    refused: list[dict[str, int | None]] = [
        {"mentorship_id": theirs_id},
        {"mentorship_id": ours_id, "meeting_id": their_meeting_id},
        {"mentorship_id": None, "meeting_id": our_meeting_id},
    ]
    for tie in refused:
        with pytest.raises(Refused):
            async with db.session() as session:
                await diary.write(session, user=ann, text="Anteckning", now=moment, **tie)
    with pytest.raises(Refused, match=r"^diary\.empty$"):
        async with db.session() as session:
            await diary.write(session, user=ann, mentorship_id=None, text="  \n ", now=moment)
    async with db.session() as session:
        entry = await diary.write(
            session,
            user=ann,
            mentorship_id=ours_id,
            meeting_id=our_meeting_id,
            text="  Efter mötet: fråga mer, tala mindre.  ",
            now=moment,
        )
    assert (entry.mentorship_id, entry.meeting_id) == (ours_id, our_meeting_id)
    assert entry.visibility == Visibility.PRIVATE and entry.created_at == moment
    assert [e.text for e in await entries(db)] == ["Efter mötet: fråga mer, tala mindre."]


async def test_an_entry_refused_as_too_long_keeps_the_writer_at_the_question(
    people: People, db: Database
) -> None:
    anna, _ = await active_pair(people, db)
    await open_diary(anna)
    await anna.press("✍️ Skriv en anteckning")
    await anna.expect("Ny anteckning")
    await anna.send("x" * 20_001)
    await anna.expect("en anteckning rymmer")
    assert await entries(db) == []
    # Still writing: the next text is the entry, not a stray message.
    await anna.send("Kortare: jag lärde mig att lyssna först.")
    await anna.expect("Sparat 🔒")
    assert [e.text for e in await entries(db)] == ["Kortare: jag lärde mig att lyssna först."]
