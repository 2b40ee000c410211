from __future__ import annotations

import pytest

from handlers.callbacks import Callback, decode, encode


def test_round_trip() -> None:
    assert decode(encode("f", "tm-term-renewal")) == Callback("f", "tm-term-renewal")
    assert decode(encode("ok", 123)) == Callback("ok", "123")
    assert decode("menu") == Callback("menu", "")


@pytest.mark.parametrize(
    "forged",
    [
        "",
        None,
        ":",
        "f:",
        "F:x",
        "f:a b",
        "f:" + "x" * 60,
        "f:x:y",
        "ok:1;DROP TABLE",
        "<b>",
        "é:1",
    ],
)
def test_forged_data_is_rejected(forged: str | None) -> None:
    assert decode(forged) is None


def test_encode_refuses_text_and_oversize() -> None:
    with pytest.raises(ValueError, match="bad callback parts"):
        encode("f", "商标")
    with pytest.raises(ValueError, match="bad callback parts"):
        encode("f", "x" * 70)


def test_int_arg_only_for_digits() -> None:
    assert Callback("ok", "42").int_arg() == 42
    assert Callback("ok", "-1").int_arg() is None
    assert Callback("ok", "9" * 30).int_arg() is None
