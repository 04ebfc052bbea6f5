"""Google Tangent's test functions (``tests/functions.py``), as NumPy code.

Each function keeps the name it has in Tangent's suite and computes the same
thing; parameter names say what the test feeds them (as Tangent's conftest
does): ``a``, ``b``, ``c`` scalars, ``n`` a small int, ``x`` a vector,
``sqm`` a square matrix, ``t``/``t1``/``t2`` vectors, ``s`` a scalar,
``timage`` a 4-d array, ``boolean`` a bool, ``mat1``/``mat2`` matrices.

Tangent's TensorFlow functions (``tfe_*``) are written with the NumPy
function that computes the same thing (``tf.negative`` -> ``np.negative``,
``tf.reduce_sum(t, axes, keepdims)`` -> ``np.sum``, ``tf.matmul(.., transpose_a=)``
-> ``@`` of transposes, ``tf.rsqrt`` -> ``1 / np.sqrt``, ...).  Functions that
use Tangent's own stack (``tangent.Stack``, ``push``, ``pop``) use a Python
list as the stack (``append``/``pop``).  ``ADAPTED`` says what was changed;
``OUT_OF_SCOPE`` lists what has no NumPy counterpart.
"""
from __future__ import annotations

import dataclasses

import numpy as np

ADAPTED = {
    "cart2polar": "np.arctan(b, a) passes `a` as NumPy's `out` argument (NumPy raises); "
                  "written with np.arctan2(b, a), as Tangent's comment says it should be",
    "listcomp": "iterates its argument: fed a vector (a scalar is not iterable in NumPy)",
    "stack_pushing, useless_stack_ops, redefining_var_as_list":
        "tangent.Stack/push/pop written as a Python list's append/pop",
    "tfe_*": "TensorFlow ops written as the NumPy functions that compute the same values",
}

OUT_OF_SCOPE = {
    "inlining_contextmanager": "tangent.insert_grad_of changes the gradient by hand "
                               "(a Tangent-specific API with no NumPy meaning)",
    "_trace_mul, tfe_trace_fn": "tangent.trace (Tangent's tracing decorator)",
    "tfe_conv2d, tfe_max_pool, tfe_avg_pool": "TensorFlow kernels with no NumPy function",
}


def id_(a):
    return a


def unary_sub(a):
    return -a


def sum_(x):
    return np.sum(x)


def cast_sum_(x):
    return np.sum(np.array(x))


def overwrite_call(x):
    x = np.sum(x)
    x = x * x
    return x


def tanh(a):
    return np.tanh(a)


def identity_assign(a):
    b = a
    return b


def increment(a):
    return a + 1


def saxpy(a, b, c):
    return a * b + c


def mul(a, b):
    return a * b


def add(a, b):
    return a + b


def saxpy_call(a, b, c):
    return add(mul(a, b), c)


def saxpy_anf(a, b, c):
    t1 = a * b
    t2 = t1 + c
    return t2


def saxpy_overwrite(a, b, c):
    t = a * b
    t = t + c
    return t


def gradname_aliasing(a):
    da = a * a
    return da


def overwrite_if(a):
    if a > 0:
        a = a * 3.0
    else:
        a = a * 2.0
    return a


def test_binop_mul1(a):
    return a * 3.0


def test_binop_mul2(a):
    return 3.0 * a


def test_binop_mul3(a):
    return a * a


def test_binop_div1(a):
    return a / 3.0


def test_binop_div2(a):
    return 3.0 / a


def test_binop_div3(a):
    return a / a


def test_binop_sub1(a):
    return a - 3.0


def test_binop_sub2(a):
    return 3.0 - a


def test_binop_sub3(a):
    return a - a


def test_binop_add1(a):
    return a + 3.0


def test_binop_add2(a):
    return 3.0 + a


def test_binop_add3(a):
    return a + a


def nested_if(a):
    if a > 0:
        if a < 10:
            a = a * a
    else:
        a = 3.0 * a
    return a


