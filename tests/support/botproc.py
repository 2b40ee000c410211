"""Run the emulator and the real `ipdesk run` process side by side, for end-to-end tests."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
BOT_TOKEN = "123456:E2E-TEST-TOKEN"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_http(url: str, deadline: float) -> None:
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"{url} did not come up")


@dataclass
class Emulator:
    port: int
    process: subprocess.Popen[bytes]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @classmethod
    def start(cls, workdir: Path) -> Emulator:
        port = free_port()
        with (workdir / "emulator.log").open("wb") as log:  # the child keeps its own fd
            process = subprocess.Popen(
                [sys.executable, "-m", "bot.emulator", "--port", str(port)],
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        emulator = cls(port, process)
        _wait_http(f"{emulator.base_url}/_emu/health", time.monotonic() + 30)
        return emulator

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@dataclass
class BotProcess:
    """`ipdesk run` as a child process, configured only through its environment."""

    workdir: Path
    env: dict[str, str]
    process: subprocess.Popen[bytes] | None = None
    starts: int = field(default=0)

    @classmethod
    def configure(cls, workdir: Path, emulator: Emulator, **extra: str) -> BotProcess:
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(workdir),
            "PYTHONPATH": str(ROOT),
            "PTB_TIMEDELTA": "true",
            "TELEGRAM_BOT_TOKEN": BOT_TOKEN,
            "TELEGRAM_API_BASE_URL": f"{emulator.base_url}/bot",
            "DATABASE_URL": f"sqlite+aiosqlite:///{workdir / 'ipdesk.sqlite3'}",
            "TIMEZONE": "Asia/Shanghai",
            **extra,
        }
        return cls(workdir, env)

    @classmethod
    def configure_webhook(
        cls,
        workdir: Path,
        emulator: Emulator,
        port: int,
        secret: str,
        *,
        url: str = "https://ipdesk.example.org/tg/hook",  # public URL (reverse proxy)
        **extra: str,
    ) -> BotProcess:
        """Webhook mode: the bot's own HTTP server on 127.0.0.1:``port``."""
        return cls.configure(
            workdir,
            emulator,
            WEBHOOK_URL=url,
            WEBHOOK_LISTEN="127.0.0.1",
            WEBHOOK_PORT=str(port),
            WEBHOOK_SECRET=secret,
            **extra,
        )

    @property
    def log_path(self) -> Path:
        return self.workdir / "bot.log"

    def start(self) -> None:
        self.starts += 1
        with self.log_path.open("ab") as log:  # the child keeps its own fd
            self.process = subprocess.Popen(
                [sys.executable, "-m", "bot.cli", "run"],
                cwd=self.workdir,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20) -> int:
        assert self.process is not None
        self.process.send_signal(sig)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()

    def kill9(self) -> None:
        assert self.process is not None
        self.process.kill()
        self.process.wait()

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")


def emulator_calls(
    emulator: Emulator, method: str | None = None, since: int = 0
) -> list[dict[str, Any]]:
    """The Bot API calls the emulator recorded (of ``method``; after sequence ``since``)."""
    query = f"?since={since}" + (f"&method={method}" if method else "")
    with urllib.request.urlopen(f"{emulator.base_url}/_emu/calls{query}", timeout=2) as response:
        calls: list[dict[str, Any]] = json.loads(response.read())["result"]
    return calls


def last_call_seq(emulator: Emulator) -> int:
    """The sequence number of the latest recorded call (0: none yet)."""
    return max((c["seq"] for c in emulator_calls(emulator)), default=0)


def wait_for_call(emulator: Emulator, method: str, since: int = 0, deadline: float = 0.0) -> None:
    """Until the bot has called ``method`` after ``since`` (by ``deadline``, else 60 s)."""
    deadline = deadline or time.monotonic() + 60
    while not emulator_calls(emulator, method, since):
        if time.monotonic() > deadline:
            raise TimeoutError(f"the bot never called {method}")
        time.sleep(0.1)


def wait_for_webhook(emulator: Emulator, proc: BotProcess, port: int, since: int = 0) -> None:
    """setWebhook called after ``since``, then the bot's HTTP server accepts connections."""
    deadline = time.monotonic() + 60
    try:
        wait_for_call(emulator, "setWebhook", since, deadline)
    except TimeoutError:
        raise TimeoutError(proc.log()[-2000:]) from None
    wait_listening(proc, port, deadline)


def wait_listening(proc: BotProcess, port: int, deadline: float | None = None) -> None:
    """Until the bot's own HTTP server (webhook mode) accepts connections on ``port``;
    fails at once, with the bot's log, if the process has died."""
    deadline = time.monotonic() + 60 if deadline is None else deadline
    while time.monotonic() < deadline:
        assert proc.process is not None
        assert proc.process.poll() is None, proc.log()[-3000:]
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(proc.log()[-2000:])
