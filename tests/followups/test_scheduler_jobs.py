"""The pump on a real PTB JobQueue: a repeating catch-all and one-off jobs named by key."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from telegram.ext import Application, JobQueue

from bot.scheduler import JOB_PREFIX, PUMP_JOB, ReminderJobs, ReminderPump, SendResult, install
from bot.services.reminders import ON_FAILURE, ReminderSpec, ReminderStore, failure_notice
from db.session import SessionFactory
from tests.followups import Clock, PassThrough, Recorder


@pytest.fixture
async def job_queue() -> AsyncIterator[JobQueue[Any]]:
    app = Application.builder().token("123:TEST").build()  # never touches the network
    jq = app.job_queue
    assert jq is not None
    yield jq
    if jq.scheduler.running:
        await jq.stop(wait=False)


async def test_start_sends_overdue_once_and_times_the_next_window(
    sessions: SessionFactory, job_queue: JobQueue[Any]
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)  # APScheduler's own clock is the wall
    store = ReminderStore(sessions)
    await store.schedule(ReminderSpec("overdue", "test", now - timedelta(hours=3)))
    await store.schedule(ReminderSpec("soon", "test", now + timedelta(minutes=3)))
    await store.schedule(ReminderSpec("later", "test", now + timedelta(days=3)))
    sender = Recorder()
    pump = ReminderPump(store, PassThrough(), sender, clock=Clock(now))
    jobs = install(job_queue, pump, interval=timedelta(seconds=30), horizon=timedelta(minutes=10))
    assert await jobs.start(now) == 1
    assert sender.keys == ["overdue"]
    names = {j.name for j in job_queue.jobs()}
    assert names == {PUMP_JOB, JOB_PREFIX + "soon"}
    (soon,) = job_queue.get_jobs_by_name(JOB_PREFIX + "soon")
    assert soon.job.trigger.run_date == now + timedelta(minutes=3)
    assert jobs.timed_keys == {"soon": now + timedelta(minutes=3)}
    # A reminder created at run time and due soon gets its own job at once …
    jobs.watch([("new", now + timedelta(minutes=1)), ("far", now + timedelta(days=1))])
    assert JOB_PREFIX + "new" in {j.name for j in job_queue.jobs()}
    assert JOB_PREFIX + "far" not in {j.name for j in job_queue.jobs()}
    # … re-timing replaces the job instead of adding a second one.
    jobs.watch([("new", now + timedelta(minutes=2))])
    assert len(job_queue.get_jobs_by_name(JOB_PREFIX + "new")) == 1
    jobs.cancel("new")
    assert "new" not in jobs.timed_keys


async def test_a_fired_job_runs_the_pump(
    sessions: SessionFactory, job_queue: JobQueue[Any]
) -> None:
    now = datetime.now(UTC)
    store = ReminderStore(sessions)
    await store.schedule(ReminderSpec("due", "test", now - timedelta(seconds=1)))
    sender = Recorder()
    pump = ReminderPump(store, PassThrough(), sender, clock=Clock(now))
    jobs = install(job_queue, pump)
    await jobs._fire(None)  # what the JobQueue calls at the due instant
    assert sender.keys == ["due"]
    await jobs._tick(None)
    assert sender.keys == ["due"]


class CommitsWhileRead(ReminderStore):
    """``next_due_at`` answers from before a row that another task commits meanwhile (a
    handler's outbox message) and wakes the worker for — the order a real race can take."""

    def __init__(self, sessions: SessionFactory, late: ReminderSpec) -> None:
        super().__init__(sessions)
        self.late: ReminderSpec | None = late
        self.jobs: ReminderJobs | None = None

    async def next_due_at(self) -> datetime | None:
        found = await super().next_due_at()
        if self.late is not None and self.jobs is not None:
            late, self.late = self.late, None
            await self.schedule(late)
            self.jobs.kick()  # what Outbox.send does after its commit
        return found


async def test_a_kick_while_the_worker_reads_the_next_due_row_is_not_lost(
    sessions: SessionFactory, job_queue: JobQueue[Any]
) -> None:
    """The e2e flake of test_a_message_that_cannot_be_passed_on_is_told_to_the_member: the
    member's message was committed and the worker kicked while it was reading the next due
    row; the worker then returned on that older answer and the message waited for the next
    tick (30 s), so the member was told too late."""
    now = datetime.now(UTC)
    store = CommitsWhileRead(sessions, ReminderSpec("late", "out.test", now))
    await store.schedule(ReminderSpec("first", "out.test", now))
    sender = Recorder()
    jobs = install(job_queue, ReminderPump(store, PassThrough(), sender, clock=Clock(now)))
    store.jobs = jobs
    jobs.kick()
    assert jobs._kick_task is not None
    await asyncio.wait_for(jobs._kick_task, 10)
    assert sender.keys == ["first", "late"]


async def test_a_tick_sends_what_became_due_while_it_ran(
    sessions: SessionFactory, job_queue: JobQueue[Any]
) -> None:
    """A relay refused for good schedules its failure notice, due at once: the tick that
    marked it failed sends the notice too, instead of leaving it for the next tick."""
    now = datetime.now(UTC)
    store = ReminderStore(sessions)
    notice = failure_notice("out.test_failed", 500, {})
    await store.schedule(ReminderSpec("relay", "out.test", now, payload={ON_FAILURE: notice}))
    sender = Recorder(outcomes={"relay": [SendResult.permanent("chat not found")]})
    jobs = install(job_queue, ReminderPump(store, PassThrough(), sender, clock=Clock(now)))
    await jobs._tick(None)
    assert sender.attempts == ["relay", "failed:relay"]
    assert sender.keys == ["failed:relay"]
