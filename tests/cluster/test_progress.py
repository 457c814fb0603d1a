"""The sweep's one progress display: counts, per-run epochs, a worker's next task, throttling."""

import io

from cnnlab.cluster.progress import SweepDisplay


def test_the_line_counts_runs_and_shows_each_running_runs_epoch():
    out = io.StringIO()
    d = SweepDisplay(["a", "b", "c"], stream=out, tty=False)
    d.event({"key": "a", "event": "start", "pid": 11})
    d.event({"key": "b", "event": "start", "pid": 12})
    d.event({"key": "a", "event": "epoch", "epoch": 2, "epochs": 5})
    assert d.line() == ("runs: 0/3 finished, 2 running, 0 failed, 1 waiting  | a epoch 2/5; b epoch 0/?")
    # worker 11 starts c: a is done training there, though its result has not come back yet
    d.event({"key": "c", "event": "start", "pid": 11})
    assert d.counts() == {"finished": 1, "running": 2, "failed": 0, "waiting": 0}
    d.event({"key": "a", "event": "epoch", "epoch": 3, "epochs": 5})  # late news of a run done: ignored
    d.finished("a")
    d.failed("b")
    assert d.line() == "runs: 1/3 finished, 1 running, 1 failed, 0 waiting  | c epoch 0/?"


def test_a_restarted_run_counts_its_starts():
    d = SweepDisplay(["a"], stream=io.StringIO(), tty=False)
    d.event({"key": "a", "event": "start", "pid": 11})
    d.event({"key": "a", "event": "epoch", "epoch": 3, "epochs": 9})
    d.event({"key": "a", "event": "start", "pid": 12})  # its worker died; another took it over
    assert d.runs["a"]["starts"] == 2 and d.runs["a"]["epoch"] == 0 and d.runs["a"]["pid"] == 12


def test_a_log_file_gets_a_line_per_change_of_counts_not_per_epoch():
    out = io.StringIO()
    d = SweepDisplay(["a", "b"], stream=out, tty=False)
    d.started("a")
    for epoch in range(1, 6):
        d.event({"key": "a", "event": "epoch", "epoch": epoch, "epochs": 5})
    d.finished("a")
    lines = out.getvalue().splitlines()
    assert len(lines) == 2 and lines[-1].startswith("runs: 1/2 finished, 0 running")
    tty = io.StringIO()
    d = SweepDisplay(["a"], stream=tty, tty=True)
    d.started("a")
    d.event({"key": "a", "event": "epoch", "epoch": 1, "epochs": 5})
    assert tty.getvalue().count("\r") == 2 and "a epoch 1/5" in tty.getvalue()  # redrawn in place
