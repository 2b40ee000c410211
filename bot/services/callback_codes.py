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
    AGREE_NOTICE = "pa"  # the member agrees to the personal-data notice
    PROFILE_INDUSTRY = "pi"  # arg CODE (bot.services.attributes.INDUSTRIES)
    PROFILE_MARKET = "pm"  # arg CODE: tick or untick a market; arg "done": save the ticks
    PROFILE_CITY = "pcy"  # arg CODE (bot.services.attributes.CITIES)
    PROFILE_SKIP = "pk"  # skip this optional question; arg "all": skip the rest
    # /profile (handlers.my_profile): arg FIELD (contact phone company industry
    # export_markets city)
    PROFILE_EDIT = "pe"  # change this item (the profile dialogue's step for it)
    PROFILE_DELETE = "pd"  # delete this optional item
    PROFILE_SHOW = "pv"  # show /profile (the button under /help)
    # Personal data (handlers.privacy)
    FORGET_CONFIRM = "fgy"  # /forget: yes, erase my data
    FORGET_KEEP = "fgn"  # /forget: no, keep it
    # A member's tickets (handlers.my_tickets)
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
    RESOLVE_AS = "rsa"  # arg TICKET.N: resolve with usual conclusion N (USUAL_CONCLUSIONS)
    RESOLVE_CANCEL = "rsx"  # arg TICKET: drop the pending Resolve prompt
    TICKET_VIEW = "tv"  # arg TICKET: the ticket's history (also under reminders)
    # Follow-ups (handlers.followups)
    RATE = "rate"  # arg TICKET.N: solved, rating N (1-5)
    NOT_SOLVED = "unsolved"  # arg TICKET: not solved → reopen to the same expert
    REOPEN = "reopen"  # arg TICKET: the member reopens an auto-closed ticket
    # Outreach: subscriptions and composing (handlers.outreach, handlers.broadcast)
    SUBSCRIPTION = "osub"  # arg TOPIC INDEX: switch a topic on or off
    DRAFT_KIND = "oak"  # arg news|event|alert: start a draft
    DRAFT_SKIP = "oan"  # arg zh|en|media: skip that step
    DRAFT_TOPIC = "oat"  # arg TOPIC INDEX
    DRAFT_PRIORITY = "oap"  # arg normal|high
    DRAFT_AUDIENCE = "oau"  # arg all|zh|en|filter
    DRAFT_CONFIRM = "oac"  # arg now|later|cancel
    STOP_ANNOUNCEMENT = "oax"  # arg ANNOUNCEMENT
    PREVIEW = "oprev"  # the buttons of a preview: do nothing
    # Events and alerts (handlers.events)
    SIGN_UP = "evs"  # arg EVENT.ANNOUNCEMENT
    CANCEL_SIGNUP = "evx"  # arg EVENT
    EVENT_FEEDBACK = "evf"  # arg EVENT.N (1-5)
    CHECK_IN = "evc"  # arg REGISTRATION.EVENT (staff)
    CANCEL_EVENT = "evk"  # arg EVENT: staff confirm cancelling the whole event
    ALERT_EXPERT = "alx"  # arg ANNOUNCEMENT: talk to an expert about this alert