def multiarg_if(a):
    # branches on several expressions of a (Tangent: "to try to break our system")
    if a * a / 3.0 > 0:
        b = 3.0
    else:
        b = 4.0
    a = a * b
    if a < b - a * b:
        a = a * a
    elif a > b + 3.0 * a:
        if a / 2.0 < 0:
            a = a / b
        else:
            a = a * b
    else:
        a = -a
    return a


def fn_multiply(a):
    return np.multiply(a, 3.0)


def fn_multiple_return(a):
    return 2 * a, a


def test_anf_list(a):
    b = [1, a * a, 2]
    return np.sum(b)


def test_deep_anf_list(x):
    b = [1, x[0] * x[1] * x[2], 3]
    return np.sum(b)


def test_subscript1(x):
    a = x[0]
    b = x[1]
    return a * b


def test_subscript2(x):
    a = x[0]
    b = x[1]
    x[0] = a * b
    return np.sum(x)


def test_subscript3(x):
    y = x ** 2.0
    x[0] = y[1] * y[2]
    return np.sum(x * y)


def test_list_and_subscript(a):
    x = [1.0, a, 3.0]
    return x[0] * x[1]


def test_implicit_indexing(x):
    res = 0.0
    for a in x:
        res += a
    return res


def serial_if(a):
    if a > 0:
        a = a * a
    a = a + a
    if a < 0:
        a = 3.0 * a
    return a


def multivar_if(a, b):
    if a > b:
        a = a * a
    else:
        a = a * b
    return a


def serial_for(a, n):
    for i in range(n):
        a = a * a
    a = 2.0 * a
    for i in range(n + 1):
        a = a * 3.0
    return a


def serial_ifthenfor(a, n):
    if a > 0:
        a = a * a
    a = 2.0 * a
    for i in range(n):
        a = a * a
    return a


def serial_forthenif(a, n):
    for i in range(n):
        a = a * a
    a = 2.0 * a
    if a > 0:
        a = a * a
    return a


def devilish_nested_if(a):
    if a > 0:
        a = a * 3.0
        if a < 10:
            a = a * a
        else:
            a = a * 2.0
    return a


def overwrite_ifelse(a):
    if a > 0:
        a = a * 3.0
    elif 0 > a:
        a = a * 2.0
    else:
        a = 1.0 * a
    return a


def overwrite_arg(a):
    a = a * 3.0
    return a


def overwrite_non_arg(a):
    b = a
    b = b * 3.0
    return b


def third_pow(a):
    return a * a * a


def direct_third_pow(a):
    return a ** 3


def iter_third_pow1(a):
    out = 1
    for i in range(3):
        out = out * a
    return out


def iter_third_pow2(a):
    out = a
    for i in range(3 - 1):
        out = out * a
    return out


def iterpower_static(a):
    for i in range(3):
        a = a * a
    return a


def iterpower(a, n):
    for i in range(n):
        a = a * a
    return a


def cond_iterpower1(a):
    for i in range(3):
        if a < 20:
            a = a * a
    return a


def cond_iterpower2(a):
    if a < 20:
        for i in range(3):
            a = a * a
    return a


def superfor_iterpower(a):
    for i in range(2):
        for j in range(3):
            a = a * a
    return a


def super_iterpower(a):
    for i in range(3):
        a = a * a * a
    return a


# ---------------------------------------------------------------- NumPy


def numpy_sum(x):
    return np.sum(x)


def numpy_mean(x):
    return np.mean(x)


def numpy_exp(a):
    return np.exp(a)


def numpy_exp2(a):
    return np.exp(np.exp(a))


def numpy_sqrt(a):
    if a >= 0:
        r = np.sqrt(a)
    else:
        r = np.sqrt(-a)
    return r


def numpy_cos(a):
    return np.cos(a)


def numpy_sin(a):
    return np.sin(a)


def numpy_tan(a):
    return np.tan(a)


def numpy_cosh(a):
    return np.cosh(a)


def numpy_sinh(a):
    return np.sinh(a)


def numpy_tanh(a):
    return np.tanh(a)


def numpy_arccos(a):
    return np.arccos(a)


