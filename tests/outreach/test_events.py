"""Events: sign-up, capacity and waiting list, reminders at civil hours, CSV, check-in,
feedback; on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.services.calendar import WorkCalendar
from bot.services.errors import NotAllowed
from bot.services.events import (
    K_CANCELLED,
    K_CHANGED,
    K_DAY,
    K_FEEDBACK,
    K_HOUR,
    K_SEAT,
    EventError,
    EventService,
    parse_change,
    parse_event,
    reminder_times,
)
from bot.services.followups import Delivery, Skip
from bot.services.reminders import ReminderStore
from db.models import Event, Reminder, ReminderStatus
from db.session import SessionFactory
from tests.outreach.conftest import EDITOR, NOW, STAFF, populate

ZONE = ZoneInfo("Asia/Shanghai")
CAL = WorkCalendar(ZONE)


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=ZONE).astimezone(UTC)


async def _event(sessions: SessionFactory, capacity: int | None, starts: str) -> int:
    async with sessions() as s, s.begin():
        event = Event(
            title="百家堂 <第12期>", starts_at=local(starts), place="宁波", capacity=capacity
        )
        s.add(event)
        await s.flush()
        return event.id


async def _reminders(sessions: SessionFactory, user_id: int) -> dict[str, tuple[str, datetime]]:
    async with sessions() as s:
        rows = await s.execute(
            select(Reminder.kind, Reminder.status, Reminder.due_at).where(
                Reminder.recipient_id == user_id
            )
        )
        return {str(k): (str(st), due) for k, st, due in rows.all()}


async def test_capacity_waiting_list_and_promotion(sessions: SessionFactory) -> None:
    await populate(sessions)
    events = EventService(sessions, CAL)
    told: list[str] = []
    events.set_schedule_hook(lambda items: told.extend(key for key, _ in items))
    eid = await _event(sessions, 2, "2026-12-10 14:00")
    first = await events.signup(eid, 101, None, NOW)
    assert sorted(told) == sorted(f"{k}:{eid}:101" for k in (K_DAY, K_HOUR, K_FEEDBACK))
    second = await events.signup(eid, 102, None, NOW)
    third = await events.signup(eid, 103, None, NOW)
    fourth = await events.signup(eid, 104, None, NOW)
    assert [r.status for r in (first, second, third, fourth)] == [
        "registered",
        "registered",
        "waiting",
        "waiting",
    ]
    assert (third.position, fourth.position) == (1, 2)
    again = await events.signup(eid, 103, None, NOW)
    assert again.already
    assert again.position == 1
    assert set(await _reminders(sessions, 101)) == {K_DAY, K_HOUR, K_FEEDBACK}
    assert await _reminders(sessions, 103) == {}

    told.clear()
    cancelled = await events.cancel(eid, 101, NOW)
    assert cancelled.promoted_user_id == 103
    assert any(key.startswith(f"{K_SEAT}:{eid}:103:") for key in told)  # sent at once
    assert {k for k, (st, _) in (await _reminders(sessions, 101)).items()} == {
        K_DAY,
        K_HOUR,
        K_FEEDBACK,
    }
    assert all(
        st == ReminderStatus.CANCELLED for st, _ in (await _reminders(sessions, 101)).values()
    )
    promoted = await _reminders(sessions, 103)
    assert set(promoted) == {K_DAY, K_HOUR, K_FEEDBACK, K_SEAT}
    assert (await events.signup(eid, 104, None, NOW)).position == 1
    summary = await events.summary(STAFF, eid)
    assert (summary.registered, summary.waiting) == (2, 1)
    mine = await events.mine(103, NOW)
    assert [(m.event_id, m.status) for m in mine] == [(eid, "registered")]
    with pytest.raises(EventError):
        await events.cancel(eid, 101, NOW)
    # signing up again after cancelling joins the end of the queue
    assert (await events.signup(eid, 101, None, NOW)).status == "waiting"


async def test_reminders_are_sent_in_the_members_language_and_checked_when_due(
    sessions: SessionFactory,
) -> None:
    await populate(sessions)
    events = EventService(sessions, CAL)
    eid = await _event(sessions, None, "2026-12-10 14:00")
    await events.signup(eid, 102, None, NOW)
    store = ReminderStore(sessions)
    due = local("2026-12-09 10:00")
    claimed = await store.claim_due(due, "w")
    assert [c.kind for c in claimed] == [K_DAY]
    decision = await events.prepare(claimed[0], due)
    assert isinstance(decision, Delivery)
    out = decision.messages[0]
    assert (out.chat_id, out.lang, out.text_key) == (102, "en", "ev_reminder_day")
    await events.cancel(eid, 102, due)
    claimed = await store.claim_due(local("2026-12-10 13:00"), "w")
    assert claimed == []  # cancelled with the registration
    await events.signup(eid, 102, None, due)
    claimed = await store.claim_due(local("2026-12-10 13:00"), "w")
    # Signed up again: the hour-before reminder anew; the day-before one went out already.
    assert [c.kind for c in claimed] == [K_HOUR]


async def test_feedback_goes_to_attendees_once_anyone_checked_in(sessions: SessionFactory) -> None:
    await populate(sessions)
    events = EventService(sessions, CAL)
    eid = await _event(sessions, None, "2026-12-10 14:00")
    await events.signup(eid, 101, 9, NOW)
    await events.signup(eid, 102, 9, NOW)
    rows = await events.registrations(EDITOR, eid)
    await events.check_in(STAFF, eid, rows[0].id, NOW)
    with pytest.raises(NotAllowed):
        await events.check_in(101, eid, rows[0].id, NOW)
    with pytest.raises(EventError):
        await events.check_in(STAFF, eid, 99999, NOW)
    after = local("2026-12-10 17:00")
    claimed = await ReminderStore(sessions).claim_due(after, "w")
    feedback = {c.recipient_id: c for c in claimed if c.kind == K_FEEDBACK}
    assert isinstance(await events.prepare(feedback[101], after), Delivery)
    assert isinstance(await events.prepare(feedback[102], after), Skip)
    assert await events.feedback(eid, 101, 4, after) == 4
    with pytest.raises(EventError):
        await events.feedback(eid, 101, 9, after)
    summary = await events.summary(None, eid)
    assert (summary.checked_in, summary.feedback_count, summary.feedback_avg) == (1, 1, 4.0)


async def test_csv_export_lists_everyone_and_defuses_formulas(sessions: SessionFactory) -> None:
    await populate(sessions)
    events = EventService(sessions, CAL)
    eid = await _event(sessions, 1, "2026-12-10 14:00")
    await events.signup(eid, 101, None, NOW)
    await events.signup(eid, 102, None, NOW)
    from db.models import Registration

    async with sessions() as s, s.begin():
        reg = await s.scalar(select(Registration).where(Registration.user_id == 102))
        assert reg is not None
        reg.contact_name = "=HYPERLINK(1)"
    rows = list(csv.reader(io.StringIO(await events.export_csv(None, eid))))
    assert rows[0][:3] == ["registration", "status", "company"]
    assert [r[1] for r in rows[1:]] == ["registered", "waiting"]
    assert rows[1][2] == "机械A"
    assert rows[2][3] == "'=HYPERLINK(1)"
    with pytest.raises(NotAllowed):
        await events.export_csv(101, eid)


def test_reminder_times_respect_civil_hours() -> None:
    times = reminder_times(CAL, local("2026-12-10 14:00"))
    assert times[K_DAY] == local("2026-12-09 10:00")
    assert times[K_HOUR] == local("2026-12-10 13:00")
    assert times[K_FEEDBACK] == local("2026-12-10 17:00")
    early = reminder_times(CAL, local("2026-12-10 09:30"))
    assert early[K_HOUR] is None  # 08:30 is before civil hours: the day-before one suffices
    late = reminder_times(CAL, local("2026-12-10 21:00"))
    assert late[K_HOUR] == local("2026-12-10 19:30")
    assert late[K_FEEDBACK] == local("2026-12-11 09:00")


def test_event_text_parsing() -> None:
    spec = parse_event("百家堂\n2026-12-20 14:00\nhttps://meet.example/1\n80", ZONE, NOW)
    assert spec.link == "https://meet.example/1"
    assert spec.place is None
    assert spec.capacity == 80
    assert spec.starts_at == local("2026-12-20 14:00")
    plain = parse_event("培训\n2026年12月21日 9:30\n协会三楼", ZONE, NOW)
    assert (plain.place, plain.capacity) == ("协会三楼", None)
    for bad in (
        "only\ntwo",
        "t\n2026-13-01 10:00\nx",
        "t\n2020-01-01 10:00\nx",
        "t\n2026-12-20 10:00\nx\nmany",
    ):
        with pytest.raises(EventError):
            parse_event(bad, ZONE, NOW)


async def test_signup_refused_for_past_or_missing_events(sessions: SessionFactory) -> None:
    await populate(sessions)
    events = EventService(sessions, CAL)
    eid = await _event(sessions, None, "2026-12-01 14:00")
    with pytest.raises(EventError):
        await events.signup(eid, 101, None, NOW)
    with pytest.raises(EventError):
        await events.signup(9999, 101, None, NOW)
    _ = timedelta


async def _rows(sessions: SessionFactory, kind: str) -> list[tuple[int, str, datetime]]:
    async with sessions() as s:
        rows = await s.execute(
            select(Reminder.recipient_id, Reminder.status, Reminder.due_at)
            .where(Reminder.kind == kind)
            .order_by(Reminder.id)
        )
        return [(int(u or 0), str(st), due) for u, st, due in rows.all()]


async def test_staff_move_the_date_reminders_follow_and_people_are_told(
    sessions: SessionFactory,
) -> None:
    await populate(sessions)
    events = EventService(sessions, CAL)
    eid = await _event(sessions, 1, "2026-12-10 14:00")
    await events.signup(eid, 101, None, NOW)  # the seat
    await events.signup(eid, 102, None, NOW)  # waiting
    later = NOW + timedelta(hours=1)
    change = parse_change("date", "2026-12-17 09:30", ZONE, later)
    result = await events.change(STAFF, eid, change, later)
    assert result.summary.starts_at == local("2026-12-17 09:30")
    assert result.told == 2
    day = await _rows(sessions, K_DAY)
    assert [(u, st) for u, st, _ in day] == [(101, "cancelled"), (101, "pending")]
    assert day[1][2] == local("2026-12-16 10:00")
    # 08:30 is before civil hours: no hour-before reminder for a 09:30 start.
    assert [st for _, st, _ in await _rows(sessions, K_HOUR)] == ["cancelled"]
    told = await _rows(sessions, K_CHANGED)
    assert sorted(u for u, _, _ in told) == [101, 102]
    store = ReminderStore(sessions)
    claimed = {c.recipient_id: c for c in await store.claim_due(later, "w") if c.kind == K_CHANGED}
    seat = await events.prepare(claimed[101], later)
    waiting = await events.prepare(claimed[102], later)
    assert isinstance(seat, Delivery)
    assert isinstance(waiting, Delivery)
    assert seat.messages[0].text_key == "ev_event_changed_registered"
    assert (waiting.messages[0].text_key, waiting.messages[0].lang) == (
        "ev_event_changed_waiting",
        "en",
    )
    place = await events.change(STAFF, eid, parse_change("place", "协会五楼", ZONE, later), later)
    assert place.told == 2
    link = parse_change("link", "https://meeting.example.org/12", ZONE, later)
    await events.change(STAFF, eid, link, later)
    async with sessions() as s:
        row = await s.get(Event, eid)
        assert row is not None
        assert (row.place, row.link) == (None, "https://meeting.example.org/12")


async def test_more_seats_move_the_waiting_list_up_fewer_than_taken_are_refused(
    sessions: SessionFactory,
) -> None:
    await populate(sessions)
    events = EventService(sessions, CAL)
    eid = await _event(sessions, 1, "2026-12-10 14:00")
    for user_id in (101, 102, 103, 104):
        await events.signup(eid, user_id, None, NOW)
    result = await events.change(STAFF, eid, parse_change("capacity", "3", ZONE, NOW), NOW)
    assert result.promoted == (102, 103)
    assert (result.summary.registered, result.summary.waiting) == (3, 1)
    with pytest.raises(EventError) as caught:
        await events.change(STAFF, eid, parse_change("capacity", "2", ZONE, NOW), NOW)
    assert caught.value.text_key == "ev_capacity_below"
    unlimited = await events.change(STAFF, eid, parse_change("capacity", "0", ZONE, NOW), NOW)
    assert unlimited.promoted == (104,)
    assert unlimited.summary.capacity is None
    with pytest.raises(NotAllowed):
        await events.change(101, eid, parse_change("capacity", "9", ZONE, NOW), NOW)


async def test_cancelling_the_event_stops_reminders_and_tells_everyone_once(
    sessions: SessionFactory,
) -> None:
    await populate(sessions)
    events = EventService(sessions, CAL)
    eid = await _event(sessions, 1, "2026-12-10 14:00")
    await events.signup(eid, 101, None, NOW)
    await events.signup(eid, 102, None, NOW)
    await events.signup(eid, 103, None, NOW)
    await events.cancel(eid, 103, NOW)  # left the waiting list before: not told
    night = local("2026-12-07 23:00")
    done = await events.cancel_event(EDITOR, eid, night)
    assert (done.told, done.already) == (2, False)
    assert (await events.cancel_event(STAFF, eid, night)).already
    assert (await events.summary(STAFF, eid)).cancelled
    for kind in (K_DAY, K_HOUR, K_FEEDBACK):
        assert {st for _, st, _ in await _rows(sessions, kind)} == {"cancelled"}
    told = await _rows(sessions, K_CANCELLED)
    assert sorted(u for u, _, _ in told) == [101, 102]
    assert {due for _, _, due in told} == {local("2026-12-08 09:00")}  # a civil hour
    store = ReminderStore(sessions)
    claimed = await store.claim_due(local("2026-12-08 09:00"), "w")
    decisions = {c.recipient_id: await events.prepare(c, night) for c in claimed}
    assert set(decisions) == {101, 102}
    zh, en = decisions[101], decisions[102]
    assert isinstance(zh, Delivery)
    assert isinstance(en, Delivery)
    assert [(m.text_key, m.lang) for m in (*zh.messages, *en.messages)] == [
        ("ev_event_cancelled", "zh"),
        ("ev_event_cancelled", "en"),
    ]
    with pytest.raises(EventError):
        await events.signup(eid, 104, None, night)
    with pytest.raises(EventError):
        await events.change(STAFF, eid, parse_change("place", "x", ZONE, night), night)


def test_parse_change_refuses_bad_values() -> None:
    for field, text, key in [
        ("date", "明天下午", "ev_parse_when"),
        ("date", "2026-12-01 10:00", "ev_parse_past"),
        ("capacity", "-3", "ev_parse_capacity"),
        ("link", "meeting.example.org", "ev_change_link"),
        ("place", "  ", "ev_change_empty"),
        ("title", "x", "ev_usage"),
    ]:
        with pytest.raises(EventError) as caught:
            parse_change(field, text, ZONE, NOW)
        assert caught.value.text_key == key, (field, text)
