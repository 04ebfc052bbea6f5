"""Generated gradients on dask arrays (and other arrays through NumPy's protocols).

Every loss is compared with its NumPy result (value and gradients), with
dask arguments differentiated and NumPy ones differentiated.  The module
starts one ``LocalCluster`` (two worker processes, one thread each) and shuts
it down; the tests that count reads of the data run dask's synchronous
scheduler in this process, where a counter can see them.  The whole module is
skipped when dask or distributed is missing.
"""
import os
import threading

import numpy as np
import pytest

da = pytest.importorskip("dask.array")
dask = pytest.importorskip("dask")
distributed = pytest.importorskip("distributed")

import s2sgrad  # noqa: E402
from s2sgrad import api, grad, jvp, value_and_grad, vjp  # noqa: E402
from s2sgrad.errors import S2SGradError  # noqa: E402

# dask's fallback for a NumPy function it does not implement computes the
# array (with this warning): never acceptable in generated code
pytestmark = pytest.mark.filterwarnings(
    "error:.*is not implemented by Dask array:FutureWarning")

HERE = os.path.basename(__file__)


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       dashboard_address=":0", silence_logs=40)
    c = distributed.Client(cluster)
    try:
        yield c
    finally:
        c.close()
        cluster.close()


@pytest.fixture
def sync():
    """dask's synchronous scheduler, in this process, for the test."""
    with dask.config.set(scheduler="sync"):
        yield


# ---------------------------------------------------------------- losses

def logistic(w, X, y):
    margin = y * (X @ w)
    return np.mean(np.log1p(np.exp(-margin))) + 0.01 * np.sum(w ** 2)


def softmax_onehot(W, b, X, Y):
    z = X @ W + b
    z = z - np.max(z, axis=1, keepdims=True)
    logp = z - np.log(np.sum(np.exp(z), axis=1, keepdims=True))
    return -np.mean(np.sum(logp * Y, axis=1))


def mlp(W1, b1, W2, X, y):
    h = np.tanh(X @ W1 + b1)
    out = h @ W2
    return 0.5 * np.mean((out - y) ** 2)


def loop_range(w, X, n):
    h = X @ w
    acc = 0.0
    for k in range(n):
        h = np.tanh(h) * 0.9 + 0.1 * h
        acc = acc + np.mean(h ** 2)
    return acc


def branch(w, X):
    z = X @ w
    if np.mean(z) > 0:          # a reduced value of the data: computed here
        return np.sum(z ** 2) / z.shape[0]
    return np.mean(np.abs(z))


def stats(c, X):
    s = X * c
    return np.sum(np.var(s, axis=0)) + np.mean(np.std(s, axis=1)) + \
        np.sum(np.mean(s, axis=0, keepdims=True) ** 2) + np.sum(s, axis=(0, 1)) / s.size


def broadcast(b, s, X):
    z = (X - b) / s              # (n, d) - (d,), / (1, d)
    return np.mean(z ** 2) + np.sum(np.mean(z, axis=0) ** 2)


def indexing(w, X):
    a = X[:, :3] @ w[:3]
    b = X[::2, 3:] @ w[3:]
    c = X[np.array([0, 5, 7])] @ w
    return np.mean(a ** 2) + np.mean(np.sin(b)) + np.sum(c) + np.sum(X[1:4, 2] * w[0])


def elementwise(X):
    return np.sum(np.where(X > 0, X ** 2, np.exp(X)) + np.maximum(X, 0.5) * np.log1p(X ** 2))


# ---------------------------------------------------------------- data

def _data(n=240, d=6, k=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    y = np.sign(X @ rng.normal(size=d))
    Y = np.eye(k)[rng.integers(0, k, size=n)]
    return rng, X, y, Y


def _chunked(a, rows=60):
    return da.from_array(a, chunks=(rows,) + a.shape[1:])


def _close(a, b):
    a = a.compute() if hasattr(a, "compute") else a
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-10, atol=1e-12)


