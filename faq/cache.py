"""A built triage engine kept on disk, so that a short-lived command (`ipdesk ask`, `ipdesk
eval`) loads it in ~0.1 s instead of analysing every phrasing and answer again.

The file name is a hash of everything the build reads: the faq package (code, rules,
model, data), the knowledge-base directory and the caller's settings, plus the Python
version. Any change gives a new name, so a stale engine is never loaded; a file that cannot
be read is rebuilt and replaced. Files are written whole (temporary file + rename), so two
processes starting together are safe. The cache lives in the bot's own data directory:
whoever can write there can already change the database, so unpickling it adds no trust.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import sys
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TypeVar

__all__ = ["FAQ_PACKAGE", "cache_key", "load_or_build"]

log = logging.getLogger(__name__)

T = TypeVar("T")
FAQ_PACKAGE = Path(__file__).resolve().parent
_PREFIX = "engine-"
_SUFFIXES = frozenset({".py", ".yaml", ".yml", ".json", ".jsonl", ".txt"})


def cache_key(*settings: str, directories: Iterable[Path]) -> str:
    """A hash of the settings and of every source file under `directories`."""
    digest = hashlib.sha256(sys.version.encode())
    for text in settings:
        digest.update(b"\0s" + text.encode())
    for directory in directories:
        for path in sorted(directory.rglob("*")):
            if path.suffix in _SUFFIXES and path.is_file() and "__pycache__" not in path.parts:
                digest.update(b"\0f" + str(path.relative_to(directory)).encode() + b"\0")
                digest.update(path.read_bytes())
    return digest.hexdigest()[:32]


def load_or_build(cache_dir: Path, key: str, build: Callable[[], T]) -> T:
    """The object cached under `key`, else `build()` (then cached, replacing older ones)."""
    path = cache_dir / f"{_PREFIX}{key}.pickle"
    try:
        with path.open("rb") as file:
            cached: T = pickle.load(file)  # noqa: S301 - our own file, see the module doc
        return cached
    except FileNotFoundError:
        pass
    except Exception:  # a truncated or foreign file: rebuild it
        log.warning("engine cache %s unreadable; rebuilding", path.name)
    built = build()
    try:
        _store(cache_dir, path, built)
    except OSError as error:  # read-only home: work without the cache
        log.info("engine cache not written (%s)", error.strerror)
    return built


def _store(cache_dir: Path, path: Path, value: object) -> None:
    cache_dir.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=cache_dir, prefix=".tmp-", suffix=".pickle")
    try:
        with os.fdopen(handle, "wb") as file:
            pickle.dump(value, file, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    for old in cache_dir.glob(f"{_PREFIX}*.pickle"):
        if old != path:
            old.unlink(missing_ok=True)
