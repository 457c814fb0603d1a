"""Run under ``mpirun -n 2`` by test_mpi.py: a small BatchNorm network trained data-parallel
with ``fit`` (per-rank or synchronised statistics), then, on rank 0, the same training in one
process on the global batches. Prints one JSON line on rank 0."""

import json
import sys

import numpy as np

import cnnlab
from cnnlab import nn, optim
from cnnlab.cluster.mpi import DataParallel
from cnnlab.train.loop import fit
from cnnlab.utils.data import DataLoader, TensorDataset


def model():
    cnnlab.manual_seed(0)
    return nn.Sequential(nn.Linear(6, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Linear(16, 3))


def weights(m):
    return {k: v.detach().numpy().copy() for k, v in m.state_dict().items()}


def main():
    sync = sys.argv[1] == "sync"
    rng = np.random.default_rng(1)
    x = rng.standard_normal((96, 6)).astype(np.float32)
    y = (x[:, 0] + x[:, 1] > 0).astype(np.int64) + (x[:, 2] > 1)
    dp = DataParallel(sync_batchnorm=sync)
    m = model()
    dp.prepare(m)
    fit(m, dp.loader(x, y, 16, seed=5), epochs=5, optimizer=optim.SGD(m.parameters(), lr=0.1, momentum=0.9),
        callbacks=[dp.averager(5)], log=None, plots=False)
    mine = weights(m)
    everyone = dp.comm.gather(mine, root=0)
    if not dp.is_root:
        return
    same = all(np.array_equal(everyone[1][k], mine[k]) for k in mine)  # the ranks hold one model
    ref = model()
    fit(ref, DataLoader(TensorDataset(x, y), batch_size=16, shuffle=True, generator=np.random.default_rng(5)),
        epochs=5, optimizer=optim.SGD(ref.parameters(), lr=0.1, momentum=0.9), log=None, plots=False)
    single = weights(ref)
    diff = {k: float(np.max(np.abs(mine[k].astype(np.float64) - single[k]))) for k in mine}
    print(json.dumps({"ranks_equal": same, "max_abs_diff": diff}))


if __name__ == "__main__":
    main()
