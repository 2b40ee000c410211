"""The `ipdesk` command line. Heavy imports stay inside each command so `ask` starts fast."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from bot.settings import Settings, SettingsError, load_settings

EXIT_CONFIG = 2
NO_DATABASE = frozenset({"ask", "eval", "faq", "secret", "run", "shell"})
"""Commands that use no database, or say which one themselves (run logs it, shell prints it)."""


def _questions(given: Sequence[str]) -> Iterable[str]:
    if given:
        yield from given  # each argument is one question (quote it)
        return
    for line in sys.stdin:
        line = line.rstrip("\n")
        if line.strip():
            yield line


def cmd_ask(args: argparse.Namespace, settings: Settings) -> int:
    from bot.knowledge import build_engine

    engine = build_engine(settings)
    out = sys.stdout
    for text in _questions(args.question):
        decision = engine.triage(text)
        if args.json:
            out.write(json.dumps(decision.to_json_dict(), ensure_ascii=False) + "\n")
            continue
        out.write(f"❓ {text}\n")
        out.write(
            f"   lang={decision.lang} category={decision.category} action={decision.action} "
            f"faq={decision.faq_id} score={decision.score:.1f}\n"
        )
        if decision.answer:
            out.write("\n" + decision.answer.strip() + "\n")
        elif decision.suggestions:
            out.write("   did you mean: " + ", ".join(c.faq_id for c in decision.suggestions))
            out.write("\n")
        out.write("\n")
    return 0


def cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
    from bot.knowledge import build_engine
    from faq.evaluate import Metrics, evaluate, format_report, load_eval_items

    engine = build_engine(settings)
    report = evaluate(engine, load_eval_items(*(Path(f) for f in args.file)))
    if args.json:
        scopes: dict[str, Metrics] = {"all": report.overall}
        for lang, metrics in report.by_lang.items():
            scopes[lang] = metrics
        print(json.dumps({scope: m.figures() for scope, m in scopes.items()}))
        return 0
    print(format_report(report, failures=args.failures))
    return 0


def cmd_faq_train(args: argparse.Namespace, settings: Settings) -> int:
    from faq.scorer import MODEL_FILE, build, dump

    try:
        scorer = build()
    except ImportError:
        print("ipdesk faq train needs scikit-learn: pip install -e '.[dev]'", file=sys.stderr)
        return EXIT_CONFIG
    MODEL_FILE.write_text(dump(scorer), encoding="utf-8")
    print(f"wrote {MODEL_FILE} ({len(scorer.weights)} escalation features)")
    return 0


def cmd_faq_check(args: argparse.Namespace, settings: Settings) -> int:
    from faq.loader import check_knowledge_base

    directory = Path(args.dir) if args.dir else None
    problems = check_knowledge_base(directory)
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        print(f"{len(problems)} problem(s) found.", file=sys.stderr)
        return 1
    from faq.loader import load_knowledge_base

    kb = load_knowledge_base(directory)
    print(f"OK: {len(kb)} entries.")
    return 0


def announce_database(settings: Settings) -> None:
    """Every command that touches data says which database it used (on stderr)."""
    print(f"ipdesk: database: {settings.database_label}", file=sys.stderr)


def cmd_db_upgrade(args: argparse.Namespace, settings: Settings) -> int:
    import asyncio

    from bot.startup import StartupFailure, prepare_database

    try:
        asyncio.run(prepare_database(settings))
    except StartupFailure as exc:
        print(f"ipdesk: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    print("database is up to date")
    return 0


def cmd_db_backup(args: argparse.Namespace, settings: Settings) -> int:
    """A consistent backup while the bot runs: FILE, or a timestamped one in BACKUP_DIR."""
    from datetime import UTC, datetime

    from bot.services.backup import BackupError, backup, backup_name

    target = (
        Path(args.file)
        if args.file
        else settings.backup_directory / backup_name(settings.database_url, datetime.now(UTC))
    )
    try:
        result = backup(settings.database_url, target)
    except (BackupError, OSError) as exc:
        print(f"ipdesk: backup failed: {exc}", file=sys.stderr)
        return 1
    print(f"backup written: {result.path} ({result.size} bytes)")
    return 0


def cmd_db_restore(args: argparse.Namespace, settings: Settings) -> int:
    """Replace the database with a backup (stop the bot first), then migrate it."""
    import asyncio

    from bot.services.backup import BackupError, restore
    from bot.startup import StartupFailure, prepare_database

    try:
        asyncio.run(restore(settings.database_url, Path(args.file), force=args.force))
        asyncio.run(prepare_database(settings))
    except BackupError as exc:
        print(f"ipdesk: restore refused: {exc}", file=sys.stderr)
        return 1
    except StartupFailure as exc:
        print(f"ipdesk: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    print(f"restored {args.file}; the database is up to date")
    return 0


def cmd_doctor(args: argparse.Namespace, settings: Settings) -> int:
    import asyncio

    from bot.doctor import check, report

    findings = asyncio.run(check(settings))
    print(report(findings))
    return 0 if all(f.ok for f in findings) else 1


def cmd_secret(args: argparse.Namespace, settings: Settings) -> int:
    import secrets

    print(secrets.token_urlsafe(32))
    return 0


def cmd_faq_export(args: argparse.Namespace, settings: Settings) -> int:
    """Write the phrasings staff added from Telegram into the YAML files (see faq/README.md)."""
    from bot.services.faq_export import ExportFailed, export_phrasings_cli

    announce_database(settings)
    directory = Path(args.dir) if args.dir else None
    try:
        report = export_phrasings_cli(settings.database_url, directory, args.remove)
    except (ExportFailed, OSError) as exc:
        print(f"ipdesk: {exc}", file=sys.stderr)
        return 1
    for line in report.lines():
        print(line)
    return 0


def cmd_experts_import(args: argparse.Namespace, settings: Settings) -> int:
    from bot.services.imports import ImportFailed, import_experts_file

    try:
        print(import_experts_file(settings, args.file))
    except (ImportFailed, OSError) as exc:
        print(f"ipdesk: {exc}", file=sys.stderr)
        return 1
    return 0


def cmd_members_import(args: argparse.Namespace, settings: Settings) -> int:
    from bot.services.imports import ImportFailed, import_members_file

    try:
        print(import_members_file(settings, args.file))
    except (ImportFailed, OSError) as exc:
        print(f"ipdesk: {exc}", file=sys.stderr)
        return 1
    return 0


def cmd_report(args: argparse.Namespace, settings: Settings) -> int:
    import asyncio
    from datetime import datetime, timedelta

    from bot.followup_config import build_calendar
    from bot.services.report import ReportError, run_report_url

    today = datetime.now(settings.zone).date()
    date_to = args.to or today.isoformat()
    date_from = args.from_ or (today - timedelta(days=6)).isoformat()
    try:
        text = asyncio.run(
            run_report_url(
                settings.database_url,
                build_calendar(settings),
                date_from,
                date_to,
                lang=args.lang,
                csv_path=Path(args.csv) if args.csv else None,
                chart_path=Path(args.chart) if args.chart else None,
            )
        )
    except ReportError as exc:
        print(f"ipdesk: {exc}", file=sys.stderr)
        return 2
    print(text)
    return 0


def cmd_events_export(args: argparse.Namespace, settings: Settings) -> int:
    import asyncio

    from bot.services.errors import NotFound
    from bot.services.events import export_csv_url

    try:
        data = asyncio.run(export_csv_url(settings, args.event))
    except NotFound:
        print(f"ipdesk: there is no event {args.event}", file=sys.stderr)
        return 1
    if args.out:
        Path(args.out).write_text(data, encoding="utf-8-sig", newline="")
        print(f"wrote {args.out}", file=sys.stderr)
    else:
        sys.stdout.write(data)
    return 0


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    from bot.runner import run

    return run(settings)


def cmd_shell(args: argparse.Namespace, settings: Settings) -> int:
    from bot.shell import main as shell

    return shell(settings, as_user=args.user, lang=args.lang)


Command = Callable[[argparse.Namespace, Settings], int]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ipdesk", description="Member-enquiry bot of an IP protection association."
    )
    sub = parser.add_subparsers(dest="command", required=True)

    ask = sub.add_parser("ask", help="answer questions with the knowledge base")
    ask.add_argument("--json", action="store_true", help="one JSON object per line")
    ask.add_argument(
        "question", nargs="*", help="questions, one per argument (else one per line on stdin)"
    )
    ask.set_defaults(func=cmd_ask)

    ev = sub.add_parser("eval", help="score labelled JSONL files")
    ev.add_argument("file", nargs="+")
    ev.add_argument("--failures", action="store_true", help="list the misses")
    ev.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    ev.set_defaults(func=cmd_eval)

    faq = sub.add_parser("faq", help="knowledge base tools")
    faq_sub = faq.add_subparsers(dest="faq_command", required=True)
    check = faq_sub.add_parser("check", help="validate the knowledge base files")
    check.add_argument("--dir", help="directory of YAML files (default: the shipped one)")
    check.set_defaults(func=cmd_faq_check)
    export = faq_sub.add_parser(
        "export", help="write the phrasings staff added in Telegram into the YAML files"
    )
    export.add_argument("--dir", help="directory of YAML files (default: the shipped one)")
    export.add_argument(
        "--remove",
        action="store_true",
        help="then delete from the database the phrasings the files now hold",
    )
    export.set_defaults(func=cmd_faq_export)
    train = faq_sub.add_parser(
        "train", help="rebuild the escalation scorer from its examples (needs the dev extra)"
    )
    train.set_defaults(func=cmd_faq_train)

    db = sub.add_parser("db", help="database tools")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    db_sub.add_parser("upgrade", help="apply migrations").set_defaults(func=cmd_db_upgrade)
    db_backup = db_sub.add_parser("backup", help="back up the database (safe while the bot runs)")
    db_backup.add_argument(
        "file", nargs="?", help="backup file (default: a new one in BACKUP_DIR)"
    )
    db_backup.set_defaults(func=cmd_db_backup)
    db_restore = db_sub.add_parser("restore", help="replace the database with a backup")
    db_restore.add_argument("file")
    db_restore.add_argument(
        "--force", action="store_true", help="overwrite a database that already holds data"
    )
    db_restore.set_defaults(func=cmd_db_restore)

    doctor = sub.add_parser("doctor", help="check the configuration end to end")
    doctor.set_defaults(func=cmd_doctor)

    secret = sub.add_parser("secret", help="print a new random WEBHOOK_SECRET")
    secret.set_defaults(func=cmd_secret)

    experts = sub.add_parser("experts", help="the expert roster")
    experts_sub = experts.add_subparsers(dest="experts_command", required=True)
    ex_import = experts_sub.add_parser("import", help="validate and load a roster YAML file")
    ex_import.add_argument("file")
    ex_import.set_defaults(func=cmd_experts_import)

    members = sub.add_parser("members", help="the association's member companies")
    members_sub = members.add_subparsers(dest="members_command", required=True)
    mem_import = members_sub.add_parser("import", help="load the member list CSV (re-importable)")
    mem_import.add_argument("file")
    mem_import.set_defaults(func=cmd_members_import)

    events = sub.add_parser("events", help="forum sessions and training courses")
    events_sub = events.add_subparsers(dest="events_command", required=True)
    ev_export = events_sub.add_parser("export", help="an event's registration list as CSV")
    ev_export.add_argument("event", type=int, help="the event number (from /events)")
    ev_export.add_argument("--out", help="write to this file (UTF-8 with BOM) instead of stdout")
    ev_export.set_defaults(func=cmd_events_export)

    report = sub.add_parser("report", help="service-quality report for a period")
    report.add_argument(
        "--from", dest="from_", help="first local day, YYYY-MM-DD (default: 6 days ago)"
    )
    report.add_argument("--to", help="last local day, inclusive (default: today)")
    report.add_argument("--csv", help="also write the figures to this CSV file")
    report.add_argument("--chart", help="also write the weekly chart to this PNG file")
    report.add_argument("--lang", choices=["zh", "en"], default="zh")
    report.set_defaults(func=cmd_report)

    sub.add_parser("run", help="run the bot (long polling, or webhook)").set_defaults(func=cmd_run)

    shell = sub.add_parser("shell", help="chat with the bot in this terminal (local emulator)")
    shell.add_argument("--user", type=int, default=10001, help="Telegram user id to play")
    shell.add_argument("--lang", default="zh", help="the played user's Telegram language")
    shell.set_defaults(func=cmd_shell)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"ipdesk: configuration error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    func: Command = args.func
    if args.command not in NO_DATABASE:
        announce_database(settings)
    try:
        return func(args, settings)
    except BrokenPipeError:
        return 0
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