def numpy_arcsin(a):
    return np.arcsin(a)


def numpy_arctan(a):
    return np.arctan(a)


def numpy_atleast_1d(x):
    return np.sum(np.atleast_1d(x))


def numpy_atleast_2d(x):
    return np.sum(np.atleast_2d(x))


def numpy_atleast_3d(x):
    return np.sum(np.atleast_3d(x))


def logistic_regression(input, label, W, b):
    # label is 0 or 1
    h1 = np.dot(input, W) + b
    prediction = 0.5 * (np.tanh(h1) + 1)
    label_probabilities = prediction * label + (1 - prediction) * (1 - label)
    loss = -np.sum(np.log(label_probabilities))
    return loss


def det(sqm):
    return np.linalg.det(sqm)


# ---------------------------------------------------------------- TensorFlow ops, as NumPy


def tfe_negative(t):
    return np.negative(t)


def tfe_exp(t):
    return np.exp(t)


def tfe_log(t):
    return np.log(t)


def tfe_tanh(t):
    return np.tanh(t)


def tfe_cosh(t):
    return np.cosh(t)


def tfe_sinh(t):
    return np.sinh(t)


def tfe_rsqrt(t):
    return 1.0 / np.sqrt(t)


def tfe_expand_dims_before(t):
    return np.expand_dims(t, 0)


def tfe_expand_dims_after(t):
    return np.expand_dims(t, 1)


def tfe_squeeze_before(t):
    return np.squeeze(np.expand_dims(t, 0), 0)


def tfe_squeeze_after(t):
    return np.squeeze(np.expand_dims(t, 1), 1)


def tfe_reshape_flat(t):
    return np.reshape(t, (-1,))


def tfe_reshape_noop(t):
    return np.reshape(np.reshape(t, (-1,)), np.shape(t))


def tfe_reduce_sum(timage, boolean):
    return np.sum(timage, None, keepdims=boolean)


def tfe_reduce_sum_axis(timage, boolean):
    return np.sum(timage, (0, 1, 2), keepdims=boolean)


def tfe_reduce_mean(timage, boolean):
    return np.mean(timage, None, keepdims=boolean)


def tfe_reduce_mean_axis(timage, boolean):
    return np.mean(timage, (0, 1, 2), keepdims=boolean)


def tfe_reduce_max(timage, boolean):
    return np.max(timage, None, keepdims=boolean)


def tfe_reduce_max_axis(timage, boolean):
    return np.max(timage, (0, 1, 2), keepdims=boolean)


def tfe_add(t1, t2):
    return np.add(t1, t2)


def tfe_add_bcast(s, t):
    return np.add(s, t)


def tfe_subtract(t1, t2):
    return np.subtract(t1, t2)


def tfe_multiply(t1, t2):
    return np.multiply(t1, t2)


def tfe_divide(t1, t2):
    return np.divide(t1, t2)


def tfe_maximum(t1, t2):
    return np.maximum(t1, t2)


def tfe_squared_difference(t1, t2):
    return np.square(t1 - t2)


def tfe_matmul(mat1, mat2, boolean1, boolean2):
    a = mat1.T if boolean1 else mat1
    b = mat2.T if boolean2 else mat2
    return a @ b


def tfe_matmul_highdim(timage1, timage2, boolean1, boolean2):
    a = np.swapaxes(timage1, -1, -2) if boolean1 else timage1
    b = np.swapaxes(timage2, -1, -2) if boolean2 else timage2
    return np.matmul(a, b)


def _nontrace_mul(a, b):
    out = np.multiply(a, b)
    return out


def tfe_notrace_fn(t):
    out = _nontrace_mul(t, t)
    result = np.sum(out)
    return result


# ---------------------------------------------------------------- function calls


def _inner_fn(a, b):
    return a * b


def mul_with_call(a, b):
    return _inner_fn(a, b)


def if_mul_with_call(a, b):
    if a > b:
        o = _inner_fn(a, b)
    else:
        o = _inner_fn(b, a)
    return o


def iterpower_with_call(a, n):
    for i in range(n):
        a = _inner_fn(a, a)
    return a


