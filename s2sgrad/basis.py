"""Jacobians and Hessians from a compiled linear part, block by block.

``hessian`` and ``jacobian`` (:mod:`s2sgrad.higher`) evaluate the primal part
of a linearised program once, then push basis vectors through its linear
part: the tangent program (columns ``J e_k``) or the pullback (rows
``e_k^T J``).  This module does the pushing: all basis vectors at once
through the *batched* linear part (cut into chunks that keep intermediates
small), or one basis vector per call where there is no batched version or
it fails at run time (the loop then reports any genuine error: never a wrong
number).

NumPy only, no s2sgrad imports: exported modules (:mod:`s2sgrad.export`)
copy these functions, so an exported ``hessian`` computes exactly what the
in-process one does.  ``linear``/``batched`` are plain callables (the
in-process caller passes shape-specialising ones).
"""
import numpy as np


def block_dtype(a, b):
    """The dtype of a Jacobian block d a / d b (float64 for non-float leaves)."""
    dt = np.result_type(a, b)
    return dt if np.issubdtype(dt, np.inexact) else np.dtype(np.float64)


def block_value(m, row_leaf, col_leaf):
    """A Jacobian block of shape row.shape + col.shape (a float for scalar float leaves)."""
    shape = np.shape(row_leaf) + np.shape(col_leaf)
    m = m.reshape(shape)
    if shape == () and isinstance(col_leaf, float) and not isinstance(col_leaf, np.floating):
        return float(m)
    return m


def unit(leaves, b, k):
    """Tangents that are zero everywhere except 1 at flat position ``k`` of leaf ``b``."""
    out = []
    for j, x in enumerate(leaves):
        if isinstance(x, float) and not isinstance(x, np.floating):
            out.append(1.0 if j == b else 0.0)
            continue
        z = np.zeros(np.shape(x), dtype=block_dtype(x, x))
        if j == b:
            z.reshape(-1)[k] = 1
        out.append(z)
    return out


def batched_to(r, m, shape):
    """A batched result ``(m,) + s`` broadcast to ``(m,) + shape`` (its batch
    axis kept first even where ``s`` has fewer axes than ``shape``)."""
    r = np.asarray(r)
    if r.shape[:1] != (m,) or r.ndim > len(shape) + 1:
        raise ValueError(f"batched result of shape {r.shape}, expected ({m},) + {shape}")
    if r.ndim < len(shape) + 1:
        r = r.reshape(r.shape[:1] + (1,) * (len(shape) + 1 - r.ndim) + r.shape[1:])
    return np.broadcast_to(r, (m,) + tuple(shape))


#: Batches are cut into chunks of about this many elements per batched
#: intermediate (1 MB of float64).  Past ~128 KB glibc's malloc hands NumPy
#: fresh pages from the OS for every temporary (mmap / heap trimming), so
#: large temporaries cost page faults; but the shape-specialised batched code
#: has few of them (the Hessian-vector product of logistic regression is two
#: matrix products and one elementwise product per chunk, its scalar factors
#: and residual-only products computed once: s2sgrad.peephole), and the
#: Python-level work per chunk is the same whatever its size.  Measured with
#: logistic regression (one thread): n = 500, d = 50 took 2.9x the closed form
#: with 8 K-element chunks (16 basis vectors), 2.0x with 128 K (all 50 at
#: once); n = 5000, d = 50: 6.2x (chunks of one: the per-vector loop) and
#: 2.0x (26 per chunk).  A caller offering code specialised to identity seeds
#: (``batched.identity``, :func:`identity_call`) gets one chunk of the whole
#: basis when it fits ``max_elements`` (that code skips the seeds' product:
#: n = 5000, d = 50 went from 2.1-2.3x to 1.2-1.4x the closed form).
BATCH_CACHE_ELEMENTS = 1 << 17
#: At least this many basis vectors per chunk ...
BATCH_MIN_CHUNK = 1
#: ... and never more than this many elements per batched intermediate.
BATCH_ELEMENTS = 1 << 22


