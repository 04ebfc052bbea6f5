"""Specs for the assembly and rearrangement primitives (atleast_*d,
column_stack, dstack, append, array_split & co., repeat, tile, pad, roll,
rollaxis, flips, rot90, tril/triu, diagonal, take, take_along_axis, delete,
insert, select, partition, meshgrid, broadcast_arrays, linspace), their
runtime adjoint helpers and ndarray methods, plus exact values at
duplicates and ties."""
import numpy as np
import pytest

import s2sgrad
from s2sgrad import runtime as rt

from .spec import Spec, check_spec, distinct, normal
from .test_runtime_prims import check_hvp

W2 = normal(2)
W3 = normal(3)
W4 = normal(4)
W6 = normal(6)
W34 = normal(3, 4)
W234 = normal(2, 3, 4)
IDX = np.array([2, 0, 2, 1])
IDX2 = np.array([[0, 2], [1, 1], [2, 0]])
EVERY_OTHER = slice(0, 3, 2)


def _wsum(y, seed=0):
    """A weighted sum with fixed weights (so every output element matters differently)."""
    w = np.cos(np.arange(np.size(y)) * 0.7 + seed).reshape(np.shape(y))
    return np.sum(w * y)


SPECS = [
    # atleast_1d/2d/3d (one and several arguments)
    Spec("atleast_1d", lambda x: np.sum(np.atleast_1d(x) ** 2 * W4), (normal(4),)),
    Spec("atleast_1d", lambda x: np.sum(np.atleast_1d(np.sum(x)) * 3.0), (normal(3),),
         id="atleast_1d-scalar"),
    Spec("atleast_2d", lambda x: np.sum(np.atleast_2d(x) ** 2 * W4), (normal(4),)),
    Spec("atleast_2d", lambda x, y: _atleast_two(x, y), (normal(3), normal(3, 4)), wrt=(0, 1),
         id="atleast_2d-two"),
    Spec("atleast_3d", lambda x: np.sum(np.atleast_3d(x) ** 2 * W34[..., None]),
         (normal(3, 4),)),
    Spec("atleast_3d", lambda x: np.sum(np.atleast_3d(x)[0, :, 0] * W4), (normal(4),),
         id="atleast_3d-1d"),
    # column_stack, dstack, row_stack
    Spec("column_stack", lambda x, y: _wsum(np.column_stack([x, y]) ** 2),
         (normal(3), normal(3, 2)), wrt=(0, 1)),
    Spec("column_stack", lambda x: _wsum(np.column_stack((x, x ** 2))), (normal(4),),
         id="column_stack-1d"),
    Spec("dstack", lambda x, y: _wsum(np.dstack([x, y]) ** 2), (normal(2, 3), normal(2, 3, 2)),
         wrt=(0, 1)),
    Spec("dstack", lambda x: _wsum(np.dstack((x, 2 * x))), (normal(4),), id="dstack-1d"),
    # append
    Spec("append", lambda x, y: _wsum(np.append(x, y) ** 2), (normal(2, 2), normal(3)),
         wrt=(0, 1)),
    Spec("append", lambda x, y: _wsum(np.append(x, y, axis=1) ** 2),
         (normal(2, 2), normal(2, 3)), wrt=(0, 1), id="append-axis"),
    Spec("append", lambda x: _wsum(np.append(x, [1.0, 2.0]) ** 2), (normal(3),),
         id="append-constant"),
    # array_split, hsplit, vsplit, dsplit
    Spec("array_split", lambda x: _split3(np.array_split(x, 3)), (normal(7, 2),)),
    Spec("array_split", lambda x: _split3(np.array_split(x, [1, 3], axis=1)), (normal(2, 5),),
         id="array_split-indices-axis"),
    Spec("hsplit", lambda x: _split2(np.hsplit(x, 2)), (normal(3, 4),)),
    Spec("hsplit", lambda x: _split2(np.hsplit(x, [3])), (normal(5),), id="hsplit-1d"),
    Spec("vsplit", lambda x: _split2(np.vsplit(x, 2)), (normal(4, 3),)),
    Spec("dsplit", lambda x: _split2(np.dsplit(x, [1])), (normal(2, 3, 4),)),
    # repeat (scalar and per-element counts, axis None / int, method)
    Spec("repeat", lambda x: _wsum(np.repeat(x, 3) ** 2), (normal(2, 2),)),
    Spec("repeat", lambda x: _wsum(np.repeat(x, 2, axis=1) ** 2), (normal(2, 3),),
         id="repeat-axis"),
    Spec("repeat", lambda x: _wsum(np.repeat(x, [1, 0, 3], axis=0) ** 2), (normal(3, 2),),
         id="repeat-per-element"),
    Spec("repeat", lambda x: _wsum(x.repeat(2, axis=-1) ** 3), (normal(2, 3),),
         id="repeat-method"),
    Spec("repeat", lambda x: _wsum(x.repeat([2, 1, 1, 3]) ** 2), (normal(2, 2),),
         id="repeat-method-flat"),
    # tile
    Spec("tile", lambda x: _wsum(np.tile(x, 3) ** 2), (normal(2),)),
    Spec("tile", lambda x: _wsum(np.tile(x, (2, 1, 2)) ** 2), (normal(2, 3),),
         id="tile-more-reps"),
    Spec("tile", lambda x: _wsum(np.tile(x, (2,)) ** 2), (normal(2, 3),), id="tile-fewer-reps"),
    # pad (modes, widths, constant_values)
    Spec("pad", lambda x: _wsum(np.pad(x, 1) ** 2), (normal(2, 3),)),
    Spec("pad", lambda x: _wsum(np.pad(x, ((1, 0), (2, 1)), constant_values=1.5) ** 2),
         (normal(2, 3),), id="pad-constant-value"),
    Spec("pad", lambda x, c: _wsum(np.pad(x, (1, 2), constant_values=c) ** 2),
         (normal(3), np.float64(0.7)), wrt=(0, 1), id="pad-constant-differentiable"),
    Spec("pad", lambda x, c: _wsum(np.pad(x, ((1, 0), (2, 1)), constant_values=c) ** 2),
         (normal(2, 3), normal(2, 2)), wrt=(0, 1), id="pad-constant-per-axis"),
    Spec("pad", lambda x: _wsum(np.pad(x, 2, mode="edge") ** 2), (normal(2, 3),),
         id="pad-edge"),
    Spec("pad", lambda x: _wsum(np.pad(x, ((3, 1), (1, 2)), mode="reflect") ** 2),
         (normal(3, 3),), id="pad-reflect"),
    Spec("pad", lambda x: _wsum(np.pad(x, ((5, 1),), "reflect") ** 2), (normal(3),),
         id="pad-reflect-wide"),
    Spec("pad", lambda x: _wsum(np.pad(x, (2, 3), mode="symmetric") ** 2), (normal(2, 3),),
         id="pad-symmetric"),
    Spec("pad", lambda x: _wsum(np.pad(x, ((4, 0), (1, 5)), mode="wrap") ** 2), (normal(2, 3),),
         id="pad-wrap"),
    Spec("pad", lambda x: _wsum(np.pad(x, ((0, 0), (1, 1)), mode="edge") * W34.T[:, :3]),
         (normal(4, 1),), id="pad-edge-axis1"),
    # statistic, ramp and odd-reflection modes (the JAX port found them refused)
    Spec("pad_stat", lambda x: _wsum(np.pad(x, ((1, 2), (2, 1)), mode="mean") ** 2),
         (normal(3, 4),)),
    Spec("pad_stat", lambda x: _wsum(np.pad(x, 2, mode="maximum", stat_length=2) ** 2),
         (distinct(3, 4),), id="pad_stat-maximum-stat_length"),
    Spec("pad_stat", lambda x: _wsum(np.pad(x, ((2, 0), (1, 3)), "minimum") ** 2),
         (distinct(3, 4),), id="pad_stat-minimum"),
    Spec("pad_stat", lambda x: _wsum(np.pad(x, (1, 2), mode="median") ** 2), (distinct(3, 4),),
         id="pad_stat-median"),
    Spec("pad_stat", lambda x: _wsum(np.pad(x, ((3, 1), (0, 2)), mode="linear_ramp",
                                            end_values=(1.0, -2.0)) ** 2),
         (normal(3, 4),), id="pad_stat-linear_ramp"),
    Spec("pad_stat", lambda x: _wsum(np.pad(x, (4, 2), mode="reflect", reflect_type="odd") ** 2),
         (normal(3, 2),), id="pad_stat-reflect-odd"),
    Spec("pad_stat", lambda x: _wsum(np.pad(x, 5, mode="symmetric", reflect_type="odd") ** 2),
         (normal(3),), id="pad_stat-symmetric-odd-wide"),
    # roll, rollaxis, flip, fliplr, flipud, rot90
    Spec("roll", lambda x: _wsum(np.roll(x, 2) ** 2), (normal(2, 3),)),
    Spec("roll", lambda x: _wsum(np.roll(x, -1, axis=1) ** 2), (normal(2, 3),), id="roll-axis"),
    Spec("roll", lambda x: _wsum(np.roll(x, (1, 2), axis=(0, 1)) ** 2), (normal(3, 4),),
         id="roll-tuple"),
    Spec("rollaxis", lambda x: _wsum(np.rollaxis(x, 2) ** 2), (normal(2, 3, 4),)),
    Spec("rollaxis", lambda x: _wsum(np.rollaxis(x, 0, 3) ** 2), (normal(2, 3, 4),),
         id="rollaxis-start"),
    Spec("rollaxis", lambda x: _wsum(np.rollaxis(x, -1, 1) ** 2), (normal(2, 3, 4),),
         id="rollaxis-negative"),
    Spec("flip", lambda x: _wsum(np.flip(x) ** 2), (normal(2, 3),)),
    Spec("flip", lambda x: _wsum(np.flip(x, 1) ** 2), (normal(2, 3),), id="flip-axis"),
    Spec("flip", lambda x: _wsum(np.flip(x, axis=(0, 2)) ** 2), (normal(2, 3, 2),),
         id="flip-tuple"),
    Spec("fliplr", lambda x: _wsum(np.fliplr(x) ** 2), (normal(2, 3),)),
    Spec("flipud", lambda x: _wsum(np.flipud(x) ** 2), (normal(2, 3),)),
    Spec("rot90", lambda x: _wsum(np.rot90(x) ** 2), (normal(2, 3),)),
    Spec("rot90", lambda x: _wsum(np.rot90(x, 3, axes=(1, 2)) ** 2), (normal(2, 3, 4),),
         id="rot90-k-axes"),
    Spec("rot90", lambda x: _wsum(np.rot90(x, k=-2) ** 2), (normal(2, 3),), id="rot90-negative"),
    # tril, triu
    Spec("tril", lambda x: _wsum(np.tril(x) ** 2), (normal(3, 4),)),
    Spec("tril", lambda x: _wsum(np.tril(x, -1) ** 2), (normal(2, 3, 3),), id="tril-k-batch"),
    Spec("tril", lambda x: _wsum(np.tril(x, 1) ** 2), (normal(3),), id="tril-1d"),
    Spec("triu", lambda x: _wsum(np.triu(x, k=1) ** 2), (normal(3, 4),)),
    # diagonal (+ method)
    Spec("diagonal", lambda x: _wsum(np.diagonal(x) ** 2), (normal(3, 4),)),
    Spec("diagonal", lambda x: _wsum(np.diagonal(x, 1, 0, 2) ** 2), (normal(3, 2, 4),),
         id="diagonal-offset-axes"),
    Spec("diagonal", lambda x: _wsum(x.diagonal(offset=-1) ** 2), (normal(3, 4),),
         id="diagonal-method"),
    # take (+ method), take_along_axis
    Spec("take", lambda x: _wsum(np.take(x, IDX) ** 2), (normal(2, 2),)),
    Spec("take", lambda x: _wsum(np.take(x, IDX2, axis=1) ** 2), (normal(2, 3),),
         id="take-axis-2d-indices"),
    Spec("take", lambda x: _wsum(np.take(x, [5, -1, 1], axis=0, mode="wrap") ** 2),
         (normal(3, 2),), id="take-wrap"),
    Spec("take", lambda x: _wsum(np.take(x, [5, -1, 1], mode="clip") ** 2), (normal(3),),
         id="take-clip"),
    Spec("take", lambda x: _wsum(x.take(IDX, 0) ** 2), (normal(3, 2),), id="take-method"),
    Spec("take_along_axis", lambda x: _wsum(np.take_along_axis(x, IDX2, axis=1) ** 2),
         (normal(3, 4),)),
    Spec("take_along_axis", lambda x: _wsum(np.take_along_axis(x, np.argsort(x, axis=0),
                                                               axis=0) ** 2),
         (distinct(3, 2),), id="take_along_axis-argsort"),
    Spec("take_along_axis", lambda x: _wsum(np.take_along_axis(x, IDX, axis=None) ** 2),
         (normal(2, 2),), id="take_along_axis-flat"),
    Spec("take_along_axis", lambda x: _wsum(np.take_along_axis(x, np.array([[0], [2]]),
                                                               axis=1) ** 2),
         (normal(2, 3),), id="take_along_axis-broadcast"),
    # delete, insert
    Spec("delete", lambda x: _wsum(np.delete(x, 1) ** 2), (normal(2, 2),)),
    Spec("delete", lambda x: _wsum(np.delete(x, [0, 2], axis=1) ** 2), (normal(2, 4),),
         id="delete-axis"),
    Spec("delete", lambda x: _wsum(np.delete(x, EVERY_OTHER, 0) ** 2), (normal(4, 2),),
         id="delete-slice"),
    Spec("insert", lambda x, v: _wsum(np.insert(x, 1, v) ** 2), (normal(2, 2), np.float64(0.3)),
         wrt=(0, 1)),
    Spec("insert", lambda x, v: _wsum(np.insert(x, [0, 2, 2], v, axis=1) ** 2),
         (normal(2, 3), normal(2, 3)), wrt=(0, 1), id="insert-axis-several"),
    Spec("insert", lambda x, v: _wsum(np.insert(x, 1, v, axis=0) ** 2),
         (normal(2, 3), normal(3)), wrt=(0, 1), id="insert-broadcast-values"),
    Spec("insert", lambda x: _wsum(np.insert(x, 2, 5.0) ** 2), (normal(3),),
         id="insert-constant"),
    # select
    Spec("select", lambda x, y: _wsum(np.select([x > 0.5, y < 0], [x, y ** 2], 0.1)),
         (normal(3, 4), normal(3, 4)), wrt=(0, 1)),
    Spec("select", lambda x, d: _wsum(np.select([x > 0, x < -0.5], [x ** 2, W4], d)),
         (normal(3, 4), normal(4)), wrt=(0, 1), id="select-default-broadcast"),
    Spec("select", lambda x: _wsum(np.select([x > 0], [x * 2.0])), (normal(5),),
         id="select-one"),
    # partition
    Spec("partition", lambda x: _wsum(np.partition(x, 2) ** 2), (distinct(6),)),
    Spec("partition", lambda x: _wsum(np.partition(x, (0, 2), axis=0) ** 2), (distinct(4, 3),),
         id="partition-axis"),
    Spec("partition", lambda x: _wsum(np.partition(x, 3, axis=None) ** 2), (distinct(2, 3),),
         id="partition-flat"),
    # meshgrid, broadcast_arrays
    Spec("meshgrid", lambda x, y: _mesh(np.meshgrid(x, y)), (normal(3), normal(4)), wrt=(0, 1)),
    Spec("meshgrid", lambda x, y: _mesh(np.meshgrid(x, y, indexing="ij")),
         (normal(3), normal(2, 2)), wrt=(0, 1), id="meshgrid-ij"),
    Spec("meshgrid", lambda x, y: _mesh(np.meshgrid(x, y, sparse=True)), (normal(3), normal(4)),
         wrt=(0, 1), id="meshgrid-sparse"),
    Spec("meshgrid", lambda x, y, z: _mesh(np.meshgrid(x, y, z)),
         (normal(2), normal(3), normal(2)), wrt=(0, 1, 2), id="meshgrid-3"),
    Spec("broadcast_arrays", lambda x, y: _mesh(np.broadcast_arrays(x, y)),
         (normal(3, 1), normal(4)), wrt=(0, 1)),
    # linspace
    Spec("linspace", lambda a, b: _wsum(np.linspace(a, b, 5) ** 2),
         (np.float64(0.3), np.float64(2.0)), wrt=(0, 1)),
    Spec("linspace", lambda a, b: _wsum(np.linspace(a, b, num=4, endpoint=False) ** 2),
         (normal(3), normal(3)), wrt=(0, 1), id="linspace-arrays-no-endpoint"),
    Spec("linspace", lambda a, b: _wsum(np.linspace(a, b, 3, axis=-1) ** 2),
         (normal(2, 1), normal(3)), wrt=(0, 1), id="linspace-axis-broadcast"),
    Spec("linspace", lambda a, b: _linstep(*np.linspace(a, b, 4, retstep=True)),
         (normal(2), np.float64(1.5)), wrt=(0, 1), id="linspace-retstep"),
    Spec("linspace", lambda b: _wsum(np.linspace(0.0, stop=b, num=3)), (normal(2),),
         id="linspace-keyword"),
]


