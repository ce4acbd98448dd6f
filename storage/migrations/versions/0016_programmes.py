"""programmes: their members, mentor profiles, requests from the directory, announcements

Every mentorship now belongs to a programme. Data from before programmes moves
into one default programme (no name or texts of its own: it uses the
deployment's settings), and everyone who was in a mentorship becomes a member of
it in that role. `outbox.announcement_id` names the announcement a row delivers,
so delivered and unreachable are counted through an index. Support reports name
their programme and kind ("report", or "contact" for "please get in touch").

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01 15:00:00
"""

import secrets
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0016"
down_revision: str | tuple[str, ...] | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _secret(name: str) -> sa.Column[str]:
    _, column = name.split(".")
    return sa.Column(column, storage.types.EncryptedText(name), nullable=True)


def _ts(name: str, *, nullable: bool = True) -> sa.Column[object]:
    return sa.Column(name, storage.types.UTCDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "programmes",
        sa.Column("id", sa.Integer(), primary_key=True),
        _secret("programmes.name"),
        _secret("programmes.coordinator_contact"),
        _secret("programmes.support_text"),
        _secret("programmes.code_of_conduct"),
        _secret("programmes.areas"),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("length_months", sa.Integer(), nullable=False),
        sa.Column("mentor_code", sa.String(length=64), nullable=False, unique=True),
        sa.Column("adept_code", sa.String(length=64), nullable=False, unique=True),
        sa.Column("coordinator_code", sa.String(length=64), nullable=False, unique=True),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=True),
        _ts("created_at", nullable=False),
        _ts("closed_at"),
    )
    op.create_table(
        "programme_members",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("programme_id", sa.Integer(), sa.ForeignKey("programmes.id"), nullable=False),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        _ts("joined_at", nullable=False),
        sa.UniqueConstraint("programme_id", "user_id", "role"),
    )
    op.create_index("ix_programme_members_programme_id", "programme_members", ["programme_id"])
    op.create_index("ix_programme_members_user_id", "programme_members", ["user_id"])
    op.create_table(
        "mentor_profiles",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("programme_id", sa.Integer(), sa.ForeignKey("programmes.id"), nullable=False),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        _secret("mentor_profiles.areas"),
        _secret("mentor_profiles.other_areas"),
        _secret("mentor_profiles.career"),
        _secret("mentor_profiles.organisation"),
        sa.Column("languages", sa.String(length=32), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        _ts("published_at"),
        _ts("paused_at"),
        _ts("updated_at", nullable=False),
        sa.UniqueConstraint("programme_id", "user_id"),
    )
    op.create_index("ix_mentor_profiles_programme_id", "mentor_profiles", ["programme_id"])
    op.create_index("ix_mentor_profiles_user_id", "mentor_profiles", ["user_id"])
    op.create_table(
        "mentor_requests",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("programme_id", sa.Integer(), sa.ForeignKey("programmes.id"), nullable=False),
        sa.Column("mentor_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("adept_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        _secret("mentor_requests.note"),
        sa.Column("state", sa.String(length=12), nullable=False),
        _secret("mentor_requests.decline_reason"),
        sa.Column("mentorship_id", sa.Integer(), sa.ForeignKey("mentorships.id"), nullable=True),
        _ts("created_at", nullable=False),
        _ts("decided_at"),
    )
    op.create_index("ix_mentor_requests_programme_id", "mentor_requests", ["programme_id"])
    op.create_index("ix_mentor_requests_adept_id", "mentor_requests", ["adept_id"])
    op.create_index("ix_mentor_requests_mentor_state", "mentor_requests", ["mentor_id", "state"])
    op.create_table(
        "announcements",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("programme_id", sa.Integer(), sa.ForeignKey("programmes.id"), nullable=False),
        sa.Column("author_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("audience", sa.String(length=8), nullable=False),
        _secret("announcements.text"),
        _ts("created_at", nullable=False),
        _ts("confirmed_at"),
        sa.Column("recipients", sa.Integer(), nullable=False),
    )
    op.create_index("ix_announcements_programme_id", "announcements", ["programme_id"])

    # Plain ADD COLUMN: a batch copy of `mentorships` would have to drop the table, which
    # the rows referring to it forbid. SQLite cannot add a foreign key after the fact.
    op.add_column("mentorships", sa.Column("programme_id", sa.Integer(), nullable=True))
    if op.get_bind().dialect.name != "sqlite":
        op.create_foreign_key(
            "fk_mentorships_programme_id", "mentorships", "programmes", ["programme_id"], ["id"]
        )
    op.create_index("ix_mentorships_programme_id", "mentorships", ["programme_id"])
    op.add_column("users", sa.Column("current_programme_id", sa.Integer(), nullable=True))
    op.add_column("outbox", sa.Column("announcement_id", sa.Integer(), nullable=True))
    op.create_index("ix_outbox_announcement_id", "outbox", ["announcement_id"])
    op.add_column(
        "support_reports",
        sa.Column("kind", sa.String(length=12), nullable=False, server_default="report"),
    )
    op.add_column("support_reports", sa.Column("programme_id", sa.Integer(), nullable=True))

    _move_into_default_programme()


def _move_into_default_programme() -> None:
    """Existing pairs and people join one default programme, so nothing is left outside."""
    bind = op.get_bind()
    now = datetime.now(UTC)
    stamp = storage.types.UTCDateTime(timezone=True)
    if bind.execute(sa.text("SELECT count(*) FROM mentorships")).scalar_one() == 0:
        return  # a new database: the default programme is made when first needed
    programmes = sa.table(
        "programmes",
        sa.column("id", sa.Integer),
        sa.column("language", sa.String),
        sa.column("timezone", sa.String),
        sa.column("length_months", sa.Integer),
        sa.column("mentor_code", sa.String),
        sa.column("adept_code", sa.String),
        sa.column("coordinator_code", sa.String),
        sa.column("is_default", sa.Boolean),
        sa.column("created_at", storage.types.UTCDateTime(timezone=True)),
    )
    op.execute(
        programmes.insert().values(
            language="sv",
            timezone="Europe/Stockholm",
            length_months=12,
            mentor_code=secrets.token_urlsafe(24),
            adept_code=secrets.token_urlsafe(24),
            coordinator_code=secrets.token_urlsafe(24),
            is_default=True,
            created_at=now,
        )
    )
    default_id = bind.execute(
        sa.text("SELECT id FROM programmes WHERE is_default = :yes"), {"yes": True}
    ).scalar_one()
    op.execute(sa.text("UPDATE mentorships SET programme_id = :p").bindparams(p=default_id))
    op.execute(
        sa.text(
            "INSERT INTO programme_members (programme_id, user_id, role, joined_at) "
            "SELECT DISTINCT :p, user_id, role, :now FROM memberships"
        ).bindparams(sa.bindparam("now", now, type_=stamp), p=default_id)
    )


def downgrade() -> None:
    op.drop_column("support_reports", "programme_id")
    op.drop_column("support_reports", "kind")
    op.drop_index("ix_outbox_announcement_id", table_name="outbox")
    op.drop_column("outbox", "announcement_id")
    op.drop_column("users", "current_programme_id")
    op.drop_index("ix_mentorships_programme_id", table_name="mentorships")
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint("fk_mentorships_programme_id", "mentorships", type_="foreignkey")
    op.drop_column("mentorships", "programme_id")
    for table in (
        "announcements",
        "mentor_requests",
        "mentor_profiles",
        "programme_members",
        "programmes",
    ):
        op.drop_table(table)
