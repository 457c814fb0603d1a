"""Data-parallel training of one model on MPI ranks (``mpirun -n N cnnlab train ... --distributed``).

Every rank builds the same model from the same seed (rank 0's weights are broadcast once to
make sure) and walks the same shuffled order of the training set. Each global batch of
``--batch-size`` samples is cut into ``N`` contiguous shards, one per rank. A rank computes the
gradient of its shard's mean loss; ``GradientAverager`` then packs every gradient, scaled by
the shard's size, into one flat float32 buffer and sums it over the ranks with a single
``Allreduce``; dividing by the global batch size gives the gradient of the global batch's mean
loss, the one a single process computes. Every rank takes the same optimizer step, so the
ranks hold the same weights throughout; rank 0 alone writes the checkpoint, logs and plots.

Randomness: the data order is drawn from a generator seeded with the run's seed (the same on
every rank, saved in the checkpoint); dropout masks are drawn from a stream reseeded before
every step from (seed, step, rank), so a resumed run draws the masks the uninterrupted run did.

BatchNorm: each rank normalises with its own shard's batch statistics (as PyTorch's
DistributedDataParallel does); the running statistics are averaged over the ranks in the same
Allreduce, so every rank evaluates the same model. ``sync_batchnorm=True`` (``--sync-batchnorm``)
instead normalises with the statistics of the whole global batch (``SyncBatchNorm``).
"""

from __future__ import annotations

import os

import numpy as np

from ..train.callbacks import Callback

LAUNCH = "mpirun -n 2 cnnlab train MODEL --data DATASET --distributed"
_MPI_ENV = ("OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK", "MPI_LOCALNRANKS", "MV2_COMM_WORLD_SIZE")


class NotUnderMPI(RuntimeError):
    """``--distributed`` in a process that ``mpirun`` did not start."""


class PeerFailed(RuntimeError):
    """Another rank failed while setting up; this rank stops without a message of its own."""


def under_mpi() -> bool:
    """Whether an MPI launcher (``mpirun``/``mpiexec``/``srun``) started this process."""
    return any(k in os.environ for k in _MPI_ENV)


class DataParallel:
    """This process's place in the job (``rank`` of ``size``) and the collectives training needs.

    Args:
        comm: an mpi4py communicator (default ``MPI.COMM_WORLD``).
        sync_batchnorm: normalise BatchNorm with the global batch's statistics.

    Raises:
        NotUnderMPI: ``comm`` is not given and no MPI launcher started this process.
    """

    def __init__(self, comm=None, sync_batchnorm: bool = False):
        if comm is None:
            if not under_mpi():
                raise NotUnderMPI(f"--distributed runs one process per rank under MPI; launch it with `{LAUNCH}` "
                                  "(or mpiexec/srun), or leave out --distributed")
            from mpi4py import MPI

            comm = MPI.COMM_WORLD
        self.comm = comm
        self.rank, self.size = comm.Get_rank(), comm.Get_size()
        self.sync_batchnorm = sync_batchnorm

    @property
    def is_root(self) -> bool:
        return self.rank == 0

    # ------------------------------------------------------------ set-up
    def agree(self, error: BaseException | None) -> None:
        """A collective check after set-up: if any rank failed, every rank stops here.

        The failing ranks re-raise their own error (marked ``all_ranks`` when every rank
        failed, so only rank 0 needs to say it); the others raise ``PeerFailed``.
        """
        failed = self.comm.allgather(error is not None)
        if error is not None:
            error.all_ranks = all(failed)
            error.agreed = True
            raise error
        if any(failed):
            raise PeerFailed(f"rank(s) {', '.join(str(r) for r, f in enumerate(failed) if f)} failed while setting up")

    def broadcast_parameters(self, model) -> None:
        """Rank 0's weights and buffers on every rank (they are equal already when seeded alike)."""
        for t in [*model.parameters(), *model.buffers()]:
            a = t.detach().numpy()
            self.comm.Bcast(a, root=0)

    def prepare(self, model) -> None:
        """Swap BatchNorm for SyncBatchNorm when asked, and broadcast rank 0's weights."""
        if self.sync_batchnorm:
            from .sync_batchnorm import convert_sync_batchnorm

            convert_sync_batchnorm(model, self.comm)
        self.broadcast_parameters(model)

    def loader(self, x: np.ndarray, y: np.ndarray, batch_size: int, seed: int) -> "ShardedLoader":
        return ShardedLoader(x, y, batch_size, np.random.default_rng(seed), self.rank, self.size)

    def averager(self, seed: int) -> "GradientAverager":
        return GradientAverager(self, seed)