def _atleast_two(x, y):
    a, b = np.atleast_2d(x, y)
    return _wsum(a ** 2) + _wsum(b ** 3, 1)


def _split2(pieces):
    a, b = pieces
    return _wsum(a ** 2) + _wsum(b ** 3, 1)


def _split3(pieces):
    a, b, c = pieces
    return _wsum(a ** 2) + _wsum(b ** 3, 1) + _wsum(c, 2)


def _mesh(grids):
    total = 0.0
    for k, g in enumerate(grids):
        total = total + _wsum(g ** 2, k)
    return total


def _linstep(samples, step):
    return _wsum(samples ** 2) + np.sum(step ** 3)


# runtime helpers called directly (each is a primitive with its own rules)
HELPER_SPECS = [
    Spec("uncolumn_stack", lambda g: _wsum(rt.uncolumn_stack(g, W3, W34[:, :2])[1] ** 2),
         (normal(3, 3),)),
    Spec("undstack", lambda g: _wsum(rt.undstack(g, W34, W34)[0] ** 2), (normal(3, 4, 2),)),
    Spec("unrepeat", lambda g: _wsum(rt.unrepeat(g, W34, [1, 2, 0, 1], axis=1) ** 2),
         (normal(3, 4),)),
    Spec("untile", lambda g: _wsum(rt.untile(g, W3, (2, 2)) ** 2), (normal(2, 6),)),
    Spec("unpad", lambda g: _wsum(rt.unpad(g, W34, 1, mode="symmetric") ** 2), (normal(5, 6),)),
    Spec("pad_stat_tangent", lambda t: _wsum(rt.pad_stat_tangent(t, W34, ((1, 2), (1, 1)),
                                                                  mode="median") ** 2),
         (normal(3, 4),)),
    Spec("pad_stat_adjoint", lambda g: _wsum(rt.pad_stat_adjoint(g, W34, 1, mode="linear_ramp",
                                                                 end_values=0.5) ** 2),
         (normal(5, 6),)),
    Spec("pad_constant_adjoint",
         lambda g: np.sum(rt.pad_constant_adjoint(g, W3, np.float64(1.0), (1, 2)) ** 2),
         (normal(6),)),
    Spec("unrollaxis", lambda g: _wsum(rt.unrollaxis(g, W234, 2, 0) ** 2), (normal(4, 2, 3),)),
    Spec("undiagonal", lambda g: _wsum(rt.undiagonal(g, W34, 1) ** 2), (normal(3),)),
    Spec("untake", lambda g: _wsum(rt.untake(g, W34, IDX, axis=1) ** 2), (normal(3, 4),)),
    Spec("untake_along_axis", lambda g: _wsum(rt.untake_along_axis(g, W34, IDX2, axis=1) ** 2),
         (normal(3, 2),)),
    Spec("undelete", lambda g: _wsum(rt.undelete(g, W34, [1], axis=0) ** 2), (normal(2, 4),)),
    Spec("uninsert", lambda g: _wsum(rt.uninsert(g, W3, W2, [1, 1])[1] ** 2), (normal(5),)),
    Spec("unlinspace", lambda g: np.sum(rt.unlinspace(g, W2, 1.0, num=3, axis=1)[0] ** 2),
         (normal(2, 3),)),
    Spec("partition_like", lambda t: _wsum(rt.partition_like(t, W6, np.partition(W6, 2)) ** 2),
         (normal(6),)),
    Spec("unpartition", lambda g: _wsum(rt.unpartition(g, W6, np.partition(W6, 2)) ** 2),
         (normal(6),)),
]
SPECS += HELPER_SPECS


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.id)
def test_assembly(spec):
    check_spec(spec)


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.id)
def test_assembly_hvp(spec):
    check_hvp(spec)


