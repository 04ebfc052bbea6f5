"""The wider, independent coverage probe table (session 20, cov7; widened in
session 21, cov8).

Each row is ``(label, expression)``: the label names the API entry being
probed (its source: autograd's wrapped functions, JAX's ``jax.numpy`` /
``jax.scipy`` namespaces, torch functions with a NumPy counterpart, array
methods and attributes, Python builtins and operators, common spellings);
the expression is a plain NumPy/SciPy expression of the inputs named below.
``tools/probe_coverage.py`` turns every row into a function

    def probe(<inputs used>):
        return np.sum(np.sin(<expression>))

(an expression starting with ``=`` is returned as it is, for complex results
or tuples; one starting with ``~`` computes in float32 inside, so its
finite differences use a step of 1e-3 and a tolerance of 1e-3), compiles its gradient with s2sgrad and compares the value with
plain NumPy and the gradient with central finite differences.

Inputs (float64, fixed seed; all are differentiated):
  x, y   normal (3, 4)              p, q   in [0.5, 2], (3, 4)
  u      in (-0.9, 0.9), (3, 4)     d      distinct values (3, 4), gaps >= 0.6
  v, w   normal (4,)                pv     in [0.5, 2], (4,)
  A, B   well-conditioned (3, 3)    S      symmetric positive definite (3, 3)
  t      normal (2, 3, 4)           P      rows are probabilities, (3, 4)
  g      in [0.6, 0.9], (3, 4) (away from integers: floor/round/... constant)
"""