def _cases():
    rng, X, y, Y = _data()
    w = rng.normal(size=6)
    W = rng.normal(size=(6, 3)) * 0.3
    W1, b1, W2 = rng.normal(size=(6, 5)) * 0.3, rng.normal(size=5), rng.normal(size=5)
    return [
        ("logistic", logistic, (w, X, y), (0, 1)),
        ("softmax", softmax_onehot, (W, rng.normal(size=3), X, Y), (0, 1, 2)),
        ("mlp", mlp, (W1, b1, W2, X, X[:, 0]), (0, 1, 2, 3)),
        ("loop", loop_range, (w, X, 3), (0, 1)),
        ("branch+", branch, (np.abs(w), np.abs(X)), (0, 1)),
        ("branch-", branch, (-np.abs(w), np.abs(X)), (0, 1)),
        ("stats", stats, (rng.normal(size=6), X), (0, 1)),
        ("broadcast", broadcast, (rng.normal(size=6), rng.uniform(1, 2, size=(1, 6)), X),
         (0, 1, 2)),
        ("indexing", indexing, (w, X), (0, 1)),
        ("elementwise", elementwise, (X,), (0,)),
    ]


CASES = _cases()


def _daskify(args, which):
    return tuple(_chunked(a) if i in which else a for i, a in enumerate(args))


def _check_case(name, f, args, wrt):
    """Data as dask arrays (2-d arrays and row vectors chunked by rows):
    value and every gradient equal NumPy's; the gradient of a NumPy argument
    is a NumPy array, of a dask argument a lazy dask array."""
    value0, grads0 = value_and_grad(f, wrt=wrt)(*args)
    data = {i for i, a in enumerate(args) if isinstance(a, np.ndarray) and a.shape[0] == 240}
    dargs = _daskify(args, data)
    vg = value_and_grad(f, wrt=wrt)
    for _ in range(2):                        # compiled, then the cached specialisation
        value, grads = vg(*dargs)
        assert not isinstance(value, da.Array)
        _close(value, value0)
        for i, g in zip(wrt, grads):
            if i in data:
                assert isinstance(g, da.Array), (name, i, type(g))
                assert g.shape == args[i].shape and g.dtype == args[i].dtype
            else:
                assert type(g) is type(args[i]), (name, i, type(g))
        for g, g0 in zip(dask.compute(*grads), grads0):      # the lazy ones at once
            _close(g, g0)


@pytest.mark.parametrize("name,f,args,wrt", CASES, ids=[c[0] for c in CASES])
def test_losses_match_numpy(name, f, args, wrt):
    with dask.config.set(scheduler="sync"):
        _check_case(name, f, args, wrt)


@pytest.mark.parametrize("name", ["logistic", "mlp", "branch+"])
def test_losses_on_a_cluster(client, name):
    """The same on a LocalCluster of two worker processes: the graphs the
    generated code builds are sent to other processes and run there."""
    _check_case(*next(c for c in CASES if c[0] == name))


def test_unknown_chunk_sizes_run_the_polymorphic_code(sync):
    """A dask array whose chunk sizes are unknown (NaN shape) has no shape
    signature: the call runs the polymorphic code, whose sizes are counted
    lazily (``size_of``) instead of by dask's computing fallback of np.size."""
    rng, X, y, Y = _data()
    keep = X[:, 0] > -0.5
    w = rng.normal(size=6)
    Xd, yd = _chunked(X), _chunked(y)
    Xm, ym = Xd[Xd[:, 0] > -0.5], yd[Xd[:, 0] > -0.5]
    assert np.isnan(Xm.shape[0])
    vg = value_and_grad(stats, wrt=(0, 1))
    value, (dc, dX) = vg(w, Xm)
    value0, (dc0, dX0) = value_and_grad(stats, wrt=(0, 1))(w, X[keep])
    _close(value, value0)
    _close(dc, dc0)
    assert isinstance(dX, da.Array)
    _close(dX, dX0)
    assert "size_of(" in vg.source and "np.size(" not in vg.source
    v, g = value_and_grad(logistic)(w, Xm, ym)
    v0, g0 = value_and_grad(logistic)(w, X[keep], y[keep])
    _close(v, v0)
    _close(g, g0)


# ---------------------------------------------------------------- one computation per call


class _Counting:
    """Array-like source for ``da.from_array`` that counts the reads of its chunks."""

    def __init__(self, a):
        self.a, self.shape, self.dtype, self.ndim = a, a.shape, a.dtype, a.ndim
        self.reads = 0
        self.lock = threading.Lock()

    def __getitem__(self, idx):
        with self.lock:
            self.reads += 1
        return self.a[idx]


