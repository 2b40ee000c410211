"""What the handlers of an update need to know about its sender, read in one statement.

Every update used to ask the database four times before it was triaged: is the sender
blocked (two conditional UPDATEs, a write transaction on every message), who are they
(another transaction), have they open tickets, did the stored phrasings change. ``arrive``
answers all four with one SELECT and writes nothing; the writes happen only when there is
something to write (a blocked sender, a new or renamed user, see ``Arrival.profile``).

Nothing is cached between updates, so a change made by another process (a block, a
ticket, a phrasing) is seen by the next update as before.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Select, Table, bindparam, exists, literal, select

from bot.services.experts import OPEN_STATUSES
from bot.services.members import Profile, TelegramIdentity, profile_of_row
from bot.services.phrasings import STATE_ID
from db.models import Base, Block, FaqState, Ticket, User
from db.session import SessionFactory


@dataclass(frozen=True, slots=True)
class Arrival:
    """The sender of one update as the database knows them when it arrives."""

    user_id: int
    profile: Profile | None
    """Their profile, or None when it must be written first (first contact, their Telegram
    name or language changed, they had blocked the bot): then ``MemberService.touch``."""
    blocked: bool
    """An admin blocked them (``PrivacyService.check_blocked`` counts and answers)."""
    open_tickets: bool
    """They have at least one open ticket (``RelayService.tickets_for_member_message``)."""
    phrasings_version: int
    """The stored phrasings' version (``LiveKnowledge.refresh``)."""


def table(model: type[Base]) -> Table:
    """A model's table, for Core statements."""
    return cast(Table, model.__table__)


def _query() -> Select[Any]:
    """Built once: the sender's columns (NULLs for a stranger), and the three facts."""
    users, blocks, tickets, state = (
        table(User),
        table(Block),
        table(Ticket),
        table(FaqState),
    )
    uid = bindparam("uid", type_=users.c.id.type)
    one = select(literal(1).label("one")).subquery()
    return select(
        *(users.c[name] for name in _COLUMNS),
        exists().where(blocks.c.user_id == uid).label("blocked"),
        exists()
        .where(tickets.c.user_id == uid, tickets.c.status.in_(OPEN_STATUSES))
        .label("open_tickets"),
        select(state.c.phrasings_version)
        .where(state.c.id == STATE_ID)
        .scalar_subquery()
        .label("version"),
    ).select_from(one.outerjoin(users, users.c.id == uid))


_COLUMNS = (
    "id",
    "first_name",
    "username",
    "telegram_lang",
    "lang",
    "detected_lang",
    "role",
    "dialog_state",
    "dialog_data",
    "blocked_bot_at",
)
_QUERY = _query()


class ArrivalService:
    def __init__(self, sessions: SessionFactory) -> None:
        self._sessions = sessions

    async def arrive(self, who: TelegramIdentity) -> Arrival:
        # Core on the session's connection: this runs for every update.
        async with self._sessions() as s:
            conn = await s.connection()
            row = (await conn.execute(_QUERY, {"uid": who.id})).one()
        known = (row.first_name, row.username, row.telegram_lang)
        told = (who.first_name[:255], who.username, who.language_code)
        fresh = row.id is not None and row.blocked_bot_at is None and known == told
        profile = profile_of_row(row) if fresh else None
        return Arrival(
            user_id=who.id,
            profile=profile,
            blocked=bool(row.blocked),
            open_tickets=bool(row.open_tickets),
            phrasings_version=int(row.version or 0),
        )
