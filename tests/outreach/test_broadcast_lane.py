"""Sending announcements through the outbox lane: exactly once, decided at send time."""

from __future__ import annotations

import asyncio
import itertools
from collections import Counter
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.i18n import load_catalog
from bot.scheduler import ReminderPump, Sender, SendResult
from bot.services.broadcast import (
    BroadcastDelivery,
    BroadcastPreparer,
    BroadcastWorker,
    LaneStore,
    SharedPacer,
    lane_pacer,
)
from bot.services.followups import Delivery
from bot.services.outreach import IN_DOUBT, OUTBOX_KIND, OutreachService
from bot.services.reminders import ReminderStore
from db.models import Reminder, Role, User
from db.session import SessionFactory, make_engine, make_session_factory
from tests.followups import Clock, PassThrough, Recorder
from tests.outreach.conftest import ADMIN, NOW, populate

ZONE = ZoneInfo("Asia/Shanghai")
CATALOG = load_catalog()


def lane(sessions: SessionFactory, sender: Recorder, worker: str, clock: Clock) -> ReminderPump:
    preparer = BroadcastPreparer(sessions, CATALOG, ZONE, cache_seconds=0)
    return ReminderPump(
        LaneStore(sessions, preparer, None),
        preparer,
        sender,
        worker_id=worker,
        batch_size=7,
        clock=clock,
        flush_interval=0,
    )


async def _announce(service: OutreachService, **values: object) -> int:
    await service.start(ADMIN, "alert")
    await service.update_draft(ADMIN, step="review", **values)
    return (await service.confirm(ADMIN, NOW, None, None, None)).id


def texts(sender: Recorder) -> dict[int, str]:
    out = {}
    for d in sender.sent:
        assert isinstance(d, BroadcastDelivery)
        assert d.rendered is not None
        out[d.chat_id] = d.rendered.text
    return out


async def test_each_member_gets_their_language_once(sessions: SessionFactory) -> None:
    await populate(sessions)
    service = OutreachService(sessions)
    aid = await _announce(service, text_zh="中文<b>正文</b>", text_en="English <i>body</i>")
    sender = Recorder()
    pump = lane(sessions, sender, "w1", Clock(NOW))
    assert await pump.drain() == 4
    sent = texts(sender)
    assert set(sent) == {101, 102, 103, 104}
    assert "中文<b>正文</b>" in sent[101]
    assert "English <i>body</i>" in sent[102]
    assert "⚠️" in sent[103]
    assert await pump.drain() == 0  # nothing twice
    progress = await service.finish_if_done(aid, NOW)
    assert (progress.status, progress.sent, progress.waiting) == ("sent", 4, 0)


async def test_missing_language_falls_back_with_a_note(sessions: SessionFactory) -> None:
    await populate(sessions)
    service = OutreachService(sessions)
    await _announce(service, text_zh="只有中文", priority="high")
    sender = Recorder()
    await lane(sessions, sender, "w1", Clock(NOW)).drain()
    sent = texts(sender)
    assert "只有中文" in sent[102]
    assert CATALOG.t("en", "ann_other_language_note") in sent[102]
    assert CATALOG.t("en", "ann_priority_high") in sent[102]
    assert CATALOG.t("zh", "ann_other_language_note") not in sent[101]


async def test_opt_out_block_and_cancel_are_checked_at_send_time(
    sessions: SessionFactory,
) -> None:
    await populate(sessions)
    service = OutreachService(sessions)
    aid = await _announce(service, text_zh="预警")
    await service.toggle(102, "alerts")  # opted out after planning
    async with sessions() as s, s.begin():
        await s.execute(update(User).where(User.id == 103).values(blocked_bot_at=NOW))
    sender = Recorder(outcomes={f"ann:{aid}:104": [SendResult.permanent("blocked: x", 104)]})
    await lane(sessions, sender, "w1", Clock(NOW)).drain()
    assert set(texts(sender)) == {101}
    progress = await service.progress(aid)
    assert (progress.sent, progress.opted_out, progress.blocked) == (1, 1, 2)
    async with sessions() as s:
        user = await s.get(User, 104)
    assert user is not None
    assert user.blocked_bot_at is not None

    second = await _announce(service, text_zh="再次")
    await service.cancel(ADMIN, second)
    sender = Recorder()
    assert await lane(sessions, sender, "w1", Clock(NOW)).drain() == 0
    assert sender.sent == []


