"""The numba kernels themselves; imported only through ``cnnlab/_ops/_kernels.py``.

Arrays are (P, H, W, Q), C-contiguous: Q is the batch for conv's batch-last layout (the inner
loop then runs over contiguous images), or 1 for an NCHW input.
"""

from __future__ import annotations

from numba import njit


@njit(cache=True, nogil=True)
def max_pool_fwd_arg(x, kh, kw, sh, sw, dh, dw, out, arg):  # pragma: no cover (compiled)
    """Running maximum and the first maximum's offset, exactly as the NumPy path: the value
    is np.maximum's (NaN propagates), the offset moves only on a strict improvement."""
    P, _, _, Q = x.shape
    _, Ho, Wo, _ = out.shape
    for p in range(P):
        for oh in range(Ho):
            h0 = oh * sh
            for ow in range(Wo):
                w0 = ow * sw
                for q in range(Q):
                    out[p, oh, ow, q] = x[p, h0, w0, q]
                    arg[p, oh, ow, q] = 0
                for i in range(kh):
                    for j in range(kw):
                        o = i * kw + j
                        if o == 0:
                            continue
                        h, w = h0 + i * dh, w0 + j * dw
                        for q in range(Q):
                            v = x[p, h, w, q]
                            cur = out[p, oh, ow, q]
                            if v > cur:
                                out[p, oh, ow, q] = v
                                arg[p, oh, ow, q] = o
                            elif v != v:
                                out[p, oh, ow, q] = v


@njit(cache=True, nogil=True)
def max_pool_fwd(x, kh, kw, sh, sw, dh, dw, out):  # pragma: no cover (compiled)
    P, _, _, Q = x.shape
    _, Ho, Wo, _ = out.shape
    for p in range(P):
        for oh in range(Ho):
            h0 = oh * sh
            for ow in range(Wo):
                w0 = ow * sw
                for q in range(Q):
                    out[p, oh, ow, q] = x[p, h0, w0, q]
                for i in range(kh):
                    for j in range(kw):
                        if i == 0 and j == 0:
                            continue
                        h, w = h0 + i * dh, w0 + j * dw
                        for q in range(Q):
                            v = x[p, h, w, q]
                            cur = out[p, oh, ow, q]
                            if v > cur or v != v:
                                out[p, oh, ow, q] = v


@njit(cache=True, nogil=True)
def max_pool_bwd(g, arg, kh, kw, sh, sw, dh, dw, gp):  # pragma: no cover (compiled)
    P, Ho, Wo, Q = g.shape
    for p in range(P):
        for oh in range(Ho):
            for ow in range(Wo):
                for q in range(Q):
                    o = arg[p, oh, ow, q]
                    i = o // kw
                    gp[p, oh * sh + i * dh, ow * sw + (o - i * kw) * dw, q] += g[p, oh, ow, q]
