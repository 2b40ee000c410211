"""Text helpers for Telegram: HTML escaping and splitting long replies."""

from __future__ import annotations

from html import escape

TELEGRAM_LIMIT = 4096


def split_text(text: str, limit: int = TELEGRAM_LIMIT - 96) -> list[str]:
    """Split plain text at paragraph, then line, then hard boundaries, each chunk ≤ limit.

    The margin under 4,096 leaves room for a header or footer added to a chunk.
    """
    text = text.strip()
    if len(text) <= limit:
        return [text] if text else []
    chunks: list[str] = []
    current = ""
    for paragraph in text.split("\n\n"):
        pieces = _fit(paragraph, limit)
        for piece in pieces:
            candidate = f"{current}\n\n{piece}" if current else piece
            if len(candidate) <= limit:
                current = candidate
            else:
                chunks.append(current)
                current = piece
    if current:
        chunks.append(current)
    return chunks


def _fit(paragraph: str, limit: int) -> list[str]:
    if len(paragraph) <= limit:
        return [paragraph]
    out: list[str] = []
    line_chunk = ""
    for line in paragraph.split("\n"):
        while len(line) > limit:
            if line_chunk:
                out.append(line_chunk)
                line_chunk = ""
            out.append(line[:limit])
            line = line[limit:]
        candidate = f"{line_chunk}\n{line}" if line_chunk else line
        if len(candidate) <= limit:
            line_chunk = candidate
        else:
            out.append(line_chunk)
            line_chunk = line
    if line_chunk:
        out.append(line_chunk)
    return out


def html(text: str) -> str:
    return escape(text, quote=False)
