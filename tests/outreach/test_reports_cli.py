"""Reports per announcement and the outreach section of the weekly report / `ipdesk report`;
`ipdesk events export` in a fresh process."""

from __future__ import annotations

import asyncio
import csv
import io
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.i18n import load_catalog
from bot.services.calendar import WorkCalendar
from bot.services.events import EventService
from bot.services.outreach import OutreachService
from bot.services.stats import StatsService, csv_rows, day_range, render_text
from db.migrate import upgrade
from db.models import Event
from db.session import SessionFactory, make_engine, make_session_factory
from tests.followups import Clock, Recorder
from tests.outreach.conftest import ADMIN, NOW, STAFF, populate
from tests.outreach.test_broadcast_lane import lane

CAL = WorkCalendar(ZoneInfo("Asia/Shanghai"))


async def _event_announcement(sessions: SessionFactory) -> tuple[int, int]:
    service = OutreachService(sessions)
    await service.start(ADMIN, "event")
    draft = await service.attach_event(
        ADMIN, "百家堂", NOW + timedelta(days=2), "宁波", None, 1, "review"
    )
    await service.update_draft(ADMIN, text_zh="论坛邀请")
    planned = await service.confirm(ADMIN, NOW, None, None, None)
    assert draft.event_id is not None
    return planned.id, draft.event_id


async def test_announcement_report_and_weekly_outreach_section(sessions: SessionFactory) -> None:
    await populate(sessions)
    aid, eid = await _event_announcement(sessions)
    await lane(sessions, Recorder(), "w", Clock(NOW)).drain()
    events = EventService(sessions, CAL)
    await events.signup(eid, 101, aid, NOW)
    await events.signup(eid, 102, aid, NOW)  # waiting list
    rows = await events.registrations(STAFF, eid)
    await events.check_in(STAFF, eid, rows[0].id, NOW + timedelta(days=2))
    await events.feedback(eid, 101, 5, NOW + timedelta(days=2, hours=3))

    report = await OutreachService(sessions).report(aid)
    assert report.progress.recipients == 4
    assert report.progress.sent == 4
    assert (report.signups, report.waiting_list, report.attended) == (1, 1, 1)
    assert (report.feedback_count, report.feedback_avg) == (1, 5.0)

    period = day_range(
        CAL.local_date(NOW) - timedelta(days=1), CAL.local_date(NOW) + timedelta(days=6), CAL
    )
    stats = await StatsService(sessions, CAL, catalog=load_catalog()).compute(period)
    assert stats.outreach is not None
    assert (stats.outreach.announcements, stats.outreach.signups) == (1, 2)
    assert (stats.outreach.attendance, stats.outreach.satisfaction) == (1, 5.0)
    text = render_text(stats, "en", CAL, load_catalog(), html=False)
    assert "Outreach" in text
    assert "event satisfaction 5.0" in text
    metrics = {r[4]: r[5] for r in csv_rows(stats, CAL) if r[2] == "outreach"}
    assert metrics["announcements"] == "1"
    assert metrics["signups"] == "2"


def test_events_export_command(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite3'}"

    async def prepare() -> int:
        engine = make_engine(url)
        try:
            await upgrade(engine)
            sessions = make_session_factory(engine)
            await populate(sessions)
            _, eid = await _event_announcement(sessions)
            await EventService(sessions, CAL).signup(eid, 101, None, NOW)
            async with sessions() as s:
                assert await s.scalar(select(Event.id)) == eid
            return eid
        finally:
            await engine.dispose()

    eid = asyncio.run(prepare())
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "DATABASE_URL": url}

    def ipdesk(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "bot.cli", *args],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    result = ipdesk("events", "export", str(eid))
    assert result.returncode == 0, result.stderr
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows[0][0] == "registration"
    assert rows[1][1:4] == ["registered", "机械A", "contact 101"]
    missing = ipdesk("events", "export", "999")
    assert missing.returncode == 1
    assert "no event 999" in missing.stderr
    out = tmp_path / "list.csv"
    assert ipdesk("events", "export", str(eid), "--out", str(out)).returncode == 0
    assert out.read_text(encoding="utf-8-sig").startswith("registration,")
