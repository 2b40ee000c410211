"""The routing table: every case of where a private message goes (bot.services.routing)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.services.dialog import DialogState as S
from bot.services.routing import (
    Destination as D,
)
from bot.services.routing import (
    OpenTicket,
    RepliedTicket,
    Route,
    Situation,
    route,
)

ME, OTHER = 10, 20
T0 = datetime(2026, 12, 5, 2, 0, tzinfo=UTC)
BEFORE, AFTER = T0 - timedelta(minutes=5), T0 + timedelta(minutes=5)

A = OpenTicket(1)
B = OpenTicket(2)
A_SPOKE = OpenTicket(1, AFTER)
B_SPOKE = OpenTicket(2, AFTER)
B_SPOKE_EARLIER = OpenTicket(2, BEFORE)
MY_OPEN = RepliedTicket(1, ME, is_open=True)
MY_CLOSED = RepliedTicket(1, ME, is_open=False)
THEIRS = RepliedTicket(7, OTHER, is_open=True)


def sit(**kw: object) -> Situation:
    return Situation(sender_id=ME, **kw)  # type: ignore[arg-type]


CASES: list[tuple[str, Situation, Route]] = [
    # 1. a dialogue waiting for an answer takes it
    ("profile step", sit(state=S.COMPANY, open_tickets=(A,)), Route(D.PROFILE)),
    ("profile step beats a reply", sit(state=S.PHONE, replied=MY_OPEN), Route(D.PROFILE)),
    ("resolve summary", sit(team=True, state=S.RESOLVE, resolve_summary=True),
     Route(D.RESOLVE_SUMMARY)),
    ("resolve state, not the summary", sit(team=True, state=S.RESOLVE), Route(D.TEAM_HINT)),
    ("check-in comment", sit(state=S.CHECKIN_COMMENT, open_tickets=(A,)),
     Route(D.CHECKIN_COMMENT)),
    ("check-in state, a photo", sit(state=S.CHECKIN_COMMENT, has_text=False, open_tickets=(A,)),
     Route(D.TICKET, 1, remember=True)),
    # 2. replies
    ("team reply about a member's ticket", sit(team=True, replied=THEIRS, is_reply=True),
     Route(D.TEAM_REPLY, 7)),
    ("team reply beats FAQ mode", sit(team=True, state=S.FAQ, replied=THEIRS, is_reply=True),
     Route(D.TEAM_REPLY, 7)),
    ("member reply to own open ticket in FAQ mode",
     sit(state=S.FAQ, state_since=AFTER, replied=MY_OPEN, is_reply=True, open_tickets=(A, B)),
     Route(D.TICKET, 1, remember=True)),
    ("member reply to own closed ticket", sit(replied=MY_CLOSED, is_reply=True),
     Route(D.FAQ)),
    ("member reply to someone else's ticket (forged)",
     sit(replied=THEIRS, is_reply=True, open_tickets=(A,)),
     Route(D.TICKET, 1, remember=True)),
    # 3. the team
    ("team member writing", sit(team=True), Route(D.TEAM_HINT)),
    ("team member replying to no ticket", sit(team=True, is_reply=True), Route(D.NOT_A_TICKET)),
    ("team member acting as a member", sit(team=True, state=S.TICKET, state_ticket=1,
     open_tickets=(A,)), Route(D.TICKET, 1)),
    ("team member replying to own ticket", sit(team=True, replied=MY_OPEN, is_reply=True),
     Route(D.TICKET, 1, remember=True)),
    # 4. the expert spoke last
    ("expert wrote after /start (FAQ mode)",
     sit(state=S.FAQ, state_since=T0, open_tickets=(A_SPOKE,)),
     Route(D.TICKET, 1, remember=True)),
    ("expert wrote before /start", sit(state=S.FAQ, state_since=T0,
     open_tickets=(OpenTicket(1, BEFORE),)), Route(D.FAQ)),
    ("expert B wrote after the member chose A",
     sit(state=S.TICKET, state_ticket=1, state_since=T0, open_tickets=(A, B_SPOKE)),
     Route(D.TICKET, 2, remember=True)),
    ("expert B wrote before the member chose A",
     sit(state=S.TICKET, state_ticket=1, state_since=T0, open_tickets=(A, B_SPOKE_EARLIER)),
     Route(D.TICKET, 1)),
    ("expert of the chosen ticket wrote", sit(state=S.TICKET, state_ticket=1, state_since=T0,
     open_tickets=(A_SPOKE, B)), Route(D.TICKET, 1)),
    ("two experts wrote: the latest wins", sit(state_since=BEFORE, open_tickets=(
        OpenTicket(1, T0), OpenTicket(2, AFTER))), Route(D.TICKET, 2, remember=True)),
    ("never chose, an expert wrote", sit(open_tickets=(A, B_SPOKE_EARLIER)),
     Route(D.TICKET, 2, remember=True)),
    ("the chooser on screen waits", sit(state=S.CHOOSE, state_since=BEFORE,
     open_tickets=(A_SPOKE, B)), Route(D.CHOOSE)),
    # 5-7. the member's own choice, then their open tickets
    ("FAQ mode", sit(state=S.FAQ, state_since=T0, open_tickets=(A,)), Route(D.FAQ)),
    ("chosen ticket", sit(state=S.TICKET, state_ticket=2, open_tickets=(A, B)),
     Route(D.TICKET, 2)),
    ("chosen ticket closed, one other open", sit(state=S.TICKET, state_ticket=9,
     open_tickets=(A,)), Route(D.TICKET, 1, remember=True)),
    ("chosen ticket closed, none open", sit(state=S.TICKET, state_ticket=9),
     Route(D.FAQ, forget=True)),
    ("chooser state, tickets since closed", sit(state=S.CHOOSE), Route(D.FAQ, forget=True)),
    ("no ticket", sit(), Route(D.FAQ)),
    ("one open ticket", sit(open_tickets=(A,)), Route(D.TICKET, 1, remember=True)),
    ("two open tickets, no choice", sit(open_tickets=(A, B)), Route(D.CHOOSE)),
    ("chooser state, still two open", sit(state=S.CHOOSE, open_tickets=(A, B)),
     Route(D.CHOOSE)),
]  # fmt: skip


@pytest.mark.parametrize(
    ("situation", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_routing_table(situation: Situation, expected: Route) -> None:
    got = route(situation)
    assert (got.to, got.ticket_id, got.remember, got.forget) == (
        expected.to,
        expected.ticket_id,
        expected.remember,
        expected.forget,
    )
    assert got.why  # every decision says why (logged at DEBUG, without personal data)


def test_every_destination_is_in_the_table() -> None:
    assert {c[2].to for c in CASES} == set(D)


def routing_table_markdown() -> str:
    """The table for the issue note: python -c 'from tests.services.test_routing import
    routing_table_markdown as t; print(t())'."""
    rows = ["| case | goes to | remembered |", "|---|---|---|"]
    for name, situation, _ in CASES:
        got = route(situation)
        target = f"{got.to.value} {got.ticket_id}" if got.ticket_id else got.to.value
        rows.append(f"| {name} | {target} ({got.why}) | {'yes' if got.remember else ''} |")
    return "\n".join(rows)
