"""Every hard signal's own examples: positives fire that class, negatives fire nothing."""

from __future__ import annotations

import pytest

from faq.normalize import fold
from faq.signals import _compile, load_signals

SIGNALS = load_signals()
CASES = [
    pytest.param(s.name, text, True, id=f"{s.name}+{i}") for s in SIGNALS.signals
    for i, text in enumerate(s.positive)
] + [
    pytest.param(s.name, text, False, id=f"{s.name}-{i}") for s in SIGNALS.signals
    for i, text in enumerate(s.negative)
]  # fmt: skip


@pytest.mark.parametrize(("name", "text", "fires"), CASES)
def test_signal_examples(name: str, text: str, fires: bool) -> None:
    fired = [s.name for s in SIGNALS.fired(fold(text))]
    if fires:
        assert name in fired
    else:
        assert fired == []


def test_every_class_has_both_kinds_of_example() -> None:
    for signal in SIGNALS.signals:
        assert len(signal.positive) >= 4, signal.name
        assert len(signal.negative) >= 4, signal.name


def test_urgent_classes_are_the_ones_tickets_know() -> None:
    assert {s.name for s in SIGNALS.signals if s.urgent} == {"court", "customs", "platform"}


def test_word_boundaries_are_latin_only() -> None:
    # hanzi are not word characters: an English stem inside Chinese text still has edges
    assert _compile(r"\bgbc\b").search("被gbc起诉了")
    assert _compile(r"\bpay\w*\b").search("要我们payment赔偿")
    assert not _compile(r"\bpay\b").search("repay")
