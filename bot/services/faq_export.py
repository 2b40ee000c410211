"""``ipdesk faq export``: write the phrasings staff added from Telegram into faq/data/.

The files are edited in place (faq/yaml_edit.py keeps comments and layout), then the whole
knowledge base is checked; if anything is wrong every file is put back as it was. With
``remove``, the phrasings that are now in the files — written by this run or an earlier
one — are deleted from the database (their gaps stay reviewed), and every bot process
rebuilds its engine: the YAML now carries them.
"""

from __future__ import annotations

import asyncio
import os
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from bot.services.errors import DomainError
from bot.services.phrasings import PhrasingService, StoredPhrasing
from db.migrate import upgrade
from db.session import make_engine, make_session_factory
from faq.extra import phrasing_key
from faq.loader import (
    DEFAULT_DIRECTORY,
    KnowledgeBaseError,
    check_knowledge_base,
    load_knowledge_base,
)
from faq.models import Lang
from faq.yaml_edit import add_questions


class ExportFailed(DomainError):
    """Nothing was exported; the message says why (one problem per line)."""


@dataclass
class ExportReport:
    written: list[tuple[str, str, Lang, str]] = field(default_factory=list)  # file, id, lang, text
    present: int = 0  # already in the files
    unknown: list[StoredPhrasing] = field(default_factory=list)  # entry no longer exists
    problems: list[str] = field(default_factory=list)
    removed: int = 0

    def lines(self) -> list[str]:
        out = [f"{f}: + {faq_id} [{lang}] {text}" for f, faq_id, lang, text in self.written]
        out += [f"not exported: {p}" for p in self.problems]
        out += [
            f"not exported: entry {p.faq_id!r} no longer exists: [{p.lang}] {p.text}"
            for p in self.unknown
        ]
        out.append(
            f"{len(self.written)} phrasing(s) written, {self.present} already in the files, "
            f"{len(self.unknown) + len(self.problems)} not exported, "
            f"{self.removed} removed from the database."
        )
        return out


def _write(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def export_to_files(
    stored: list[StoredPhrasing], directory: Path
) -> tuple[ExportReport, list[int]]:
    """Write `stored` into the knowledge base in `directory`; the report and the ids of the
    phrasings now in the files. Raises ExportFailed (files unchanged)."""
    try:
        kb = load_knowledge_base(directory)
    except KnowledgeBaseError as exc:
        raise ExportFailed(
            "the knowledge base has problems; fix them first:\n" + str(exc)
        ) from None
    report = ExportReport()
    by_file: dict[str, dict[str, dict[Lang, list[str]]]] = defaultdict(
        lambda: defaultdict(lambda: defaultdict(list))
    )
    ids: dict[tuple[str, Lang, str], list[int]] = defaultdict(list)
    for item in stored:
        entry = kb.get(item.faq_id)
        if entry is None:
            report.unknown.append(item)
            continue
        by_file[entry.source][item.faq_id][item.lang].append(item.text)
        ids[(item.faq_id, item.lang, phrasing_key(item.text))].append(item.id)
    originals: dict[Path, str] = {}
    exported: list[int] = []
    for name, additions in sorted(by_file.items()):
        path = directory / name
        original = path.read_text(encoding="utf-8-sig")
        edit = add_questions(original, additions)
        report.problems += [f"{name}: {p}" for p in edit.problems]
        report.present += len(edit.present)
        for faq_id, lang, text in edit.added + edit.present:
            exported += ids.pop((faq_id, lang, phrasing_key(text)), [])
        report.written += [(name, f, lang, t) for f, lang, t in edit.added]
        if edit.added:
            originals[path] = path.read_text(encoding="utf-8")
            _write(path, edit.text)
    problems = check_knowledge_base(directory)
    if problems:
        for path, text in originals.items():
            _write(path, text)
        raise ExportFailed("the export would break the knowledge base:\n" + "\n".join(problems))
    return report, exported


async def export_phrasings(database_url: str, directory: Path, *, remove: bool) -> ExportReport:
    engine = make_engine(database_url)
    try:
        await upgrade(engine)
        store = PhrasingService(make_session_factory(engine))
        report, exported = await asyncio.to_thread(export_to_files, await store.all(), directory)
        if remove:
            report.removed = await store.forget_exported(exported)
    finally:
        await engine.dispose()
    return report


def export_phrasings_cli(database_url: str, directory: Path | None, remove: bool) -> ExportReport:
    return asyncio.run(
        export_phrasings(database_url, directory or DEFAULT_DIRECTORY, remove=remove)
    )
