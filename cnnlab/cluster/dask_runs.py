"""Many independent runs as Dask tasks (``--cluster local[:WORKERS[xTHREADS]] | tcp://HOST:PORT``).

Each run (a ``cnnlab.reproduce.runner.Job``) is one task. A task trains in a temporary
directory on its worker with the run's own seed, then hands back its metrics and the bytes of
every file of its run directory; the client writes them under its ``--runs`` folder. So the
numbers do not depend on which worker ran a task or when, and the workers need no shared file
system (with one, the files could be written there directly; see docs/design/scaling.md).

A local cluster starts ``WORKERS`` processes with one task each (``threads_per_worker=1``) and
gives each ``THREADS`` BLAS threads (default: cores / workers), set in the worker's environment
before NumPy loads, so the machine is not oversubscribed. A remote scheduler's workers are
started by their owner (``dask worker tcp://HOST:PORT --nworkers N --nthreads 1``, with
``OMP_NUM_THREADS``/``OPENBLAS_NUM_THREADS`` set).

A worker that dies mid-run: the scheduler gives its task to another worker (up to
``distributed.scheduler.allowed-failures`` deaths); a task that raises is retried twice
(``retries=2``). The run is seeded, so a retried run gives the numbers it would have given.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

TOPIC = "cnnlab-progress"
RETRIES = 2
_LOCAL = re.compile(r"^local(?::(\d+)(?:x(\d+))?)?$")
_REMOTE = re.compile(r"^(tcp|tls|ws|wss|inproc)://[^\s/]+(:\d+)?/?$")


def parse_cluster(spec: str) -> dict:
    """``{"kind": "local", "workers", "threads"}`` or ``{"kind": "remote", "address"}``.

    Raises:
        ValueError: neither ``local``, ``local:WORKERS``, ``local:WORKERSxTHREADS`` nor a
            scheduler address such as ``tcp://HOST:PORT``.
    """
    text = str(spec).strip()
    m = _LOCAL.match(text)
    if m:
        cores = os.cpu_count() or 1
        workers = int(m.group(1)) if m.group(1) else cores
        if workers < 1 or (m.group(2) is not None and int(m.group(2)) < 1):
            raise ValueError(f"expected local:WORKERS[xTHREADS] with at least 1 worker and 1 thread, got {spec!r}")
        threads = int(m.group(2)) if m.group(2) else max(cores // workers, 1)
        return {"kind": "local", "workers": workers, "threads": threads}
    if _REMOTE.match(text):
        return {"kind": "remote", "address": text}
    raise ValueError(f"expected local, local:WORKERS, local:WORKERSxTHREADS or a scheduler address "
                     f"tcp://HOST:PORT, got {spec!r}")


def blas_environment(threads: int) -> dict:
    """The variables that fix the BLAS/OpenMP thread count of a process started with them."""
    n = str(int(threads))
    return {"OMP_NUM_THREADS": n, "OPENBLAS_NUM_THREADS": n, "MKL_NUM_THREADS": n, "VECLIB_MAXIMUM_THREADS": n}


def connect(spec: str, *, timeout: float = 5.0):
    """``(client, local_cluster_or_None)`` for a ``--cluster`` value; the caller closes both.

    Raises:
        ConnectionError: the scheduler at the address does not answer within ``timeout`` s.
    """
    from distributed import Client, LocalCluster

    where = parse_cluster(spec)
    if where["kind"] == "local":
        cluster = LocalCluster(n_workers=where["workers"], threads_per_worker=1, processes=True,
                               dashboard_address=None, env=blas_environment(where["threads"]),
                               silence_logs=50)
        return Client(cluster), cluster
    try:
        return Client(where["address"], timeout=f"{timeout}s"), None
    except (OSError, TimeoutError) as e:
        raise ConnectionError(f"--cluster: no Dask scheduler answers at {where['address']} "
                              f"({type(e).__name__}: {e}); start one with `dask scheduler` or use --cluster local"
                              ) from None


def _send(msg: dict) -> None:
    """Publish a progress event to the client (a no-op outside a Dask worker)."""
    try:
        from distributed import get_worker

        get_worker().log_event(TOPIC, msg)
    except (ImportError, ValueError):
        pass


def train_job(job):
    """The task: train ``job`` in a temporary directory and return its result with the run's files."""
    from ..reproduce.runner import run_job
    from .progress import EpochReport

    _send({"key": job.key, "event": "start", "pid": os.getpid()})
    with tempfile.TemporaryDirectory(prefix="cnnlab-task-") as tmp:
        result = run_job(job, tmp, callbacks=[EpochReport(job.key, _send)])
        run = Path(tmp) / job.key
        result.files = {p.name: p.read_bytes() for p in sorted(run.iterdir()) if p.is_file()}
    return result


def write_run(result, runs_root: str) -> Path:
    """Write a run's files, as a worker made them, into ``runs_root/<key>`` here."""
    from ..checkpoint import atomic_write_bytes
    from ..train.run_dir import create_run_dir, set_latest

    run = create_run_dir(Path(runs_root) / result.key, force=True)
    for name, data in (result.files or {}).items():
        atomic_write_bytes(run / name, data)
    set_latest(run, runs_root)
    result.files = None
    return run


def run_on_dask(jobs: list, runs_root: str, cluster: str, *, log=print, display=None,
                stop_on_error: bool = True) -> dict:
    """Submit every job, collect ``{key: JobResult}`` as they finish, write their run directories.

    A job that still fails after its retries: with ``stop_on_error`` its error is raised once
    every other job has finished; otherwise its result is the exception.
    """
    from distributed import as_completed

    from ..reproduce.runner import _log_result

    client, local = connect(cluster)
    results, first_error = {}, None
    try:
        if display is not None:
            client.subscribe_topic(TOPIC, lambda event: display.event(event[1]))
        by_key = {j.key: j for j in jobs}
        futures = [client.submit(train_job, j, key=f"cnnlab-{j.key}", retries=RETRIES, pure=False) for j in jobs]
        for future in as_completed(futures):
            key = future.key[len("cnnlab-"):]
            try:
                result = future.result()
            except Exception as e:  # the run's own error, after its retries
                if display is not None:
                    display.failed(key)
                results[key] = e
                first_error = first_error or e
                continue
            write_run(result, runs_root)
            results[key] = result
            if display is not None:
                display.finished(key)
            _log_result(by_key[key], result, log)
    finally:
        if display is not None:
            display.close()
        client.close()
        if local is not None:
            local.close()
    if stop_on_error and first_error is not None:
        raise first_error
    return results
