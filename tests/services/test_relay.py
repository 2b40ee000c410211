"""Relay storage: messages both ways, routing of replies, albums, delivery bookkeeping."""

from __future__ import annotations

import pytest

from bot.services.errors import NotAllowed, NotFound, StaleAction
from bot.services.relay import Direction, RelayRefused, RelayService
from bot.services.tickets import TicketService
from db.models import Priority, Role, TicketStatus
from db.session import SessionFactory
from tests.services import ZONE, Clock, add_experts, add_user, spec

MEMBER, OTHER_MEMBER, STAFF = 500, 501, 1
EXPERT, OTHER_EXPERT = 11, 12
STAFF_GROUP = -100500


async def _setup(
    sessions: SessionFactory,
) -> tuple[TicketService, RelayService, Clock]:
    await add_user(sessions, MEMBER)
    await add_user(sessions, OTHER_MEMBER)
    await add_user(sessions, STAFF, Role.STAFF)
    await add_experts(
        sessions, spec("mine", EXPERT), spec("other", OTHER_EXPERT, categories=("patent",))
    )
    clock = Clock()
    return (
        TicketService(sessions, ZONE, clock=clock),
        RelayService(sessions, ZONE, clock=clock),
        clock,
    )


async def _ticket(
    tickets: TicketService, question: str = "商标被抢注", assign: bool = True
) -> int:
    ref = await tickets.open(
        MEMBER, lang="zh", category="trademark", question=question, faq_id=None, question_id=None
    )
    if assign:
        await tickets.assign_initial(ref.id)
    return ref.id


async def test_relay_both_ways_with_routing(sessions: SessionFactory) -> None:
    tickets, relay, clock = await _setup(sessions)
    ticket_id = await _ticket(tickets)

    photo = await relay.record_member_message(
        MEMBER, ticket_id, text="证据", file_id="AgAD-photo", file_kind="photo",
        source_chat_id=MEMBER, source_message_id=10,
    )  # fmt: skip
    assert (photo.direction, photo.recipient_id, photo.delivered) == (
        Direction.MEMBER,
        EXPERT,
        False,
    )
    await relay.mark_delivered(photo.id, EXPERT, 2001)

    # The expert replies to the relayed copy in their private chat: routed to the ticket.
    target = await relay.ticket_for_reply(EXPERT, 2001)
    assert target is not None
    assert target.id == ticket_id
    clock.advance(minutes=30)
    reply = await relay.record_expert_message(
        EXPERT, target.id, file_id="BQAD-doc", file_kind="document", file_name="意见.pdf",
        source_chat_id=EXPERT, source_message_id=3001,
    )  # fmt: skip
    assert (reply.recipient_id, reply.recipient_lang) == (MEMBER, "zh")
    assert reply.sender_expert is not None
    assert reply.sender_expert.name("zh") == "专家mine"
    assert reply.first_response
    assert reply.status_change == (TicketStatus.ASSIGNED, TicketStatus.IN_PROGRESS)
    await relay.mark_delivered(reply.id, MEMBER, 4001)

    # The member replies to the expert's message in their chat: routed too.
    back = await relay.ticket_for_reply(MEMBER, 4001)
    assert back is not None
    assert back.id == ticket_id
    assert await relay.ticket_for_reply(MEMBER, 4002) is None

    second = await relay.record_expert_message(EXPERT, ticket_id, text="还需要注册证")
    assert not second.first_response

    view = await tickets.view_ticket(STAFF, ticket_id)
    assert view.first_response_at == clock.now
    assert view.last_expert_message_at == clock.now
    assert view.claimed_by is not None
    assert view.claimed_by.user_id == EXPERT
    history = await tickets.history(STAFF, ticket_id)
    assert [m.file_kind for m in history.messages] == ["photo", "document", None]
    assert [e.kind for e in history.events].count("first_response") == 1


async def test_unassigned_ticket_goes_to_the_staff_group(sessions: SessionFactory) -> None:
    tickets, relay, _clock = await _setup(sessions)
    ticket_id = await _ticket(tickets, assign=False)
    message = await relay.record_member_message(MEMBER, ticket_id, text="有人吗")
    assert message.recipient_id is None  # the handler posts it in the staff group
    await relay.mark_delivered(message.id, STAFF_GROUP, 77)
    found = await relay.ticket_for_reply(STAFF_GROUP, 77)
    assert found is not None
    assert found.id == ticket_id
    # Staff answer from the group; the card is also a reply target.
    await tickets.set_card(ticket_id, STAFF_GROUP, 70)
    via_card = await relay.ticket_for_reply(STAFF_GROUP, 70)
    assert via_card is not None
    assert via_card.id == ticket_id
    answer = await relay.record_expert_message(STAFF, ticket_id, text="秘书处已收到")
    assert answer.recipient_id == MEMBER
    assert answer.sender_expert is None


async def test_bot_notices_route_replies_but_stay_out_of_history(
    sessions: SessionFactory,
) -> None:
    tickets, relay, _clock = await _setup(sessions)
    ticket_id = await _ticket(tickets)
    await relay.record_bot_message(ticket_id, EXPERT, 5000, "新工单 IP-2026-0001")
    found = await relay.ticket_for_reply(EXPERT, 5000)
    assert found is not None
    assert found.id == ticket_id
    assert (await tickets.history(STAFF, ticket_id)).messages == ()