ROWS = r"""
# ---------------------------------------------------------------- autograd: numpy_vjps
np.add                     | np.add(x, y)
np.subtract                | np.subtract(x, y)
np.multiply                | np.multiply(x, y)
np.divide                  | np.divide(x, p)
np.true_divide             | np.true_divide(x, p)
np.power                   | np.power(p, x)
np.power scalar exp        | np.power(x, 3)
np.negative                | np.negative(x)
np.abs                     | np.abs(x)
np.fabs                    | np.fabs(x)
np.absolute                | np.absolute(x)
np.reciprocal              | np.reciprocal(p)
np.exp                     | np.exp(x)
np.exp2                    | np.exp2(x)
np.expm1                   | np.expm1(x)
np.log                     | np.log(p)
np.log2                    | np.log2(p)
np.log10                   | np.log10(p)
np.log1p                   | np.log1p(p)
np.sin                     | np.sin(x)
np.cos                     | np.cos(x)
np.tan                     | np.tan(u)
np.arcsin                  | np.arcsin(u)
np.arccos                  | np.arccos(u)
np.arctan                  | np.arctan(x)
np.sinh                    | np.sinh(x)
np.cosh                    | np.cosh(x)
np.tanh                    | np.tanh(x)
np.arcsinh                 | np.arcsinh(x)
np.arccosh                 | np.arccosh(p + 1.0)
np.arctanh                 | np.arctanh(u)
np.rad2deg                 | np.rad2deg(x)
np.degrees                 | np.degrees(x)
np.deg2rad                 | np.deg2rad(x)
np.radians                 | np.radians(x)
np.square                  | np.square(x)
np.sqrt                    | np.sqrt(p)
np.sinc                    | np.sinc(x)
np.maximum                 | np.maximum(x, y)
np.minimum                 | np.minimum(x, y)
np.fmax                    | np.fmax(x, y)
np.fmin                    | np.fmin(x, y)
np.logaddexp               | np.logaddexp(x, y)
np.logaddexp2              | np.logaddexp2(x, y)
np.mod                     | np.mod(x, p)
np.remainder               | np.remainder(x, p)
np.where                   | np.where(x > 0, x, y)
np.nan_to_num              | np.nan_to_num(x)
np.reshape                 | np.reshape(x, (4, 3)) * v[:, None]
np.reshape -1              | np.reshape(x, (-1,)) * 2.0
np.reshape order=F         | np.reshape(x, (2, 6), order="F") * np.arange(6.0)
np.roll                    | np.roll(x, 1) * y
np.roll axis               | np.roll(x, -1, axis=1) * y
np.roll tuple              | np.roll(x, (1, 2), axis=(0, 1)) * y
np.array_split             | np.array_split(x, 2, axis=1)[1] * 3.0
np.split                   | np.split(x, 3)[1] * v
np.vsplit                  | np.vsplit(x, 3)[2] * v
np.hsplit                  | np.hsplit(x, 2)[0] * x[:, :2]
np.dsplit                  | np.dsplit(t, 2)[1] * t[:, :, :2]
np.ravel                   | np.ravel(x) * np.arange(12.0)
np.expand_dims             | np.expand_dims(x, 1) * t[0][:, None, :]
np.squeeze                 | np.squeeze(x[:, None, :]) * y
np.diag                    | np.diag(A) * v[:3]
np.diag vector             | np.diag(v) * 2.0
np.diag k                  | np.diag(x, k=1) * 2.0
np.flipud                  | np.flipud(x) * y
np.fliplr                  | np.fliplr(x) * y
np.rot90                   | np.rot90(x) * y.T
np.rot90 k                 | np.rot90(x, k=2) * y
np.trace                   | np.trace(A) * A
np.trace offset            | np.trace(x, offset=1) * x
np.full                    | np.full((2, 3), x[0, 0]) * A[:2]
np.triu                    | np.triu(x) * y
np.tril                    | np.tril(x, k=-1) * y
np.clip                    | np.clip(x, -0.5, 0.5)
np.clip arrays             | np.clip(x, -p, p)
np.swapaxes                | np.swapaxes(t, 0, 2) * 2.0
np.moveaxis                | np.moveaxis(t, 0, -1) * 2.0
np.rollaxis                | np.rollaxis(t, 2) * 2.0
np.real_if_close           | np.real_if_close(x) * y
np.real                    | np.real(x + 1j * y) * x
np.imag                    | np.imag(x + 1j * y) * x
np.conj                    | = np.sum(np.real(np.conj(x + 1j * y) * (x - 2j * y)))
np.conjugate               | = np.sum(np.imag(np.conjugate(x + 1j * y) * (x - 2j * y)))
np.angle                   | np.angle(x + 1j * p)
np.cross                   | np.cross(x[:, :3], y[:, :3])
np.linspace                | np.linspace(x[0, 0], x[0, 1], 5) * np.arange(5.0)
np.diff                    | np.diff(x) * y[:, 1:]
np.diff n=2 axis=0         | np.diff(x, n=2, axis=0) * y[:1]
np.repeat                  | np.repeat(x, 2, axis=1) * np.arange(8.0)
np.repeat flat             | np.repeat(v, 3) * np.arange(12.0)
np.tile                    | np.tile(v, (2, 1)) * x[:2]
np.kron                    | np.kron(A, B)
np.transpose               | np.transpose(x) * y.T
np.transpose axes          | np.transpose(t, (2, 0, 1)) * 2.0
np.sum                     | np.sum(x * y)
np.sum axis keepdims       | np.sum(x ** 2, axis=1, keepdims=True) * x
np.sum tuple axis          | np.sum(t ** 2, axis=(0, 2)) * p[:, 0]
np.mean                    | np.mean(x ** 2, axis=0) * v
np.prod                    | np.prod(p, axis=1)
np.prod all                | np.prod(p[:2])
np.var                     | np.var(x, axis=1)
np.var ddof                | np.var(x, ddof=1)
np.std                     | np.std(x, axis=0)
np.std ddof keepdims       | np.std(x, axis=1, ddof=1, keepdims=True) * x
np.max                     | np.max(d, axis=1)
np.min                     | np.min(d, axis=0)
np.amax                    | np.amax(d)
np.amin                    | np.amin(d)
np.cumsum                  | np.cumsum(x, axis=1) * y
np.cumsum flat             | np.cumsum(x) * np.arange(12.0)
np.inner                   | np.inner(x, y)
np.matmul                  | np.matmul(x.T, y)
np.dot                     | np.dot(x, v)
np.dot 2d                  | np.dot(A, x)
np.tensordot               | np.tensordot(t, x, axes=([1, 2], [0, 1]))
np.tensordot int           | np.tensordot(x, t, axes=0)[0, 0]
np.outer                   | np.outer(v, w)
np.concatenate             | np.concatenate([x, y], axis=1) * np.arange(8.0)
np.concatenate axis=None   | np.concatenate([x, v], axis=None) * np.arange(16.0)
np.sort                    | np.sort(d, axis=1) * np.arange(4.0)
np.sort axis=None          | np.sort(d, axis=None) * np.arange(12.0)
np.partition               | np.partition(d.ravel(), 3)[:4] * 2.0
np.atleast_1d              | np.atleast_1d(x[0, 0]) * v
np.atleast_2d              | np.atleast_2d(v) * x
np.atleast_3d              | np.atleast_3d(x) * 2.0
np.einsum                  | np.einsum("ij,jk->ik", x, x.T)
np.einsum trace            | np.einsum("ii", A) * A
np.einsum ellipsis         | np.einsum("...ij,...jk->...ik", t, x.T)
np.einsum optimize         | np.einsum("ij,jk,kl->il", x, x.T, A, optimize=True)
np.einsum implicit         | np.einsum("ij,ij", x, y) * x
np.einsum 3 operands       | np.einsum("i,ij,j->", v[:3], A, w[:3]) * A
np.diagonal                | np.diagonal(x) * v[:3]
np.diagonal offset         | np.diagonal(t, axis1=1, axis2=2) * 2.0
np.array                   | np.array([x[0, 0], x[1, 1], y[2, 2]]) * v[:3]
np.array nested            | np.array([[x[0, 0], y[0, 1]], [p[1, 1], x[2, 3]]]) @ A[:2, :2]
np.stack                   | np.stack([x, y]) * t
np.stack axis              | np.stack([x, y], axis=-1) * 2.0
np.hstack                  | np.hstack([x, y]) * 2.0
np.vstack                  | np.vstack([x, y]) * 2.0
np.dstack                  | np.dstack([x, y]) * 2.0
np.column_stack            | np.column_stack([v, w]) * 2.0
np.row_stack/vstack 1d     | np.vstack([v, w]) * x[:2]
np.full_like               | np.full_like(x, 2.0) * x
np.zeros_like              | np.zeros_like(x) + x * 2.0
np.ones_like               | np.ones_like(x) * x
np.copy                    | np.copy(x) * y
np.asarray                 | np.asarray(x) * y
np.ascontiguousarray       | np.ascontiguousarray(x.T) * y.T
# ---------------------------------------------------------------- autograd: linalg
linalg.det                 | np.linalg.det(A)
linalg.det batched         | np.linalg.det(np.stack([A, B]))
linalg.slogdet             | np.linalg.slogdet(A)[1]
linalg.slogdet tuple       | = np.linalg.slogdet(S).logabsdet
linalg.inv                 | np.linalg.inv(A)
linalg.inv batched         | np.linalg.inv(np.stack([A, B]))
linalg.pinv                | np.linalg.pinv(x)
linalg.solve               | np.linalg.solve(A, v[:3])
linalg.solve matrix        | np.linalg.solve(A, B)
linalg.norm                | np.linalg.norm(x)
linalg.norm axis           | np.linalg.norm(x, axis=1)
linalg.norm ord=1          | np.linalg.norm(v, ord=1)
linalg.norm ord=inf        | np.linalg.norm(d.ravel(), ord=np.inf)
linalg.norm fro            | np.linalg.norm(A, "fro")
linalg.norm nuc            | np.linalg.norm(A, "nuc")
linalg.norm ord=2 matrix   | np.linalg.norm(A, 2)
linalg.norm keepdims       | np.linalg.norm(x, axis=0, keepdims=True) * x
linalg.eigh                | np.linalg.eigh(S)[0]
linalg.eigh vectors        | = np.sum(np.abs(np.linalg.eigh(S)[1]) * A)
linalg.eigh namedtuple     | np.linalg.eigh(S).eigenvalues
linalg.eigvalsh            | np.linalg.eigvalsh(S)
linalg.eig                 | = np.sum(np.real(np.linalg.eig(S)[0]))
linalg.eigvals             | = np.sum(np.real(np.linalg.eigvals(A @ A.T)))
linalg.cholesky            | np.linalg.cholesky(S)
linalg.svd                 | np.linalg.svd(x)[1]
linalg.svd compute_uv=False | np.linalg.svd(x, compute_uv=False)
linalg.svd full_matrices=False | = np.sum(np.abs(np.linalg.svd(x, full_matrices=False)[0]) * y[:, :3])
linalg.svdvals             | np.linalg.svdvals(x)
linalg.qr                  | = np.sum(np.linalg.qr(A)[1] * B)
linalg.qr Q                | = np.sum(np.abs(np.linalg.qr(x.T)[0]) * y.T[:, :3])
linalg.lstsq               | np.linalg.lstsq(x.T, v, rcond=None)[0]
linalg.matrix_power        | np.linalg.matrix_power(A, 3)
linalg.matrix_power neg    | np.linalg.matrix_power(A, -2)
linalg.multi_dot           | np.linalg.multi_dot([x, x.T, A])
linalg.tensorinv           | np.linalg.tensorinv(np.reshape(np.kron(A, B), (3, 3, 3, 3)), ind=2)
linalg.tensorsolve         | np.linalg.tensorsolve(np.reshape(np.kron(A, B), (9, 3, 3)), np.arange(9.0))
linalg.cond                | np.linalg.cond(A)
linalg.matrix_norm         | np.linalg.matrix_norm(A)
linalg.vector_norm         | np.linalg.vector_norm(x, axis=1)
linalg.vector_norm ord=3   | np.linalg.vector_norm(x, ord=3)
linalg.matrix_rank         | np.linalg.matrix_rank(A) * A
linalg.vecdot              | np.linalg.vecdot(x, y)
linalg.outer               | np.linalg.outer(v, w)
linalg.cross               | np.linalg.cross(x[:, :3], y[:, :3])
linalg.trace               | np.linalg.trace(A) * A
linalg.diagonal            | np.linalg.diagonal(A) * 2.0
linalg.tensordot           | np.linalg.tensordot(x, y.T, axes=1)
linalg.matmul              | np.linalg.matmul(A, x)
linalg.matrix_transpose    | np.linalg.matrix_transpose(t) * 2.0
# ---------------------------------------------------------------- fft
fft.fft                    | = np.sum(np.abs(np.fft.fft(x)) ** 2)
fft.fft n axis norm        | = np.sum(np.real(np.fft.fft(x, n=6, axis=0, norm="ortho")) * 2.0)
fft.ifft                   | = np.sum(np.imag(np.fft.ifft(x)) * y)
fft.fft2                   | = np.sum(np.abs(np.fft.fft2(x)))
fft.ifft2                  | = np.sum(np.real(np.fft.ifft2(x)) * y)
fft.fftn                   | = np.sum(np.abs(np.fft.fftn(t)) ** 2)
fft.ifftn                  | = np.sum(np.real(np.fft.ifftn(t)) * t)
fft.rfft                   | = np.sum(np.abs(np.fft.rfft(x)) ** 2)
fft.irfft                  | = np.sum(np.fft.irfft(x + 1j * y) * np.arange(6.0))
fft.rfft2                  | = np.sum(np.abs(np.fft.rfft2(x)) ** 2)
fft.irfft2                 | = np.sum(np.fft.irfft2(x + 1j * y) ** 2)
fft.rfftn                  | = np.sum(np.abs(np.fft.rfftn(t)) ** 2)
fft.irfftn                 | = np.sum(np.fft.irfftn(t + 0.5j * t) ** 2)
fft.hfft                   | = np.sum(np.fft.hfft(x + 1j * y) ** 2)
fft.ihfft                  | = np.sum(np.abs(np.fft.ihfft(x)) ** 2)
fft.fftshift               | np.fft.fftshift(x) * y
fft.ifftshift              | np.fft.ifftshift(x, axes=1) * y
fft.fftfreq                | np.fft.fftfreq(4) * v
fft.rfftfreq               | np.fft.rfftfreq(6) * v
# ---------------------------------------------------------------- jax.numpy (beyond autograd)
np.arctan2                 | np.arctan2(x, p)
np.hypot                   | np.hypot(x, y)
np.cbrt                    | np.cbrt(p)
np.copysign                | np.copysign(x, y)
np.float_power             | np.float_power(p, x)
np.i0                      | np.i0(x)
np.heaviside               | np.heaviside(x, 0.5) * x
np.ldexp                   | np.ldexp(x, 2)
np.fmod                    | np.fmod(x, p)
np.modf                    | np.modf(x * 3.0)[0]
np.frexp                   | np.frexp(p)[0]
np.divmod                  | np.divmod(x, p)[1]
np.floor_divide            | np.floor_divide(x, p) * x
np.positive                | np.positive(x)
np.pow                     | np.pow(p, y)
np.acos                    | np.acos(u)
np.asin                    | np.asin(u)
np.atan                    | np.atan(x)
np.atan2                   | np.atan2(x, y)
np.acosh                   | np.acosh(p + 1.0)
np.asinh                   | np.asinh(x)
np.atanh                   | np.atanh(u)
np.nansum                  | np.nansum(x)
np.nanmean                 | np.nanmean(x, axis=0)
np.nanmax                  | np.nanmax(d, axis=1)
np.nanmin                  | np.nanmin(d)
np.nanprod                 | np.nanprod(p, axis=0)
np.nanstd                  | np.nanstd(x)
np.nanvar                  | np.nanvar(x, axis=1)
np.nanmedian               | np.nanmedian(d, axis=1)
np.nancumsum               | np.nancumsum(x, axis=1) * y
np.nancumprod              | np.nancumprod(p, axis=1)
np.nanpercentile           | np.nanpercentile(d, 30, axis=1)
np.nanquantile             | np.nanquantile(d, 0.3)
np.nanargmax               | np.nanargmax(d) * x
np.nanargmin               | np.nanargmin(d, axis=0) * v
np.cumprod                 | np.cumprod(p, axis=0)
np.cumulative_sum          | np.cumulative_sum(x, axis=1) * y
np.cumulative_sum include_initial | np.cumulative_sum(v, include_initial=True) * np.arange(5.0)
np.cumulative_prod         | np.cumulative_prod(p, axis=1)
np.average                 | np.average(x, axis=0)
np.average weights         | np.average(x, axis=1, weights=pv)
np.average returned        | np.average(x, weights=p, returned=True)[0]
np.median                  | np.median(d, axis=0)
np.median even             | np.median(d, axis=1)
np.percentile              | np.percentile(d, 40, axis=1)
np.percentile list         | np.percentile(d, [10, 90])
np.quantile                | np.quantile(d, 0.7, axis=0)
np.quantile method         | np.quantile(d, 0.7, method="nearest")
np.ptp                     | np.ptp(d, axis=1)
np.cov                     | np.cov(x)
np.cov rowvar              | np.cov(x, rowvar=False, ddof=0)
np.corrcoef                | np.corrcoef(x)
np.convolve                | np.convolve(v, w)
np.convolve same           | np.convolve(v, w[:3], mode="same")
np.correlate               | np.correlate(v, w[:2])
np.correlate full          | np.correlate(v, w, "full")
np.interp                  | np.interp(u, np.linspace(-1.0, 1.0, 4), v)
np.polyval                 | np.polyval(v, x)
np.polyfit                 | np.polyfit(np.linspace(0.0, 1.0, 4), v, 2)
np.polyder                 | np.polyder(v)
np.polyint                 | np.polyint(v)
np.polymul                 | np.polymul(pv, pv[:2])
np.polyadd                 | np.polyadd(v, w[:2])
np.polysub                 | np.polysub(v, w)
np.polydiv                 | np.polydiv(pv, np.array([1.0, 0.5]))[0]
np.poly                    | np.poly(v)
np.roots                   | = np.sum(np.real(np.roots(np.array([1.0, x[0, 0] - 3.0, 2.0]))))
np.vander                  | np.vander(v, 3)
np.trapezoid               | np.trapezoid(x, axis=1)
np.trapezoid x=            | np.trapezoid(v, x=np.cumsum(pv))
np.gradient                | np.gradient(v)
np.gradient 2d             | = np.sum(np.gradient(x)[0] * np.gradient(x)[1])
np.ediff1d                 | np.ediff1d(v)
np.select                  | np.select([x < -0.5, x > 0.5], [x ** 2, x ** 3], default=x)
np.piecewise               | np.piecewise(x, [x < 0, x >= 0], [lambda a: -a, lambda a: a ** 2])
np.take                    | np.take(x, [0, 2, 2]) * v[:3]
np.take axis               | np.take(x, [1, 0, 1], axis=1) * y[:, :3]
np.take_along_axis         | np.take_along_axis(x, np.argsort(d, axis=1), axis=1) * y
np.put_along_axis          | = _put_along(x, y)
np.block                   | np.block([[A, x], [x.T @ A, x.T @ x]])
np.pad                     | np.pad(x, 1) * 2.0
np.pad reflect             | np.pad(x, ((1, 2), (0, 1)), mode="reflect") * 2.0
np.pad constant_values     | np.pad(x, 1, constant_values=x[0, 0])
np.pad edge                | np.pad(v, 2, mode="edge") * np.arange(8.0)
np.pad wrap                | np.pad(v, 2, mode="wrap") * np.arange(8.0)
np.apply_along_axis        | np.apply_along_axis(lambda r: np.sum(r ** 2), 1, x)
np.vectorize               | np.vectorize(lambda a: a ** 2 + 1.0)(x)
np.meshgrid                | = np.sum(np.meshgrid(v, w[:3])[0] * np.meshgrid(v, w[:3])[1])
np.diagflat                | np.diagflat(v) * 2.0
np.flip                    | np.flip(x, axis=0) * y
np.flip all                | np.flip(x) * y
np.unwrap                  | np.unwrap(np.cumsum(v) * 3.0)
np.insert                  | np.insert(v, 1, w[0]) * np.arange(5.0)
np.delete                  | np.delete(x, 1, axis=1) * y[:, :3]
np.append                  | np.append(v, w) * np.arange(8.0)
np.resize                  | np.resize(v, (3, 4)) * x
np.broadcast_to            | np.broadcast_to(v, (3, 4)) * x
np.broadcast_arrays        | np.broadcast_arrays(v, x)[0] * x
np.fill_diagonal           | = _fill_diag(A, v)
np.matrix_transpose        | np.matrix_transpose(t) * 2.0
np.vecdot                  | np.vecdot(x, y)
np.vdot                    | np.vdot(x, y) * x
np.matvec                  | np.matvec(x, v)
np.vecmat                  | np.vecmat(v[:3], x)
np.logspace                | np.logspace(x[0, 0], x[0, 1], 4) * v
np.geomspace               | np.geomspace(p[0, 0], p[0, 1] + 2.0, 4) * v
np.permute_dims            | np.permute_dims(t, (1, 0, 2)) * 2.0
np.concat                  | np.concat([x, y]) * 2.0
np.unstack                 | np.unstack(x)[1] * v
np.apply_over_axes         | np.apply_over_axes(np.sum, t, [0, 2])
np.tril_indices            | x[np.tril_indices(3, m=4)]
np.triu_indices            | A[np.triu_indices(3)]
np.diag_indices            | A[np.diag_indices(3)]
np.searchsorted            | np.searchsorted(np.sort(v), x) * x
np.argsort                 | np.argsort(d, axis=1) * x
np.argmax                  | np.argmax(d, axis=0) * v
np.argmin                  | np.argmin(d) * x
np.digitize                | np.digitize(x, [-0.5, 0.5]) * x
np.isclose                 | np.where(np.isclose(x, y), 0.0, x * y)
np.allclose                | x * (2.0 if np.allclose(x, x) else 3.0)
np.around                  | np.around(g * 3.0) * x
np.round                   | np.round(x, 1) * y + x
np.rint                    | np.rint(g * 3.0) * x
np.floor                   | np.floor(x) * x
np.ceil                    | np.ceil(x) * x
np.trunc                   | np.trunc(x * 2.0) * x
np.fix                     | np.fix(x * 2.0) * x
np.sign                    | np.sign(x) * x
np.signbit                 | np.where(np.signbit(x), -x, 2.0 * x)
np.isfinite                | np.where(np.isfinite(x), x, 0.0)
np.isnan                   | np.where(np.isnan(x), 0.0, x ** 2)
np.isinf                   | np.where(np.isinf(x), 0.0, x)
np.logical_and             | np.where(np.logical_and(x > 0, y > 0), x, y)
np.logical_or              | np.where(np.logical_or(x > 0, y > 0), x, y)
np.logical_not             | np.where(np.logical_not(x > 0), x, y)
np.logical_xor             | np.where(np.logical_xor(x > 0, y > 0), x, y)
np.greater                 | np.where(np.greater(x, y), x, y)
np.less_equal              | np.where(np.less_equal(x, y), x, y)
np.equal                   | np.where(np.equal(x, x), x, y)
np.not_equal               | np.where(np.not_equal(x, y), x, y)
np.any                     | x * (1.0 if np.any(x > 0) else 2.0)
np.all                     | x * (1.0 if np.all(p > 0) else 2.0)
np.count_nonzero           | np.count_nonzero(x > 0) * x
np.nonzero                 | x[np.nonzero(x > 0)]
np.argwhere                | np.argwhere(x > 0)[:, 0] * 1.0 + np.sum(x)
np.flatnonzero             | np.ravel(x)[np.flatnonzero(x > 0)]
np.extract                 | np.extract(x > 0, x) * 2.0
np.compress                | np.compress([True, False, True], x, axis=0) * 2.0
np.choose                  | np.choose(np.array([[0, 1, 0, 1]] * 3), [x, y])
np.isin                    | np.where(np.isin(np.arange(4), [1, 2]), v, 2.0 * v)
np.unique                  | np.unique(np.round(d)) * 2.0
np.bincount weights        | np.bincount(np.array([0, 1, 1, 3]), weights=v)
np.histogram               | np.histogram(v, bins=3)[0] * 1.0 + v[:3]
np.where 1 arg             | x[np.where(x > 0)]
np.where scalar branch     | np.where(x > 0, x, 0.0)
np.eye                     | np.eye(3) * A
np.identity                | np.identity(3) @ A
np.tri                     | np.tri(3, 4) * x
np.arange                  | np.arange(4.0) * v
np.zeros                   | np.zeros((3, 4)) + x
np.ones                    | np.ones(4) * v
np.empty fill              | = _empty_fill(v)
np.indices                 | np.indices((3, 4))[0] * x
np.hamming                 | np.hamming(4) * v
np.hanning                 | np.hanning(4) * v
np.blackman                | np.blackman(4) * v
np.bartlett                | np.bartlett(4) * v
np.kaiser                  | np.kaiser(4, 5.0) * v
np.trim_zeros              | np.trim_zeros(np.array([0.0, 1.0, 2.0, 0.0])) * v[:2]
np.sort_complex            | = np.sum(np.real(np.sort_complex(d[0] + 1j * x[0])) * v)
np.lexsort                 | np.lexsort((v, w)) * v
np.argpartition            | np.argpartition(d.ravel(), 2)[:3] * v[:3]
np.ix_                     | x[np.ix_([0, 2], [1, 3])] * 2.0
np.ravel_multi_index       | np.ravel(x)[np.ravel_multi_index(([0, 2], [1, 3]), (3, 4))]
np.unravel_index           | x[np.unravel_index(5, (3, 4))] * v
np.histogram2d             | np.histogram2d(v, w, bins=2)[0] * 1.0 + A[:2, :2]
np.spacing                 | np.spacing(p) * 0.0 + x
np.nextafter               | np.nextafter(x, 1.0) + 0.0 * x
np.gcd                     | np.gcd(6, 4) * x
np.result_type             | x * 1.0
np.iscomplexobj            | x * (2.0 if np.iscomplexobj(x) else 1.0)
np.ndim                    | x * np.ndim(x)
np.shape                   | x * np.shape(x)[0]
np.size                    | x / np.size(x)
np.array_equal             | x * (2.0 if np.array_equal(x, x) else 1.0)
np.histogram_bin_edges     | np.histogram_bin_edges(v, bins=3)
np.convolve valid          | np.convolve(v, w[:2], "valid")
np.outer 2d                | np.outer(x, v)
np.cross axis              | np.cross(t[:, :, :3], t[:, :, 1:], axis=-1)
# ---------------------------------------------------------------- jax.scipy.special / autograd.scipy.special
special.beta               | scipy.special.beta(p, q)
special.betainc            | scipy.special.betainc(p, q, g)
special.betaln             | scipy.special.betaln(p, q)
special.polygamma          | scipy.special.polygamma(1, p)
special.psi                | scipy.special.psi(p)
special.digamma            | scipy.special.digamma(p)
special.gamma              | scipy.special.gamma(p)
special.gammaln            | scipy.special.gammaln(p)
special.loggamma           | scipy.special.loggamma(p)
special.gammainc           | scipy.special.gammainc(p, q)
special.gammaincc          | scipy.special.gammaincc(p, q)
special.gammasgn           | scipy.special.gammasgn(x) * x
special.rgamma             | scipy.special.rgamma(p)
special.multigammaln       | scipy.special.multigammaln(p + 2.0, 2)
special.j0                 | scipy.special.j0(x)
special.y0                 | scipy.special.y0(p)
special.j1                 | scipy.special.j1(x)
special.y1                 | scipy.special.y1(p)
special.jn                 | scipy.special.jn(2, x)
special.yn                 | scipy.special.yn(2, p)
special.jv                 | scipy.special.jv(1.5, p)
special.yv                 | scipy.special.yv(1.5, p)
special.kv                 | scipy.special.kv(1.5, p)
special.i0                 | scipy.special.i0(x)
special.i1                 | scipy.special.i1(x)
special.iv                 | scipy.special.iv(2, x)
special.ive                | scipy.special.ive(2, x)
special.i0e                | scipy.special.i0e(x)
special.i1e                | scipy.special.i1e(x)
special.k0                 | scipy.special.k0(p)
special.k1                 | scipy.special.k1(p)
special.erf                | scipy.special.erf(x)
special.erfc               | scipy.special.erfc(x)
special.erfinv             | scipy.special.erfinv(u)
special.erfcinv            | scipy.special.erfcinv(g)
special.erfcx              | scipy.special.erfcx(x)
special.logit              | scipy.special.logit(g)
special.expit              | scipy.special.expit(x)
special.log_expit          | scipy.special.log_expit(x)
special.logsumexp          | scipy.special.logsumexp(x)
special.logsumexp axis b   | scipy.special.logsumexp(x, axis=1, b=p)
special.logsumexp keepdims | scipy.special.logsumexp(x, axis=0, keepdims=True) * x
special.logsumexp return_sign | scipy.special.logsumexp(x, return_sign=True)[0]
special.softmax            | scipy.special.softmax(x, axis=1) * y
special.log_softmax        | scipy.special.log_softmax(x, axis=0) * y
special.entr               | scipy.special.entr(p)
special.rel_entr           | scipy.special.rel_entr(p, q)
special.kl_div             | scipy.special.kl_div(p, q)
special.xlogy              | scipy.special.xlogy(x, p)
special.xlog1py            | scipy.special.xlog1py(x, p)
special.exp1               | scipy.special.exp1(p)
special.expi               | scipy.special.expi(p)
special.expn               | scipy.special.expn(2, p)
special.ndtr               | scipy.special.ndtr(x)
special.ndtri              | scipy.special.ndtri(g)
special.log_ndtr           | scipy.special.log_ndtr(x)
special.poch               | scipy.special.poch(p, q)
special.spence             | scipy.special.spence(p)
special.zeta               | scipy.special.zeta(p + 1.5, q)
special.hyp1f1             | scipy.special.hyp1f1(p, q, u)
special.hyp2f1             | scipy.special.hyp2f1(p, q, 3.0, u * 0.5)
special.factorial          | scipy.special.factorial(p)
special.comb               | scipy.special.comb(p + 3.0, q)
special.boxcox             | scipy.special.boxcox(p, 0.5)
special.boxcox1p           | scipy.special.boxcox1p(p, 0.5)
special.dawsn              | scipy.special.dawsn(x)
special.fresnel            | scipy.special.fresnel(x)[0]
special.sici               | scipy.special.sici(p)[0]
special.owens_t            | scipy.special.owens_t(x, p)
special.wofz               | = np.sum(np.real(scipy.special.wofz(x + 1j * p)))
special.bernoulli          | scipy.special.bernoulli(3)[:4] * v
special.lpmv               | scipy.special.lpmv(1, 2, u)
special.sph_harm_y         | = np.sum(np.real(scipy.special.sph_harm_y(2, 1, p, q)))
special.sinc/cosdg         | scipy.special.cosdg(x * 30.0)
special.sindg              | scipy.special.sindg(x * 30.0)
special.cbrt               | scipy.special.cbrt(x)
special.exp10              | scipy.special.exp10(u)
special.exp2               | scipy.special.exp2(x)
special.expm1              | scipy.special.expm1(x)
special.log1p              | scipy.special.log1p(p)
special.round              | scipy.special.round(x) * x
special.huber              | scipy.special.huber(1.0, x)
special.pseudo_huber       | scipy.special.pseudo_huber(1.0, x)
special.ellipk             | scipy.special.ellipk(u * 0.9)
special.ellipe             | scipy.special.ellipe(u * 0.9)
special.struve             | scipy.special.struve(1, p)
special.stdtr              | scipy.special.stdtr(3.0, x)
special.btdtr/betainc reg  | scipy.special.bdtr(2, 5, g)
special.chdtr              | scipy.special.chdtr(3.0, p)
special.gdtr               | scipy.special.gdtr(1.0, 2.0, p)
special.pdtr               | scipy.special.pdtr(2, p)
special.smirnov            | scipy.special.smirnov(3, g)
special.expit float32 inside | ~scipy.special.expit(x.astype(np.float32)).astype(np.float64) * x
special.binom              | scipy.special.binom(p + 3.0, q)
special.logsumexp 2 axes   | scipy.special.logsumexp(t, axis=(0, 2))
special.gammaincinv        | scipy.special.gammaincinv(p, g)
special.betaincinv         | scipy.special.betaincinv(p, q, g)
special.ndtri_exp          | scipy.special.ndtri_exp(-p)
special.gammainccinv       | scipy.special.gammainccinv(p, g)
special.gammaincinv in y   | scipy.special.gammaincinv(2.5, g)
special.gammainccinv in y  | scipy.special.gammainccinv(0.7, g)
special.betaincinv in y    | scipy.special.betaincinv(2.0, 3.5, g)
special.gammainc in x      | scipy.special.gammainc(2.0, p)
special.gammaincc in x     | scipy.special.gammaincc(2.0, p)
special.betainc in x       | scipy.special.betainc(2.0, 3.0, g)
special.hyp1f1 in x        | scipy.special.hyp1f1(1.5, 2.5, u)
special.zeta in q          | scipy.special.zeta(3.0, p)
special.ellipk m=0         | scipy.special.ellipk(u * 0.0 + 0.0) * x + scipy.special.ellipe(u * 0.0) * y
special.xlogy0             | scipy.special.xlogy(p, q)
# ---------------------------------------------------------------- scipy.linalg (jax.scipy.linalg, autograd.scipy.linalg)
slinalg.sqrtm              | scipy.linalg.sqrtm(S)
slinalg.solve_sylvester    | scipy.linalg.solve_sylvester(A, B, S)
slinalg.solve_triangular   | scipy.linalg.solve_triangular(np.triu(A), v[:3])
slinalg.solve_triangular lower | scipy.linalg.solve_triangular(np.tril(A), B, lower=True)
slinalg.cho_factor/solve   | scipy.linalg.cho_solve(scipy.linalg.cho_factor(S), v[:3])
slinalg.block_diag         | scipy.linalg.block_diag(A, x) * 2.0
slinalg.cholesky           | scipy.linalg.cholesky(S)
slinalg.cholesky lower     | scipy.linalg.cholesky(S, lower=True)
slinalg.det                | scipy.linalg.det(A)
slinalg.eigh               | scipy.linalg.eigh(S)[0]
slinalg.eigh eigvals_only  | scipy.linalg.eigh(S, eigvals_only=True)
slinalg.eigh generalized   | scipy.linalg.eigh(S, S + np.eye(3), eigvals_only=True)
slinalg.eigvalsh           | scipy.linalg.eigvalsh(S)
slinalg.expm               | scipy.linalg.expm(A * 0.3)
slinalg.expm_frechet       | scipy.linalg.expm_frechet(A * 0.3, B, compute_expm=False)
slinalg.inv                | scipy.linalg.inv(A)
slinalg.lu                 | = np.sum(scipy.linalg.lu(A)[2] * B) + np.sum(scipy.linalg.lu(A)[1] * A)
slinalg.lu_factor/solve    | scipy.linalg.lu_solve(scipy.linalg.lu_factor(A), v[:3])
slinalg.polar              | scipy.linalg.polar(A)[1]
slinalg.qr                 | = np.sum(scipy.linalg.qr(A)[1] * B)
slinalg.qr economic        | = np.sum(np.abs(scipy.linalg.qr(x.T, mode="economic")[0]) * y.T[:, :3])
slinalg.solve              | scipy.linalg.solve(A, B)
slinalg.solve assume_a=pos | scipy.linalg.solve(S, v[:3], assume_a="pos")
slinalg.svd                | scipy.linalg.svd(x)[1]
slinalg.svdvals            | scipy.linalg.svdvals(x)
slinalg.toeplitz           | scipy.linalg.toeplitz(v) * 2.0
slinalg.toeplitz r         | scipy.linalg.toeplitz(v[:3], w) * x
slinalg.circulant          | scipy.linalg.circulant(v) * 2.0
slinalg.hankel             | scipy.linalg.hankel(v[:3], w) * x
slinalg.companion          | scipy.linalg.companion(pv) * 2.0
slinalg.pinv               | scipy.linalg.pinv(x)
slinalg.norm               | scipy.linalg.norm(x)
slinalg.lstsq              | scipy.linalg.lstsq(x.T, v)[0]
slinalg.logm               | = np.sum(np.real(scipy.linalg.logm(S)))
slinalg.pinvh              | scipy.linalg.pinvh(S)
slinalg.cho_solve_banded?   | scipy.linalg.cho_solve((np.linalg.cholesky(S), True), B)
slinalg.expm batched       | scipy.linalg.expm(np.stack([A, B]) * 0.2)
slinalg.sinm               | scipy.linalg.sinm(A * 0.3)
slinalg.cosm               | scipy.linalg.cosm(A * 0.3)
slinalg.tanhm              | scipy.linalg.tanhm(A * 0.3)
slinalg.sinhm              | scipy.linalg.sinhm(A * 0.3)
slinalg.coshm              | scipy.linalg.coshm(A * 0.3)
slinalg.cosm complex       | = np.sum(np.abs(scipy.linalg.cosm(A * 0.3 + 0.2j * B)))
slinalg.eig right=False    | = np.sum(np.abs(scipy.linalg.eig(A, right=False)))
slinalg.eig vectors        | = np.sum(np.abs(scipy.linalg.eig(S)[1]) * B)
slinalg.hankel c only      | scipy.linalg.hankel(v) * 2.0
slinalg.circulant batched  | scipy.linalg.circulant(x) * 2.0
slinalg.fractional_matrix_power | scipy.linalg.fractional_matrix_power(S, 0.5)
slinalg.khatri_rao         | scipy.linalg.khatri_rao(A, B)
slinalg.kron?              | np.kron(v, w)
slinalg.solve_continuous_lyapunov | scipy.linalg.solve_continuous_lyapunov(A - 4.0 * np.eye(3), S)
slinalg.solve_discrete_lyapunov | scipy.linalg.solve_discrete_lyapunov(A * 0.2, S)
slinalg.orth               | = np.sum(np.abs(scipy.linalg.orth(x)))
slinalg.null_space         | = np.sum(np.abs(scipy.linalg.null_space(x)))
slinalg.det batched        | scipy.linalg.det(np.stack([A, B]))
slinalg.eig                | = np.sum(np.real(scipy.linalg.eig(S)[0]))
slinalg.eigvals            | = np.sum(np.real(scipy.linalg.eigvals(S)))
slinalg.rq                 | = np.sum(scipy.linalg.rq(A)[0] * B)
slinalg.solveh_banded      | scipy.linalg.solveh_banded(np.array([[0.0, S[0, 1], S[1, 2]], [S[0, 0] + 2, S[1, 1] + 2, S[2, 2] + 2]]), v[:3])
slinalg.solveh_banded lower | scipy.linalg.solveh_banded(np.array([[S[0, 0] + 2, S[1, 1] + 2, S[2, 2] + 2], [S[1, 0], S[2, 1], 0.0]]), x[:, :2], lower=True)
slinalg.fractional_matrix_power int | scipy.linalg.fractional_matrix_power(A, 2) + scipy.linalg.fractional_matrix_power(S, -0.5)
slinalg.solve_banded       | scipy.linalg.solve_banded((1, 1), np.array([[0.0, A[0, 1], A[1, 2]], [A[0, 0], A[1, 1], A[2, 2]], [A[1, 0], A[2, 1], 0.0]]), v[:3])
# ---------------------------------------------------------------- scipy.signal / integrate / misc
signal.convolve            | scipy.signal.convolve(x, A[:2, :2])
signal.correlate           | scipy.signal.correlate(v, w, mode="same")
signal.fftconvolve         | scipy.signal.fftconvolve(v, w)
signal.convolve2d          | scipy.signal.convolve2d(x, A, mode="same")
signal.correlate2d         | scipy.signal.correlate2d(x, A, mode="valid")
signal.oaconvolve          | scipy.signal.oaconvolve(v, w)
signal.lfilter             | scipy.signal.lfilter([1.0, 0.5], [1.0, -0.3], v)
signal.sosfilt             | scipy.signal.sosfilt(np.array([[1.0, 0.5, 0.0, 1.0, -0.3, 0.0]]), v)
signal.filtfilt            | scipy.signal.filtfilt([1.0, 0.5], [1.0, -0.3], np.tile(v, 4))
signal.savgol_filter       | scipy.signal.savgol_filter(np.tile(v, 3), 5, 2)
signal.lfilter discount    | scipy.signal.lfilter([1.0], [1.0, -0.9], x[:, ::-1], axis=1)[:, ::-1]
signal.lfilter axis=0 a0   | scipy.signal.lfilter(np.array([0.5, 0.2, 0.1]), np.array([2.0, -0.4]), x, axis=0)
signal.savgol deriv mode   | scipy.signal.savgol_filter(np.tile(x, 2), 5, 3, deriv=1, mode="nearest")
signal.sosfiltfilt         | scipy.signal.sosfiltfilt(np.array([[0.2, 0.3, 0.1, 1.0, -0.2, 0.05]]), np.tile(v, 5))
signal.detrend             | scipy.signal.detrend(v)
signal.detrend constant    | scipy.signal.detrend(x, type="constant")
signal.detrend axis        | scipy.signal.detrend(x, axis=0)
# ---------------------------------------------------------------- scipy.fft / ndimage (jax.scipy.fft, jax.scipy.ndimage)
scipy.fft.dct              | scipy.fft.dct(x)
scipy.fft.dct ortho axis   | scipy.fft.dct(x, norm="ortho", axis=0)
scipy.fft.dct type 1/3     | scipy.fft.dct(v, type=1) + scipy.fft.dct(v, type=3)
scipy.fft.idct             | scipy.fft.idct(x, norm="ortho")
scipy.fft.dctn             | scipy.fft.dctn(x)
scipy.fft.idctn            | scipy.fft.idctn(x, norm="ortho")
scipy.fft.dst              | scipy.fft.dst(x)
scipy.fft.fft              | = np.sum(np.abs(scipy.fft.fft(x)) ** 2)
scipy.fft.rfft             | = np.sum(np.abs(scipy.fft.rfft(x, axis=0)) ** 2)
scipy.fft.irfft            | = np.sum(scipy.fft.irfft(x + 1j * y) ** 2)
scipy.fft.fftshift         | scipy.fft.fftshift(x) * y
scipy.ndimage.map_coordinates | scipy.ndimage.map_coordinates(x, [g[0] * 2.0, g[1] * 3.0], order=1)
integrate.trapezoid        | scipy.integrate.trapezoid(x, axis=1)
integrate.simpson          | scipy.integrate.simpson(v)
integrate.cumulative_trapezoid | scipy.integrate.cumulative_trapezoid(v)
integrate.cumulative_trapezoid x axis initial | scipy.integrate.cumulative_trapezoid(x, np.cumsum(pv), initial=0)
integrate.cumulative_trapezoid dx | scipy.integrate.cumulative_trapezoid(x, dx=0.5)
integrate.cumulative_trapezoid x 2d | scipy.integrate.cumulative_trapezoid(x, np.cumsum(p, axis=1))
integrate.trapezoid x dx   | scipy.integrate.trapezoid(x, dx=0.3, axis=0) + scipy.integrate.trapezoid(v, np.cumsum(pv))
integrate.quad             | scipy.integrate.quad(lambda s: s ** 2, 0.0, 1.0)[0] * x
integrate.odeint           | = _odeint(v)
integrate.solve_ivp        | = _solve_ivp(v)
# ---------------------------------------------------------------- scipy.stats (jax.scipy.stats, autograd.scipy.stats)
stats.norm.logpdf          | scipy.stats.norm.logpdf(x, v, pv)
stats.norm.pdf             | scipy.stats.norm.pdf(x)
stats.norm.cdf             | scipy.stats.norm.cdf(x, loc=y, scale=p)
stats.norm.logcdf          | scipy.stats.norm.logcdf(x)
stats.norm.sf              | scipy.stats.norm.sf(x)
stats.norm.logsf           | scipy.stats.norm.logsf(x)
stats.norm.ppf             | scipy.stats.norm.ppf(g)
stats.norm.isf             | scipy.stats.norm.isf(g)
stats.norm.entropy         | scipy.stats.norm.entropy(p)
stats.t.logpdf             | scipy.stats.t.logpdf(x, p + 1.0)
stats.t.pdf                | scipy.stats.t.pdf(x, 3.0, loc=y, scale=p)
stats.t.cdf                | scipy.stats.t.cdf(x, 3.0)
stats.t.logcdf             | scipy.stats.t.logcdf(x, 3.0)
stats.t.ppf                | scipy.stats.t.ppf(g, 3.0)
stats.beta.logpdf          | scipy.stats.beta.logpdf(g, p, q)
stats.beta.pdf             | scipy.stats.beta.pdf(g, p, q)
stats.beta.cdf             | scipy.stats.beta.cdf(g, p, q)
stats.beta.logcdf          | scipy.stats.beta.logcdf(g, 2.0, 3.0)
stats.beta.sf              | scipy.stats.beta.sf(g, 2.0, 3.0)
stats.gamma.logpdf         | scipy.stats.gamma.logpdf(p, q)
stats.gamma.pdf            | scipy.stats.gamma.pdf(p, q, scale=2.0)
stats.gamma.cdf            | scipy.stats.gamma.cdf(p, q)
stats.gamma.sf             | scipy.stats.gamma.sf(p, 2.0)
stats.chi2.logpdf          | scipy.stats.chi2.logpdf(p, q + 1.0)
stats.chi2.pdf             | scipy.stats.chi2.pdf(p, 3.0)
stats.chi2.cdf             | scipy.stats.chi2.cdf(p, 3.0)
stats.chi2.sf              | scipy.stats.chi2.sf(p, 3.0)
stats.expon.logpdf         | scipy.stats.expon.logpdf(p, scale=q)
stats.expon.pdf            | scipy.stats.expon.pdf(p)
stats.expon.cdf            | scipy.stats.expon.cdf(p)
stats.expon.sf             | scipy.stats.expon.sf(p)
stats.expon.ppf            | scipy.stats.expon.ppf(g)
stats.laplace.logpdf       | scipy.stats.laplace.logpdf(x, y, p)
stats.laplace.pdf          | scipy.stats.laplace.pdf(x)
stats.laplace.cdf          | scipy.stats.laplace.cdf(x)
stats.logistic.logpdf      | scipy.stats.logistic.logpdf(x)
stats.logistic.pdf         | scipy.stats.logistic.pdf(x)
stats.logistic.cdf         | scipy.stats.logistic.cdf(x)
stats.logistic.sf          | scipy.stats.logistic.sf(x)
stats.logistic.ppf         | scipy.stats.logistic.ppf(g)
stats.logistic.isf         | scipy.stats.logistic.isf(g)
stats.cauchy.logpdf        | scipy.stats.cauchy.logpdf(x, y, p)
stats.cauchy.pdf           | scipy.stats.cauchy.pdf(x)
stats.cauchy.cdf           | scipy.stats.cauchy.cdf(x)
stats.cauchy.ppf           | scipy.stats.cauchy.ppf(g)
stats.uniform.logpdf       | scipy.stats.uniform.logpdf(g, -1.0, 3.0) + x
stats.uniform.pdf          | scipy.stats.uniform.pdf(g) * x
stats.uniform.cdf          | scipy.stats.uniform.cdf(g, loc=0.0, scale=p + 1.0)
stats.uniform.ppf          | scipy.stats.uniform.ppf(g, 0.0, p)
stats.pareto.logpdf        | scipy.stats.pareto.logpdf(p + 1.0, q)
stats.pareto.pdf           | scipy.stats.pareto.pdf(p + 1.0, 2.0)
stats.lognorm.logpdf       | scipy.stats.lognorm.logpdf(p, q)
stats.lognorm.pdf          | scipy.stats.lognorm.pdf(p, 0.5)
stats.lognorm.cdf          | scipy.stats.lognorm.cdf(p, 0.5)
stats.gennorm.logpdf       | scipy.stats.gennorm.logpdf(x, p + 1.0)
stats.gennorm.pdf          | scipy.stats.gennorm.pdf(x, 2.5)
stats.gennorm.cdf          | scipy.stats.gennorm.cdf(x, 2.5)
stats.gumbel_r.logpdf      | scipy.stats.gumbel_r.logpdf(x)
stats.gumbel_r.cdf         | scipy.stats.gumbel_r.cdf(x)
stats.gumbel_r.ppf         | scipy.stats.gumbel_r.ppf(g)
stats.gumbel_l.logpdf      | scipy.stats.gumbel_l.logpdf(x)
stats.gumbel_l.sf          | scipy.stats.gumbel_l.sf(x)
stats.vonmises.logpdf      | scipy.stats.vonmises.logpdf(u, p)
stats.vonmises.pdf         | scipy.stats.vonmises.pdf(u, 2.0)
stats.wrapcauchy.logpdf    | scipy.stats.wrapcauchy.logpdf(p, g)
stats.wrapcauchy.pdf       | scipy.stats.wrapcauchy.pdf(p, 0.5)
stats.truncnorm.logpdf     | scipy.stats.truncnorm.logpdf(u, -1.0, 1.0)
stats.truncnorm.pdf        | scipy.stats.truncnorm.pdf(u, -1.0, 1.0)
stats.truncnorm.cdf        | scipy.stats.truncnorm.cdf(u, -1.0, 1.0)
stats.truncnorm.logcdf     | scipy.stats.truncnorm.logcdf(u, -1.0, 1.0)
stats.truncnorm.sf         | scipy.stats.truncnorm.sf(u, -1.0, 1.0)
stats.poisson.logpmf       | scipy.stats.poisson.logpmf(np.array([0, 1, 2, 3]), pv)
stats.poisson.pmf          | scipy.stats.poisson.pmf(np.array([0, 1, 2, 3]), pv)
stats.poisson.cdf          | scipy.stats.poisson.cdf(np.array([0, 1, 2, 3]), pv)
stats.bernoulli.logpmf     | scipy.stats.bernoulli.logpmf(np.array([0, 1, 1, 0]), pv / 3.0)
stats.bernoulli.pmf        | scipy.stats.bernoulli.pmf(np.array([0, 1, 1, 0]), pv / 3.0)
stats.binom.logpmf         | scipy.stats.binom.logpmf(np.array([0, 1, 2, 3]), 5, pv / 3.0)
stats.binom.pmf            | scipy.stats.binom.pmf(np.array([0, 1, 2, 3]), 5, pv / 3.0)
stats.geom.logpmf          | scipy.stats.geom.logpmf(np.array([1, 2, 3, 4]), pv / 3.0)
stats.nbinom.logpmf        | scipy.stats.nbinom.logpmf(np.array([0, 1, 2, 3]), 3, pv / 3.0)
stats.betabinom.logpmf     | scipy.stats.betabinom.logpmf(np.array([0, 1, 2, 3]), 5, pv, pv + 1.0)
stats.multinomial.logpmf   | scipy.stats.multinomial.logpmf(np.array([1, 2, 0, 1]), 4, pv / np.sum(pv))
stats.dirichlet.logpdf     | scipy.stats.dirichlet.logpdf(pv / np.sum(pv), pv + 1.0)
stats.dirichlet.pdf        | scipy.stats.dirichlet.pdf(pv / np.sum(pv), pv + 1.0)
stats.multivariate_normal.logpdf | scipy.stats.multivariate_normal.logpdf(x[:, :3], v[:3], S)
stats.multivariate_normal.pdf | scipy.stats.multivariate_normal.pdf(v[:3], w[:3], S)
stats.multivariate_normal.entropy | scipy.stats.multivariate_normal.entropy(v[:3], S)
stats.norm frozen          | scipy.stats.norm(v, pv).logpdf(x)
stats.entropy              | scipy.stats.entropy(pv)
stats.entropy qk           | scipy.stats.entropy(pv, pv[::-1])
stats.logsumexp?zscore     | scipy.stats.zscore(x, axis=1)
stats.sem                  | scipy.stats.sem(x, axis=1)
stats.skew                 | scipy.stats.skew(v)
stats.kurtosis             | scipy.stats.kurtosis(v)
stats.moment               | scipy.stats.moment(v, 3)
stats.variation            | scipy.stats.variation(pv)
stats.gmean                | scipy.stats.gmean(p, axis=1)
stats.hmean                | scipy.stats.hmean(pv)
stats.pmean                | scipy.stats.pmean(pv, 2.0)
stats.rankdata             | scipy.stats.rankdata(d, axis=1) * x
stats.mode                 | scipy.stats.mode(np.round(d)).mode * v
stats.trim_mean            | scipy.stats.trim_mean(d, 0.25, axis=1)
stats.iqr                  | scipy.stats.iqr(d, axis=1)
stats.tmean                | scipy.stats.tmean(v)
stats.tvar                 | scipy.stats.tvar(v)
stats.gaussian_kde         | scipy.stats.gaussian_kde(v)(w)
stats.pearsonr             | scipy.stats.pearsonr(v, w)[0]
stats.entropy axis=1 base  | scipy.stats.entropy(p, axis=1, base=2.0)
stats.entropy qk axis=None | scipy.stats.entropy(p, q, axis=None)
stats.zscore axis=None ddof | scipy.stats.zscore(x, axis=None, ddof=1)
stats.sem keepdims         | scipy.stats.sem(x, axis=0, keepdims=True) * x
stats.skew bias=False      | scipy.stats.skew(x, axis=1, bias=False)
stats.skew axis=None       | scipy.stats.skew(x, axis=None) * x
stats.kurtosis fisher=False | scipy.stats.kurtosis(x, axis=1, fisher=False)
stats.kurtosis bias=False  | scipy.stats.kurtosis(t, axis=2, bias=False)
stats.moment order 0/1/4   | scipy.stats.moment(x, 4, axis=1) + scipy.stats.moment(x, 1, axis=1) + scipy.stats.moment(x, 0, axis=None)
stats.moment center        | scipy.stats.moment(x, 3, center=0.5)
stats.variation ddof axis  | scipy.stats.variation(p, axis=1, ddof=1)
stats.gmean weights        | scipy.stats.gmean(p, axis=1, weights=pv)
stats.hmean axis=None      | scipy.stats.hmean(p, axis=None)
stats.pmean p=0 and -1     | scipy.stats.pmean(p, 0.0, axis=1) + scipy.stats.pmean(p, -1.5, axis=1)
stats.tstd                 | scipy.stats.tstd(x, axis=1)
stats.iqr axis scale       | scipy.stats.iqr(d, axis=1, scale="normal")
stats.iqr rng              | scipy.stats.iqr(d, rng=(10, 80))
# ---------------------------------------------------------------- array methods and attributes
x.T                        | x.T * y.T
x.mT                       | t.mT * 2.0
x.real                     | (x + 1j * y).real * x
x.imag                     | (x + 1j * y).imag * x
x.conj()                   | = np.sum(np.real((x + 1j * y).conj() * (x + 2j * y)))
x.conjugate()              | = np.sum(np.real((x + 1j * y).conjugate() * (x + 2j * y)))
x.clip()                   | x.clip(-0.5, 0.5)
x.clip(min=)               | x.clip(min=-0.5)
x.cumprod()                | p.cumprod(axis=1)
x.cumsum()                 | x.cumsum(axis=0) * y
x.ptp()                    | = np.sum(np.ptp(d, axis=0) * v)
x.sum()                    | x.sum(axis=1) * v[:3]
x.sum(keepdims)            | x.sum(0, keepdims=True) * x
x.mean()                   | x.mean(axis=(0, 1)) * x
x.prod()                   | p.prod(axis=0)
x.std()                    | x.std(ddof=1) * x
x.var()                    | x.var(axis=1) * v[:3]
x.max()                    | d.max(axis=1)
x.min()                    | d.min()
x.argmax()                 | d.argmax(axis=1) * v[:3]
x.argmin()                 | d.argmin() * x
x.argsort()                | d.argsort(axis=1) * x
x.sort()                   | = _sort_method(d)
x.dot()                    | x.dot(v)
x.reshape()                | x.reshape(4, 3) * x.T.reshape(4, 3)
x.reshape tuple            | x.reshape((2, -1)) * 2.0
x.ravel()                  | x.ravel() * np.arange(12.0)
x.flatten()                | x.flatten() * np.arange(12.0)
x.transpose()              | t.transpose(1, 2, 0) * 2.0
x.transpose tuple          | t.transpose((2, 0, 1)) * 2.0
x.swapaxes()               | t.swapaxes(0, 1) * 2.0
x.squeeze()                | x[None].squeeze() * y
x.squeeze(axis)            | x[:, None].squeeze(1) * y
x.astype(float)            | x.astype(float) * y
x.astype(np.float32)       | ~= np.sum(x.astype(np.float32) * 2.0).astype(np.float64) + np.sum(x)
x.astype(int)              | x.astype(int) * x
x.copy()                   | x.copy() * y
x.diagonal()               | A.diagonal() * v[:3]
x.trace()                  | A.trace() * A
x.round()                  | x.round(2) * x
x.repeat()                 | v.repeat(2) * np.arange(8.0)
x.take()                   | x.take([0, 5, 7]) * v[:3]
x.all()/any()              | x * (2.0 if (x > -10).all() else 1.0)
x.item()                   | x * x[0, 0].item()
x.tolist()                 | = sum(x[0].tolist()) * np.sum(x)
x.fill()                   | = _fill_method(x)
x.nonzero()                | x[(x > 0).nonzero()]
x.compress()               | x.compress([True, False, True], axis=0) * 2.0
x.searchsorted()           | np.sort(v).searchsorted(0.0) * x
x.flat[]                   | x.flat[3] * x
x.shape/ndim/size          | x * x.shape[1] / x.size + x.ndim
x.dtype                    | x * (1.0 if x.dtype == np.float64 else 2.0)
x.nbytes/itemsize          | x * (x.itemsize / 8.0)
x.view()                   | x.view() * y
x.__array__/np.array copy  | np.array(x, copy=True) * y
x.conj().T                 | = np.sum(np.real((x + 1j * y).conj().T @ (x + 1j * y)))
x.H? (matrix) as conj().T  | A.conj().T @ A
x.cumsum() flat            | x.cumsum() * np.arange(12.0)
x.nansum? (np.nansum)      | np.nansum(x, axis=1)
x.setflags / x.T.copy()    | x.T.copy() * y.T
x[...,None]                | x[..., None] * t.transpose(1, 2, 0)[:, :, :1]
x[None, ...]               | x[None, ...] * t
x[::-1]                    | x[::-1] * y
x[::2, 1::2]               | x[::2, 1::2] * 2.0
x[mask]                    | x[x > 0] * 2.0
x[mask] = 0                | = _mask_assign(x, y)
x[idx array]               | x[[0, 2, 2]] * 2.0
x[idx, idx]                | x[[0, 1, 2], [3, 2, 3]] * 2.0
x[:, idx]                  | x[:, [3, 0]] * 2.0
x[int array 2d]            | v[np.array([[0, 1], [3, 3]])] * 2.0
x[-1]                      | x[-1] * v
x[1:] += (augmented slice) | = _aug_slice(x, y)
x[i] = v (setitem)         | = _setitem(x, v)
x[np.newaxis]              | x[np.newaxis] * t
x[bool row mask]           | x[np.array([True, False, True])] * 2.0
x[..., 0]                  | t[..., 0] * x[:2, :3]
x.at-like np.add.at        | = _add_at(x, v)
# ---------------------------------------------------------------- Python builtins and operators
abs()                      | abs(x)
sum() list                 | sum([x, y, x * y])
sum() array rows           | sum(x) * v
max() scalars              | max(x[0, 0], y[0, 0], 0.1) * x
min() scalars              | min(x[0, 0], y[0, 0]) * x
max() over array           | max(d[0]) * x
min() over array           | min(d[:, 0]) * x
pow()                      | pow(p, 2.5)
pow() 3-arg? no: pow(x, 2) | pow(x, 2)
round() scalar             | round(float(x[0, 0]), 2) * x
round() array              | round(x[0, 0]) * x
divmod()                   | divmod(x, p)[1]
float()                    | float(x[0, 0]) * x
len()                      | x * len(x)
zip/enumerate over rows    | = _rows_loop(x)
x @ y                      | x @ y.T
x @ v                      | x @ v
v @ v                      | v @ w * x
A @= B? (augmented matmul) | = _imatmul(A, B)
x ** 2                     | x ** 2
x ** y                     | p ** y
2 ** x                     | 2.0 ** x
x ** 0.5                   | p ** 0.5
x // y                     | (x // p) * x
x % y                      | x % p
x % 1.0                    | (x * 3.0) % 1.0
-x                         | -x
+x                         | +x
~mask                      | np.where(~(x > 0), x, y)
mask & mask                | np.where((x > 0) & (y > 0), x, y)
mask or mask               | np.where((x > 0) | (y > 0), x, y)
mask ^ mask                | np.where((x > 0) ^ (y > 0), x, y)
x < y                      | (x < y) * x
x <= y                     | (x <= y) * y
x > 0 as float             | (x > 0).astype(float) * x
x == y                     | (x == x) * y
x != y                     | (x != y) * y
comparison chain           | = _chain(x)
x += y                     | = _iadd(x, y)
x *= y                     | = _imul(x, y)
x -= , x /=                | = _isub_div(x, p)
x **= 2                    | = _ipow(x)
scalar / x                 | 1.0 / p
int * x                    | 3 * x
bool * x                   | True * x
x * np.float32             | x * np.float32(2.0)
np.float64(x) scalar       | np.float64(x[0, 0]) * x
np.asarray(list)           | np.asarray([x[0, 0], x[0, 1]]) * v[:2]
np.array(list, dtype=float) | np.array([x[0, 0], 1.0], dtype=float) * v[:2]
math.exp scalar            | math.exp(x[0, 0]) * x
math.log/sqrt scalar       | math.log(p[0, 0]) + math.sqrt(p[1, 1]) * x
math.sin/cos/tanh          | math.sin(x[0, 0]) * math.cos(x[1, 1]) + math.tanh(x[2, 2]) * x
math.pi constant           | math.pi * x
math.fsum/hypot            | math.hypot(x[0, 0], x[0, 1]) * x
math.erf/lgamma            | math.erf(x[0, 0]) + math.lgamma(p[0, 0]) * x
math.erfc                  | math.erfc(x[0, 0]) * x
math.gamma                 | math.gamma(p[0, 0]) * x
math.lgamma                | math.lgamma(p[0, 0]) * x
math.ceil                  | math.ceil(x[0, 0] * 3.0) * x
math.trunc                 | math.trunc(x[0, 0] * 3.0) * x
math.isclose               | x * (2.0 if math.isclose(x[0, 0], x[0, 0]) else 1.0)
math.isfinite              | x * (2.0 if math.isfinite(x[0, 0]) else 1.0)
math.log base              | math.log(p[0, 0], 2.0) * x
math.sumprod/fsum          | math.fsum([x[0, 0], x[1, 1]]) * x
int()                      | int(g[0, 0] * 3.0) * x
bool()                     | x * (2.0 if bool(x[0, 0] > -10) else 1.0)
complex()                  | = np.real(complex(x[0, 0], y[0, 0]) * (1 + 2j)) * np.sum(x)
abs() scalar               | abs(x[0, 0]) * x
pow() mod-less 3           | pow(p[0, 0], x[1, 1]) * x
round() ndigits array      | round(x[0, 0], 1) * x
math.atan2                 | math.atan2(x[0, 0], p[0, 1]) * x
math.pow                   | math.pow(p[0, 0], 1.5) * x
math.floor                 | math.floor(x[0, 0] * 3.0) * x
math.fabs                  | math.fabs(x[0, 0]) * x
math.log1p/expm1           | math.log1p(p[0, 0]) * math.expm1(x[0, 0]) * x
math.prod/math.dist        | math.dist(v[:2].tolist(), w[:2].tolist()) * x
# ---------------------------------------------------------------- common spellings
np.add out=                | = _ufunc_out(x, y)
np.multiply where=         | = _ufunc_where(x, y)
np.exp dtype=              | np.exp(x, dtype=np.float64)
np.sum dtype=              | np.sum(x, axis=0, dtype=np.float64) * v
np.sum initial=            | np.sum(x, axis=1, initial=1.0) * v[:3]
np.sum where=              | np.sum(x, where=x > 0) * x
np.mean where=             | np.mean(x, axis=1, where=x > -10)
np.max initial=            | np.max(d, axis=1, initial=-100.0)
np.max where=              | np.max(d, where=d > 1.0, initial=0.0)
np.add.reduce              | np.add.reduce(x, axis=0) * v
np.multiply.reduce         | np.multiply.reduce(p, axis=1)
np.maximum.reduce          | np.maximum.reduce(d, axis=1)
np.add.accumulate          | np.add.accumulate(x, axis=1) * y
np.multiply.accumulate     | np.multiply.accumulate(p) * 2.0
np.maximum.accumulate      | np.maximum.accumulate(d, axis=1) * y
np.multiply.outer          | np.multiply.outer(v, w)
np.subtract.outer          | np.subtract.outer(v, w) ** 2
np.add.at                  | = _add_at(x, v)
np.logaddexp.reduce        | np.logaddexp.reduce(x, axis=1)
np.einsum out-of-order     | np.einsum("ji", x) * y.T
np.einsum broadcast ...    | np.einsum("...i,...i->...", t, t)
np.einsum batch matmul     | np.einsum("bij,bjk->bik", t, np.stack([x.T, y.T]))
np.einsum diag extract     | np.einsum("ii->i", A) * v[:3]
np.einsum outer            | np.einsum("i,j->ij", v, w)
np.einsum sum axis         | np.einsum("ij->j", x) * v
np.dot scalar              | np.dot(2.0, x)
np.matmul batched          | np.matmul(t, x.T)
np.linalg.norm of diff     | np.linalg.norm(x - y, axis=-1)
np.sqrt(np.sum(x**2))      | np.sqrt(np.sum(x ** 2, axis=-1))
np.log(np.sum(np.exp))     | np.log(np.sum(np.exp(x), axis=1))
np.max - logsumexp trick   | x - np.max(x, axis=1, keepdims=True)
softmax by hand            | np.exp(x) / np.sum(np.exp(x), axis=1, keepdims=True)
np.where nested            | np.where(x > 0, np.where(y > 0, x * y, x), y)
np.where broadcast         | np.where(v > 0, x, 0.0)
np.where safe log          | np.where(x > 0, np.log(np.where(x > 0, x, 1.0)), 0.0)
np.clip one-sided None     | np.clip(x, None, 0.5)
np.clip a_min kw           | np.clip(x, min=-0.5, max=0.5)
np.maximum 0 (relu)        | np.maximum(x, 0.0)
np.maximum scalar first    | np.maximum(0.0, x)
np.outer via None          | v[:, None] * w[None, :]
np.newaxis broadcast       | x[:, np.newaxis, :] - x[np.newaxis, :, :]
np.sum of list comp        | = np.sum(np.array([np.sum(r ** 2) for r in x]))
np.stack list comp         | np.stack([r * 2.0 for r in x])
np.concatenate tuple       | np.concatenate((x, y), axis=0) * 2.0
np.zeros then fill loop    | = _zeros_loop(v)
np.empty_like fill         | = _empty_like(x)
np.copyto                  | = _copyto(x, y)
np.put                     | = _put(x, v)
np.place                   | = _place(x)
np.putmask                 | = _putmask(x, y)
np.fill_diagonal wrap      | = _fill_diag(A, v)
np.take mode=clip          | np.take(v, [0, 5], mode="clip") * 2.0
np.take mode=wrap          | np.take(v, [0, 5], mode="wrap") * 2.0
np.reshape newshape kw     | np.reshape(x, shape=(12,)) * 2.0
np.squeeze axis            | np.squeeze(x[:, None], axis=1) * y
np.expand_dims tuple       | np.expand_dims(x, (0, 2)) * 2.0
np.sort descending         | -np.sort(-d, axis=1) * np.arange(4.0)
np.sort kind=              | np.sort(d, kind="stable") * np.arange(4.0)
np.sort in place           | = _sort_method(d)
np.flip axis tuple         | np.flip(t, axis=(0, 2)) * 2.0
np.roll shift neg flat     | np.roll(x, -5) * y
np.cumsum reverse          | np.cumsum(x[:, ::-1], axis=1)[:, ::-1] * y
np.diff prepend            | np.diff(v, prepend=0.0) * np.arange(4.0)
np.diff append             | np.diff(x, axis=0, append=x[-1:]) * y
np.linalg.solve batched    | np.linalg.solve(np.stack([A, B]), np.stack([v[:3], w[:3]])[..., None])
np.linalg.inv @            | np.linalg.inv(S) @ v[:3]
np.trace of product        | np.trace(A @ B) * A
np.triu k=1                | np.triu(A, k=1) * B
np.std axis tuple          | np.std(t, axis=(1, 2))
np.var keepdims            | np.var(x, axis=0, keepdims=True) * x
np.mean dtype              | np.mean(x, dtype=np.float64) * x
np.prod keepdims           | np.prod(p, axis=1, keepdims=True) * p
np.count_nonzero axis      | np.count_nonzero(x > 0, axis=1) * v[:3]
np.argmax keepdims         | np.argmax(d, axis=1, keepdims=True) * x
np.take_along_axis argmax  | np.take_along_axis(x, np.argmax(d, axis=1, keepdims=True), axis=1)
np.put_along_axis argmax   | = _put_along(x, y)
np.atleast_2d multiple     | np.atleast_2d(v, w)[1] * x
np.broadcast_to then sum   | np.sum(np.broadcast_to(v, (3, 4)), axis=0) * v
np.isfinite mask           | x[np.isfinite(x)] * 2.0
np.nan_to_num nan=         | np.nan_to_num(x, nan=0.0, posinf=1.0)
np.logical_and.reduce      | np.where(np.logical_and.reduce([x > -5, y > -5]), x, y)
np.array_split uneven      | np.array_split(v, 3)[0] * 2.0
np.split indices           | np.split(v, [1, 3])[1] * 2.0
np.meshgrid indexing=ij    | = np.sum(np.meshgrid(v, w, indexing="ij")[0] * x.T.repeat(1, 0)[:4, :3].repeat(1, 1)[:, :1])
np.linspace endpoint=False | np.linspace(0.0, x[0, 0], 4, endpoint=False) * v
np.arange * x scalar       | np.arange(3) * x[0, 0]
np.ones((n,)) * x.sum()    | np.ones(3) * x.sum()
np.inf in np.maximum       | np.maximum(x, -np.inf)
np.float32 input promote   | x * np.ones(4, dtype=np.float32)
np.int64 index scalar      | x[np.int64(1)] * v
np.complex abs             | np.abs(x + 1j * y)
np.exp complex             | = np.sum(np.real(np.exp(1j * x)) * y)
complex mul/real           | = np.sum(np.real((x + 1j * y) * (y - 1j * x)))
np.abs(z)**2               | np.abs(np.fft.fft(v)) ** 2
np.angle deg               | np.angle(x + 1j * p, deg=True)
np.sqrt complex            | = np.sum(np.real(np.sqrt(x + 1j * p)))
np.log complex             | = np.sum(np.imag(np.log(x + 1j * p)))
# ---------------------------------------------------------------- keyword and shape variants
int array operand          | x * np.arange(4) + x / 3 + np.power(p, np.array([1, 2, 3, 4]))
broadcast (3,1) (1,4)      | x[:, :1] * y[:1, :] + p[:, 1:2] / q[2:, :]
negative axes              | np.sum(t, axis=-2) * x[:2, :] + np.mean(t, axis=(-1, -3))[:2, None]
linalg.norm negative ords  | np.linalg.norm(v, ord=-np.inf) + np.linalg.norm(v, ord=-1) + np.linalg.norm(A, ord=-2) + np.linalg.norm(A, ord=np.inf) + np.linalg.norm(A, ord=-1)
linalg.norm 3-d axis pair  | np.linalg.norm(t, axis=(1, 2)) + np.linalg.norm(t, ord="nuc", axis=(1, 2))
einsum more                | np.einsum("bij,bkj->bik", t, t) + np.einsum("i,i", v, w) + np.einsum("ij,ij->", x, y)
slogdet negative det       | np.linalg.slogdet(A @ np.diag([1.0, 1.0, -1.0]))[1] + np.linalg.slogdet(A @ np.diag([1.0, 1.0, -1.0]))[0] * x
eigh UPLO=U                | np.linalg.eigh(S + np.triu(A, 1), UPLO="U")[0]
svd wide full U            | = np.sum(np.abs(np.linalg.svd(x.T.T[:2], full_matrices=True)[2][:2]) * y[:2])
qr mode r                  | np.linalg.qr(A, mode="r")
inv complex                | = np.sum(np.abs(np.linalg.inv(A + 0.3j * B)))
solve batched 1-d b        | np.linalg.solve(np.stack([A, B]), v[:3])
matmul 1-d @ 3-d           | np.matmul(v[:3], t)
dot N-d N-d                | np.dot(t, x.T)
inner N-d                  | np.inner(t, x)
kron 1-d 2-d               | np.kron(v[:2], A)
trace 3-d axes             | np.trace(t, axis1=0, axis2=2)[:2] + np.trace(t, offset=1, axis1=1, axis2=2)
clip crossed bounds        | np.clip(x, 0.5, -0.5) + np.clip(x, 0, None) + x.clip(0)
where int branch           | np.where(x > 0, 1, x) + np.maximum(x, 1) + np.minimum(2, x)
round decimals negative    | np.round(x * 100.0, -1) * x
mean tuple keepdims        | np.mean(t, axis=(0, 2), keepdims=True) * t
var correction= mean=      | np.var(x, axis=1, correction=1) + np.std(x, axis=1, mean=np.mean(x, axis=1, keepdims=True))
var mean= given constant   | np.var(x, axis=0, mean=np.ones((1, 4)) * 0.2) + np.std(x, axis=0, mean=y[:1], correction=1) + np.var(x, correction=2, where=x > -1.0)
sum None keepdims          | np.sum(x, axis=None, keepdims=True) * x
average tuple axis         | np.average(t, axis=(0, 2), weights=np.broadcast_to(pv, t.shape))
median tuple axis          | np.median(d.reshape(3, 2, 2), axis=(1, 2))
percentile methods         | np.percentile(d, [20, 70], axis=1, method="midpoint") + np.percentile(d, 35, axis=1, method="hazen")[None] + np.quantile(d, 0.4, axis=1, method="lower")[None]
quantile weights           | np.quantile(d, 0.4, axis=1, weights=p, method="inverted_cdf")
interp period left right   | np.interp(u * 5.0, np.linspace(0.0, 3.0, 4), v, period=3.0) + np.interp(u * 2.0, np.linspace(-1.0, 1.0, 4), v, left=w[0], right=3.0)
linspace array endpoints   | np.linspace(x[:, 0], y[:, 0], 4, axis=1) * x
linspace retstep           | np.linspace(x[0, 0], x[0, 1], 5, retstep=True)[1] * x
logspace base              | np.logspace(u[0, 0], u[0, 1], 4, base=2.0) * v
meshgrid sparse            | = np.sum(np.meshgrid(v, w[:3], sparse=True)[0] * np.meshgrid(v, w[:3], sparse=True)[1])
repeat array repeats       | np.repeat(x, [1, 2, 3], axis=0).sum(axis=0) * v
pad symmetric ramp mean    | np.pad(x, 2, mode="symmetric").sum() + np.pad(x, 1, mode="linear_ramp", end_values=0.5) + np.pad(x, 1, mode="mean") + np.pad(x, 1, mode="maximum")
take_along_axis None       | np.take_along_axis(x.ravel(), np.argsort(d, axis=None), axis=None)
max initial method         | x.max(axis=0, initial=-5.0) * v + x.sum(-1)[:, None] * x
select default array       | np.select([x > 0.5, x < -0.5], [x, -x], default=y * 2.0)
cumsum dtype               | np.cumsum(x, axis=1, dtype=np.float64) * y
nanmean of NaNs            | np.nanmean(np.where(x > 1.0, np.nan, x), axis=0) * v
nansum of NaNs             | np.nansum(np.where(x > 1.0, np.nan, x) * y)
nanmax of NaNs             | np.nanmax(np.where(d > 1.0, np.nan, d), axis=1)
nanstd nanvar of NaNs      | np.nanstd(np.where(x > 1.0, np.nan, x), axis=1) + np.nanvar(np.where(x > 1.0, np.nan, x), axis=1)
nanmedian percentile NaNs  | np.nanmedian(np.where(d > 1.0, np.nan, d), axis=1) + np.nanpercentile(np.where(d > 1.0, np.nan, d), 40, axis=1)
nan_to_num of log          | np.nan_to_num(np.log(x)) * y
where-guarded sqrt         | np.where(x > 0, np.sqrt(np.abs(x)), 0.0) + np.where(x > 0, x, 0.0) ** 0.5
where unguarded sqrt       | np.where(x > 0, np.sqrt(np.where(x > 0, x, 1.0)), 0.0)
safe division              | np.where(np.abs(x) > 0.1, 1.0 / np.where(np.abs(x) > 0.1, x, 1.0), 0.0)
log1p exp (softplus)       | np.log1p(np.exp(x)) + np.logaddexp(0.0, x)
sigmoid by hand            | 1.0 / (1.0 + np.exp(-x))
cross-entropy by hand      | -np.sum(P * np.log(np.exp(x) / np.sum(np.exp(x), axis=1, keepdims=True)), axis=1)
layer norm by hand         | (x - x.mean(-1, keepdims=True)) / np.sqrt(x.var(-1, keepdims=True) + 1e-5) * v + w
attention by hand          | scipy.special.softmax(x @ y.T / 2.0, axis=-1) @ p
gaussian kernel matrix     | np.exp(-np.sum((x[:, None, :] - y[None, :, :]) ** 2, axis=-1))
pairwise dist              | np.sqrt(np.sum((x[:, None, :] - y[None, :, :]) ** 2, axis=-1) + 1e-12)
mse + l2                   | np.mean((x @ v - w[:3]) ** 2) + 0.1 * np.sum(v ** 2)
logistic loss              | np.mean(np.log1p(np.exp(-np.sign(w[:3]) * (x @ v))))
huber by hand              | np.where(np.abs(x) < 0.5, 0.5 * x ** 2, 0.5 * (np.abs(x) - 0.25))
# ---------------------------------------------------------------- complex arithmetic (real loss)
complex square abs         | = np.sum(np.abs((x + 1j * y) ** 2 + (p - 1j * q)) ** 2)
complex reciprocal         | = np.sum(np.real(1.0 / (p + 1j * x)) + np.imag((x + 1j * p) ** -2))
complex power complex exp  | = np.sum(np.real((p + 1j * u) ** (0.5 + 0.3j)))
complex exp log            | = np.sum(np.abs(np.exp(x + 1j * y) * np.log(p + 1j * x)))
complex trig               | = np.sum(np.real(np.sin(x + 1j * u) * np.cos(u - 1j * x) + np.tanh(u + 1j * u)))
complex conj product       | = np.sum(np.real((x + 1j * y) * np.conj(p + 1j * q)))
complex angle abs          | np.angle(x + 1j * p) * np.abs(y + 1j * x)
complex cumsum cumprod     | = np.sum(np.abs(np.cumsum(x + 1j * y, axis=1)) + np.real(np.cumprod(p + 0.1j * u, axis=1)))
complex eigh hermitian     | = np.sum(np.linalg.eigvalsh(S + 1j * (A - A.T))) + np.sum(np.abs(np.linalg.eigh(S + 1j * (A - A.T))[1][:, 0]) ** 2)
complex svd values         | np.linalg.svd(x + 1j * y, compute_uv=False)
complex det solve          | = np.abs(np.linalg.det(A + 1j * B)) + np.sum(np.abs(np.linalg.solve(A + 1j * B, v[:3] + 1j * w[:3])))
complex matmul einsum      | = np.sum(np.abs(np.einsum("ij,kj->ik", x + 1j * y, np.conj(p + 1j * q))) ** 2)
complex fft of complex     | = np.sum(np.abs(np.fft.ifft(np.fft.fft(x + 1j * y) * (p + 1j * q))) ** 2)
complex mean var           | = np.sum(np.abs(np.mean(x + 1j * y, axis=0))) + np.sum(np.var(x + 1j * y, axis=1))
complex sqrt abs2          | = np.sum(np.real(np.sqrt(x + 1j * p)) * np.imag(np.sqrt(x + 1j * p)))
complex real/imag assign   | = _complex_assign(x, y)
# ---------------------------------------------------------------- session 21 (cov8): scipy.special / stats / linalg
special.eval_legendre      | scipy.special.eval_legendre(3, u)
special.eval_chebyt        | scipy.special.eval_chebyt(3, u)
special.eval_chebyu        | scipy.special.eval_chebyu(4, u)
special.eval_hermite       | scipy.special.eval_hermite(3, x)
special.eval_hermitenorm   | scipy.special.eval_hermitenorm(3, x)
special.eval_laguerre      | scipy.special.eval_laguerre(2, p)
special.eval_genlaguerre   | scipy.special.eval_genlaguerre(2, 0.5, p)
special.eval_gegenbauer    | scipy.special.eval_gegenbauer(3, 0.7, u)
special.eval_jacobi        | scipy.special.eval_jacobi(2, 0.5, 1.5, u)
special.eval_sh_legendre   | scipy.special.eval_sh_legendre(2, g)
special.exprel             | scipy.special.exprel(x)
special.lambertw           | = np.sum(np.real(scipy.special.lambertw(p)) * np.imag(scipy.special.lambertw(x - 0.5)))
special.kn                 | scipy.special.kn(1, p)
special.spherical_jn       | scipy.special.spherical_jn(2, p)
special.spherical_yn       | scipy.special.spherical_yn(1, p)
special.spherical_in       | scipy.special.spherical_in(1, p)
special.spherical_kn       | scipy.special.spherical_kn(1, p)
special.hankel1            | = np.sum(np.real(scipy.special.hankel1(1.0, p)) * np.imag(scipy.special.hankel2(0.5, p)))
special.ellipkinc          | scipy.special.ellipkinc(u, g)
special.ellipeinc          | scipy.special.ellipeinc(u, g)
special.ellipkm1           | scipy.special.ellipkm1(g)
special.ellipj             | scipy.special.ellipj(x, 0.6)[0] + scipy.special.ellipj(x, 0.6)[3]
special.airy               | scipy.special.airy(x)[0] + scipy.special.airy(x)[3] * 0.1
special.voigt_profile      | scipy.special.voigt_profile(x, p, q)
special.fdtr               | scipy.special.fdtr(2.0, 3.0, p)
special.nbdtr              | scipy.special.nbdtr(2, 3, g)
special.pdtri              | scipy.special.pdtri(2, g)
special.chdtri             | scipy.special.chdtri(3.0, g)
stats.f.logpdf             | scipy.stats.f.logpdf(p, 3.0, 4.0)
stats.skewnorm.logpdf      | scipy.stats.skewnorm.logpdf(x, 2.0)
stats.t.ppf isf            | scipy.stats.t.ppf(g, 2.5, loc=0.5) + scipy.stats.t.isf(g, 4.0)
stats.gamma.ppf in a       | scipy.stats.gamma.ppf(g, p)
slinalg.eigvalsh general   | scipy.linalg.eigvalsh(S, S + np.eye(3))
slinalg.eigh general V     | = np.sum(np.abs(scipy.linalg.eigh(A + A.T, S)[1]) * B)
svd full null vector       | = np.sum(np.abs(np.linalg.svd(x, full_matrices=True)[2][3:]))
qr complete column         | = np.sum(np.abs(np.linalg.qr(x.T, mode="complete")[0][:, 3]))
sliding_window_view        | np.lib.stride_tricks.sliding_window_view(v, 2) * 1.0 + x[:3, :2]
# ---------------------------------------------------------------- views, aliasing and in-place updates
view row += (writes x copy) | = _view_row(x, y)
alias b = a then a[0] =    | = _alias_names(x, v)
reshape view write         | = _reshape_view(x, v)
transpose view write       | = _transpose_view(x, w)
x.T[0] = in a copy         | = _t_write(x, v)
slice of slice write       | = _slice_slice(x, y)
ravel view write           | = _ravel_view(x, v)
diagonal via flat          | = _flat_diag(A, v)
loop accumulate in-place   | = _loop_inplace(x, y)
np.asarray view write      | = _asarray_view(x, y)
swap rows                  | = _swap_rows(x)
masked in-place multiply   | = _mask_imul(x, y)
cumulative in loop         | = _cum_loop(v)
list of rows then stack    | = _rows_list(x)
dict of arrays             | = _dict_arrays(x, y)
tuple unpack of array      | = _unpack_rows(x)
np.where in-place result   | = _where_inplace(x, y)
fancy index += repeated    | = _fancy_iadd(x, v)
negative step write        | = _neg_step(x, v)
ellipsis write             | = _ellipsis_write(t, x)
"""