# ---------------------------------------------------------------- exact values and conventions

def _grad(f, *args, wrt=0):
    return s2sgrad.grad(f, wrt=wrt)(*args)


def test_copies_accumulate_exactly():
    x = np.array([1.0, 2.0, 3.0])
    w = np.array([1.0, 10.0, 100.0, 1000.0, 10000.0])
    # repeat: x[0] twice, x[1] never, x[2] three times
    g = _grad(lambda x: np.sum(np.repeat(x, [2, 0, 3]) * w), x)
    np.testing.assert_array_equal(g, [11.0, 0.0, 11100.0])
    # take with a repeated index
    g = _grad(lambda x: np.sum(np.take(x, [2, 0, 2]) * w[:3]), x)
    np.testing.assert_array_equal(g, [10.0, 0.0, 101.0])
    # tile
    g = _grad(lambda x: np.sum(np.tile(x, 2) * np.arange(6.0)), x)
    np.testing.assert_array_equal(g, [3.0, 5.0, 7.0])
    # edge padding copies the end elements
    g = _grad(lambda x: np.sum(np.pad(x, 2, mode="edge")), x)
    np.testing.assert_array_equal(g, [3.0, 1.0, 3.0])
    # wrap padding wider than the array
    g = _grad(lambda x: np.sum(np.pad(x, (4, 0), mode="wrap")), x)   # [3, 1, 2, 3, 1, 2, 3]
    np.testing.assert_array_equal(g, [2.0, 2.0, 3.0])


