"""Every button's callback code, in one place.

A button carries ``code`` or ``code:arg`` (``handlers.callbacks.encode``: a code is 1-8
lowercase letters, the argument ids only, never text). Codes live in buttons already sent,
so a value must never change; add new ones instead.
"""

from __future__ import annotations

import enum


class Cb(enum.StrEnum):
    # Member menu and FAQ (handlers.member)
    MENU = "menu"  # back to the topic menu
    LANG = "lang"  # switch language
    TOPIC = "t"  # arg CATEGORY: the entries of a topic
    FAQ = "f"  # arg ENTRY: show an FAQ entry
    SOLVED = "ok"  # arg VIEW: "this solved it"
    EXPERT_FROM_VIEW = "x"  # arg VIEW: ask an expert after reading an entry
    EXPERT_FROM_QUESTION = "e"  # arg QUESTION: ask an expert about a typed question
    # Profile dialogue (handlers.profile)
    PICK_COMPANY = "pc"  # arg COMPANY (0: "not listed, use what I typed")
    SKIP_PHONE = "ps"
    CANCEL_PROFILE = "pq"
    # A member's tickets (handlers.relay)
    WRITE_TO = "tk"  # arg TICKET: messages go to this ticket
    CLOSE = "tc"  # arg TICKET
    REOPEN_TICKET = "tr"  # arg TICKET
    NEW_QUESTION = "nq"  # messages go to the FAQ assistant
    MY_TICKETS = "mt"
    # Staff-group cards (handlers.staff)
    CLAIM = "cl"  # arg TICKET
    REASSIGN_MENU = "ra"  # arg TICKET (also under reminders)
    REASSIGN_BACK = "rb"  # arg TICKET: back to the card
    REASSIGN_TO = "rx"  # arg TICKET.EXPERT
    RESOLVE = "rs"  # arg TICKET
    TICKET_VIEW = "tv"  # arg TICKET: the ticket's history (also under reminders)
    # Follow-ups (handlers.followups)
    RATE = "rate"  # arg TICKET.N: solved, rating N (1-5)
    NOT_SOLVED = "unsolved"  # arg TICKET: not solved → reopen to the same expert
    REOPEN = "reopen"  # arg TICKET: the member reopens an auto-closed ticket
