"""callback_data codec: short kind + id, never text; ≤ 64 bytes; anything else is forged."""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_BYTES = 64
_ARG = re.compile(r"^[A-Za-z0-9_.\-]{1,48}$")
_KIND = re.compile(r"^[a-z]{1,8}$")


@dataclass(frozen=True, slots=True)
class Callback:
    kind: str
    arg: str = ""

    def int_arg(self) -> int | None:
        return int(self.arg) if self.arg.isdigit() and len(self.arg) < 19 else None


def encode(kind: str, arg: str | int = "") -> str:
    arg = str(arg)
    if not _KIND.match(kind) or (arg and not _ARG.match(arg)):
        raise ValueError(f"bad callback parts: {kind!r} {arg!r}")
    data = f"{kind}:{arg}" if arg else kind
    if len(data.encode()) > MAX_BYTES:
        raise ValueError("callback_data over 64 bytes")
    return data


def decode(data: str | None) -> Callback | None:
    """Parse callback data; None for anything we could not have produced."""
    if not data or len(data.encode()) > MAX_BYTES:
        return None
    kind, _, arg = data.partition(":")
    if not _KIND.match(kind) or (arg and not _ARG.match(arg)) or (":" in data and not arg):
        return None
    return Callback(kind, arg)