def nested_call(a, b):
    return mul_with_call(a, b)


def iterpower_with_nested_def(a, n):
    def _fn(a, n):
        return a * n

    for i in range(n):
        a = _fn(a, a)
    return a


# ---------------------------------------------------------------- subscripts


def unpacking_args_saxpy(abc_packed_in_tuple):
    a, b, c = abc_packed_in_tuple
    return a * b + c


def dict_saxpy(val):
    return val['a'] * val['b'] + val['c']


def dict_wrapper(abc_packed_in_tuple):
    a, b, c = abc_packed_in_tuple
    return dict_saxpy(dict(a=a, b=b, c=c))


def passthru_pack(a, b, c, i):
    x = a, b, c
    return x[i]


def passthru_unpack(abc_packed_in_tuple):
    a, b, c = abc_packed_in_tuple
    return a


# ---------------------------------------------------------------- misc


def cart2polar(a, b):
    r = np.sqrt(a ** 2.0 + b ** 2.0)
    theta = np.arctan2(b, a)
    return r, theta


def listcomp(x):
    return np.sum([i * 3 for i in x])


def while_big(a):
    while np.abs(a) > 0.1:
        a = a * 0.5
    return a


def active_subscript(x):
    y = np.zeros_like(x)
    for i in range(len(x)):
        y[i] = x[i]
    return np.sum(y)


def init_array_grad_maybe_active(x):
    h = np.zeros((len(x), 3))
    for t in range(len(h)):
        h[t] = x[t]
    return np.sum(h)


def slicing(x):
    return np.sum(x[1:])


def rnn(inputs, W):
    h = np.zeros((4, 3))
    for t in range(3):
        h[t + 1] = np.dot(inputs[t], W) + h[t]
    return np.sum(h[1:])


def augassign(a):
    x = a * a
    x *= x
    return x


def bilinear(x, h, U, W, b):
    y = np.dot(x, W)
    y = y + np.dot(h, U)
    y = y + b
    y = np.tanh(y)
    return np.sum(y)


# Tangent: functions that stress differentiating through stack pushes and pops


def stack_pushing(a):
    stack = []
    y = a * a
    stack.append(a)
    aa = stack.pop()
    z = y * aa
    z = z * aa
    return z


def gradgrad_pow(a, b):
    if a >= 0:
        a = a ** b
    else:
        a = (-a) ** b
    return a


def gradgrad_pow_twice(a):
    a = a * a
    y = a * a
    return y


def gradgrad_chain_of_mults(a):
    b = a  # this line forces overwrite protection
    b = a * a
    c = b * b
    d = c * c
    return d


def gradgrad_chain_of_multcalls(a):
    b = mul(a, a)
    c = mul(b, b)
    d = mul(c, c)
    return d


def useless_stack_ops(a):
    _stack = []
    b = a * a
    _stack.append(b)
    b = _stack.pop()
    return a


def redefining_var_as_list(a):
    _stack = []
    x = a
    _stack.append(x)
    x = [a]
    x = _stack.pop()
    return a


def nested_dict(p):
    return p['i']['j'] * p['i']['k']


def extended_slice(x):
    return np.sum(x[::2, np.newaxis])


# ---------------------------------------------------------------- helpers of other ports


@dataclasses.dataclass
class Foo:
    """Zygote's features.jl ``struct Foo`` (a dataclass: a pytree node)."""
    a: float
    b: float


# tangent-ad's test_classes.py: plain classes whose methods a function calls
class SimpleCalculator:
    def square(self, x):
        return x ** 2

    def cube(self, x):
        return x ** 3


class Scaler:
    def __init__(self, factor):
        self.factor = factor

    def scale(self, x):
        return x * self.factor


class ChainedCalculator:
    def square(self, x):
        return x ** 2

    def double(self, x):
        return x * 2

    def square_then_double(self, x):
        return self.double(self.square(x))

    def combined(self, x):
        return self.square(x) + self.double(x)


CALC = ChainedCalculator()
SCALER = Scaler(2.5)
