"""Tables for the whole mentorship lifecycle.

Enumerations are stored as short strings rather than native database enums so
that later issues can add a state with a plain Alembic migration on both
SQLite and PostgreSQL.

No `from __future__ import annotations` here, unlike elsewhere: pydantic and SQLModel
read each field's annotation as a type, and a string annotation would make them
compile and evaluate every one of them (a few hundred) at each start.
"""

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.types import EncryptedText, UTCDateTime, utcnow


class MentorshipState(StrEnum):
    INVITED = "invited"
    INTRO = "intro"
    ACTIVE = "active"
    CLOSING = "closing"
    CLOSED = "closed"
    DECLINED = "declined"
    ENDED_EARLY = "ended_early"


class Role(StrEnum):
    MENTOR = "mentor"
    ADEPT = "adept"


class ProgrammeRole(StrEnum):
    """What a person is in a programme; one person may hold several roles, in several."""

    COORDINATOR = "coordinator"
    MENTOR = "mentor"
    ADEPT = "adept"


class RequestState(StrEnum):
    """An adept's request to a mentor found in the directory."""

    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"
    # Chosen in the directory, the note not yet typed: the mentor knows nothing of it.
    DRAFT = "draft"


class Visibility(StrEnum):
    PRIVATE = "private"
    SHARED = "shared"


