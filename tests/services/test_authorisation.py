"""Who sees which ticket: staff, the assigned expert, another expert, the owner, others."""

from __future__ import annotations

import pytest

from bot.services.dossier import DossierService
from bot.services.errors import NotAllowed, NotFound
from bot.services.relay import RelayService
from bot.services.tickets import TicketService
from db.models import Role
from db.session import SessionFactory
from tests.services import ZONE, Clock, add_experts, add_user, spec

OWNER, OTHER_MEMBER, STAFF, ADMIN, STRANGER = 500, 501, 1, 2, 999
EXPERT, OTHER_EXPERT = 11, 12


async def _world(sessions: SessionFactory) -> tuple[TicketService, int, int]:
    """One ticket assigned to EXPERT, one unassigned; both the OWNER's."""
    await add_user(sessions, OWNER)
    await add_user(sessions, OTHER_MEMBER)
    await add_user(sessions, STAFF, Role.STAFF)
    await add_user(sessions, ADMIN, Role.ADMIN)
    await add_experts(
        sessions,
        spec("mine", EXPERT),
        spec("other", OTHER_EXPERT, categories=("patent",)),
    )
    tickets = TicketService(sessions, ZONE, clock=Clock())
    assigned = await tickets.open(
        OWNER, lang="zh", category="trademark", question="商标", faq_id=None, question_id=None
    )
    await tickets.assign_initial(assigned.id)
    loose = await tickets.open(
        OWNER, lang="zh", category="copyright", question="版权", faq_id=None, question_id=None
    )
    await tickets.assign_initial(loose.id)  # nobody does copyright: stays unassigned
    return tickets, assigned.id, loose.id


@pytest.mark.parametrize(
    ("viewer", "sees_assigned", "sees_loose"),
    [
        (STAFF, True, True),
        (ADMIN, True, True),
        (EXPERT, True, True),  # theirs, and the unclaimed queue
        (OTHER_EXPERT, False, True),  # not someone else's
        (OWNER, True, True),
        (OTHER_MEMBER, False, False),
        (STRANGER, False, False),  # never talked to the bot
    ],
)
async def test_view_ticket(
    sessions: SessionFactory, viewer: int, sees_assigned: bool, sees_loose: bool
) -> None:
    tickets, assigned, loose = await _world(sessions)
    for ticket_id, visible in ((assigned, sees_assigned), (loose, sees_loose)):
        number = f"IP-2026-{ticket_id:04d}"
        if visible:
            assert (await tickets.view_ticket(viewer, ticket_id)).id == ticket_id
            assert (await tickets.get(viewer, number)).id == ticket_id
        else:
            with pytest.raises(NotFound):
                await tickets.view_ticket(viewer, ticket_id)
            with pytest.raises(NotFound):
                await tickets.get(viewer, number)
    # A ticket that does not exist looks exactly like one that is not yours.
    with pytest.raises(NotFound):
        await tickets.view_ticket(viewer, "IP-2026-0999")


async def test_member_view_is_redacted(sessions: SessionFactory) -> None:
    tickets, assigned, _loose = await _world(sessions)
    await tickets.claim(assigned, EXPERT)
    staff_view = await tickets.view_ticket(STAFF, assigned)
    assert staff_view.expert is not None
    assert staff_view.expert.user_id == EXPERT
    assert staff_view.claimed_by is not None
    member_view = await tickets.view_ticket(OWNER, assigned)
    assert member_view.expert is not None
    assert member_view.expert.name("zh") == "专家mine"  # the name is shown …
    assert member_view.expert.user_id is None  # … the account is not
    assert member_view.claimed_by is None
    assert member_view.responder_id is None
    assert [t.id for t in await tickets.member_tickets(OWNER)] == [_loose, assigned]
    assert all(
        t.expert is None or t.expert.user_id is None for t in await tickets.member_tickets(OWNER)
    )
    assert await tickets.member_tickets(OTHER_MEMBER) == []


async def test_queue_and_mine(sessions: SessionFactory) -> None:
    tickets, assigned, loose = await _world(sessions)
    assert {t.id for t in await tickets.queue(STAFF)} == {assigned, loose}
    assert {t.id for t in await tickets.queue(EXPERT)} == {assigned, loose}
    assert {t.id for t in await tickets.queue(OTHER_EXPERT)} == {loose}
    for outsider in (OWNER, STRANGER):
        with pytest.raises(NotAllowed):
            await tickets.queue(outsider)
        with pytest.raises(NotAllowed):
            await tickets.mine(outsider)
    assert [t.id for t in await tickets.mine(EXPERT)] == [assigned]
    assert await tickets.mine(STAFF) == []


async def test_queue_order_is_urgent_then_oldest(sessions: SessionFactory) -> None:
    await add_user(sessions, OWNER)
    await add_user(sessions, STAFF, Role.STAFF)
    clock = Clock()
    tickets = TicketService(sessions, ZONE, clock=clock)
    opened = []
    for question in ("普通问题一", "收到法院传票", "普通问题二", "海关扣货了"):
        clock.advance(minutes=1)
        ref = await tickets.open(
            OWNER,
            lang="zh",
            category="general",
            question=question,
            faq_id=None,
            question_id=None,
        )
        opened.append(ref.id)
    queue = [t.id for t in await tickets.queue(STAFF)]
    assert queue == [opened[1], opened[3], opened[0], opened[2]]


async def test_notes_never_reach_members(sessions: SessionFactory) -> None:
    tickets, assigned, _loose = await _world(sessions)
    relay = RelayService(sessions, ZONE, clock=Clock())
    await relay.record_member_message(OWNER, assigned, text="请帮忙")
    note = await relay.add_note(STAFF, assigned, "该企业去年也有类似纠纷")
    assert note.recipient_id is None
    await relay.record_expert_message(EXPERT, assigned, text="您好，我来处理")
    with pytest.raises(NotAllowed):
        await relay.add_note(OWNER, assigned, "I am not staff")
    with pytest.raises(NotFound):
        await relay.add_note(OTHER_EXPERT, assigned, "not my ticket")

    owner = await tickets.history(OWNER, assigned)
    assert [m.direction for m in owner.messages] == ["member", "expert"]
    assert owner.events == ()  # the audit trail is for the team
    team = await tickets.history(EXPERT, assigned)
    assert [m.direction for m in team.messages] == ["member", "note", "expert"]
    assert team.events
    with pytest.raises(NotFound):
        await tickets.history(OTHER_MEMBER, assigned)


async def test_dossier_is_for_the_team_only(sessions: SessionFactory) -> None:
    _tickets, assigned, _loose = await _world(sessions)
    dossiers = DossierService(sessions)
    assert (await dossiers.for_ticket(EXPERT, assigned)).ticket.id == assigned
    assert (await dossiers.for_ticket(STAFF, assigned)).ticket.id == assigned
    for outsider in (OTHER_EXPERT, OWNER, OTHER_MEMBER, STRANGER):
        with pytest.raises(NotFound):
            await dossiers.for_ticket(outsider, assigned)


async def test_a_demoted_expert_loses_access(sessions: SessionFactory) -> None:
    from bot.services.roles import RoleService

    tickets, assigned, _loose = await _world(sessions)
    await tickets.view_ticket(EXPERT, assigned)
    await RoleService(sessions).set_role(ADMIN, EXPERT, Role.MEMBER)
    with pytest.raises(NotFound):
        await tickets.view_ticket(EXPERT, assigned)
