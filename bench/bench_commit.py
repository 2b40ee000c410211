"""What a COMMIT costs on the SQLite settings ipdesk uses (WAL, synchronous=NORMAL).

    python -m bench.bench_commit [--rows 5000] [--group 20]

Issue 9 asked whether handlers' transactions on SQLite should be group-committed (several
handlers' writes in one COMMIT). This prints the time per transaction of a member-question
sized INSERT committed alone and committed in groups, in SQLite itself (no thread hops):
the difference is what group commit could save per message at most.
"""

from __future__ import annotations

import argparse
import sqlite3
import tempfile
import time
from pathlib import Path


def per_transaction(db: Path, rows: int, group: int) -> float:
    conn = sqlite3.connect(db)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("CREATE TABLE IF NOT EXISTS q (id INTEGER PRIMARY KEY, text TEXT, n INT)")
        conn.commit()
        started = time.perf_counter()
        for i in range(rows):
            conn.execute("INSERT INTO q (text, n) VALUES (?, ?)", ("商标续展要多久" * 4, i))
            if (i + 1) % group == 0:
                conn.commit()
        conn.commit()
        return (time.perf_counter() - started) / rows
    finally:
        conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--group", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        alone = per_transaction(Path(tmp) / "alone.sqlite3", args.rows, 1)
        grouped = per_transaction(Path(tmp) / "grouped.sqlite3", args.rows, args.group)
    print(f"committed alone:         {alone * 1e6:7.1f} µs per transaction")
    print(f"committed in groups of {args.group}: {grouped * 1e6:7.1f} µs per transaction")
    print(f"most group commit could save: {(alone - grouped) * 1e6:.1f} µs per message")


if __name__ == "__main__":
    main()