def test_pad_constant_values_gradient_counts_the_padding():
    x = np.ones((2, 3))
    g = s2sgrad.grad(lambda x, c: np.sum(np.pad(x, ((1, 0), (2, 1)), constant_values=c)),
                     wrt=1)(x, 0.5)
    assert g == 3 * 6 - 6
    # per-axis values: the corners belong to the axis padded last (axis 1)
    c = np.array([[1.0, 2.0], [3.0, 4.0]])
    g = s2sgrad.grad(lambda x, c: np.sum(np.pad(x, 1, constant_values=c)), wrt=1)(x, c)
    np.testing.assert_array_equal(g, [[3.0, 3.0], [4.0, 4.0]])


def test_partition_ties_follow_the_stable_match():
    x = np.array([1.0, 1.0, 0.0, 1.0])
    out = np.partition(x, 1)
    w = np.array([1.0, 10.0, 100.0, 1000.0])
    g = _grad(lambda x: np.sum(np.partition(x, 1) * w), x)
    # the k-th tied value in the output goes to the k-th tied element of the input
    ones = np.flatnonzero(out == 1.0)
    expected = np.zeros(4)
    expected[2] = w[np.flatnonzero(out == 0.0)[0]]
    expected[[0, 1, 3]] = w[ones]
    np.testing.assert_array_equal(g, expected)


