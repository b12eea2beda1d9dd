"""Keeps `make up`'s processes running, as Kubernetes does in a cluster: a process that dies is
started again after a pause (1 s, doubling up to 30 s while it keeps dying; back to 1 s once it
has stayed up a minute), and the console says so. Ctrl-C (or SIGTERM) stops them all, each
gracefully: SIGINT once, SIGKILL after 15 s.

Each child runs in its own session, so a Ctrl-C reaches only this supervisor, which passes it on
once (a second SIGINT would make uvicorn skip its graceful shutdown).
"""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final

FIRST_PAUSE_S: Final = 1.0
LONGEST_PAUSE_S: Final = 30.0
STEADY_AFTER_S: Final = 60.0  # up this long: the next death starts the pauses over
STOP_GRACE_S: Final = 15.0


@dataclass
class Child:
    name: str
    command: Sequence[str]
    env: Mapping[str, str] | None = None
    process: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    pause_s: float = FIRST_PAUSE_S
    restart_at: float | None = None  # set while it is dead and waiting to be started again

    def start(self) -> None:
        self.process = subprocess.Popen(self.command, env=self.env, start_new_session=True)
        self.started_at = time.monotonic()
        self.restart_at = None


@dataclass
class Supervisor:
    children: list[Child]

    def _say(self, message: str) -> None:
        print(message, flush=True)

    def run(self, on_started: Callable[[], None] | None = None) -> None:
        """Start every child and keep them running until Ctrl-C or SIGTERM."""
        signal.signal(signal.SIGTERM, signal.default_int_handler)  # stop on TERM as on Ctrl-C
        try:
            for child in self.children:
                child.start()
            if on_started is not None:
                on_started()
            while True:
                self.tend(time.monotonic())
                time.sleep(0.2)
        except KeyboardInterrupt:
            pass
        finally:
            self.stop()

    def tend(self, now: float) -> None:
        """Notice the children that died; start again those whose pause is over."""
        for child in self.children:
            process = child.process
            if child.restart_at is None and process is not None \
                    and process.poll() is not None:
                if now - child.started_at >= STEADY_AFTER_S:
                    child.pause_s = FIRST_PAUSE_S
                child.restart_at = now + child.pause_s
                self._say(f"{child.name} exited with code {process.returncode}; "
                          f"starting it again in {child.pause_s:g} s")
                child.pause_s = min(child.pause_s * 2, LONGEST_PAUSE_S)
            elif child.restart_at is not None and now >= child.restart_at:
                child.start()
                assert child.process is not None
                self._say(f"{child.name} started again (pid {child.process.pid})")

    def stop(self) -> None:
        running = [c.process for c in self.children
                   if c.process is not None and c.process.poll() is None]
        for process in running:
            process.send_signal(signal.SIGINT)
        for process in running:
            try:
                process.wait(timeout=STOP_GRACE_S)
            except subprocess.TimeoutExpired:
                process.kill()