@pytest.fixture
def count_computes(monkeypatch):
    calls = []
    real = dask.compute

    def counting(*args, **kwargs):
        calls.append(len(args))
        return real(*args, **kwargs)
    monkeypatch.setattr(dask, "compute", counting)
    return calls


def test_one_compute_reads_the_data_once(count_computes):
    """value_and_grad with respect to NumPy parameters: one dask.compute per
    call, and every chunk of the data read exactly once."""
    rng, X, y, Y = _data(n=400)
    src = _Counting(X)
    Xd = da.from_array(src, chunks=(100, 6), asarray=False)
    yd = da.from_array(y, chunks=100)
    W1, b1, W2 = rng.normal(size=(6, 5)), rng.normal(size=5), rng.normal(size=5)
    vg = value_and_grad(mlp, wrt=(0, 1, 2))
    with dask.config.set(scheduler="sync"):
        for _ in range(3):
            src.reads, count_computes[:] = 0, []
            value, grads = vg(W1, b1, W2, Xd, yd)
            assert len(count_computes) == 1 and count_computes[0] == 4   # value + 3 grads
            assert src.reads == 4                  # 4 chunks, each read once
            assert all(type(g) is np.ndarray for g in grads)
            value0, grads0 = value_and_grad(mlp, wrt=(0, 1, 2))(W1, b1, W2, X, y)
            _close(value, value0)
            for g, g0 in zip(grads, grads0):
                _close(g, g0)


def test_dask_gradient_stays_lazy(count_computes):
    """The gradient of a dask argument is returned lazy: the call computes the
    value and the NumPy gradients (one dask.compute), not the dask gradient."""
    rng, X, y, Y = _data(n=400)
    src = _Counting(X)
    Xd = da.from_array(src, chunks=(100, 6), asarray=False)
    w = rng.normal(size=6)
    with dask.config.set(scheduler="sync"):
        src.reads = 0
        value, (dw, dX) = value_and_grad(logistic, wrt=(0, 1))(w, Xd, y)
        assert len(count_computes) == 1 and src.reads == 4
        assert isinstance(dX, da.Array) and type(dw) is np.ndarray
        reads = src.reads
        _close(dX, value_and_grad(logistic, wrt=1)(w, X, y)[1])
        assert src.reads > reads                    # computed only now, by the caller
        count_computes[:] = []
        g = grad(logistic, wrt=1)(w, Xd, y)         # grad alone: nothing computed
        assert isinstance(g, da.Array) and count_computes == []


def test_vjp_and_jvp(count_computes):
    rng, X, y, Y = _data(n=400)
    w = rng.normal(size=6)
    Xd, yd = _chunked(X, 100), _chunked(y, 100)

    def pred(w, X):
        return np.tanh(X @ w)

    with dask.config.set(scheduler="sync"):
        out, pullback = vjp(pred)(w, Xd)
        assert len(count_computes) == 1 and type(out) is np.ndarray
        out0, pullback0 = vjp(pred)(w, X)
        _close(out, out0)
        ct = rng.normal(size=400)
        count_computes[:] = []
        g = pullback(ct)
        assert len(count_computes) == 1 and type(g) is np.ndarray
        _close(g, pullback0(ct))
        gd = pullback(_chunked(ct, 100))             # a dask cotangent works too
        _close(gd, pullback0(ct))
        # with respect to the dask argument: a lazy cotangent
        out, pb = vjp(pred, wrt=1)(w, Xd)
        gX = pb(ct)
        assert isinstance(gX, da.Array)
        _close(gX, vjp(pred, wrt=1)(w, X)[1](ct))

        v = rng.normal(size=6)
        count_computes[:] = []
        value, tangent = jvp(logistic)((w, Xd, yd), (v,))
        assert len(count_computes) == 1
        value0, tangent0 = jvp(logistic)((w, X, y), (v,))
        _close(value, value0)
        _close(tangent, tangent0)
        V = rng.normal(size=X.shape)                 # a dask tangent for the dask data
        value, tangent = jvp(logistic, wrt=1)((w, Xd, yd), (_chunked(V, 100),))
        value0, tangent0 = jvp(logistic, wrt=1)((w, X, y), (V,))
        _close(value, value0)
        _close(tangent, tangent0)


