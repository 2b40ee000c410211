"""ConversationService: the facts routing decides on, held messages and the chooser, /cancel,
and handing stored messages to the outbox (with the sender's failure notice), on SQLite and
on PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.services.conversation import (
    RELAY,
    RELAY_FAILED,
    Content,
    ConversationService,
    Incoming,
)
from bot.services.dialog import DialogState
from bot.services.errors import StaleAction
from bot.services.members import MemberService, Profile, TelegramIdentity
from bot.services.outbox import PREFIX, Outbox
from bot.services.relay import RelayService
from bot.services.reminders import ON_FAILURE
from bot.services.routing import Destination
from bot.services.tickets import TicketService
from db.models import Reminder
from db.session import SessionFactory
from tests.services import ZONE, Clock, add_experts, add_user, spec

MEMBER, EXPERT = 500, 11
CHAT = MEMBER  # a private chat's id is the user's
STAFF_GROUP = -100500


class World:
    def __init__(self, sessions: SessionFactory) -> None:
        self.sessions = sessions
        self.clock = Clock()
        self.tickets = TicketService(sessions, ZONE, clock=self.clock)
        self.relay = RelayService(sessions, ZONE, clock=self.clock)
        self.members = MemberService(sessions)
        self.conversation = ConversationService(
            self.relay, self.members, Outbox(sessions), STAFF_GROUP
        )

    async def ticket(self, question: str = "商标被抢注") -> int:
        ref = await self.tickets.open(
            MEMBER, lang="zh", category="trademark", question=question, faq_id=None,
            question_id=None,
        )  # fmt: skip
        await self.tickets.assign_initial(ref.id)
        return ref.id

    async def member(self) -> Profile:
        return await self.members.touch(TelegramIdentity(MEMBER, "王", None, "zh-hans"))

    async def relay_rows(self) -> list[Reminder]:
        async with self.sessions() as s:
            return list(
                (await s.scalars(select(Reminder).where(Reminder.kind == PREFIX + RELAY))).all()
            )


@pytest.fixture
async def world(sessions: SessionFactory) -> World:
    await add_user(sessions, MEMBER)
    await add_experts(sessions, spec("mine", EXPERT))
    return World(sessions)


async def test_one_open_ticket_takes_the_message_and_is_remembered(world: World) -> None:
    ticket_id = await world.ticket()
    who = await world.member()
    message = Incoming(CHAT, 1, None, has_text=True, resolve_summary=False)
    decision = await world.conversation.decide(who, message)
    assert (decision.route.to, decision.route.ticket_id) == (Destination.TICKET, ticket_id)
    assert not decision.several_open
    await world.conversation.follow(who, decision.route)
    again = await world.member()
    assert again.dialog_state is DialogState.TICKET
    assert again.dialog_data["ticket"] == ticket_id


async def test_a_reply_to_a_ticket_message_wins_over_the_expert_who_wrote_last(
    world: World,
) -> None:
    first = await world.ticket()
    second = await world.ticket("第二件")
    await world.relay.record_bot_message(first, CHAT, 4001)  # e.g. the first ticket's notice
    await world.relay.record_expert_message(EXPERT, second, text="请补充材料")
    who = await world.member()
    plain = Incoming(CHAT, 2, None, has_text=True, resolve_summary=False)
    decision = await world.conversation.decide(who, plain)
    assert (decision.route.to, decision.route.ticket_id) == (Destination.TICKET, second)
    assert decision.several_open
    reply = Incoming(CHAT, 3, 4001, has_text=True, resolve_summary=False)
    decision = await world.conversation.decide(who, reply)
    assert (decision.route.to, decision.route.ticket_id) == (Destination.TICKET, first)


async def test_held_messages_are_stored_on_the_chosen_ticket_in_order(world: World) -> None:
    await world.ticket()
    second = await world.ticket("第二件")
    who = await world.member()
    assert await world.conversation.hold(who, CHAT, 10, Content("第一条")) is True
    who = await world.member()
    assert await world.conversation.hold(who, CHAT, 11, Content("第二条")) is False
    who = await world.member()
    assert who.dialog_state is DialogState.CHOOSE
    chosen = await world.conversation.choose(who, second)
    assert [r.text for r in chosen.records] == ["第一条", "第二条"]
    assert {r.ticket_id for r in chosen.records} == {second}
    assert chosen.several_open
    await world.conversation.pass_on_held(chosen, CHAT, "zh")
    assert len(await world.relay_rows()) == 2
    who = await world.member()
    assert (who.dialog_state, who.dialog_data["ticket"]) == (DialogState.TICKET, second)
    with pytest.raises(StaleAction):  # not one of the member's open tickets
        await world.conversation.choose(who, second + 99)


async def test_cancel_drops_the_chooser_in_private_only(world: World) -> None:
    await world.ticket()
    await world.ticket("第二件")
    await world.conversation.hold(await world.member(), CHAT, 10, Content("留着"))
    who = await world.member()
    assert await world.conversation.cancel(who, STAFF_GROUP, in_staff_group=True) is None
    assert await world.conversation.cancel(who, CHAT, in_staff_group=False) == "chooser"
    assert (await world.member()).dialog_state is None
    assert (
        await world.conversation.cancel(await world.member(), CHAT, in_staff_group=False) is None
    )


async def test_pass_on_writes_one_row_with_the_senders_failure_notice(world: World) -> None:
    ticket_id = await world.ticket()
    who = await world.member()
    rec = await world.conversation.record_member(who, CHAT, 20, Content("你好"), ticket_id)
    for _ in range(2):  # the same message handed over twice (e.g. at start-up): one row
        await world.conversation.pass_on(
            [rec], ack_chat=CHAT, ack_lang="zh", several_open=False, to_member=False
        )
    rows = await world.relay_rows()
    assert [(r.key, r.recipient_id) for r in rows] == [(f"relay:{rec.id}", EXPERT)]
    notice = rows[0].payload[ON_FAILURE]
    assert notice["kind"] == PREFIX + RELAY_FAILED
    assert notice["recipient_id"] == CHAT
    assert notice["payload"] == {"messages": [rec.id], "lang": "zh", "to_member": False}
    # At start-up nothing is handed over twice: the outbox holds it already.
    assert await world.conversation.redeliver() == 1
    assert len(await world.relay_rows()) == 1