def test_select_first_true_condition_wins():
    x = np.array([-1.0, 0.5, 2.0])
    f = lambda x, y: np.sum(np.select([x > 0, x > 1], [x * 3.0, y], default=y * 5.0))
    gx, gy = s2sgrad.grad(f, wrt=(0, 1))(x, np.ones(3))
    np.testing.assert_array_equal(gx, [0.0, 3.0, 3.0])      # x > 0 wins over x > 1 at 2.0
    np.testing.assert_array_equal(gy, [5.0, 0.0, 0.0])
    assert f(x, np.ones(3)) == s2sgrad.value_and_grad(f)(x, np.ones(3))[0]


def test_meshgrid_and_linspace_exact():
    x, y = np.arange(3.0), np.arange(2.0)
    gx, gy = s2sgrad.grad(lambda x, y: np.sum(np.meshgrid(x, y)[0] * 2.0 + np.meshgrid(x, y)[1]),
                          wrt=(0, 1))(x, y)
    np.testing.assert_array_equal(gx, [4.0, 4.0, 4.0])
    np.testing.assert_array_equal(gy, [3.0, 3.0])
    ga, gb = s2sgrad.grad(lambda a, b: np.sum(np.linspace(a, b, 5)), wrt=(0, 1))(0.0, 1.0)
    assert ga == pytest.approx(2.5) and gb == pytest.approx(2.5)
    ga, gb = s2sgrad.grad(lambda a, b: np.linspace(a, b, 5, retstep=True)[1], wrt=(0, 1))(0.0, 1.0)
    assert ga == pytest.approx(-0.25) and gb == pytest.approx(0.25)
    g = s2sgrad.grad(lambda a: np.sum(np.linspace(a, 9.0, 4, dtype=int) * 1.0))(0.5)
    assert g == 0.0


