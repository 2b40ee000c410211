"""Where a private message goes: one decision, made by :func:`route` from plain facts.

The handler gathers the facts (:class:`Situation`: who writes, their dialogue state, what
the message replies to, their open tickets) and acts on the :class:`Route`; the rules live
here alone, and ``tests/services/test_routing.py`` holds them as a table. In order:

1. a dialogue waiting for an answer takes it: the profile dialogue, a team member's resolve
   summary, a member's comment after a rating;
2. a *reply* to a message about a ticket: a team member's reply about someone else's
   ticket goes to that member; a member's reply about their own open ticket goes to it;
3. a team member who is not acting as a member gets a hint (or "not a ticket" for a reply);
4. **the expert spoke last**: if the expert of an open ticket wrote after the member last
   chose where their messages go (/start, ❓ new question, ✍️ write to), the message goes
   to that ticket — an answer to the expert reaches the expert, whatever happened before;
5. "new question" mode → the FAQ assistant;
6. the ticket the member chose last, while it is open;
7. their open tickets: none → the FAQ assistant; one → it; several → they choose (the
   message is held until they do).

Every message that reaches a ticket is acknowledged with a receipt naming the ticket and its
expert, with a one-tap way back to the FAQ assistant.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from bot.services.dialog import DialogState, is_profile_step


class Destination(enum.StrEnum):
    PROFILE = "profile"  # the answer to a profile-dialogue question
    RESOLVE_SUMMARY = "resolve_summary"  # the summary a Resolve prompt asked for
    CHECKIN_COMMENT = "checkin_comment"  # the comment after a rating
    TEAM_REPLY = "team_reply"  # a team member's reply → the ticket's member
    TICKET = "ticket"  # → the expert of ``ticket_id``
    CHOOSE = "choose"  # held; the member picks one of their open tickets
    FAQ = "faq"  # the FAQ assistant
    TEAM_HINT = "team_hint"  # a team member told how to answer members
    NOT_A_TICKET = "not_a_ticket"  # a team member's reply to something that is no ticket's


@dataclass(frozen=True, slots=True)
class OpenTicket:
    id: int
    last_expert_message_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class RepliedTicket:
    """The ticket the replied-to message is about."""

    id: int
    member_id: int
    is_open: bool


@dataclass(frozen=True, slots=True)
class Situation:
    sender_id: int
    team: bool = False
    state: DialogState | None = None
    state_ticket: int | None = None  # the ticket of a TICKET state
    state_since: datetime | None = None  # when the member last chose where messages go
    is_reply: bool = False
    replied: RepliedTicket | None = None
    open_tickets: tuple[OpenTicket, ...] = ()
    resolve_summary: bool = False  # the message answers this user's pending Resolve prompt
    has_text: bool = True


@dataclass(frozen=True, slots=True)
class Route:
    to: Destination
    ticket_id: int | None = None
    remember: bool = False  # set the member's state to this ticket
    forget: bool = False  # clear a TICKET/CHOOSE state that points nowhere any more
    why: str = ""


MEMBER_MODES = frozenset({DialogState.FAQ, DialogState.TICKET, DialogState.CHOOSE})
"""States in which a team member is acting as a member (they asked an expert themselves)."""


def route(s: Situation) -> Route:
    """The one decision on where a private message goes (see the module docstring)."""
    if is_profile_step(s.state):
        return Route(Destination.PROFILE, why="profile dialogue")
    if s.state is DialogState.RESOLVE and s.resolve_summary:
        return Route(Destination.RESOLVE_SUMMARY, why="resolve prompt")
    if s.state is DialogState.CHECKIN_COMMENT and s.has_text:
        return Route(Destination.CHECKIN_COMMENT, why="comment after rating")
    replied = s.replied
    if replied is not None and s.team and replied.member_id != s.sender_id:
        return Route(Destination.TEAM_REPLY, replied.id, why="team reply")
    own_reply = replied is not None and replied.member_id == s.sender_id and replied.is_open
    if s.team and not own_reply and s.state not in MEMBER_MODES:
        if s.is_reply:
            return Route(Destination.NOT_A_TICKET, why="team reply to no ticket")
        return Route(Destination.TEAM_HINT, why="team member")
    if own_reply:
        assert replied is not None
        return Route(Destination.TICKET, replied.id, remember=True, why="reply to own ticket")
    spoke = _expert_spoke_last(s)
    if spoke is not None:
        return Route(Destination.TICKET, spoke, remember=True, why="expert wrote last")
    if s.state is DialogState.FAQ:
        return Route(Destination.FAQ, why="new question mode")
    open_ids = [t.id for t in s.open_tickets]
    if s.state is DialogState.TICKET and s.state_ticket in open_ids:
        return Route(Destination.TICKET, s.state_ticket, why="chosen ticket")
    if not open_ids:
        stale = s.state in (DialogState.TICKET, DialogState.CHOOSE)
        return Route(Destination.FAQ, forget=stale, why="no open ticket")
    if len(open_ids) == 1:
        return Route(Destination.TICKET, open_ids[0], remember=True, why="only open ticket")
    return Route(Destination.CHOOSE, why="several open tickets")


def _expert_spoke_last(s: Situation) -> int | None:
    """The open ticket whose expert wrote most recently, if that was after the member last
    chose where their messages go; None otherwise. A chooser on screen waits for its answer;
    a member who never chose (no time known) follows the expert too."""
    if s.state is DialogState.CHOOSE:
        return None
    spoken = [t for t in s.open_tickets if t.last_expert_message_at is not None]
    if not spoken:
        return None
    latest = max(spoken, key=lambda t: (t.last_expert_message_at, t.id))
    assert latest.last_expert_message_at is not None
    if s.state_since is not None and latest.last_expert_message_at <= s.state_since:
        return None
    if s.state is DialogState.TICKET and s.state_ticket == latest.id:
        return None  # already there: rule 6 says the same, without a new "since"
    return latest.id
