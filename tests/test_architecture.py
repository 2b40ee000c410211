"""The house rules on imports, checked on the source: entry points → handlers → services →
db/faq, nothing back up, no circle anywhere, services without Telegram.

Every import counts, also one inside a function (a deferred import hides a circle, it does
not remove it).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("bot", "handlers", "db", "faq")

ENTRY = 3
HANDLERS = 2
SERVICES = 1
BASE = 0
ENTRY_POINTS = frozenset(
    {"bot.app", "bot.runner", "bot.cli", "bot.shell", "bot.startup", "bot.doctor"}
)
"""Start-up code (bot.startup: one-line failures, log redaction) and `ipdesk doctor` serve
the entry points."""
TOOL = "bot.emulator"
"""The Telegram emulator is a tool of its own: it imports nothing of the bot."""
TELEGRAM_AWARE_SERVICES = frozenset({"bot.context", "bot.http", "bot.scheduler", "bot.updates"})
"""Glue below the handlers that knows python-telegram-bot; bot.services never does."""


def _modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


MODULES = _modules()


def layer(module: str) -> int:
    if module in ENTRY_POINTS:
        return ENTRY
    top = module.split(".")[0]
    if top == "handlers":
        return HANDLERS
    if top == "bot":
        return SERVICES
    return BASE


def _imported(module: str, path: Path) -> Iterator[tuple[str, int]]:
    """(project module, line) for every import in ``path``, at any depth."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield from _resolve(alias.name, node.lineno)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                full = f"{base}.{alias.name}"
                yield from _resolve(full if full in MODULES else base, node.lineno)


def _resolve(name: str, line: int) -> Iterator[tuple[str, int]]:
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    if name:
        yield name, line


def _graph() -> dict[str, set[str]]:
    return {
        module: {target for target, _ in _imported(module, path) if target != module}
        for module, path in MODULES.items()
    }


def test_the_layout_is_found() -> None:
    assert {"bot.app", "handlers", "bot.services.tickets", "db.models", "faq.engine"} <= set(
        MODULES
    )


def test_imports_point_down_only() -> None:
    upward = []
    for module, path in MODULES.items():
        for target, line in _imported(module, path):
            if target == module or target.startswith(TOOL) or module.startswith(TOOL):
                continue
            if layer(target) > layer(module):
                upward.append(f"{path.relative_to(ROOT)}:{line} {module} → {target}")
    assert upward == []


def test_the_emulator_imports_nothing_of_the_bot() -> None:
    leaks = [
        f"{module} → {target}"
        for module, path in MODULES.items()
        if module.startswith(TOOL)
        for target, _ in _imported(module, path)
        if not target.startswith(TOOL)
    ]
    assert leaks == []


def test_services_never_import_telegram() -> None:
    offenders = []
    for module, path in MODULES.items():
        if layer(module) != SERVICES or module in TELEGRAM_AWARE_SERVICES:
            continue
        if module.startswith(TOOL):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            offenders += [f"{module}: {n}" for n in names if n.split(".")[0] == "telegram"]
            offenders += [f"{module}: {n}" for n in names if n in TELEGRAM_AWARE_SERVICES]
    assert offenders == []


def _circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_no_import_circle() -> None:
    graph = _graph()
    # A package importing its own submodules (handlers/__init__ registering them) is not a
    # circle; a submodule importing its package's __init__ back would be.
    assert _circles(graph) == []


@pytest.mark.parametrize(
    ("graph", "expected"),
    [
        ({"a": {"b"}, "b": {"a"}, "c": set()}, [["a", "b"]]),
        ({"a": {"b"}, "b": {"c"}, "c": set()}, []),
        ({"a": {"b"}, "b": {"c"}, "c": {"a"}}, [["a", "b", "c"]]),
    ],
)
def test_the_circle_finder_finds_circles(
    graph: dict[str, set[str]], expected: list[list[str]]
) -> None:
    assert _circles(graph) == expected


def test_an_upward_import_is_caught() -> None:
    """The check itself can fail: a service importing a handler is one layer up."""
    assert layer("handlers.staff") > layer("bot.services.tickets")
    assert layer("bot.app") > layer("handlers.staff")
    assert layer("bot.services.tickets") > layer("db.models")