def test_values_match_numpy():
    x = normal(3, 4)
    f = lambda x: (np.pad(x, ((1, 2), (0, 3)), mode="reflect"), np.rot90(x, 3), np.tril(x, 1),
                   np.take(x, IDX2, axis=1), np.insert(x, [1, 1], 7.0, axis=1),
                   np.delete(x, 2, axis=1), np.tile(x, (2, 1)), np.repeat(x, [1, 2, 0], axis=0))
    out, pullback = s2sgrad.vjp(f)(x)
    for a, b in zip(out, f(x)):
        np.testing.assert_array_equal(a, b)


def test_generated_code_reads_like_numpy():
    def f(x, c):
        y = np.pad(x, 1, mode="edge") + np.pad(x, 1, constant_values=c)
        return np.sum(x.repeat(2, axis=1)) + np.sum(np.take(y, [0, 1], axis=0) ** 2)
    src = s2sgrad.grad(f, wrt=(0, 1)).generic_source
    for piece in ("np.pad(x, 1, mode='edge')", "np.pad(x, 1, constant_values=c)",
                  "x.repeat(2, axis=1)", "np.take(y, [0, 1], axis=0)", "unpad(",
                  "pad_constant_adjoint(", "unrepeat(", "untake("):
        assert piece in src, (piece, src)