def chunk_size(n, seeds_like, outs_like, residuals, hints=(), cache_elements=BATCH_CACHE_ELEMENTS,
               min_chunk=BATCH_MIN_CHUNK, max_elements=BATCH_ELEMENTS):
    """How many basis vectors go in one batched call.  Every batched
    intermediate is (chunk x its size per basis vector); that size is
    estimated from the residuals the batched code combines elementwise with
    batched values (``hints``) and from the seeds and outputs."""
    per = max([1] + [int(np.size(v)) for v in list(seeds_like) + list(outs_like)]
              + [int(np.size(residuals[i])) for i in hints if i < len(residuals)])
    chunk = max(min_chunk, cache_elements // per)
    chunk = min(chunk, max(1, max_elements // per))
    return max(1, min(n, chunk))


def identity_call(batched, seeds_like):
    """``batched.identity`` when the caller offers code specialised to seeds
    that are the whole identity matrix and they can be (one 1-D leaf: its
    seeds are ``np.eye(n)``), else None."""
    eye = getattr(batched, "identity", None)
    if eye is None or len(seeds_like) != 1 or np.ndim(seeds_like[0]) != 1:
        return None
    return eye


def batched_blocks(batched, seeds_like, outs_like, residuals, blocks, columns, chunk):
    """Fill ``blocks`` by calling ``batched(*residuals, *seeds)`` once per
    chunk of ``chunk`` basis vectors.  ``seeds_like``: the leaves the basis
    vectors are shaped like (the ``wrt`` leaves for columns, the outputs for
    rows); ``outs_like``: the leaves the linear part returns.  ``columns``:
    seed ``j`` gives column block ``[a][j]`` (forward) rather than row block
    ``[j][a]`` (reverse).  One chunk of every basis vector of one 1-D leaf
    (the seeds are the identity matrix) goes to ``batched.identity`` when
    there is one (:func:`identity_call`).  Raises whatever the batched code
    raises."""
    sizes = [int(np.size(s)) for s in seeds_like]
    n = sum(sizes)
    offsets = [0]
    for k in sizes:
        offsets.append(offsets[-1] + k)
    dtypes = [block_dtype(s, s) for s in seeds_like]
    eye = identity_call(batched, seeds_like) if chunk >= n else None
    for start in range(0, n, chunk):
        stop = min(n, start + chunk)
        m = stop - start
        seeds = []
        for j, s in enumerate(seeds_like):
            lo, hi = max(start, offsets[j]), min(stop, offsets[j + 1])
            if m == sizes[j] and lo == start == offsets[j]:
                e = np.eye(m, dtype=dtypes[j])     # (the whole leaf's basis)
            else:
                e = np.zeros((m, sizes[j]), dtype=dtypes[j])
                if lo < hi:
                    e[np.arange(lo, hi) - start, np.arange(lo, hi) - offsets[j]] = 1
            seeds.append(e.reshape((m,) + np.shape(s)))
        res = (eye or batched)(*residuals, *seeds)
        for a, (r, o) in enumerate(zip(res, outs_like)):
            shape = np.shape(o)
            if type(r) is not np.ndarray or r.shape != (m,) + shape:
                r = batched_to(r, m, shape)
            r = r.reshape(m, -1)
            for j in range(len(seeds_like)):
                lo, hi = max(start, offsets[j]), min(stop, offsets[j + 1])
                if lo >= hi:
                    continue
                rows = r[lo - start:hi - start]
                cols = slice(lo - offsets[j], hi - offsets[j])
                if rows.dtype.kind == "c" and blocks[a if columns else j][
                        j if columns else a].dtype.kind != "c":
                    # a real block (a real output's tangent, a real argument's
                    # cotangent) of complex intermediates: the real part, as
                    # grad_like / _fix_grad take it (not NumPy's warning cast)
                    rows = rows.real
                if columns:
                    blocks[a][j][:, cols] = rows.T
                else:
                    blocks[j][a][cols, :] = rows


def try_batched(batched, seeds_like, outs_like, residuals, blocks, columns, hints=(), **sizes):
    """:func:`batched_blocks` with the chunk size of :func:`chunk_size`
    (``sizes``: its keyword options).  Returns ``(done, error)``: not done
    (``blocks`` to be filled by the per-vector loop) when there is no batched
    code, the chunks would hold one basis vector each anyway, or the batched
    code raised ``error``."""
    if batched is None:
        return False, None
    n = sum(int(np.size(s)) for s in seeds_like)
    if n == 0:
        return False, None
    chunk = chunk_size(n, seeds_like, outs_like, residuals, hints, **sizes)
    if chunk < n and identity_call(batched, seeds_like) is not None:
        # one chunk of identity seeds: the code specialised to them skips a
        # product by the seeds, and has fewer full-size temporaries than the
        # cache-sized chunks are for; as long as they stay within max_elements
        whole = chunk_size(n, seeds_like, outs_like, residuals, hints,
                           cache_elements=sizes.get("max_elements", BATCH_ELEMENTS),
                           min_chunk=1, max_elements=sizes.get("max_elements", BATCH_ELEMENTS))
        if whole >= n:
            chunk = n
    if chunk == 1 and n > 1:
        return False, None      # one basis vector per call anyway: the plain loop is cheaper
    try:
        batched_blocks(batched, seeds_like, outs_like, residuals, blocks, columns, chunk)
    except Exception as exc:    # noqa: BLE001 -- fall back, never a wrong number
        return False, exc
    return True, None


def forward_blocks(linear, xs, outs_like, residuals, batched=None, hints=(), **sizes):
    """Columns ``J e_k`` from the tangent program ``linear(*residuals,
    *tangents)``: block ``[a][b]`` is (size of output leaf a, size of
    ``wrt`` leaf b).  Returns ``(blocks, path, error)``, ``path`` "batched"
    or "loop" (``error``: why the batched code was not used, if it failed)."""
    blocks = [[np.empty((np.size(o), np.size(x)), dtype=block_dtype(o, x)) for x in xs]
              for o in outs_like]
    done, error = try_batched(batched, xs, outs_like, residuals, blocks, True, hints, **sizes)
    if done:
        return blocks, "batched", None
    for b, x in enumerate(xs):
        for k in range(np.size(x)):
            res = linear(*residuals, *unit(xs, b, k))
            if not isinstance(res, tuple):
                res = (res,)
            for a, col in enumerate(res):
                if np.iscomplexobj(col) and blocks[a][b].dtype.kind != "c":
                    col = np.real(col)       # (as in batched_blocks)
                blocks[a][b][:, k] = np.reshape(np.broadcast_to(col, np.shape(outs_like[a])), -1)
    return blocks, "loop", error


def reverse_blocks(backward, xs, outs, residuals, batched=None, hints=(), **sizes):
    """Rows ``e_k^T J`` from the pullback ``backward(*residuals,
    *cotangents)``; blocks and result as :func:`forward_blocks`."""
    blocks = [[np.empty((np.size(o), np.size(x)), dtype=block_dtype(o, x)) for x in xs]
              for o in outs]
    done, error = try_batched(batched, outs, xs, residuals, blocks, False, hints, **sizes)
    if done:
        return blocks, "batched", None
    cts0 = [np.zeros(np.shape(o), dtype=block_dtype(o, o)) for o in outs]
    for a, o in enumerate(outs):
        for k in range(np.size(o)):
            cts = list(cts0)
            e = np.zeros(np.shape(o), dtype=cts0[a].dtype)
            e.reshape(-1)[k] = 1
            cts[a] = e
            gs = backward(*residuals, *cts)
            if not isinstance(gs, tuple):
                gs = (gs,)
            for b, (g, x) in enumerate(zip(gs, xs)):
                if np.iscomplexobj(g) and blocks[a][b].dtype.kind != "c":
                    g = np.real(g)           # (as in batched_blocks)
                blocks[a][b][k, :] = np.reshape(np.broadcast_to(g, np.shape(x)), -1)
    return blocks, "loop", error
