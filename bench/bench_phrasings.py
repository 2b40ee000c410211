"""What staff-added phrasings cost a bot process, on SQLite and PostgreSQL.

    .venv/bin/python -m bench.bench_phrasings [--checks N] [--phrasings N]

PostgreSQL: IPDESK_BENCH_POSTGRES_URL (a database we may CREATE DATABASE from) or, without
it, a throwaway server (tests/support/postgres.py).

Figures printed per backend:
* version check — ``LiveKnowledge.refresh()`` when nothing changed, the price every member
  question pays (one primary-key read): median and 99th percentile of N calls;
* rebuild — ``refresh()`` after another process added a phrasing, with N phrasings stored:
  reading them and building a new engine from faq/data/ plus them (off the event loop);
* gap list — ``GapService.groups`` over N stored gap questions (the /gaps command; their
  texts are the development sets' questions, so they group as real ones would).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert

from bench.databases import postgres_url
from bot.knowledge import LiveKnowledge
from bot.services.faq_gaps import GapService
from bot.services.phrasings import PhrasingService
from db.migrate import upgrade
from db.models import FaqPhrasing, Question, Role, User
from db.session import make_engine, make_session_factory
from faq.engine import TriageEngine
from faq.extra import phrasing_key
from faq.loader import load_knowledge_base

REPO = str(Path(__file__).resolve().parents[1])
ADMIN = 1


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms"


async def _run(label: str, url: str, checks: int, phrasings: int) -> None:
    engine = make_engine(url)
    await upgrade(engine)
    sessions = make_session_factory(engine)
    kb = load_knowledge_base()
    ids = [e.id for e in kb]
    # Realistic gap texts: the development sets' questions (several wordings per topic).
    questions = [
        json.loads(line)["text"]
        for name in ("eval_dev.jsonl", "eval_dev2.jsonl", "eval_dev3.jsonl")
        for line in (Path(REPO) / "tests" / "data" / name).read_text("utf-8").splitlines()
        if line.strip()
    ]
    now = datetime.now(UTC)
    async with sessions() as s, s.begin():
        s.add(User(id=ADMIN, first_name="admin", role=Role.ADMIN))
        await s.flush()
        await s.execute(
            insert(FaqPhrasing),
            [
                {
                    "faq_id": ids[i % len(ids)],
                    "lang": "zh",
                    "text": f"第{i}种问法 商标怎么办",
                    "text_key": phrasing_key(f"第{i}种问法 商标怎么办"),
                    "added_by": ADMIN,
                }
                for i in range(phrasings)
            ],
        )
        await s.execute(
            insert(Question),
            [
                {
                    "user_id": ADMIN,
                    "chat_id": ADMIN,
                    "text": questions[i % len(questions)],
                    "lang": "zh",
                    "action": "fallback",
                    "score": 0.0,
                    "created_at": now - timedelta(minutes=i),
                }
                for i in range(phrasings)
            ],
        )
    store = PhrasingService(sessions)
    live = LiveKnowledge(kb, TriageEngine, store)
    await live.refresh()
    times = []
    for _ in range(checks):
        start = time.perf_counter()
        rebuilt = await live.refresh()
        times.append(time.perf_counter() - start)
        assert not rebuilt
    times.sort()
    p99 = times[int(len(times) * 0.99) - 1]
    print(
        f"{label}: version check (no change) median {_ms(statistics.median(times))}, "
        f"p99 {_ms(p99)} over {checks} calls"
    )
    await store.add(ADMIN, kb, ids[0], "en", "one more wording about trademarks")
    start = time.perf_counter()
    assert await live.refresh()
    print(
        f"{label}: rebuild after a change, {phrasings + 1} stored phrasings, "
        f"{len(kb)} entries: {_ms(time.perf_counter() - start)}"
    )
    start = time.perf_counter()
    groups = await GapService(sessions).groups(ADMIN, now - timedelta(days=90))
    print(
        f"{label}: /gaps over {phrasings} gap questions ({len(groups)} groups): "
        f"{_ms(time.perf_counter() - start)}"
    )
    await engine.dispose()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--checks", type=int, default=2000)
    parser.add_argument("--phrasings", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        await _run(
            "sqlite", f"sqlite+aiosqlite:///{tmp}/bench.sqlite3", args.checks, args.phrasings
        )
    async with postgres_url("ipdesk_bench_phr") as url:
        await _run("postgresql", url, args.checks, args.phrasings)


if __name__ == "__main__":
    asyncio.run(main())