async def test_follow_up_lane_never_claims_announcements(sessions: SessionFactory) -> None:
    await populate(sessions)
    service = OutreachService(sessions)
    await _announce(service, text_zh="预警")
    followups = ReminderPump(
        ReminderStore(sessions, exclude_kinds=(OUTBOX_KIND,)),
        PassThrough(),
        Recorder(),
        worker_id="f",
        clock=Clock(NOW),
    )
    assert await followups.drain() == 0
    assert await followups.store.next_due_at() is None


async def test_two_processes_send_each_of_300_exactly_once(
    sessions: SessionFactory, engine: AsyncEngine, database_url: str
) -> None:
    await populate(sessions)
    async with sessions() as s, s.begin():
        s.add_all(
            User(id=5000 + i, first_name="", role=Role.MEMBER, lang="zh") for i in range(296)
        )
    service = OutreachService(sessions)
    aid = await _announce(service, text_zh="大规模")
    other = make_engine(database_url)
    try:
        sender = Recorder()
        clock = Clock(NOW)
        pumps = [
            lane(sessions, sender, "p1", clock),
            lane(make_session_factory(other), sender, "p2", clock),
        ]
        await asyncio.gather(*(p.drain() for p in pumps))
    finally:
        await other.dispose()
    counts = Counter(d.reminder.key for d in sender.sent)
    assert len(counts) == 300
    assert set(counts.values()) == {1}
    assert all(p.counters.sent > 0 for p in pumps) or database_url.startswith("sqlite")
    assert (await service.progress(aid)).sent == 300


async def test_worker_reports_moved_announcements(sessions: SessionFactory) -> None:
    await populate(sessions)
    service = OutreachService(sessions)
    aid = await _announce(service, text_zh="预警")
    preparer = BroadcastPreparer(sessions, CATALOG, ZONE)
    pump = ReminderPump(
        ReminderStore(sessions, only_kinds=(OUTBOX_KIND,)), preparer, Recorder(), clock=Clock(NOW)
    )
    moved: list[set[int]] = []

    async def on_moved(ids: set[int]) -> set[int]:
        moved.append(ids)
        return ids  # finished at once

    worker = BroadcastWorker([pump.run_once], preparer, on_moved)
    assert await worker.step() == 4
    assert moved == [{aid}]
    assert await worker.step() == 0
    assert moved == [{aid}]


async def test_an_announcement_stays_open_until_reported_finished(
    sessions: SessionFactory,
) -> None:
    """Pump A prepared the last rows' announcement while pump B was still sending its row:
    B's step, which prepared nothing new, must still report it (the final progress edit)."""
    preparer = BroadcastPreparer(sessions, CATALOG, ZONE)
    calls: list[set[int]] = []
    finished_after = 2

    async def pump_a() -> int:
        preparer.touched.add(7)
        return 1

    async def pump_b() -> int:
        return 1

    async def on_moved(ids: set[int]) -> set[int]:
        calls.append(ids)
        return ids if len(calls) >= finished_after else set()

    worker = BroadcastWorker([pump_a, pump_b], preparer, on_moved)
    await worker.step(0)
    await worker.step(1)
    assert calls == [{7}, {7}]
    await worker.step(1)
    assert calls == [{7}, {7}]  # finished: not reported again


async def test_a_wake_during_an_empty_batch_is_not_lost(sessions: SessionFactory) -> None:
    """An announcement confirmed (and the lane woken) while a batch was finding nothing to
    claim: the loop goes round at once, not after idle_seconds (it used to clear the wake
    only after the batch, dropping it)."""
    preparer = BroadcastPreparer(sessions, CATALOG, ZONE)
    runs: list[int] = []
    second = asyncio.Event()
    worker: BroadcastWorker

    async def pump() -> int:
        runs.append(len(runs))
        if len(runs) == 1:
            worker.wake()  # committed meanwhile; this batch's claim had found nothing
        else:
            second.set()
        return 0

    async def on_moved(ids: set[int]) -> set[int]:
        return ids

    worker = BroadcastWorker([pump], preparer, on_moved, idle_seconds=3600)
    worker.start()
    try:
        await asyncio.wait_for(second.wait(), 30)  # not an hour
    finally:
        await worker.stop()
    assert runs[:2] == [0, 1]


