"""``SyncBatchNorm``: BatchNorm whose training statistics are those of the whole global batch.

In data-parallel training each rank sees only its shard. Plain BatchNorm normalises with the
shard's mean and variance (PyTorch's DDP default); ``SyncBatchNorm`` sums, per channel, the
shard's values, squared values and count over all ranks (one ``Allreduce`` in the forward
pass, one for its gradient in the backward pass) and normalises with the global batch's
statistics, so N ranks compute what one process computes on the global batch.

    mean = Σ_r Σ x / Σ_r n,   var = Σ_r Σ x² / Σ_r n − mean²   (biased, as in training)
"""

from __future__ import annotations

import numpy as np

from ..autograd.function import Function
from ..nn.modules.normalization import _BatchNorm


class AllreduceSum(Function):
    """The sum of an array over every rank; its gradient is the sum of the gradients."""

    def forward(self, a, comm=None):
        from mpi4py import MPI

        self.comm = comm
        out = np.array(a, copy=True, order="C")
        comm.Allreduce(MPI.IN_PLACE, out, op=MPI.SUM)
        return out

    def backward(self, grad):
        from mpi4py import MPI

        out = np.array(grad, copy=True, order="C")
        self.comm.Allreduce(MPI.IN_PLACE, out, op=MPI.SUM)
        return out


class SyncBatchNorm(_BatchNorm):
    """A BatchNorm layer normalising with the statistics of the global batch over ``comm``.

    Made by ``convert_sync_batchnorm`` from an existing BatchNorm1d/2d (same parameters and
    buffers); in eval mode it is that BatchNorm (running statistics).
    """

    def forward(self, input):
        if not self.training:
            return super().forward(input)
        import cnnlab
        from ..autograd.grad_mode import no_grad

        c = self.num_features
        if input.ndim not in self._expected_dims or input.shape[1] != c:
            raise ValueError(f"{self!r}: expected input of shape {self._shape_text.format(C=c)}, "
                             f"got {tuple(input.shape)}")
        dims = tuple(d for d in range(input.ndim) if d != 1)
        n = input.numel() // c
        count = cnnlab.from_numpy(np.full(1, n, dtype=input.detach().numpy().dtype))
        total = AllreduceSum.apply(cnnlab.cat([input.sum(dim=dims), (input * input).sum(dim=dims), count]),
                                   comm=self.comm)
        size = float(total[2 * c].item())
        mean = total[:c] / size
        var = total[c:2 * c] / size - mean * mean
        shape = (1, c) + (1,) * (input.ndim - 2)
        out = (input - mean.reshape(shape)) / (var.reshape(shape) + self.eps).sqrt()
        if self.weight is not None:
            out = out * self.weight.reshape(shape)
        if self.bias is not None:
            out = out + self.bias.reshape(shape)
        if self.track_running_stats:
            with no_grad():
                tracked = self.num_batches_tracked.detach().numpy()
                tracked += 1
                m = 1.0 / float(tracked) if self.momentum is None else self.momentum
                rm, rv = self.running_mean.detach().numpy(), self.running_var.detach().numpy()
                rm *= 1 - m
                rm += m * mean.detach().numpy()
                rv *= 1 - m
                rv += m * var.detach().numpy() * (size / max(size - 1, 1))
        return out


def convert_sync_batchnorm(model, comm) -> int:
    """Turn every BatchNorm layer of ``model`` into a ``SyncBatchNorm`` in place (the same
    parameter and buffer tensors, so an optimizer built afterwards sees them); returns how many."""
    found = 0
    for module in model.modules():
        if isinstance(module, _BatchNorm) and not isinstance(module, SyncBatchNorm):
            expected, text = module._expected_dims, module._shape_text
            module.__class__ = SyncBatchNorm
            module._expected_dims, module._shape_text, module.comm = expected, text, comm
            found += 1
    return found
