"""A member–expert conversation: what a private message means, and what follows from it.

The policy behind ``handlers/relay.py`` (which only reads the update, calls this and renders
the outcome); no Telegram here. :meth:`ConversationService.decide` gathers the facts the one
routing decision needs (:func:`bot.services.routing.route`) and returns it with the member's
open tickets; :meth:`~ConversationService.follow` keeps the member's dialogue state in step
with it. A message for a ticket is stored first (``record_member`` / ``record_team``), then
handed to the outbox (:meth:`~ConversationService.pass_on`): the copy, then the sender's
receipt go out from there, retried while the bot runs, and the sender is told if it finally
fails (``out.relay_failed``). Several open tickets and no choice yet: the message is held in
the member's dialogue data (:meth:`~ConversationService.hold`) until they pick one
(:meth:`~ConversationService.choose`).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

from bot.services.dialog import DialogState, is_profile_step
from bot.services.errors import StaleAction
from bot.services.members import MemberService, Profile
from bot.services.outbox import PREFIX as OUTBOX_PREFIX
from bot.services.outbox import Outbox
from bot.services.relay import Direction, RelayedMessage, RelayService
from bot.services.reminders import ON_FAILURE, failure_notice
from bot.services.roles import is_team
from bot.services.routing import (
    MEMBER_MODES,
    Destination,
    OpenTicket,
    RepliedTicket,
    Route,
    Situation,
    route,
)
from bot.services.tickets import TicketKey, TicketView
from faq.models import Lang

RELAY = "relay"
"""Outbox kind (``out.relay``): stored ticket messages to pass on, then the sender's receipt."""
RELAY_FAILED = "relay_failed"
"""Outbox kind (``out.relay_failed``): scheduled when a relay row is marked failed (after its
last retry, or refused for good): the sender is told, unless the copy did go out after all."""
BOT_DOWNLOAD_LIMIT = 20 * 1024 * 1024
"""Bots may download files up to 20 MB (and upload up to 50 MB); relaying by file id has
no limit, so bigger files are passed on, with a word to the sender (see tk_file_large)."""


@dataclass(frozen=True, slots=True)
class Content:
    """What a relayed message carries: text, or a photo or document with its caption."""

    text: str | None
    file_id: str | None = None
    file_kind: str | None = None
    file_name: str | None = None
    file_size: int | None = None
    media_group_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "file_id": self.file_id,
            "file_kind": self.file_kind,
            "file_name": self.file_name,
            "file_size": self.file_size,
            "media_group_id": self.media_group_id,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Content:
        return cls(
            data.get("text"),
            data.get("file_id"),
            data.get("file_kind"),
            data.get("file_name"),
            data.get("file_size"),
            data.get("media_group_id"),
        )

    @property
    def too_big_to_download(self) -> bool:
        return self.file_size is not None and self.file_size > BOT_DOWNLOAD_LIMIT


@dataclass(frozen=True, slots=True)
class Incoming:
    """The facts of a private message that routing needs, read off the update."""

    chat_id: int
    message_id: int
    replied_id: int | None  # the message it replies to, if any
    has_text: bool
    resolve_summary: bool  # it answers the sender's pending Resolve prompt
    # False when the sender's arrival (bot/services/arrival.py) saw no open ticket of theirs:
    # the lookup of their open tickets is skipped.
    may_have_open_tickets: bool = True


@dataclass(frozen=True, slots=True)
class Decision:
    route: Route
    open_tickets: list[TicketView]

    @property
    def several_open(self) -> bool:
        return len(self.open_tickets) > 1


@dataclass(frozen=True, slots=True)
class Chosen:
    """The member picked a ticket: its view, the held messages now stored on it."""

    view: TicketView
    records: list[RelayedMessage]
    several_open: bool