async def test_who_may_relay(sessions: SessionFactory) -> None:
    tickets, relay, _clock = await _setup(sessions)
    ticket_id = await _ticket(tickets)
    with pytest.raises(NotFound):
        await relay.record_member_message(OTHER_MEMBER, ticket_id, text="hi")
    with pytest.raises(NotFound):
        await relay.record_expert_message(OTHER_EXPERT, ticket_id, text="hi")
    with pytest.raises(NotFound):
        await relay.record_expert_message(MEMBER, ticket_id, text="pretending")
    with pytest.raises(RelayRefused) as refused:
        await relay.record_member_message(MEMBER, ticket_id, text="   ")
    assert refused.value.reason == "empty"
    with pytest.raises(RelayRefused):
        await relay.record_member_message(MEMBER, ticket_id, file_id="x", file_kind="video")
    # An expert who can see an unassigned ticket may claim it but not reply before that.
    loose = await tickets.open(
        MEMBER, lang="zh", category="patent", question="专利", faq_id=None, question_id=None
    )
    await tickets.reassign(loose.id, STAFF, "other")
    with pytest.raises(NotFound):
        await relay.record_expert_message(EXPERT, loose.id, text="x")
    third = await tickets.open(
        MEMBER, lang="zh", category="general", question="一般", faq_id=None, question_id=None
    )
    with pytest.raises(NotAllowed):
        await relay.record_expert_message(EXPERT, third.id, text="not claimed yet")
    await tickets.claim(third.id, EXPERT)
    assert (await relay.record_expert_message(EXPERT, third.id, text="ok")).recipient_id == MEMBER


async def test_closed_tickets_take_no_messages(sessions: SessionFactory) -> None:
    tickets, relay, _clock = await _setup(sessions)
    ticket_id = await _ticket(tickets)
    await tickets.resolve(ticket_id, STAFF, "done")
    with pytest.raises(StaleAction):
        await relay.record_member_message(MEMBER, ticket_id, text="还有问题")
    with pytest.raises(StaleAction):
        await relay.record_expert_message(EXPERT, ticket_id, text="补充")
    note = await relay.add_note(STAFF, ticket_id, "notes are fine after resolution")
    assert note.direction is Direction.NOTE


async def test_redelivered_updates_are_stored_once(sessions: SessionFactory) -> None:
    tickets, relay, _clock = await _setup(sessions)
    ticket_id = await _ticket(tickets)
    first = await relay.record_member_message(
        MEMBER, ticket_id, text="一", source_chat_id=MEMBER, source_message_id=1
    )
    again = await relay.record_member_message(
        MEMBER, ticket_id, text="一", source_chat_id=MEMBER, source_message_id=1
    )
    assert (again.id, again.duplicate, first.duplicate) == (first.id, True, False)
    assert len((await tickets.history(STAFF, ticket_id)).messages) == 1


async def test_albums_and_undelivered_messages(sessions: SessionFactory) -> None:
    tickets, relay, _clock = await _setup(sessions)
    ticket_id = await _ticket(tickets)
    parts = [
        await relay.record_member_message(
            MEMBER, ticket_id, file_id=f"photo-{i}", file_kind="photo", media_group_id="g1",
            text="侵权图片" if i == 0 else None, source_chat_id=MEMBER, source_message_id=20 + i,
        )
        for i in range(3)
    ]  # fmt: skip
    await relay.record_member_message(MEMBER, ticket_id, text="另一条")
    album = await relay.album(ticket_id, "g1")
    assert [p.file_id for p in album] == ["photo-0", "photo-1", "photo-2"]
    assert album[0].text == "侵权图片"

    pending = await relay.undelivered()
    assert [p.id for p in pending][:3] == [p.id for p in parts]
    assert len(pending) == 4
    for index, part in enumerate(parts):
        await relay.mark_delivered(part.id, EXPERT, 900 + index)
    assert [p.text for p in await relay.undelivered()] == ["另一条"]
    with pytest.raises(NotFound):
        await relay.mark_delivered(99999, EXPERT, 1)


async def test_member_with_several_open_tickets(sessions: SessionFactory) -> None:
    tickets, relay, clock = await _setup(sessions)
    assert await relay.tickets_for_member_message(MEMBER) == []
    older = await _ticket(tickets, "第一个问题")
    assert [t.id for t in await relay.tickets_for_member_message(MEMBER)] == [older]
    clock.advance(minutes=5)
    newer = await _ticket(tickets, "第二个问题")
    assert [t.id for t in await relay.tickets_for_member_message(MEMBER)] == [newer, older]
    clock.advance(minutes=5)
    await relay.record_member_message(MEMBER, older, text="补充第一个")
    choices = await relay.tickets_for_member_message(MEMBER)
    assert [t.id for t in choices] == [older, newer]  # most recently active first
    assert all(t.claimed_by is None for t in choices)  # redacted member views
    await tickets.close(older, MEMBER)
    assert [t.id for t in await relay.tickets_for_member_message(MEMBER)] == [newer]
    assert await relay.tickets_for_member_message(OTHER_MEMBER) == []


async def test_member_messages_move_waiting_tickets_and_raise_priority(
    sessions: SessionFactory,
) -> None:
    tickets, relay, _clock = await _setup(sessions)
    ticket_id = await _ticket(tickets)
    await tickets.claim(ticket_id, EXPERT)
    await tickets.set_waiting_member(ticket_id, EXPERT)
    message = await relay.record_member_message(
        MEMBER, ticket_id, text="刚收到法院传票，12月20日开庭"
    )
    assert message.status_change == (TicketStatus.WAITING_MEMBER, TicketStatus.IN_PROGRESS)
    assert message.priority_raised
    view = await tickets.view_ticket(STAFF, ticket_id)
    assert view.priority is Priority.URGENT
    assert view.deadline_at is not None
    assert view.deadline_at.astimezone(ZONE).day == 20
    calm = await relay.record_member_message(MEMBER, ticket_id, text="谢谢")
    assert not calm.priority_raised
    assert calm.status_change is None
    assert (await tickets.view_ticket(STAFF, ticket_id)).priority is Priority.URGENT
