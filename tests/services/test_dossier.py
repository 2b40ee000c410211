"""摸底: the company, its earlier cases (also by colleagues) and the FAQ the member read."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from bot.services.companies import CompanyService, parse_member_csv
from bot.services.dossier import DossierService
from bot.services.errors import NotFound
from bot.services.tickets import TicketService
from db.models import FaqView, Role, Ticket, TicketEvent, TicketStatus
from db.session import SessionFactory
from tests.services import ZONE, Clock, add_experts, add_user, spec

MEMBER, COLLEAGUE, OUTSIDER, STAFF = 500, 501, 502, 1


async def _ask(tickets: TicketService, user_id: int, question: str) -> int:
    ref = await tickets.open(
        user_id, lang="zh", category="trademark", question=question, faq_id=None,
        question_id=None,
    )  # fmt: skip
    return ref.id


async def test_dossier_of_a_member_company(sessions: SessionFactory) -> None:
    for user_id in (MEMBER, COLLEAGUE, OUTSIDER):
        await add_user(sessions, user_id)
    await add_user(sessions, STAFF, Role.STAFF)
    companies = CompanyService(sessions)
    rows = "name,member_no\n宁波市甬兴电器有限公司,NBIP-0001\n"
    await companies.import_members(parse_member_csv(rows)[0])
    company = (await companies.match_company("甬兴电器"))[0].company
    clock = Clock()
    tickets = TicketService(sessions, ZONE, clock=clock)

    # A colleague asked last year; the outsider's case must not appear.
    await companies.link_user(COLLEAGUE, company.id)
    old = await _ask(tickets, COLLEAGUE, "商标续展")
    await tickets.resolve(old, STAFF, "已指导续展")
    async with sessions() as s, s.begin():
        await s.execute(update(Ticket).where(Ticket.id == old).values(rating=5))
    await _ask(tickets, OUTSIDER, "别人的问题")

    # The member asked before linking their company; linking brings that ticket along.
    clock.advance(days=1)
    earlier = await _ask(tickets, MEMBER, "商标被抢注")
    await companies.link_user(MEMBER, "宁波甬兴电器")
    async with sessions() as s, s.begin():
        s.add_all(
            [
                FaqView(user_id=MEMBER, faq_id="tm-squatting", source="answer", lang="zh",
                        created_at=clock.advance(minutes=1)),
                FaqView(user_id=MEMBER, faq_id="tm-renewal", source="browse", lang="zh",
                        feedback="solved", created_at=clock.advance(minutes=1)),
                FaqView(user_id=MEMBER, faq_id="tm-squatting", source="related", lang="zh",
                        feedback="expert", created_at=clock.advance(minutes=1)),
                FaqView(user_id=OUTSIDER, faq_id="pt-invention", source="answer", lang="zh",
                        created_at=clock.advance(minutes=1)),
            ]
        )  # fmt: skip
    clock.advance(minutes=5)
    current = await _ask(tickets, MEMBER, "对方申请了近似商标，怎么办")

    dossier = await DossierService(sessions).for_ticket(STAFF, current)
    assert dossier.ticket.id == current
    assert dossier.company is not None
    assert dossier.company.id == company.id
    assert dossier.is_member
    assert dossier.colleagues == 1
    assert [(p.number, p.by_this_member) for p in dossier.previous_tickets] == [
        (f"IP-2026-{earlier:04d}", True),
        (f"IP-2026-{old:04d}", False),
    ]
    by_colleague = dossier.previous_tickets[1]
    assert (by_colleague.status, by_colleague.summary, by_colleague.rating) == (
        TicketStatus.RESOLVED,
        "已指导续展",
        5,
    )
    assert dossier.previous_total == 2
    assert dossier.average_rating == 5.0
    assert [(f.faq_id, f.feedback) for f in dossier.recent_faq] == [
        ("tm-squatting", "expert"),
        ("tm-renewal", "solved"),
    ]


async def test_dossier_of_a_newcomer(sessions: SessionFactory) -> None:
    await add_user(sessions, MEMBER)
    await add_user(sessions, STAFF, Role.STAFF)
    tickets = TicketService(sessions, ZONE, clock=Clock())
    ticket_id = await _ask(tickets, MEMBER, "第一次咨询")
    dossier = await DossierService(sessions).for_ticket(STAFF, ticket_id)
    assert dossier.company is None
    assert not dossier.is_member
    assert (dossier.previous_tickets, dossier.previous_total, dossier.average_rating) == (
        (),
        0,
        None,
    )
    assert dossier.recent_faq == ()
    assert dossier.colleagues == 0


async def test_dossier_need_to_know_and_audit(sessions: SessionFactory) -> None:
    """Only staff and the ticket's own expert open it; every opening is audited; the contact
    name and phone are for admins and the ticket's expert, not for other staff."""
    expert_a, expert_b, admin = 601, 602, 603
    await add_user(sessions, MEMBER)
    await add_user(sessions, STAFF, Role.STAFF)
    await add_user(sessions, admin, Role.ADMIN)
    await add_user(sessions, expert_a, Role.EXPERT)
    await add_user(sessions, expert_b, Role.EXPERT)
    await add_experts(sessions, spec("a", expert_a), spec("b", expert_b, categories=("patent",)))
    companies = CompanyService(sessions)
    await companies.link_user(MEMBER, "宁波某某科技有限公司")
    await companies.save_profile(MEMBER, "王经理", "13812345678")
    tickets = TicketService(sessions, ZONE, clock=Clock())
    ticket_id = await _ask(tickets, MEMBER, "商标被抢注")
    dossiers = DossierService(sessions)
    # Unassigned: another expert may not open it (the queue card is enough to claim it).
    with pytest.raises(NotFound):
        await dossiers.for_ticket(expert_a, ticket_id)
    assigned = await tickets.assign_initial(ticket_id)
    assert assigned.expert is not None
    assert assigned.expert.user_id == expert_a
    assert (await dossiers.for_ticket(expert_a, ticket_id)).show_contact
    with pytest.raises(NotFound):
        await dossiers.for_ticket(expert_b, ticket_id)
    with pytest.raises(NotFound):
        await dossiers.for_ticket(MEMBER, ticket_id)
    assert not (await dossiers.for_ticket(STAFF, ticket_id)).show_contact
    assert (await dossiers.for_ticket(admin, ticket_id)).show_contact
    async with sessions() as s:
        audit = (
            await s.scalars(
                select(TicketEvent.actor_id)
                .where(TicketEvent.ticket_id == ticket_id, TicketEvent.kind == "dossier")
                .order_by(TicketEvent.id)
            )
        ).all()
    assert audit == [expert_a, STAFF, admin]