class ConversationService:
    def __init__(
        self,
        relay: RelayService,
        members: MemberService,
        outbox: Outbox,
        staff_chat_id: int | None,
    ) -> None:
        self._relay = relay
        self._members = members
        self._outbox = outbox
        self._staff_chat_id = staff_chat_id

    # --- where a message goes ----------------------------------------------------------------

    async def decide(self, who: Profile, message: Incoming) -> Decision:
        """The facts :func:`route` decides on, and its decision."""
        replied: RepliedTicket | None = None
        if message.replied_id is not None:
            view = await self._relay.ticket_for_reply(message.chat_id, message.replied_id)
            if view is not None:
                replied = RepliedTicket(view.id, view.member.user_id, view.is_open)
        team = is_team(who.role)
        as_member = (
            not team
            or who.dialog_state in MEMBER_MODES
            or (replied is not None and replied.member_id == who.id)
        )
        open_tickets: list[TicketView] = []
        if as_member and not is_profile_step(who.dialog_state) and message.may_have_open_tickets:
            open_tickets = await self._relay.tickets_for_member_message(who.id)
        chosen = who.dialog_data.get("ticket")
        situation = Situation(
            sender_id=who.id,
            team=team,
            state=who.dialog_state,
            state_ticket=chosen if isinstance(chosen, int) else None,
            state_since=who.dialog_since,
            is_reply=message.replied_id is not None,
            replied=replied,
            open_tickets=tuple(OpenTicket(v.id, v.last_expert_message_at) for v in open_tickets),
            resolve_summary=message.resolve_summary,
            has_text=message.has_text,
        )
        return Decision(route(situation), open_tickets)

    async def follow(self, who: Profile, decision: Route) -> None:
        """Keep the member's state in step with the decision: remember the ticket a message
        went to; forget a ticket or chooser that points nowhere any more."""
        if decision.to is Destination.FAQ and decision.forget:
            await self._members.set_dialog(who.id, None)
            return
        if decision.to is not Destination.TICKET or not decision.remember:
            return
        already = who.dialog_state is DialogState.TICKET and (
            who.dialog_data.get("ticket") == decision.ticket_id
        )
        if not already:
            await self._members.set_dialog(
                who.id, DialogState.TICKET, {"ticket": decision.ticket_id}
            )

    # --- storing -----------------------------------------------------------------------------

    async def record_member(
        self, who: Profile, chat_id: int, message_id: int, content: Content, ticket: TicketKey
    ) -> RelayedMessage:
        """Store a member's message on their ticket (idempotent per source message)."""
        return await self._relay.record_member_message(
            who.id, ticket, **_stored(content, chat_id, message_id)
        )

    async def record_team(
        self, actor_id: int, chat_id: int, message_id: int, content: Content, ticket: TicketKey
    ) -> RelayedMessage:
        """Store a team member's reply to the ticket's member (may claim the ticket)."""
        return await self._relay.record_expert_message(
            actor_id, ticket, **_stored(content, chat_id, message_id)
        )

    # --- several open tickets: hold, then choose ---------------------------------------------

    async def hold(self, who: Profile, chat_id: int, message_id: int, content: Content) -> bool:
        """Keep a message (in the database) until the member picks its ticket. True when the
        chooser is to be shown (False: it is on screen already; this one waits quietly too)."""
        pending = self._pending(who)
        pending.append({**content.to_json(), "chat": chat_id, "message": message_id})
        await self._members.set_dialog(who.id, DialogState.CHOOSE, {"pending": pending})
        return len(pending) == 1

    async def choose(self, who: Profile, ticket_id: int | None) -> Chosen:
        """The member's messages now go to this open ticket of theirs; any held ones are
        stored on it (in order). StaleAction when it is not one of their open tickets."""
        open_tickets = await self._relay.tickets_for_member_message(who.id)
        view = next((v for v in open_tickets if v.id == ticket_id), None)
        if view is None:
            raise StaleAction("not one of the member's open tickets")
        records = []
        for item in self._pending(who):
            content = Content.from_json(item)
            records.append(
                await self._relay.record_member_message(
                    who.id,
                    view.id,
                    text=content.text,
                    file_id=content.file_id,
                    file_kind=content.file_kind,
                    file_name=content.file_name,
                    media_group_id=content.media_group_id,
                    source_chat_id=item.get("chat"),
                    source_message_id=item.get("message"),
                )
            )
        await self._members.set_dialog(who.id, DialogState.TICKET, {"ticket": view.id})
        return Chosen(view, records, len(open_tickets) > 1)

    async def cancel(self, who: Profile, chat_id: int, *, in_staff_group: bool) -> str | None:
        """/cancel outside the profile dialogue: drop a pending Resolve prompt of this chat
        ("resolve") or, in private, the chooser with its held messages ("chooser"); None when
        there is nothing to cancel."""
        left: str | None = None
        if who.dialog_state == DialogState.RESOLVE and who.dialog_data.get("chat") == chat_id:
            left = "resolve"
        elif who.dialog_state == DialogState.CHOOSE and not in_staff_group:
            left = "chooser"
        if left is not None:
            await self._members.set_dialog(who.id, None)
        return left

    @staticmethod
    def _pending(who: Profile) -> list[dict[str, Any]]:
        if who.dialog_state != DialogState.CHOOSE:
            return []
        return list(who.dialog_data.get("pending", []))

    # --- passing on, through the outbox ------------------------------------------------------

    async def pass_on(
        self,
        parts: list[RelayedMessage],
        *,
        ack_chat: int,
        ack_lang: Lang,
        several_open: bool,
        to_member: bool,
    ) -> None:
        """Hand stored message(s) — one message, or the parts of one album — to the outbox:
        the copy and then the sender's receipt go out from there, at once, retried while the
        bot runs, once across a crash or two processes (the row's key is the first message's
        id); if it finally fails, the sender is told."""
        if not parts:
            return
        first = parts[0]
        chat = first.recipient_id if first.recipient_id is not None else self._staff_chat_id
        ids = [p.id for p in parts]
        payload = {
            "messages": ids,
            "ack_chat": ack_chat,
            "ack_lang": ack_lang,
            "several": several_open,
            "to_member": to_member,
            ON_FAILURE: failure_notice(
                OUTBOX_PREFIX + RELAY_FAILED,
                ack_chat,
                {"messages": ids, "lang": ack_lang, "to_member": to_member},
            ),
        }
        await self._outbox.send(
            chat if chat is not None else ack_chat,
            RELAY,
            payload,
            key=f"relay:{first.id}",
            ticket_id=first.ticket_id,
        )

    async def pass_on_held(self, chosen: Chosen, ack_chat: int, ack_lang: Lang) -> None:
        """Pass on the messages held for the chooser, album parts together."""
        waiting = (r for r in chosen.records if not r.delivered)
        for _, group in itertools.groupby(waiting, key=lambda r: r.media_group_id or f"#{r.id}"):
            await self.pass_on(
                list(group),
                ack_chat=ack_chat,
                ack_lang=ack_lang,
                several_open=chosen.several_open,
                to_member=False,
            )

    async def redeliver(self) -> int:
        """At start-up: give the outbox every message stored but not delivered before the
        last stop that it does not hold yet (all of them, page by page; rows it holds keep
        their retries and failures). Returns the number of messages handed over."""
        count, after = 0, 0
        while True:
            pending = await self._relay.undelivered(limit=500, after_id=after)
            if not pending:
                return count
            after = pending[-1].id
            for _, group in itertools.groupby(
                pending, key=lambda r: (r.ticket_id, r.media_group_id or f"#{r.id}")
            ):
                parts = list(group)
                first = parts[0]
                await self.pass_on(
                    parts,
                    ack_chat=first.source_chat_id or first.sender_id,
                    ack_lang=await self._members.lang_of(first.sender_id),
                    several_open=False,
                    to_member=first.direction is Direction.EXPERT,
                )
                count += len(parts)


def _stored(content: Content, chat_id: int, message_id: int) -> dict[str, Any]:
    """The fields a relayed message is stored with, from either side."""
    return {
        "text": content.text,
        "file_id": content.file_id,
        "file_kind": content.file_kind,
        "file_name": content.file_name,
        "media_group_id": content.media_group_id,
        "source_chat_id": chat_id,
        "source_message_id": message_id,
    }
