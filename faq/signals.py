"""Hard escalation signals: the few explicit rules that make a message a live case.

The rules and their examples are data (faq/rules/signals.yaml); this module compiles
them once and applies them. Everything softer than these classes is left to the learned
scorer (faq/scorer.py), which is trained from labelled examples rather than patterns.

A class fires when one of its patterns matches the folded text, its `requires` pattern
(if any) occurs somewhere, its `unless` pattern does not, and — for `framed` classes — no
hypothetical or general framing comes before the match, unless a word dates the event.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal

import yaml

__all__ = ["SIGNALS_FILE", "Matter", "Signal", "SignalSet", "load_signals"]

SIGNALS_FILE = Path(__file__).parent / "rules" / "signals.yaml"
# libyaml's safe loader when present: the pure-Python one takes ~70 ms on this file.
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
Matter = Literal["dispute", "right", "service"]
MATTERS: tuple[Matter, ...] = ("dispute", "right", "service")


def _compile(pattern: str) -> re.Pattern[str]:
    # ASCII semantics: \b, \w and \s concern Latin letters and digits only, so "被gbc起诉"
    # has word boundaries around "gbc" and "pay\w*" stops at a hanzi. It also lets the
    # engine scan 3-4x faster than Unicode word boundaries (bench_ask's 1,000 member-style
    # questions: 0.37 → 0.11 s of signal matching).
    return re.compile(pattern, re.ASCII)


@dataclass(frozen=True, slots=True)
class Signal:
    name: str
    description: str
    matter: Matter
    urgent: bool
    framed: bool
    patterns: tuple[re.Pattern[str], ...]
    requires: re.Pattern[str] | None
    unless: re.Pattern[str] | None
    positive: tuple[str, ...]
    negative: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class SignalSet:
    signals: tuple[Signal, ...]
    hypothetical: re.Pattern[str]
    general: re.Pattern[str]
    happened: re.Pattern[str]

    def fired(self, folded: str) -> tuple[Signal, ...]:
        """The classes whose rules fire on `folded` (see faq.normalize.fold)."""
        dated = self.happened.search(folded) is not None
        found: list[Signal] = []
        for signal in self.signals:
            if signal.unless is not None and signal.unless.search(folded):
                continue
            if signal.requires is not None and not signal.requires.search(folded):
                continue
            for pattern in signal.patterns:
                match = pattern.search(folded)
                if match is None:
                    continue
                if signal.framed and not dated and self._framed_before(folded, match.start()):
                    continue
                found.append(signal)
                break
        return tuple(found)

    def _framed_before(self, folded: str, position: int) -> bool:
        head = folded[: max(position, 0)]
        # "被人告了的话": the condition ends with 的话 just after the match
        tail = folded[position : position + 30]
        return bool(
            self.hypothetical.search(head) or self.general.search(folded) or "的话" in tail
        )


def _parse(name: str, raw: Mapping[str, Any]) -> Signal:
    matter = raw.get("matter")
    if matter not in MATTERS:
        raise ValueError(f"signal {name}: bad matter {matter!r}")
    patterns = raw.get("patterns") or []
    if not patterns:
        raise ValueError(f"signal {name}: no patterns")
    examples = raw.get("examples") or {}
    requires, unless = raw.get("requires"), raw.get("unless")
    return Signal(
        name=name,
        description=str(raw.get("description", "")),
        matter=matter,
        urgent=bool(raw.get("urgent", False)),
        framed=bool(raw.get("framed", True)),
        patterns=tuple(_compile(p) for p in patterns),
        requires=_compile(requires) if requires else None,
        unless=_compile(unless) if unless else None,
        positive=tuple(examples.get("positive") or ()),
        negative=tuple(examples.get("negative") or ()),
    )


@cache
def load_signals(path: Path = SIGNALS_FILE) -> SignalSet:
    raw = yaml.load(path.read_text(encoding="utf-8"), Loader=SAFE_LOADER)  # noqa: S506 - safe
    framing = raw.pop("_framing")
    return SignalSet(
        signals=tuple(_parse(name, body) for name, body in raw.items()),
        hypothetical=_compile(framing["hypothetical"]),
        general=_compile(framing["general"]),
        happened=_compile(framing["happened"]),
    )