class ShardedLoader:
    """This rank's shard of every global batch of a shuffled pass over ``(x, y)``.

    The permutation is drawn like ``DataLoader(..., shuffle=True, generator=generator)`` draws
    it, so the global batches are those of single-process training with the same seed. A rank
    whose shard of a short last batch is empty gets one sample with weight 0 (``shard_size``
    0), so every rank still takes part in the step's Allreduce.
    """

    def __init__(self, x, y, batch_size: int, generator: np.random.Generator, rank: int, size: int):
        self.x, self.y, self.batch_size = x, y, int(batch_size)
        self.generator, self.rank, self.size = generator, rank, size
        self.shard_size, self.global_size = 0, 0

    def __len__(self) -> int:
        return -(-len(self.x) // self.batch_size)

    def __iter__(self):
        from .._tensor import from_numpy

        order = self.generator.permutation(len(self.x))
        for start in range(0, len(order), self.batch_size):
            batch = order[start:start + self.batch_size]
            mine = np.array_split(batch, self.size)[self.rank]
            self.global_size, self.shard_size = len(batch), len(mine)
            if not len(mine):
                mine = batch[:1]
            yield from_numpy(self.x[mine]), from_numpy(self.y[mine])


class GradientAverager(Callback):
    """Before every optimizer step: one ``Allreduce`` of all gradients (and of the BatchNorm
    running statistics) in a flat float32 buffer; reseeds the dropout stream for the next step."""

    def __init__(self, dp: DataParallel, seed: int):
        self.dp, self.seed = dp, int(seed)
        self.buffer = None

    def _reseed(self, step: int) -> None:
        from ..random import manual_seed

        manual_seed(int(np.random.SeedSequence([self.seed, step, self.dp.rank]).generate_state(1)[0]))

    runs_first = True  # fit calls its on_epoch_end before the checkpoint and the logs see the record

    def on_train_begin(self, state):
        self.step = state.step  # steps done (a resumed run continues its count)
        self._reseed(self.step + 1)

    def on_epoch_begin(self, state):
        self.sums = []  # per step: this rank's loss × samples, correct predictions, samples

    def on_batch_end(self, state, batch):
        n = getattr(state.train_loader, "shard_size", batch["size"])
        correct = 0.0 if batch["accuracy"] is None or not n else batch["accuracy"] * batch["size"]
        self.sums.append((batch["loss"] * n, correct, n))

    def on_epoch_end(self, state, record):
        """The epoch's training loss and accuracy (and each step's) of the whole global
        batches, not of this rank's shards, and the images/s of all ranks: one Allreduce
        per epoch."""
        from mpi4py import MPI

        speed = float(record.get("train_images_per_s") or 0.0)  # the ranks run side by side: speeds add up
        sums = np.array([*self.sums, (speed, 0.0, 0.0)], np.float64).reshape(-1, 3)
        self.dp.comm.Allreduce(MPI.IN_PLACE, sums, op=MPI.SUM)
        if "train_images_per_s" in record:
            record["train_images_per_s"] = float(sums[-1, 0])
        loss, correct, count = sums[:-1, 0], sums[:-1, 1], sums[:-1, 2]
        for entry, l_, c, n in zip(state.epoch_steps, loss, correct, count):
            entry["loss"] = float(l_ / n)
            if entry["accuracy"] is not None:
                entry["accuracy"] = float(c / n)
        record["train_loss"] = float(loss.sum() / count.sum())
        if "train_accuracy" in record:
            record["train_accuracy"] = float(correct.sum() / count.sum())
        if "train_count" in record:
            record["train_count"] = int(count.sum())

    def on_before_step(self, state):
        loader = state.train_loader
        grads = [p.grad.detach().numpy() for p in state.model.parameters() if p.grad is not None]
        stats = [b.detach().numpy() for b in state.model.buffers() if b.dtype.is_floating_point]
        sizes = [a.size for a in grads + stats]
        total = sum(sizes)
        if self.buffer is None or self.buffer.size != total:
            self.buffer = np.empty(total, np.float32)
        buf, at = self.buffer, 0
        # my share of the global batch's mean; a loader that does not shard (each rank its own
        # batches of equal size) weighs every rank alike
        shard, whole = getattr(loader, "shard_size", None), getattr(loader, "global_size", None)
        weight = np.float32(shard / whole if shard is not None and whole else 1 / self.dp.size)
        for a in grads:
            np.multiply(a, weight, out=buf[at:at + a.size].reshape(a.shape))
            at += a.size
        for a in stats:  # running statistics: the plain mean over ranks
            np.multiply(a, np.float32(1 / self.dp.size), out=buf[at:at + a.size].reshape(a.shape))
            at += a.size
        from mpi4py import MPI

        self.dp.comm.Allreduce(MPI.IN_PLACE, buf, op=MPI.SUM)
        at = 0
        for a in grads + stats:  # (a gradient may be a transposed view: write through its shape)
            a[...] = buf[at:at + a.size].reshape(a.shape)
            at += a.size
        self.step += 1
        self._reseed(self.step + 1)