# Rows whose gradient is known to differ from finite differences, with the
# reason.  They are counted as wrong (tools/probe_coverage.py prints them);
# tests/primitives/test_cov7.py fails on any wrong row not listed here.
# ("nansum of NaNs", a NaN gradient from 0 times a NaN partial, is right
# since session 24: s2sgrad/masking.py)
KNOWN_WRONG: dict = {}


def rows():
    """``[(label, expression)]`` in table order (comments and blanks skipped)."""
    out = []
    for line in ROWS.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        label, _, expr = line.partition("|")
        out.append((label.strip(), expr.strip()))
    return out


# helpers used by rows whose probe needs statements (their bodies are
# compiled as part of the probe, so they are user code too)
HELPERS = r'''
def _put_along(x, y):
    z = x.copy()
    np.put_along_axis(z, np.argmax(y, axis=1, keepdims=True), y[:, :1] * 2.0, axis=1)
    return np.sum(np.sin(z))


def _fill_diag(A, v):
    B = A.copy()
    np.fill_diagonal(B, v[:3])
    return np.sum(np.sin(B))


def _empty_fill(v):
    z = np.empty(4)
    z.fill(2.0)
    return np.sum(np.sin(z * v))


def _sort_method(d):
    z = d.copy()
    z.sort(axis=1)
    return np.sum(np.sin(z * np.arange(4.0)))


def _fill_method(x):
    z = x.copy()
    z.fill(x[0, 0])
    return np.sum(np.sin(z * x))


def _mask_assign(x, y):
    z = x.copy()
    z[z > 0] = 0.0
    z[y > 0] = y[y > 0]
    return np.sum(np.sin(z))


def _aug_slice(x, y):
    z = x.copy()
    z[1:] += y[:-1]
    z[:, 0] *= 2.0
    return np.sum(np.sin(z))


def _setitem(x, v):
    z = np.zeros((3, 4))
    z[1] = v
    z[0, :] = x[0] * 2.0
    z[2, 1] = x[2, 2]
    return np.sum(np.sin(z))


def _add_at(x, v):
    z = np.zeros(4)
    np.add.at(z, [0, 1, 1, 3], v)
    return np.sum(np.sin(z)) + np.sum(x)


def _rows_loop(x):
    s = 0.0
    for i, r in enumerate(x):
        s = s + (i + 1) * np.sum(r ** 2)
    for a, b in zip(x[0], x[1]):
        s = s + a * b
    return s


def _imatmul(A, B):
    C = A.copy()
    C @= B
    return np.sum(np.sin(C))


def _chain(x):
    return np.sum(np.sin(np.where((-0.5 < x) & (x < 0.5), x, 2.0 * x)))


def _iadd(x, y):
    z = x.copy()
    z += y
    return np.sum(np.sin(z))


def _imul(x, y):
    z = x * 1.0
    z *= y
    return np.sum(np.sin(z))


def _isub_div(x, p):
    z = x + 0.0
    z -= p
    z /= p
    return np.sum(np.sin(z))


def _ipow(x):
    z = x.copy()
    z **= 2
    return np.sum(np.sin(z))


def _ufunc_out(x, y):
    z = np.empty_like(x)
    np.add(x, y, out=z)
    np.multiply(z, x, out=z)
    return np.sum(np.sin(z))


def _ufunc_where(x, y):
    z = np.zeros_like(x)
    np.multiply(x, y, out=z, where=x > 0)
    return np.sum(np.sin(z))


def _zeros_loop(v):
    z = np.zeros(4)
    for i in range(4):
        z[i] = v[i] ** 2
    return np.sum(np.sin(z))


def _empty_like(x):
    z = np.empty_like(x)
    z[...] = x * 2.0
    return np.sum(np.sin(z))


def _copyto(x, y):
    z = np.zeros_like(x)
    np.copyto(z, y)
    return np.sum(np.sin(z * x))


def _put(x, v):
    z = x.copy()
    np.put(z, [0, 5, 7], v[:3])
    return np.sum(np.sin(z))


def _place(x):
    z = x.copy()
    np.place(z, z > 0, [1.0, 2.0])
    return np.sum(np.sin(z * x))


def _putmask(x, y):
    z = x.copy()
    np.putmask(z, z > 0, y)
    return np.sum(np.sin(z))


def _view_row(x, y):
    z = x.copy()
    r = z[1]
    r += y[0]
    r *= 2.0
    return np.sum(np.sin(z))


def _alias_names(x, v):
    a = x.copy()
    b = a
    b[0] = v * 3.0
    return np.sum(np.sin(a)) + np.sum(b ** 2)


def _reshape_view(x, v):
    z = x.copy()
    r = z.reshape(4, 3)
    r[0] = v[:3]
    return np.sum(np.sin(z)) + np.sum(r * x.reshape(4, 3))


def _transpose_view(x, w):
    z = x.copy()
    zt = z.T
    zt[1] = zt[1] * w[:3]
    return np.sum(np.sin(z))


def _t_write(x, v):
    z = x.copy()
    z.T[0] = v[:3]
    return np.sum(np.sin(z))


def _slice_slice(x, y):
    z = x.copy()
    s = z[:, 1:]
    s2 = s[1:]
    s2 *= y[1:, 1:]
    return np.sum(np.sin(z))


def _ravel_view(x, v):
    z = x.copy()
    f = z.ravel()
    f[::3] = v
    return np.sum(np.sin(z))


def _flat_diag(A, v):
    B = A.copy()
    B.flat[::4] = v[:3]
    return np.sum(np.sin(B))


def _loop_inplace(x, y):
    z = np.zeros(4)
    for i in range(3):
        z += x[i] * y[i]
        z *= 0.5
    return np.sum(np.sin(z))


def _asarray_view(x, y):
    z = x * 1.0
    a = np.asarray(z)
    a[0] = y[0]
    return np.sum(np.sin(z))


def _swap_rows(x):
    z = x.copy()
    z[[0, 2]] = z[[2, 0]]
    return np.sum(np.sin(z) * np.arange(12.0).reshape(3, 4))


def _mask_imul(x, y):
    z = x.copy()
    z[z > 0] *= y[z > 0]
    return np.sum(np.sin(z))


def _cum_loop(v):
    out = np.empty(4)
    acc = 0.0
    for i in range(4):
        acc = acc * 0.9 + v[i]
        out[i] = acc
    return np.sum(np.sin(out))


def _rows_list(x):
    rows = []
    for r in x:
        rows.append(r * np.sum(r))
    return np.sum(np.sin(np.stack(rows)))


def _dict_arrays(x, y):
    d = {"a": x, "b": y}
    d["c"] = d["a"] * d["b"]
    return np.sum(np.sin(d["c"] + d["a"]))


def _unpack_rows(x):
    a, b, c = x
    return np.sum(np.sin(a * b + c))


def _where_inplace(x, y):
    z = np.where(x > 0, x, y)
    z[0] += 1.0
    return np.sum(np.sin(z * x))


def _fancy_iadd(x, v):
    z = x.copy()
    z[0, [1, 1, 2]] += v[:3]
    return np.sum(np.sin(z))


def _neg_step(x, v):
    z = x.copy()
    z[2, ::-1] = v
    return np.sum(np.sin(z))


def _ellipsis_write(t, x):
    z = t.copy()
    z[..., 1] = x[:2, :3]
    return np.sum(np.sin(z))


def _complex_assign(x, y):
    z = np.zeros((3, 4), dtype=complex)
    z.real = x
    z.imag = y * 2.0
    z[0] = z[0] * 1j
    return np.sum(np.abs(z) ** 2)


def _odeint(v):
    ys = scipy.integrate.odeint(lambda y, t: -v[:2] * y, np.ones(2), np.array([0.0, 0.5, 1.0]))
    return np.sum(ys)


def _solve_ivp(v):
    sol = scipy.integrate.solve_ivp(lambda t, y: -v[:2] * y, (0.0, 1.0), np.ones(2), rtol=1e-10, atol=1e-12)
    return np.sum(sol.y[:, -1])
'''