# ---------------------------------------------------------------- generated code


def test_specialised_code_reuses_no_dask_buffer():
    """The specialisation for dask arguments has constant shapes (no np.size)
    but writes nothing in place: dask arrays have no buffers (``out=``)."""
    rng, X, y, Y = _data()
    w = rng.normal(size=6)
    g = grad(logistic)
    g(w, X, y)
    numpy_source = g.source
    assert "out=" in numpy_source or "*=" in numpy_source
    with dask.config.set(scheduler="sync"):
        g(w, _chunked(X), _chunked(y))
    src = g.source
    assert "out=" not in src and "*=" not in src and "+=" not in src
    assert "np.size" not in src and "size_of" not in src and "unbroadcast" not in src
    assert "0.00416666" in src           # 1 / 240: the mean's scale, a constant


def test_polymorphic_code_for_dask(monkeypatch):
    """Without specialisation (S2SGRAD_SPECIALIZE=never) dask arguments run the
    polymorphic code prepared for their type: np.size becomes size_of."""
    monkeypatch.setattr(api, "SPECIALIZE", "never")
    rng, X, y, Y = _data()
    w = rng.normal(size=6)
    vg = value_and_grad(logistic)
    with dask.config.set(scheduler="sync"):
        v, g = vg(w, _chunked(X), _chunked(y))
    assert "size_of(" in vg.source
    v0, g0 = value_and_grad(logistic)(w, X, y)
    _close(v, v0)
    _close(g, g0)


def test_numpy_only_operations_are_refused_with_the_line():
    def sorted_loss(w, X):
        z = np.sort(X @ w)
        return np.sum(z[:3])

    rng, X, y, Y = _data()
    w = rng.normal(size=6)
    with pytest.raises(S2SGradError, match=rf"{HERE}:\d+: np.sort is not implemented for "
                                           r"arrays of type dask"):
        grad(sorted_loss)(w, _chunked(X))
    line = sorted_loss.__code__.co_firstlineno + 1

    def masked_mean(w, X):
        z = X @ w
        return np.mean(z[z > 0] ** 2)

    with dask.config.set(scheduler="sync"):
        with pytest.raises(S2SGradError, match=rf"{HERE}:{masked_mean.__code__.co_firstlineno + 2}:"
                                               r" the adjoint of x\[mask\]"):
            grad(masked_mean)(w, _chunked(X))
    assert line > 0


def test_repeated_indices_refused_distinct_ones_work():
    rng, X, y, Y = _data()
    w = rng.normal(size=6)

    def rows(w, X, idx):
        return np.sum((X[idx] @ w) ** 2)

    Xd = _chunked(X)
    with dask.config.set(scheduler="sync"):
        g = grad(rows, wrt=1)(w, Xd, np.array([3, 1, 200]))
        _close(g, grad(rows, wrt=1)(w, X, np.array([3, 1, 200])))
        with pytest.raises(S2SGradError, match=r"np.add.at"):
            grad(rows, wrt=1)(w, Xd, np.array([3, 1, 3]))


def test_input_checks():
    Xi = da.ones((10, 2), dtype=np.int64, chunks=5)
    with pytest.raises(s2sgrad.api.InputError, match="integer"):
        grad(lambda X: np.sum(X * 1.5))(Xi)
    Xb = da.ones((10, 2), dtype=bool, chunks=5)
    with pytest.raises(s2sgrad.api.InputError, match="boolean"):
        grad(lambda X: np.sum(X * 1.5))(Xb)


def test_float32_dask_argument():
    rng, X, y, Y = _data()
    X32 = X.astype(np.float32)
    w = rng.normal(size=6).astype(np.float32)
    with dask.config.set(scheduler="sync"):
        v, (dw, dX) = value_and_grad(logistic, wrt=(0, 1))(w, _chunked(X32), y)
    assert dw.dtype == np.float32 and dX.dtype == np.float32
    v0, (dw0, dX0) = value_and_grad(logistic, wrt=(0, 1))(w, X32, y)
    np.testing.assert_allclose(dw, dw0, rtol=1e-5)
    np.testing.assert_allclose(dX.compute(), dX0, rtol=1e-5, atol=1e-7)
