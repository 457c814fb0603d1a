"""One progress display for many runs: how many finished, run, failed, and each run's epoch.

The display is fed by whoever runs the jobs: the serial loop calls ``started``/``finished``
itself; on Dask the workers publish events (``cnnlab.cluster.dask_runs``) that the client
forwards here. On a terminal it redraws one line; elsewhere it prints a line per change.
"""

from __future__ import annotations

import sys
import threading
import time

from ..train.callbacks import Callback


class EpochReport(Callback):
    """Calls ``send({"key", "event": "epoch", "epoch", "epochs"})`` after every epoch."""

    def __init__(self, key: str, send):
        self.key, self.send = key, send

    def on_epoch_end(self, state, record):
        self.send({"key": self.key, "event": "epoch", "epoch": int(record["epoch"]), "epochs": int(state.epochs)})


class SweepDisplay:
    """The state of every run of a sweep (or of ``reproduce --cluster``) and its one-line view.

    Args:
        keys: the runs, by name.
        stream: where the line goes (default stderr).
        tty: redraw in place (default: when ``stream`` is a terminal).
    """

    QUIET_S = 10.0

    def __init__(self, keys, stream=None, tty: bool | None = None):
        self.runs = {k: {"status": "waiting", "epoch": 0, "epochs": None, "starts": 0} for k in keys}
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty() if tty is None else tty
        self.lock = threading.Lock()
        self.last, self.last_counts, self.last_time = "", None, 0.0

    # ---------------------------------------------------------------- events
    def event(self, msg: dict) -> None:
        """A message from a run: ``{"key", "event": "start" | "epoch", ...}``."""
        with self.lock:
            run = self.runs.get(msg.get("key"))
            if run is None or run["status"] in ("finished", "failed", "trained"):
                return
            if msg.get("event") == "start":
                # A worker starts its next task only when its last one is done: that run has
                # finished training, though its result may not have reached us yet.
                pid = msg.get("pid")
                for other in self.runs.values():
                    if other is not run and other["status"] == "running" and pid is not None and other.get("pid") == pid:
                        other["status"] = "trained"
                run.update(status="running", epoch=0, epochs=None, starts=run["starts"] + 1, pid=msg.get("pid"))
            elif msg.get("event") == "epoch":
                run.update(status="running", epoch=msg["epoch"], epochs=msg["epochs"])
        self.draw()

    def started(self, key: str) -> None:
        self.event({"key": key, "event": "start"})

    def finished(self, key: str) -> None:
        self._set(key, "finished")

    def failed(self, key: str) -> None:
        self._set(key, "failed")

    def _set(self, key, status):
        with self.lock:
            self.runs[key]["status"] = status
        self.draw()

    def callback(self, key: str) -> Callback:
        """A training callback that reports ``key``'s epochs to this display (same process)."""
        return EpochReport(key, self.event)

    # ---------------------------------------------------------------- view
    def counts(self) -> dict:
        with self.lock:
            statuses = [r["status"] for r in self.runs.values()]
        counts = {s: statuses.count(s) for s in ("finished", "running", "failed", "waiting")}
        counts["finished"] += statuses.count("trained")
        return counts

    def line(self) -> str:
        c = self.counts()
        with self.lock:
            running = [f"{k} epoch {r['epoch']}/{r['epochs'] or '?'}" for k, r in self.runs.items()
                       if r["status"] == "running"]
        head = (f"runs: {c['finished']}/{len(self.runs)} finished, {c['running']} running, "
                f"{c['failed']} failed, {c['waiting']} waiting")
        return head + ("  | " + "; ".join(running) if running else "")

    def draw(self) -> None:
        """Redraw the line on a terminal; elsewhere print it when the counts change, or the
        epochs at most every ``QUIET_S`` seconds (a log file stays short)."""
        text, counts = self.line(), self.counts()
        if text == self.last:
            return
        now = time.monotonic()
        if not self.tty and counts == self.last_counts and now - self.last_time < self.QUIET_S:
            return
        self.last, self.last_counts, self.last_time = text, counts, now
        self.stream.write(("\r" + text[:200] + "\x1b[K") if self.tty else text + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()