REFUSED = [
    (lambda x, conds, n: np.sum(np.pad(x, 1, mode="empty")), "mode='empty'"),
    (lambda x, conds, n: np.sum(np.pad(x, 1, mode="mean", stat_length=n)), "stat_length"),
    (lambda x, conds, n: np.sum(np.select(conds, [x])), "list literals"),
    (lambda x, conds, n: np.sum(np.meshgrid(x)[0]), "single array"),
    (lambda x, conds, n: np.sum(np.array_split(x, n)[0]), "constant"),
]


@pytest.mark.parametrize("f, match", REFUSED, ids=[m for _, m in REFUSED])
def test_refusals_name_the_problem(f, match):
    with pytest.raises(s2sgrad.S2SGradError, match=match) as info:
        s2sgrad.grad(f)(normal(4), [np.ones(4, bool)], np.int64(2))
    assert "test_assembly.py" in str(info.value)


# ---------------------------------------------------------------- in-place methods

W_INPLACE = np.array([1.0, 10.0, 100.0, 1000.0])


def _inplace(x):
    y = x * 2.0
    z = y                 # another name for the same array
    v = y[1:]             # a view of it
    y.sort()
    w = v * 1.0           # the view sees the sorted values
    v.fill(0.5)           # ... and writes through to y (and z)
    return np.sum(z * W_INPLACE) + np.sum(w ** 2)


def _inplace_partition(x, c):
    y = x.copy()
    y.partition(1)
    u = x + 0.0
    u.fill(c)
    return np.sum(y[:2] * W_INPLACE[:2]) + np.sum(u * W_INPLACE)


def test_inplace_methods_follow_numpy_aliasing():
    x = np.array([3.0, -1.0, 2.0, 0.5])
    keep = x.copy()
    value, g = s2sgrad.value_and_grad(_inplace)(x)
    assert value == _inplace(x.copy())
    np.testing.assert_array_equal(x, keep)                 # the caller's array is unchanged
    s2sgrad.check_grads(_inplace, (x,), modes=("rev", "fwd"))
    s2sgrad.check_grads(_inplace_partition, (x, 1.5), wrt=(0, 1), modes=("rev", "fwd"))
    gx, gc = s2sgrad.grad(_inplace_partition, wrt=(0, 1))(x, 1.5)
    np.testing.assert_array_equal(gx, [0.0, 1.0, 0.0, 10.0])
    assert gc == 1111.0


def test_inplace_sort_of_a_list_is_still_refused():
    def f(x):
        xs = [x, x * 2.0]
        xs.sort()
        return xs[0]
    with pytest.raises(s2sgrad.S2SGradError, match="sort"):
        s2sgrad.grad(f)(1.0)
