"""The pump on a real PTB JobQueue: a repeating catch-all and one-off jobs named by key."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from telegram.ext import Application, JobQueue

from bot.scheduler import JOB_PREFIX, PUMP_JOB, ReminderPump, install
from bot.services.reminders import ReminderSpec, ReminderStore
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