async def _bulk(sessions: SessionFactory, count: int) -> None:
    await populate(sessions)
    async with sessions() as s, s.begin():
        s.add_all(
            User(id=5000 + i, first_name="", role=Role.MEMBER, lang="zh") for i in range(count)
        )


async def test_a_row_whose_send_began_is_never_sent_again_after_its_worker_died(
    sessions: SessionFactory,
) -> None:
    """kill -9 in the middle of a batch: the row whose request may have left is failed
    "in doubt"; the rest of the dead worker's batch is sent by the next worker, once."""
    await _bulk(sessions, 20)
    service = OutreachService(sessions)
    aid = await _announce(service, text_zh="至多一次")
    clock = Clock(NOW)
    preparer = BroadcastPreparer(sessions, CATALOG, ZONE, cache_seconds=0)
    dead = LaneStore(sessions, preparer, None)
    batch = await dead.claim_due(NOW, "dead-worker", 7)
    assert len(batch) == 7
    assert await dead.mark_attempt(batch[0], NOW)  # its request was in flight at the kill
    sender = Recorder()
    pump = lane(sessions, sender, "next", clock)
    await pump.drain()  # the lease has not run out: the dead worker's rows wait
    assert batch[0].key not in sender.keys
    assert not (set(sender.keys) & {r.key for r in batch})
    clock.advance(minutes=6)  # past the lease
    await pump.drain()
    counts = Counter(sender.keys)
    assert set(counts.values()) == {1}
    assert batch[0].key not in counts  # in doubt: never sent again
    assert {r.key for r in batch[1:]} <= set(counts)  # claimed, never attempted: sent
    progress = await service.finish_if_done(aid, clock.now)
    assert (progress.sent, progress.failed, progress.in_doubt, progress.waiting) == (23, 1, 1, 0)
    async with sessions() as s:
        row = await s.get(Reminder, batch[0].id)
        assert row is not None
        assert (row.last_error or "").startswith(IN_DOUBT)
    # A worker whose lease ran out and whose row was taken over may not send it.
    assert not await dead.mark_attempt(batch[1], clock.now)


class RecordingPacer(SharedPacer):
    def __init__(self, sessions: SessionFactory, rate: float) -> None:
        super().__init__(sessions, rate)
        self.slots: list[float] = []

    async def reserve(self) -> tuple[float, float]:
        slot, now = await super().reserve()
        self.slots.append(slot)
        return slot, now


# PostgreSQL only: SQLite serves one process, whose pace is kept in memory.
@pytest.mark.parametrize(
    "database_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)
async def test_two_processes_on_postgresql_share_one_pace_and_send_each_once(
    sessions: SessionFactory, database_url: str
) -> None:
    assert isinstance(lane_pacer(sessions, database_url, 20), SharedPacer)
    await _bulk(sessions, 116)
    service = OutreachService(sessions)
    aid = await _announce(service, text_zh="两个进程")
    rate = 100.0
    other = make_engine(database_url)
    try:
        factories = [sessions, make_session_factory(other)]
        pacers = [RecordingPacer(f, rate) for f in factories]
        sender = Recorder()

        def paced(pacer: RecordingPacer) -> Sender:
            async def send(delivery: Delivery) -> SendResult:
                await pacer.acquire()
                return await sender(delivery)

            return send

        clock = Clock(NOW)
        pumps = []
        for index, (factory, pacer) in enumerate(zip(factories, pacers, strict=True)):
            preparer = BroadcastPreparer(factory, CATALOG, ZONE, cache_seconds=0)
            for n in range(3):  # three sending pumps per process, as in the bot
                pumps.append(
                    ReminderPump(
                        LaneStore(factory, preparer, None),
                        preparer,
                        paced(pacer),
                        worker_id=f"p{index}.{n}",
                        batch_size=10,
                        clock=clock,
                        flush_interval=0,
                    )
                )
        await asyncio.gather(*(p.drain_all() for p in pumps))
    finally:
        await other.dispose()
    counts = Counter(sender.keys)
    assert len(counts) == 120
    assert set(counts.values()) == {1}
    assert all(p.slots for p in pacers)  # both processes sent
    slots = sorted(s for p in pacers for s in p.slots)
    assert len(slots) == 120  # one slot per message
    gaps = [b - a for a, b in itertools.pairwise(slots)]
    assert min(gaps) >= (1 / rate) * (1 - 1e-6)  # one sequence of slots for both
    assert (await service.progress(aid)).sent == 120
