"""Starts Azurite (the Azure Storage emulator, from the project's node_modules) and waits for it."""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path
from typing import IO, Any

ROOT = Path(__file__).resolve().parent.parent
AZURITE = ROOT / "node_modules" / ".bin" / "azurite"
ACCOUNT_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


def die_with_parent() -> None:
    """preexec_fn: the child gets SIGTERM when the process that started it dies (Linux), so a
    killed test run or `make run` never leaves an emulator or a runner behind."""
    try:
        import ctypes
        import signal as _signal

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, _signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def connection_string(blob: int, queue: int, table: int) -> str:
    base = "http://127.0.0.1:{}/devstoreaccount1"
    return (
        f"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={ACCOUNT_KEY};"
        f"BlobEndpoint={base.format(blob)};QueueEndpoint={base.format(queue)};TableEndpoint={base.format(table)};"
    )


def wait_for_port(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout}s")


class Azurite:
    """An Azurite process on the given (or free) ports; in memory unless a data folder is given."""

    def __init__(self, blob: int = 0, queue: int = 0, table: int = 0, location: Path | None = None) -> None:
        self.ports = {"blob": blob or free_port(), "queue": queue or free_port(), "table": table or free_port()}
        self.location = location
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def connection_string(self) -> str:
        return connection_string(self.ports["blob"], self.ports["queue"], self.ports["table"])

    def start(self, log_file: IO[Any] | None = None) -> Azurite:
        if not AZURITE.exists():
            raise FileNotFoundError(f"{AZURITE} is missing: run `npm ci` (make does it)")
        args = [
            str(AZURITE),
            "--silent",
            "--skipApiVersionCheck",
            "--loose",
            "--disableProductStyleUrl",
            "--blobHost",
            "127.0.0.1",
            "--queueHost",
            "127.0.0.1",
            "--tableHost",
            "127.0.0.1",
            "--blobPort",
            str(self.ports["blob"]),
            "--queuePort",
            str(self.ports["queue"]),
            "--tablePort",
            str(self.ports["table"]),
        ]
        if self.location:
            self.location.mkdir(parents=True, exist_ok=True)
            args += ["--location", str(self.location)]
        else:
            args += ["--inMemoryPersistence"]
        self.process = subprocess.Popen(
            args,
            stdout=log_file or subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=die_with_parent,
        )
        for port in self.ports.values():
            wait_for_port(port)
        return self

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
