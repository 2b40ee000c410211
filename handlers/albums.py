"""Album buffering: Telegram sends each part of an album as its own update.

Each part is stored on its ticket as it arrives (same ``media_group_id``); a short job waits
for the rest (every new part restarts it, the last one wins) and then hands all the stored,
undelivered parts to the outbox as one relay row, sent as one album.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.context import Context
from faq.models import Lang
from handlers import board

ALBUM_DELAY = 1.0
"""Seconds to wait for the rest of an album."""


@dataclass(frozen=True, slots=True)
class AlbumJob:
    ticket_id: int
    media_group_id: str
    sender_chat: int
    sender_lang: Lang
    several_open: bool
    to_member: bool  # a team reply (ack the team member) rather than a member message


def schedule(context: Context, job: AlbumJob) -> None:
    """(Re)start the short wait for the rest of an album; the last part to arrive wins."""
    queue = context.job_queue
    assert queue is not None
    name = f"album:{job.ticket_id}:{job.media_group_id}"
    for old in queue.get_jobs_by_name(name):
        old.schedule_removal()
    # PTB types CallbackContext.job_queue with its own type variable, not our Context.
    queue.run_once(_flush, ALBUM_DELAY, data=job, name=name)  # type: ignore[arg-type]


async def _flush(context: Context) -> None:
    assert context.job is not None
    job = context.job.data
    assert isinstance(job, AlbumJob)
    services = context.services
    stored = await services.relay.album(job.ticket_id, job.media_group_id)
    parts = [p for p in stored if not p.delivered]
    if not parts:
        return
    await services.conversation.pass_on(
        parts, ack_chat=job.sender_chat, ack_lang=job.sender_lang,
        several_open=job.several_open, to_member=job.to_member,
    )  # fmt: skip
    if any(p.status_change or p.priority_raised or p.first_response for p in parts):
        await board.ticket_changed(context, job.ticket_id)
    else:
        await board.ticket_event(context, job.ticket_id)
