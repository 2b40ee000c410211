"""Subscriptions, audiences, composing and planning, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from bot.services.audience import Audience, AudienceError, markets_field, parse_filter
from bot.services.errors import NotAllowed
from bot.services.outreach import ComposeError, OutreachService
from db.models import Reminder, ReminderStatus, Role, User
from db.session import SessionFactory
from tests.outreach.conftest import ADMIN, EDITOR, NOW, STAFF, populate


async def _outbox(sessions: SessionFactory, announcement_id: int) -> dict[int, str]:
    async with sessions() as s:
        rows = await s.execute(
            select(Reminder.recipient_id, Reminder.status).where(
                Reminder.key.like(f"ann:{announcement_id}:%")
            )
        )
        return {int(u or 0): str(st) for u, st in rows.all()}


async def test_subscription_defaults_and_toggles(sessions: SessionFactory) -> None:
    await populate(sessions)
    service = OutreachService(sessions)
    topics = await service.subscriptions(101)
    assert topics["events"]
    assert topics["alerts"]
    assert not topics["trademark"]
    assert not topics["foreign_trade"]
    topics = await service.toggle(101, "trademark")
    assert topics["trademark"]
    topics = await service.toggle(101, "events")
    assert not topics["events"]
    topics = await service.toggle(101, "events")
    assert topics["events"]
    assert (await service.subscriptions(101))["trademark"]


async def test_editor_role_is_stored_and_may_announce(sessions: SessionFactory) -> None:
    await populate(sessions)
    async with sessions() as s:
        assert (await s.get(User, EDITOR)).role is Role.EDITOR  # type: ignore[union-attr]
    service = OutreachService(sessions)
    draft = await service.start(EDITOR, "news")
    assert draft.step == "text_zh"
    assert EDITOR in service.composing
    with pytest.raises(NotAllowed):
        await service.start(STAFF, "news")
    with pytest.raises(NotAllowed):
        await service.start(101, "alert")


async def test_plan_reaches_exactly_the_subscribed_unblocked_members(
    sessions: SessionFactory,
) -> None:
    await populate(sessions)
    service = OutreachService(sessions)
    await service.toggle(104, "events")  # 104 opts out of events
    await service.start(ADMIN, "event")
    await service.update_draft(ADMIN, text_zh="<b>论坛</b>", step="review")
    draft = await service.draft_of(ADMIN)
    assert draft is not None
    assert await service.count(draft) == {"zh": 1, "en": 2}  # 101 zh; 102, 103 en
    planned = await service.confirm(ADMIN, NOW, None, None, None)
    assert planned.status == "sending"
    assert planned.recipients == 3
    assert await _outbox(sessions, planned.id) == {101: "pending", 102: "pending", 103: "pending"}
    assert ADMIN not in service.composing
    with pytest.raises(ComposeError):  # the draft is gone: confirming twice plans nothing
        await service.confirm(ADMIN, NOW, None, None, None)


async def test_interest_topics_reach_only_those_who_chose_them(
    sessions: SessionFactory,
) -> None:
    await populate(sessions)
    service = OutreachService(sessions)
    await service.toggle(102, "patent")
    await service.toggle(105, "patent")  # blocked: never selected
    await service.start(EDITOR, "news")
    await service.update_draft(EDITOR, text_en="Patent news", topic="patent", step="review")
    planned = await service.confirm(EDITOR, NOW, None, None, None)
    assert await _outbox(sessions, planned.id) == {102: "pending"}


@pytest.mark.parametrize(
    ("audience", "expected"),
    [
        (Audience(langs=("zh",)), {101, 104}),
        (Audience(langs=("en",)), {102, 103}),
        (Audience(industries=("machinery", "textiles")), {101, 103}),
        (Audience(markets=("us",)), {101, 103}),
        (Audience(markets=("eu",), cities=("ningbo",)), {101}),
        (Audience(cities=("cixi",)), {102}),
        (Audience(), {101, 102, 103, 104}),
    ],
)
async def test_audience_filters(
    sessions: SessionFactory, audience: Audience, expected: set[int]
) -> None:
    await populate(sessions)
    service = OutreachService(sessions)
    await service.start(ADMIN, "alert")
    await service.update_draft(ADMIN, text_zh="预警", audience=audience, step="review")
    planned = await service.confirm(ADMIN, NOW, None, None, None)
    assert set(await _outbox(sessions, planned.id)) == expected


async def test_scheduled_plan_is_due_later_and_cancel_stops_it(sessions: SessionFactory) -> None:
    await populate(sessions)
    service = OutreachService(sessions)
    await service.start(ADMIN, "alert")
    await service.update_draft(ADMIN, text_zh="预警", step="review")
    later = NOW + timedelta(days=1)
    planned = await service.confirm(ADMIN, NOW, later, 1, 2)
    assert planned.status == "scheduled"
    async with sessions() as s:
        due = await s.scalar(
            select(func.min(Reminder.due_at)).where(Reminder.kind == "announcement")
        )
    assert due is not None
    progress = await service.cancel(EDITOR, planned.id)
    assert progress.status == "cancelled"
    assert progress.cancelled == 4
    assert progress.waiting == 0
    assert set((await _outbox(sessions, planned.id)).values()) == {ReminderStatus.CANCELLED.value}
    with pytest.raises(ComposeError):
        await service.cancel(EDITOR, planned.id)
    with pytest.raises(NotAllowed):
        await service.cancel(101, planned.id)


async def test_nobody_to_reach_finishes_at_once(sessions: SessionFactory) -> None:
    await populate(sessions)
    service = OutreachService(sessions)
    await service.start(ADMIN, "news")
    await service.update_draft(ADMIN, text_zh="版权", topic="copyright", step="review")
    planned = await service.confirm(ADMIN, NOW, None, None, None)
    assert planned.recipients == 0
    assert planned.status == "sent"


def test_filter_parsing() -> None:
    audience = parse_filter("行业：机械, 电子\nmarket: US；city=宁波")
    assert audience == Audience((), ("机械", "电子"), ("us",), ("宁波",))
    assert parse_filter("lang: en").langs == ("en",)
    for bad in ("", "colour: red", "industry:", "lang: fr", "no separator"):
        with pytest.raises(AudienceError):
            parse_filter(bad)
    assert markets_field("US, eu；Japan") == ";us;eu;jp;"  # names of the fixed list: codes
    assert markets_field(" , ") is None


async def test_update_draft_refuses_unknown_topics(sessions: SessionFactory) -> None:
    await populate(sessions)
    service = OutreachService(sessions)
    await service.start(ADMIN, "news")
    with pytest.raises(ComposeError):
        await service.update_draft(ADMIN, topic="events")
    with pytest.raises(ComposeError):
        await service.start(ADMIN, "poster")


async def test_members_an_admin_stopped_are_never_selected(sessions: SessionFactory) -> None:
    from db.models import Block

    await populate(sessions)
    async with sessions() as s, s.begin():
        s.add(Block(user_id=104, blocked_by=ADMIN))
    service = OutreachService(sessions)
    await service.start(ADMIN, "alert")
    await service.update_draft(ADMIN, text_zh="预警", step="review")
    planned = await service.confirm(ADMIN, NOW, None, None, None)
    assert set(await _outbox(sessions, planned.id)) == {101, 102, 103}


async def test_forget_and_export_cover_subscriptions_and_registrations(
    sessions: SessionFactory,
) -> None:
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    from bot.services.calendar import WorkCalendar
    from bot.services.events import EventService
    from bot.services.privacy import PrivacyService
    from db.models import Event, Registration

    await populate(sessions)
    async with sessions() as s, s.begin():
        event = Event(title="百家堂", starts_at=NOW + timedelta(days=3), capacity=None)
        s.add(event)
        await s.flush()
        eid = event.id
    await OutreachService(sessions).toggle(101, "patent")
    await EventService(sessions, WorkCalendar(ZoneInfo("Asia/Shanghai"))).signup(
        eid, 101, None, NOW
    )
    privacy = PrivacyService(sessions, clock=lambda: NOW)
    data = await privacy.export(101)
    assert data["subscriptions"] == {"patent": True}
    assert data["event_registrations"][0]["contact_name"] == "contact 101"
    await privacy.forget(101)
    async with sessions() as s:
        reg = await s.scalar(select(Registration))
        assert reg is not None
        assert reg.user_id != 101
        assert (reg.contact_name, reg.phone, reg.company) == (None, None, None)
        assert reg.status == "registered"
    async with sessions() as s, s.begin():
        await s.execute(update(Registration).values(contact_name="x", phone="1"))
    later = PrivacyService(sessions, clock=lambda: datetime(2028, 1, 1, tzinfo=UTC))
    await later.anonymise_expired(12)
    async with sessions() as s:
        reg = await s.scalar(select(Registration))
        assert reg is not None
        assert (reg.contact_name, reg.phone) == (None, None)
