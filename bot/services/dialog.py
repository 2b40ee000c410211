"""Where a user is in a conversation with the bot: one named state per user, kept in the
database (``users.dialog_state``, its details in ``users.dialog_data``) so a restarted bot
continues where it was. The values are what the database holds; never rename one.
"""

from __future__ import annotations

import enum


class DialogState(enum.StrEnum):
    # A member with an open ticket chose the FAQ assistant ("new question", /start).
    FAQ = "faq"
    # A member's messages go to ticket ``data["ticket"]``.
    TICKET = "tk"
    # A member with several open tickets has not said which one their messages
    # (``data["pending"]``) belong to.
    CHOOSE = "choose"
    # The profile dialogue after "ask an expert" (handlers.profile): the personal-data notice
    # to agree to (once per notice version), company, a pick among similar member
    # companies, contact person, phone.
    CONSENT = "p_consent"
    COMPANY = "p_company"
    PICK = "p_pick"
    CONTACT = "p_contact"
    PHONE = "p_phone"
    # Then, only for what the member list does not already say about the company, the
    # optional audience attributes (each may be skipped): industry, export markets (the
    # markets ticked so far in ``data["markets"]``), city.
    INDUSTRY = "p_industry"
    MARKETS = "p_markets"
    CITY = "p_city"
    # A team member was asked for a resolution summary of ``data["ticket"]``.
    RESOLVE = "resolve"
    # A member who rated a ticket may add a comment (``data["ticket_id"]``).
    CHECKIN_COMMENT = "checkin_comment"


PROFILE_STEPS = frozenset(
    {
        DialogState.CONSENT,
        DialogState.COMPANY,
        DialogState.PICK,
        DialogState.CONTACT,
        DialogState.PHONE,
        DialogState.INDUSTRY,
        DialogState.MARKETS,
        DialogState.CITY,
    }
)
"""The states of the profile dialogue."""

ATTRIBUTE_STEPS = (DialogState.INDUSTRY, DialogState.MARKETS, DialogState.CITY)
"""The optional steps at the end of the profile dialogue, in order: everything the ticket
needs is known by then, so leaving them (Skip, /cancel) assigns the ticket."""


def parse_state(value: str | None) -> DialogState | None:
    """The state stored in the database; None for none or one this version does not know."""
    try:
        return DialogState(value) if value else None
    except ValueError:
        return None


def is_profile_step(state: DialogState | None) -> bool:
    return state in PROFILE_STEPS
