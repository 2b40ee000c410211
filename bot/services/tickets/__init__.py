"""Tickets: a member's request for an expert, numbered IP-YYYY-NNNN.

Lifecycle (every change writes a ``TicketEvent``: actor, from → to, detail)::

    new ──assign──▶ assigned ──claim / first reply──▶ in_progress ◀──▶ waiting_member
     │                 │                                   │                │
     └──claim──────────┴────────────▶ resolved ◀───────────┴────────────────┘
                                         │  ▲
    any open or resolved ──close──▶ closed │  └─ reopen (resolved/closed → in_progress)
                                           └──────────────────────────────────────────
    reassign: any open status → assigned (claim cleared)

Who may do what (checked here from the database, whatever a button or command claims):

* **staff / admin** see every ticket and act on any;
* an **expert** sees the tickets assigned to them or claimed by them, and the unassigned,
  unclaimed open ones (the queue); they act on the ones assigned to or claimed by them;
* a **member** sees only their own tickets (anything else is NotFound, so existence is not
  revealed), in a redacted view, and may close or reopen them;
* anyone else gets NotFound / NotAllowed.

Assignment is a separate step, :meth:`TicketService.assign_initial`, which the member
handler calls once the member's profile is complete (right after ``open`` when it already
is): the expert is then told about a ticket that carries the company, and the member is
told the expert's name straight away.

Claiming is atomic: a conditional ``UPDATE … WHERE claimed_by IS NULL AND status = :seen``
whose rowcount says who won, on SQLite and PostgreSQL alike.

The package is split by what it holds: :mod:`.rules` (statuses, moves, who may act),
:mod:`.numbers`, :mod:`.priority`, :mod:`.assignment`, :mod:`.views` (results), :mod:`.repo`
(repository helpers that never commit) and :mod:`.service` (:class:`TicketService`).
Everything is re-exported here, so callers import from ``bot.services.tickets``.
"""

from bot.services.tickets.assignment import (
    AssignOutcome,
    Candidate,
    choose_expert,
)
from bot.services.tickets.numbers import (
    format_number,
    lock_expert,
    next_seq,
    parse_number,
    sqlite_write_lock,
)
from bot.services.tickets.priority import (
    URGENT_WITHIN,
    PriorityAssessment,
    UrgentReason,
    apply_member_text,
    assess_priority,
    urgent_signals,
)
from bot.services.tickets.repo import (
    add_event,
    load_ticket,
    run_update,
    transition,
)
from bot.services.tickets.rules import (
    CLAIMABLE,
    OPEN,
    SUMMARY_MAX,
    TRANSITIONS,
    USUAL_CONCLUSIONS,
    TicketKey,
    can_transition,
    is_owner,
    team_can_act,
    team_can_view,
)
from bot.services.tickets.service import (
    TicketService,
    claim_in,
)
from bot.services.tickets.views import (
    Assignment,
    Change,
    ClaimOutcome,
    ClaimResult,
    EventView,
    Holder,
    MemberBrief,
    MessageView,
    TicketHistory,
    TicketRef,
    TicketRefused,
    TicketView,
    message_view,
    ticket_view,
    ticket_views,
    visible_view,
)

__all__ = [
    "CLAIMABLE",
    "OPEN",
    "SUMMARY_MAX",
    "TRANSITIONS",
    "URGENT_WITHIN",
    "USUAL_CONCLUSIONS",
    "AssignOutcome",
    "Assignment",
    "Candidate",
    "Change",
    "ClaimOutcome",
    "ClaimResult",
    "EventView",
    "Holder",
    "MemberBrief",
    "MessageView",
    "PriorityAssessment",
    "TicketHistory",
    "TicketKey",
    "TicketRef",
    "TicketRefused",
    "TicketService",
    "TicketView",
    "UrgentReason",
    "add_event",
    "apply_member_text",
    "assess_priority",
    "can_transition",
    "choose_expert",
    "claim_in",
    "format_number",
    "is_owner",
    "load_ticket",
    "lock_expert",
    "message_view",
    "next_seq",
    "parse_number",
    "run_update",
    "sqlite_write_lock",
    "team_can_act",
    "team_can_view",
    "ticket_view",
    "ticket_views",
    "transition",
    "urgent_signals",
    "visible_view",
]