class OutboxState(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


def _ts(*, nullable: bool = False, index: bool = False) -> Any:
    return Field(default=None, sa_type=UTCDateTime, nullable=nullable, index=index)


def _created() -> Any:
    return Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


def _text(*, nullable: bool = True) -> Any:
    return Field(default=None, sa_type=Text, nullable=nullable)


def _secret(table: str, column: str, *, required: bool = False) -> Any:
    """Free text or a name: encrypted at rest and bound to its table and column."""
    sa_type = EncryptedText(f"{table}.{column}")
    if required:
        return Field(sa_type=sa_type, nullable=False)
    return Field(default=None, sa_type=sa_type, nullable=True)


class User(SQLModel, table=True):
    __tablename__ = "users"

    id: int | None = Field(default=None, primary_key=True)
    telegram_id: int = Field(sa_type=BigInteger, unique=True, index=True)
    first_name: str = _secret("users", "first_name", required=True)
    last_name: str | None = _secret("users", "last_name")
    username: str | None = _secret("users", "username")
    language: str = Field(default="sv", max_length=8)
    # Chosen explicitly in /settings; until then Telegram's language_code may update it.
    language_chosen: bool = Field(default=False)
    timezone: str = Field(default="Europe/Stockholm", max_length=64)
    quiet_start: str | None = Field(default=None, max_length=5)
    quiet_end: str | None = Field(default=None, max_length=5)
    current_mentorship_id: int | None = Field(default=None)
    # The programme a new invitation or the directory is about, when the person has several.
    current_programme_id: int | None = Field(default=None)
    # The goal a typed answer is about (a mentor's question, progress, a closing reason).
    focus_goal_id: int | None = Field(default=None)
    # The meeting a multi-step answer is about (moving it, its agenda, its evaluation).
    focus_meeting_id: int | None = Field(default=None)
    # The check-in a typed answer belongs to (a mentor may have several open at once).
    focus_checkin_id: int | None = Field(default=None)
    blocked_at: datetime | None = _ts(nullable=True)
    # Set by /deleteme: names and texts are gone, the row stays for the partner's records.
    erased_at: datetime | None = _ts(nullable=True)
    created_at: datetime = _created()
    updated_at: datetime = _created()


class Programme(SQLModel, table=True):
    """A mentorship programme: its own people, coordinators, texts and join links.

    Texts a coordinator types are encrypted like everything else people write. The
    default programme (created for data from before programmes) has no name or texts
    of its own: it falls back to the deployment's settings.
    """

    __tablename__ = "programmes"

    id: int | None = Field(default=None, primary_key=True)
    name: str | None = _secret("programmes", "name")
    coordinator_contact: str | None = _secret("programmes", "coordinator_contact")
    support_text: str | None = _secret("programmes", "support_text")
    code_of_conduct: str | None = _secret("programmes", "code_of_conduct")
    # The programme's competence areas for mentor profiles, one per line.
    areas: str | None = _secret("programmes", "areas")
    language: str = Field(default="sv", max_length=8)
    timezone: str = Field(default="Europe/Stockholm", max_length=64)
    length_months: int = Field(default=12)
    # Join links (t.me/<bot>?start=<prefix><code>), one per role.
    mentor_code: str = Field(max_length=64, unique=True)
    adept_code: str = Field(max_length=64, unique=True)
    coordinator_code: str = Field(max_length=64, unique=True)
    is_default: bool = Field(default=False)
    # Being set up by `created_by_id` (`/programme new`): no members, no joins, not listed.
    draft: bool = Field(default=False)
    created_by_id: int | None = Field(default=None, foreign_key="users.id")
    created_at: datetime = _created()
    closed_at: datetime | None = _ts(nullable=True)


class Mentorship(SQLModel, table=True):
    __tablename__ = "mentorships"
    # The planners walk the pairs of one state in id order, in batches (bot.usecases.*.plan_*).
    __table_args__ = (Index("ix_mentorships_state_id", "state", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    state: str = Field(default=MentorshipState.INVITED, max_length=16, index=True)
    mode: str | None = Field(default=None, max_length=16)
    programme: str | None = Field(default=None, max_length=128)
    # Which programme the pair belongs to; its texts and coordinators apply.
    programme_id: int | None = Field(default=None, foreign_key="programmes.id", index=True)
    created_by_id: int = Field(foreign_key="users.id")
    started_at: datetime | None = _ts(nullable=True)
    planned_end: date | None = Field(default=None)
    ended_at: datetime | None = _ts(nullable=True)
    end_reason: str | None = Field(default=None, max_length=32)
    # Retention: both were told the texts will go, then the texts went (bot.usecases.privacy).
    retention_reminded_at: datetime | None = _ts(nullable=True)
    purged_at: datetime | None = _ts(nullable=True)
    # The look-back was queued to both (at closing, or after an early end's closing meeting).
    lookback_sent_at: datetime | None = _ts(nullable=True)
    # Both agreed to set goals later, after a few meetings (bot.usecases.goals_later).
    goals_later_at: datetime | None = _ts(nullable=True)
    created_at: datetime = _created()
    # One of the pair said they had the intro meeting outside the bot (opens the decision).
    intro_met_outside_at: datetime | None = _ts(nullable=True)


class ProgrammeMember(SQLModel, table=True):
    __tablename__ = "programme_members"
    __table_args__ = (UniqueConstraint("programme_id", "user_id", "role"),)

    id: int | None = Field(default=None, primary_key=True)
    programme_id: int = Field(foreign_key="programmes.id", index=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    role: str = Field(max_length=16)
    joined_at: datetime = _created()
    # The adept's own organisation, asked once for the directory's "not my organisation"
    # filter (bot.usecases.directory); never shown to anyone else.
    organisation: str | None = _secret("programme_members", "organisation")


class MentorProfile(SQLModel, table=True):
    """What a mentor tells the adepts of one programme about themselves.

    Visible to members of that programme only. Filtering happens after decryption,
    in Python: a programme's directory is hundreds of profiles, not millions.
    """

    __tablename__ = "mentor_profiles"
    __table_args__ = (UniqueConstraint("programme_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    programme_id: int = Field(foreign_key="programmes.id", index=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    # The programme's areas chosen, one per line, and the mentor's own words.
    areas: str | None = _secret("mentor_profiles", "areas")
    other_areas: str | None = _secret("mentor_profiles", "other_areas")
    career: str | None = _secret("mentor_profiles", "career")
    organisation: str | None = _secret("mentor_profiles", "organisation")
    # Language codes, comma-separated ("sv,en"): settings, not something anyone wrote.
    languages: str = Field(default="sv", max_length=32)
    # How many new adepts the mentor can take now.
    capacity: int = Field(default=1)
    published_at: datetime | None = _ts(nullable=True)
    paused_at: datetime | None = _ts(nullable=True)
    updated_at: datetime = _created()


class MentorRequest(SQLModel, table=True):
    """An adept asks a mentor from the directory; accepting starts a mentorship."""

    __tablename__ = "mentor_requests"
    __table_args__ = (Index("ix_mentor_requests_mentor_state", "mentor_id", "state"),)

    id: int | None = Field(default=None, primary_key=True)
    programme_id: int = Field(foreign_key="programmes.id", index=True)
    mentor_id: int = Field(foreign_key="users.id")
    adept_id: int = Field(foreign_key="users.id", index=True)
    note: str | None = _secret("mentor_requests", "note")
    state: str = Field(default=RequestState.PENDING, max_length=12)
    # The mentor's own reason for declining: kept for them, never shown to the adept.
    decline_reason: str | None = _secret("mentor_requests", "decline_reason")
    mentorship_id: int | None = Field(default=None, foreign_key="mentorships.id")
    created_at: datetime = _created()
    decided_at: datetime | None = _ts(nullable=True)


class Announcement(SQLModel, table=True):
    """A coordinator's message to a programme's mentors, adepts or everyone.

    Sent through the outbox (rows name it in `outbox.announcement_id`), so delivered
    and unreachable are counted from the outbox's own states.
    """

    __tablename__ = "announcements"

    id: int | None = Field(default=None, primary_key=True)
    programme_id: int = Field(foreign_key="programmes.id", index=True)
    author_id: int = Field(foreign_key="users.id")
    # "mentor", "adept" or "all".
    audience: str = Field(max_length=8)
    text: str | None = _secret("announcements", "text")
    created_at: datetime = _created()
    confirmed_at: datetime | None = _ts(nullable=True)
    recipients: int = Field(default=0)
    # The author stopped it on its way: rows not yet sent were cancelled then.
    stopped_at: datetime | None = _ts(nullable=True)


class MentorshipTransition(SQLModel, table=True):
    __tablename__ = "mentorship_transitions"

    id: int | None = Field(default=None, primary_key=True)
    mentorship_id: int = Field(foreign_key="mentorships.id", index=True)
    from_state: str = Field(max_length=16)
    to_state: str = Field(max_length=16)
    actor_id: int | None = Field(default=None, foreign_key="users.id")
    reason: str | None = Field(default=None, max_length=32)
    at: datetime = _created()


class Membership(SQLModel, table=True):
    __tablename__ = "memberships"
    __table_args__ = (
        UniqueConstraint("mentorship_id", "user_id"),
        UniqueConstraint("mentorship_id", "role"),
    )

    id: int | None = Field(default=None, primary_key=True)
    mentorship_id: int = Field(foreign_key="mentorships.id", index=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    role: str = Field(max_length=8)
    joined_at: datetime = _created()
    intro_decision: str | None = Field(default=None, max_length=16)
    intro_decided_at: datetime | None = _ts(nullable=True)
    # Never shown to the partner: only its author may read it.
    intro_private_reason: str | None = _secret("memberships", "intro_private_reason")
    intro_areas: str | None = _secret("memberships", "intro_areas")
    confidentiality_agreed_at: datetime | None = _ts(nullable=True)


class Invite(SQLModel, table=True):
    __tablename__ = "invites"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=64, unique=True, index=True)
    mentorship_id: int = Field(foreign_key="mentorships.id", index=True)
    created_by_id: int = Field(foreign_key="users.id")
    inviter_role: str = Field(max_length=8)
    created_at: datetime = _created()
    expires_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    used_at: datetime | None = _ts(nullable=True)
    used_by_id: int | None = Field(default=None, foreign_key="users.id")
    declined_at: datetime | None = _ts(nullable=True)
    revoked_at: datetime | None = _ts(nullable=True)


class Contract(SQLModel, table=True):
    __tablename__ = "contracts"
    __table_args__ = (UniqueConstraint("mentorship_id", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    mentorship_id: int = Field(foreign_key="mentorships.id", index=True)
    version: int = Field(default=1)
    aims: str | None = _secret("contracts", "aims")
    mode: str | None = Field(default=None, max_length=16)
    duration_months: int | None = Field(default=None)
    cadence: str | None = Field(default=None, max_length=64)
    meeting_minutes: int | None = Field(default=None)
    time_budget_hours: int | None = Field(default=None)
    cancel_notice: str | None = Field(default=None, max_length=16)
    feedback_cadence: str | None = Field(default=None, max_length=16)
    rules: str | None = _secret("contracts", "rules")
    drafted_by_id: int = Field(foreign_key="users.id")
    # Sent to the partner for acceptance; a draft is only visible to its author until then.
    submitted_at: datetime | None = _ts(nullable=True)
    change_request: str | None = _secret("contracts", "change_request")
    adept_accepted_at: datetime | None = _ts(nullable=True)
    mentor_accepted_at: datetime | None = _ts(nullable=True)
    created_at: datetime = _created()


class Goal(SQLModel, table=True):
    __tablename__ = "goals"

    id: int | None = Field(default=None, primary_key=True)
    mentorship_id: int = Field(foreign_key="mentorships.id", index=True)
    owner_id: int = Field(foreign_key="users.id", index=True)
    kind: str = Field(default="adept", max_length=16)
    state: str = Field(default="draft", max_length=16)
    visibility: str = Field(default=Visibility.SHARED, max_length=8)
    current_version: int = Field(default=0)
    progress_percent: int = Field(default=0)
    target_date: date | None = Field(default=None)
    closed_reason: str | None = _secret("goals", "closed_reason")
    created_at: datetime = _created()
    updated_at: datetime = _created()


class GoalRevision(SQLModel, table=True):
    __tablename__ = "goal_revisions"
    __table_args__ = (UniqueConstraint("goal_id", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    goal_id: int = Field(foreign_key="goals.id", index=True)
    version: int
    specific: str | None = _secret("goal_revisions", "specific")
    measurable: str | None = _secret("goal_revisions", "measurable")
    realistic: str | None = _secret("goal_revisions", "realistic")
    target_date: date | None = Field(default=None)
    author_id: int = Field(foreign_key="users.id")
    mentor_response: str | None = Field(default=None, max_length=16)
    mentor_comment: str | None = _secret("goal_revisions", "mentor_comment")
    responded_at: datetime | None = _ts(nullable=True)
    created_at: datetime = _created()


class GoalProgress(SQLModel, table=True):
    __tablename__ = "goal_progress"

    id: int | None = Field(default=None, primary_key=True)
    goal_id: int = Field(foreign_key="goals.id", index=True)
    percent: int
    note: str | None = _secret("goal_progress", "note")
    created_at: datetime = _created()


class Meeting(SQLModel, table=True):
    __tablename__ = "meetings"

    id: int | None = Field(default=None, primary_key=True)
    mentorship_id: int = Field(foreign_key="mentorships.id", index=True)
    kind: str = Field(default="regular", max_length=16)
    starts_at: datetime = Field(sa_type=UTCDateTime, nullable=False, index=True)
    duration_minutes: int = Field(default=60)
    place: str | None = _secret("meetings", "place")
    state: str = Field(default="proposed", max_length=16)
    booked_by_id: int = Field(foreign_key="users.id")
    # Who must confirm a proposed time next (the partner of whoever proposed it).
    awaiting_id: int | None = Field(default=None, foreign_key="users.id")
    ics_sequence: int = Field(default=0)
    shared_notes: str | None = _secret("meetings", "shared_notes")
    created_at: datetime = _created()
    updated_at: datetime = _created()


class MeetingEvaluation(SQLModel, table=True):
    """Each party's short evaluation right after a meeting."""

    __tablename__ = "meeting_evaluations"
    __table_args__ = (UniqueConstraint("meeting_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(foreign_key="meetings.id", index=True)
    user_id: int = Field(foreign_key="users.id")
    useful: str | None = _secret("meeting_evaluations", "useful")
    next_steps: str | None = _secret("meeting_evaluations", "next_steps")
    rating: int | None = Field(default=None)
    created_at: datetime = _created()
    # The author chose to show their close-out to the other (None: not asked yet).
    shared: bool | None = Field(default=None)


class AgendaItem(SQLModel, table=True):
    __tablename__ = "agenda_items"

    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(foreign_key="meetings.id", index=True)
    author_id: int = Field(foreign_key="users.id")
    position: int = Field(default=0)
    text: str = _secret("agenda_items", "text", required=True)
    created_at: datetime = _created()


class DiaryEntry(SQLModel, table=True):
    __tablename__ = "diary_entries"

    id: int | None = Field(default=None, primary_key=True)
    author_id: int = Field(foreign_key="users.id", index=True)
    mentorship_id: int | None = Field(default=None, foreign_key="mentorships.id", index=True)
    meeting_id: int | None = Field(default=None, foreign_key="meetings.id")
    visibility: str = Field(default=Visibility.PRIVATE, max_length=8)
    text: str = _secret("diary_entries", "text", required=True)
    created_at: datetime = _created()


class CheckIn(SQLModel, table=True):
    __tablename__ = "checkins"
    __table_args__ = (UniqueConstraint("mentorship_id", "user_id", "period"),)

    id: int | None = Field(default=None, primary_key=True)
    mentorship_id: int = Field(foreign_key="mentorships.id", index=True)
    user_id: int = Field(foreign_key="users.id")
    period: int
    due_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    works_well: str | None = _secret("checkins", "works_well")
    could_improve: str | None = _secret("checkins", "could_improve")
    rating: int | None = Field(default=None)
    # "" when the person chose to leave the note out; None before they were asked.
    note_to_partner: str | None = _secret("checkins", "note_to_partner")
    # The answers and the rating reach the partner only if `shared`, the note only if
    # `note_shared`; what is not shared is never shown to anyone but its author.
    shared: bool = Field(default=False)
    note_shared: bool = Field(default=False)
    answered_at: datetime | None = _ts(nullable=True)


class ClosingFeedback(SQLModel, table=True):
    __tablename__ = "closing_feedback"
    __table_args__ = (UniqueConstraint("mentorship_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    mentorship_id: int = Field(foreign_key="mentorships.id", index=True)
    user_id: int = Field(foreign_key="users.id")
    # goal id (as text) -> "reached" | "partly" | "not", in this person's eyes.
    goal_outcomes: dict[str, str] = Field(
        default_factory=dict, sa_column=Column(JSON, nullable=False, server_default="{}")
    )
    most_valuable: str | None = _secret("closing_feedback", "most_valuable")
    could_be_better: str | None = _secret("closing_feedback", "could_be_better")
    rating: int | None = Field(default=None)
    stay_in_touch: bool | None = Field(default=None)
    shared: bool = Field(default=False)
    submitted_at: datetime | None = _ts(nullable=True)


class SupportReport(SQLModel, table=True):
    """A problem a person chose to send to the programme coordinators.

    The text is kept only until it has been delivered; afterwards the row
    remains as a count for the coordinators' statistics.
    """

    __tablename__ = "support_reports"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    # "report" (a problem in the person's words) or "contact" (please get in touch:
    # the only way a name reaches a coordinator, and only once the person confirms).
    kind: str = Field(default="report", max_length=12)
    programme_id: int | None = Field(default=None)
    text: str | None = _secret("support_reports", "text")
    created_at: datetime = _created()
    sent_at: datetime | None = _ts(nullable=True)


class Notification(SQLModel, table=True):
    """The outbox: every message the bot sends on its own initiative.

    The database, not the in-memory job queue, is the source of truth so a
    restart neither loses nor repeats a reminder.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_due", "state", "due_at"),
        # A pair's rows of one kind: the nudge planner's count, ending a mentorship.
        Index("ix_outbox_mentorship_kind", "mentorship_id", "kind"),
    )

    id: int | None = Field(default=None, primary_key=True)
    idempotency_key: str = Field(max_length=200, unique=True)
    recipient_id: int = Field(foreign_key="users.id", index=True)
    mentorship_id: int | None = Field(default=None, foreign_key="mentorships.id")
    kind: str = Field(max_length=32)
    # What the row is about, so lookups and cancellation use an index, never a prefix
    # of the key. Plain ids, not foreign keys: a row outlives a discarded goal, and its
    # renderer then finds nothing and cancels it.
    meeting_id: int | None = Field(default=None, index=True)
    goal_id: int | None = Field(default=None, index=True)
    checkin_id: int | None = Field(default=None, index=True)
    announcement_id: int | None = Field(default=None, index=True)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    state: str = Field(default=OutboxState.PENDING, max_length=12)
    due_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    expires_at: datetime | None = _ts(nullable=True)
    attempts: int = Field(default=0)
    last_error: str | None = Field(default=None, max_length=200)
    claimed_at: datetime | None = _ts(nullable=True)
    sent_at: datetime | None = _ts(nullable=True)
    created_at: datetime = _created()


class ConversationState(SQLModel, table=True):
    """Where each user stands in each persistent ConversationHandler."""

    __tablename__ = "conversation_states"
    __table_args__ = (UniqueConstraint("name", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=64)
    # Read per person on every update (see storage.steps), hence the index.
    key: str = Field(max_length=128, index=True)
    state: str = Field(sa_type=Text)
    updated_at: datetime = _created()


class ProcessedUpdate(SQLModel, table=True):
    """A Telegram update whose effects are committed, so a redelivery is skipped.

    Written in the update's own transaction (see bot.unit_of_work); kept for a day,
    longer than Telegram retries a webhook.
    """

    __tablename__ = "processed_updates"

    update_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    # Indexed for the hourly purge of rows older than a day.
    seen_at: datetime = Field(sa_type=UTCDateTime, nullable=False, index=True)


ALL_TABLES = [t.__tablename__ for t in SQLModel.__subclasses__() if hasattr(t, "__table__")]


class QuestionUse(SQLModel, table=True):
    """A question from the bank suggested to a pair's mentor, so it is not offered again soon."""

    __tablename__ = "question_uses"

    id: int | None = Field(default=None, primary_key=True)
    mentorship_id: int = Field(foreign_key="mentorships.id", index=True)
    # An id from `bot.domain.question_bank`, e.g. "open.career.1".
    question_id: str = Field(max_length=64)
    used_at: datetime = Field(sa_type=UTCDateTime, nullable=False)


# Defined after ALL_TABLES was computed; the test fixtures clear every table listed there.
ALL_TABLES.append(QuestionUse.__tablename__)
