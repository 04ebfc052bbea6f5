"""corpus10, part 1: programs copied (in their structure and spelling) from
autograd's examples directory -- neural_net.py, convnet.py, rnn.py, lstm.py,
gaussian_process.py, bayesian_neural_net.py, black_box_svi.py,
variational_autoencoder.py, mixture_model.py (GMM), ode_net.py, fluidsim.py,
wing.py, natural_gradient_black_box_svi.py, tanh.py, logistic_regression.py,
rosenbrock.py, sinusoid.py, generative_adversarial_net.py, negative_binomial
maximum likelihood, define_gradient-style log-sum-exp -- each checked by
``tests/corpus10_harness.check`` (value, gradient by differences, structure,
arguments unchanged, cached call at another point, float32, forward mode).
"""
import numpy as np
import pytest
import scipy.special as sps
import scipy.stats

from tests.corpus10_harness import run_table

R = np.random.default_rng(10010)


def rnd(*shape, scale=0.5):
    return R.normal(size=shape) * scale


# ---------------------------------------------------------------- neural_net.py

def init_random_params(scale, layer_sizes, rs=np.random.RandomState(0)):
    return [(scale * rs.randn(m, n), scale * rs.randn(n))
            for m, n in zip(layer_sizes[:-1], layer_sizes[1:])]


def neural_net_predict(params, inputs):
    for W, b in params:
        outputs = np.dot(inputs, W) + b
        inputs = np.tanh(outputs)
    return outputs - sps.logsumexp(outputs, axis=1, keepdims=True)


def l2_norm(params):
    flat = np.concatenate([np.ravel(W) for W, b in params] + [b for W, b in params])
    return np.dot(flat, flat)


def log_posterior(params, inputs, targets, L2_reg):
    log_prior = -L2_reg * l2_norm(params)
    log_lik = np.sum(neural_net_predict(params, inputs) * targets)
    return log_prior + log_lik


def nn_objective(params, inputs, targets):
    return -log_posterior(params, inputs, targets, 0.1)


NN_X = rnd(6, 4, scale=1.0)
NN_T = np.eye(3)[[0, 1, 2, 0, 1, 2]]
NN_PARAMS = init_random_params(0.3, [4, 5, 3])


# ---------------------------------------------------------------- tanh.py, sinusoid, rosenbrock

def tanh_ag(x):
    y = np.exp(-2.0 * x)
    return (1.0 - y) / (1.0 + y)


def tanh_sum(x):
    return np.sum(tanh_ag(x))


def sinusoid_fit(params, x, y):
    amp, phase, freq = params
    pred = amp * np.sin(freq * x + phase)
    return np.mean((pred - y) ** 2)


def rosenbrock(x):
    return 100 * (x[1] - x[0] ** 2) ** 2 + (1 - x[0]) ** 2


def rosenbrock_nd(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2.0) ** 2.0 + (1 - x[:-1]) ** 2.0)


# ---------------------------------------------------------------- logistic_regression.py

def sigmoid(x):
    return 0.5 * (np.tanh(x / 2.) + 1)


def logistic_predictions(weights, inputs):
    return sigmoid(np.dot(inputs, weights))


def lr_training_loss(weights, inputs, targets):
    preds = logistic_predictions(weights, inputs)
    label_probabilities = preds * targets + (1 - preds) * (1 - targets)
    return -np.sum(np.log(label_probabilities))


LR_X = np.array([[0.52, 1.12, 0.77], [0.88, -1.08, 0.15], [0.52, 0.06, -1.30],
                 [0.74, -2.49, 1.39]])
LR_T = np.array([True, True, False, True])


# ---------------------------------------------------------------- convnet.py (small)

def conv2d_valid(inp, kernels):
    # inp: (N, C, H, W); kernels: (K, C, kh, kw)
    N, C, H, W = inp.shape
    K, _, kh, kw = kernels.shape
    out = np.zeros((N, K, H - kh + 1, W - kw + 1))
    for i in range(kh):
        for j in range(kw):
            patch = inp[:, :, i:i + H - kh + 1, j:j + W - kw + 1]
            out = out + np.einsum("nchw,kc->nkhw", patch, kernels[:, :, i, j])
    return out


def maxpool2(x):
    N, K, H, W = x.shape
    x = x.reshape(N, K, H // 2, 2, W // 2, 2)
    return np.max(np.max(x, axis=3), axis=4)


def convnet_loss(params, images, labels):
    k, b, W = params["k"], params["b"], params["W"]
    h = np.tanh(conv2d_valid(images, k) + b[None, :, None, None])
    h = maxpool2(h)
    h = h.reshape(h.shape[0], -1)
    logits = h @ W
    logp = logits - sps.logsumexp(logits, axis=1, keepdims=True)
    return -np.mean(np.sum(logp * labels, axis=1))


CONV_X = rnd(2, 1, 5, 5, scale=1.0)
CONV_L = np.eye(3)[[0, 2]]


# ---------------------------------------------------------------- rnn.py / lstm.py

def create_rnn_params(input_size, state_size, output_size, param_scale=0.1,
                      rs=np.random.RandomState(0)):
    return {'init hiddens': rs.randn(1, state_size) * param_scale,
            'change': rs.randn(input_size + state_size + 1, state_size) * param_scale,
            'predict': rs.randn(state_size + 1, output_size) * param_scale}


def concat_and_multiply(weights, *args):
    cat_state = np.hstack(args + (np.ones((args[0].shape[0], 1)),))
    return np.dot(cat_state, weights)


def rnn_predict(params, inputs):
    def update_rnn(input, hiddens):
        return np.tanh(concat_and_multiply(params['change'], input, hiddens))

    def hiddens_to_output_probs(hiddens):
        output = concat_and_multiply(params['predict'], hiddens)
        return output - sps.logsumexp(output, axis=1, keepdims=True)

    num_sequences = inputs.shape[1]
    hiddens = np.repeat(params['init hiddens'], num_sequences, axis=0)
    output = [hiddens_to_output_probs(hiddens)]
    for input in inputs:
        hiddens = update_rnn(input, hiddens)
        output.append(hiddens_to_output_probs(hiddens))
    return output


def rnn_log_likelihood(params, inputs, targets):
    logprobs = rnn_predict(params, inputs)
    loglik = 0.0
    num_time_steps, num_examples, _ = inputs.shape
    for t in range(num_time_steps):
        loglik += np.sum(logprobs[t] * targets[t])
    return -loglik / (num_time_steps * num_examples)


def create_lstm_params(input_size, state_size, output_size, param_scale=0.1,
                       rs=np.random.RandomState(1)):
    def rp(*shape):
        return rs.randn(*shape) * param_scale
    return {'init cells': rp(1, state_size), 'init hiddens': rp(1, state_size),
            'change': rp(input_size + state_size + 1, state_size),
            'forget': rp(input_size + state_size + 1, state_size),
            'ingate': rp(input_size + state_size + 1, state_size),
            'outgate': rp(input_size + state_size + 1, state_size),
            'predict': rp(state_size + 1, output_size)}


def lstm_predict(params, inputs):
    def update_lstm(input, hiddens, cells):
        change = np.tanh(concat_and_multiply(params['change'], input, hiddens))
        forget = sigmoid(concat_and_multiply(params['forget'], input, hiddens))
        ingate = sigmoid(concat_and_multiply(params['ingate'], input, hiddens))
        outgate = sigmoid(concat_and_multiply(params['outgate'], input, hiddens))
        cells = cells * forget + ingate * change
        hiddens = outgate * np.tanh(cells)
        return hiddens, cells

    def hiddens_to_output_probs(hiddens):
        output = concat_and_multiply(params['predict'], hiddens)
        return output - sps.logsumexp(output, axis=1, keepdims=True)

    num_sequences = inputs.shape[1]
    hiddens = np.repeat(params['init hiddens'], num_sequences, axis=0)
    cells = np.repeat(params['init cells'], num_sequences, axis=0)
    output = [hiddens_to_output_probs(hiddens)]
    for input in inputs:
        hiddens, cells = update_lstm(input, hiddens, cells)
        output.append(hiddens_to_output_probs(hiddens))
    return output


def lstm_log_likelihood(params, inputs, targets):
    logprobs = lstm_predict(params, inputs)
    loglik = 0.0
    num_time_steps, num_examples, _ = inputs.shape
    for t in range(num_time_steps):
        loglik += np.sum(logprobs[t] * targets[t])
    return -loglik / (num_time_steps * num_examples)


SEQ_IN = np.eye(4)[R.integers(0, 4, size=(5, 2))]
SEQ_T = np.eye(4)[R.integers(0, 4, size=(6, 2))]


# ---------------------------------------------------------------- gaussian_process.py

def make_gp_funs(cov_func, num_cov_params):
    def unpack_kernel_params(params):
        mean = params[0]
        cov_params = params[2:]
        noise_scale = np.exp(params[1]) + 0.0001
        return mean, cov_params, noise_scale

    def log_marginal_likelihood(params, x, y):
        mean, cov_params, noise_scale = unpack_kernel_params(params)
        cov_y_y = cov_func(cov_params, x, x) + noise_scale * np.eye(len(y))
        prior_mean = mean * np.ones(len(y))
        return scipy.stats.multivariate_normal.logpdf(y, prior_mean, cov_y_y)

    return num_cov_params + 2, unpack_kernel_params, log_marginal_likelihood


def rbf_covariance(kernel_params, x, xp):
    output_scale = np.exp(kernel_params[0])
    lengthscales = np.exp(kernel_params[1:])
    diffs = np.expand_dims(x / lengthscales, 1) - np.expand_dims(xp / lengthscales, 0)
    return output_scale * np.exp(-0.5 * np.sum(diffs ** 2, axis=2))


_, _, GP_LML = make_gp_funs(rbf_covariance, num_cov_params=2)


def gp_objective(params, x, y):
    return -GP_LML(params, x, y)


GP_X = np.linspace(-2, 2, 6).reshape(6, 1)
GP_Y = np.sin(GP_X[:, 0]) + 0.1 * rnd(6)


# ---------------------------------------------------------------- black_box_svi.py

def black_box_variational_inference(logprob, D, num_samples):
    def unpack_params(params):
        mean, log_std = params[:D], params[D:]
        return mean, log_std

    def gaussian_entropy(log_std):
        return 0.5 * D * (1.0 + np.log(2 * np.pi)) + np.sum(log_std)

    rs = np.random.RandomState(0)

    def variational_objective(params, t):
        mean, log_std = unpack_params(params)
        samples = rs.randn(num_samples, D) * np.exp(log_std) + mean
        lower_bound = gaussian_entropy(log_std) + np.mean(logprob(samples, t))
        return -lower_bound

    return variational_objective, unpack_params


def banana_logprob(z, t):
    mu, log_sigma = z[:, 0], z[:, 1]
    sigma_density = scipy.stats.norm.logpdf(log_sigma, 0, 1.35)
    mu_density = scipy.stats.norm.logpdf(mu, 0, np.exp(log_sigma))
    return sigma_density + mu_density


def svi_loss(params, t, eps):
    # the sampled version with eps drawn outside (reparameterisation)
    D = 2
    mean, log_std = params[:D], params[D:]
    samples = eps * np.exp(log_std) + mean
    entropy = 0.5 * D * (1.0 + np.log(2 * np.pi)) + np.sum(log_std)
    return -(entropy + np.mean(banana_logprob(samples, t)))


def svi_loss_seeded(params, t):
    # a fixed-seed generator made inside the objective
    rs = np.random.RandomState(0)
    D = 2
    mean, log_std = params[:D], params[D:]
    samples = rs.randn(10, D) * np.exp(log_std) + mean
    entropy = 0.5 * D * (1.0 + np.log(2 * np.pi)) + np.sum(log_std)
    return -(entropy + np.mean(banana_logprob(samples, t)))


def natural_gradient_objective(params, eps):
    # natural_gradient_black_box_svi.py: mean and log-variance of a diagonal Gaussian
    D = params.shape[0] // 2
    mean, log_var = params[:D], params[D:]
    samples = mean + np.exp(0.5 * log_var) * eps
    logp = -0.5 * np.sum((samples - 1.0) ** 2 / 0.5, axis=1)
    ent = 0.5 * np.sum(log_var)
    return -(np.mean(logp) + ent)


# ---------------------------------------------------------------- bayesian_neural_net.py

def make_nn_funs(layer_sizes, L2_reg, noise_variance, nonlinearity=np.tanh, as_tuple=False):
    shapes = list(zip(layer_sizes[:-1], layer_sizes[1:]))
    if as_tuple:
        shapes = tuple(shapes)
    num_weights = sum((m + 1) * n for m, n in shapes)

    def unpack_layers(weights):
        num_weight_sets = len(weights)
        for m, n in shapes:
            yield weights[:, :m * n].reshape((num_weight_sets, m, n)), \
                weights[:, m * n:m * n + n].reshape((num_weight_sets, 1, n))
            weights = weights[:, (m + 1) * n:]

    def predictions(weights, inputs):
        inputs = np.expand_dims(inputs, 0)
        for W, b in unpack_layers(weights):
            outputs = np.einsum('mnd,mdo->mno', inputs, W) + b
            inputs = nonlinearity(outputs)
        return outputs

    def logprob(weights, inputs, targets):
        log_prior = -L2_reg * np.sum(weights ** 2, axis=1)
        preds = predictions(weights, inputs)
        log_lik = -np.sum((preds - targets) ** 2, axis=1)[:, 0] / noise_variance
        return log_prior + log_lik

    return num_weights, predictions, logprob


BNN_NW, _, BNN_LOGPROB_LIST = make_nn_funs([1, 4, 1], L2_reg=0.1, noise_variance=0.01)
_, _, BNN_LOGPROB = make_nn_funs([1, 4, 1], L2_reg=0.1, noise_variance=0.01, as_tuple=True)
BNN_X = np.linspace(-1, 1, 5).reshape(5, 1)
BNN_Y = np.cos(BNN_X)


def bnn_vi(params, eps, inputs, targets, logprob=None):
    D = BNN_NW
    mean, log_std = params[:D], params[D:]
    samples = eps * np.exp(log_std) + mean
    entropy = 0.5 * D * (1.0 + np.log(2 * np.pi)) + np.sum(log_std)
    if logprob is None:
        logprob = BNN_LOGPROB
    return -(entropy + np.mean(logprob(samples, inputs, targets)))


# ---------------------------------------------------------------- variational_autoencoder.py

def diag_gaussian_log_density(x, mu, log_std):
    return np.sum(scipy.stats.norm.logpdf(x, mu, np.exp(log_std)), axis=-1)


def unpack_gaussian_params(params):
    D = np.shape(params)[-1] // 2
    mean, log_std = params[:, :D], params[:, D:]
    return mean, log_std


def sample_diag_gaussian(mean, log_std, eps):
    return eps * np.exp(log_std) + mean


def bernoulli_log_density(targets, unnormalized_logprobs):
    label_probabilities = -np.logaddexp(0, -unnormalized_logprobs * targets)
    return np.sum(label_probabilities, axis=-1)


def relu(x):
    return np.maximum(0, x)


def vae_mlp(params, inputs):
    for W, b in params[:-1]:
        inputs = relu(np.dot(inputs, W) + b)
    W, b = params[-1]
    return np.dot(inputs, W) + b


def vae_lower_bound(gen_params, rec_params, data, eps):
    q_means, q_log_stds = unpack_gaussian_params(vae_mlp(rec_params, data))
    latents = sample_diag_gaussian(q_means, q_log_stds, eps)
    logits = vae_mlp(gen_params, latents)
    log_prior = diag_gaussian_log_density(latents, 0, 0)
    log_like = bernoulli_log_density(data, logits)
    log_q = diag_gaussian_log_density(latents, q_means, q_log_stds)
    return -np.mean(log_prior + log_like - log_q)


VAE_DATA = np.sign(rnd(4, 5))
VAE_GEN = [(rnd(2, 4), rnd(4)), (rnd(4, 5), rnd(5))]
VAE_REC = [(rnd(5, 4), rnd(4)), (rnd(4, 4), rnd(4))]
VAE_EPS = rnd(4, 2, scale=1.0)


# ---------------------------------------------------------------- mixture_model.py (GMM)

def init_gmm_params(num_components, D, scale, rs=np.random.RandomState(0)):
    return {'log proportions': rs.randn(num_components) * scale,
            'means': rs.randn(num_components, D) * scale,
            'lower triangles': np.zeros((num_components, D, D)) + np.eye(D)}


def log_normalize(x):
    return x - sps.logsumexp(x)


def unpack_gmm_params(params):
    normalized_log_proportions = log_normalize(params['log proportions'])
    lower_tris = np.tril(params['lower triangles'])
    return normalized_log_proportions, params['means'], lower_tris


def gmm_log_likelihood(params, data):
    cluster_lls = []
    for log_proportion, mean, cov_sqrt in zip(*unpack_gmm_params(params)):
        cov = np.dot(cov_sqrt.T, cov_sqrt)
        cluster_lls.append(log_proportion + scipy.stats.multivariate_normal.logpdf(data, mean, cov))
    return np.sum(sps.logsumexp(np.vstack(cluster_lls), axis=0))


def gmm_objective(params, data):
    return -gmm_log_likelihood(params, data)


GMM_DATA = rnd(8, 2, scale=1.0)
GMM_PARAMS = init_gmm_params(2, 2, 0.5)
GMM_PARAMS["lower triangles"] = GMM_PARAMS["lower triangles"] + np.tril(rnd(2, 2, 2, scale=0.1))


# ---------------------------------------------------------------- ode_net.py (Euler instead of odeint)

def ode_mlp(params, t, y):
    h = np.tanh(np.dot(y, params["W1"]) + params["b1"] + t * params["wt"])
    return np.dot(h, params["W2"]) + params["b2"]


def ode_net_loss(params, y0, targets, t_final=1.0, steps=8):
    dt = t_final / steps
    y = y0
    preds = []
    t = 0.0
    for _ in range(steps):
        y = y + dt * ode_mlp(params, t, y)
        t = t + dt
        preds.append(y)
    return np.mean((np.array(preds)[-1] - targets) ** 2)


ODE_P = {"W1": rnd(2, 6), "b1": rnd(6), "wt": rnd(6), "W2": rnd(6, 2), "b2": rnd(2)}


# ---------------------------------------------------------------- fluidsim.py (small grid)

def project(vx, vy):
    p = np.zeros(vx.shape)
    h = 1.0 / vx.shape[0]
    div = -0.5 * h * (np.roll(vx, -1, axis=0) - np.roll(vx, 1, axis=0)
                      + np.roll(vy, -1, axis=1) - np.roll(vy, 1, axis=1))
    for k in range(6):
        p = (div + np.roll(p, 1, axis=0) + np.roll(p, -1, axis=0)
             + np.roll(p, 1, axis=1) + np.roll(p, -1, axis=1)) / 4.0
    vx = vx - 0.5 * (np.roll(p, -1, axis=0) - np.roll(p, 1, axis=0)) / h
    vy = vy - 0.5 * (np.roll(p, -1, axis=1) - np.roll(p, 1, axis=1)) / h
    return vx, vy


def advect(f, vx, vy):
    rows, cols = f.shape
    cell_ys, cell_xs = np.meshgrid(np.arange(rows), np.arange(cols))
    center_xs = (cell_xs - vx).ravel()
    center_ys = (cell_ys - vy).ravel()
    left_ix = np.floor(center_xs).astype(int)
    top_ix = np.floor(center_ys).astype(int)
    rw = center_xs - left_ix
    bw = center_ys - top_ix
    left_ix = np.mod(left_ix, rows)
    right_ix = np.mod(left_ix + 1, rows)
    top_ix = np.mod(top_ix, cols)
    bot_ix = np.mod(top_ix + 1, cols)
    flat_f = (1 - rw) * ((1 - bw) * f[left_ix, top_ix] + bw * f[left_ix, bot_ix]) \
        + rw * ((1 - bw) * f[right_ix, top_ix] + bw * f[right_ix, bot_ix])
    return np.reshape(flat_f, (rows, cols))


def simulate(vx, vy, smoke, num_time_steps):
    for t in range(num_time_steps):
        vx_updated = advect(vx, vx, vy)
        vy_updated = advect(vy, vx, vy)
        vx, vy = project(vx_updated, vy_updated)
        smoke = advect(smoke, vx, vy)
    return smoke


def fluid_distance(init_vx, init_vy, smoke, target):
    final = simulate(init_vx, init_vy, smoke, 2)
    return np.mean((target - final) ** 2)


FL_N = 5
FL_SMOKE = np.abs(rnd(FL_N, FL_N, scale=1.0))
FL_TARGET = np.abs(rnd(FL_N, FL_N, scale=1.0))


# ---------------------------------------------------------------- wing.py (tiny: occupancy-weighted drag)

def wing_objective(occupancy, vx):
    # a soft-occupancy body slows the flow; the objective trades lift for drag
    occ = sps.expit(occupancy)
    v = vx * (1 - occ)
    for _ in range(3):
        v = 0.25 * (np.roll(v, 1, 0) + np.roll(v, -1, 0) + np.roll(v, 1, 1) + np.roll(v, -1, 1))
        v = v * (1 - occ)
    lift = np.sum(v[:, :2]) - np.sum(v[:, -2:])
    drag = np.sum((vx - v) ** 2)
    return drag - lift + 0.1 * np.sum(occ)


# ---------------------------------------------------------------- generative_adversarial_net.py

def gan_mlp(params, inputs):
    for W, b in params:
        outputs = np.dot(inputs, W) + b
        inputs = np.maximum(0.01 * outputs, outputs)  # leaky relu
    return outputs


def gan_objective(gen_params, dsc_params, real_data, noise):
    fake_data = gan_mlp(gen_params, noise)
    logprobs_fake = -np.logaddexp(0, -gan_mlp(dsc_params, fake_data))
    logprobs_real = -np.logaddexp(0, -gan_mlp(dsc_params, real_data))
    return np.mean(logprobs_real) - np.mean(logprobs_fake)


GAN_G = [(rnd(2, 4), rnd(4)), (rnd(4, 3), rnd(3))]
GAN_D = [(rnd(3, 4), rnd(4)), (rnd(4, 1), rnd(1))]


# ---------------------------------------------------------------- negative binomial ML (negative_binomial_maxlike.py)

def negbin_loglike(r, p, x):
    return sps.gammaln(r + x) - sps.gammaln(r) - sps.gammaln(x + 1) + x * np.log(p) \
        + r * np.log(1 - p)


def negbin_fit(params, x):
    log_r, logit_p = params
    r = np.exp(log_r)
    p = sps.expit(logit_p)
    return -np.sum(negbin_loglike(r, p, x))


NB_X = np.array([3.0, 0.0, 5.0, 2.0, 7.0, 1.0])


# ---------------------------------------------------------------- hmm forward (hmm_em.py style)

def hmm_log_likelihood(natural_params, data):
    log_pi0, log_A, log_B = natural_params
    pi = log_pi0 - sps.logsumexp(log_pi0)
    A = log_A - sps.logsumexp(log_A, axis=1, keepdims=True)
    B = log_B - sps.logsumexp(log_B, axis=1, keepdims=True)
    log_alpha = pi + B[:, data[0]]
    for x in data[1:]:
        log_alpha = sps.logsumexp(log_alpha[:, None] + A, axis=0) + B[:, x]
    return -sps.logsumexp(log_alpha)


HMM_DATA = np.array([0, 2, 1, 1, 0, 2])


# ---------------------------------------------------------------- the table

CASES = {
    "neural_net": (nn_objective, (NN_PARAMS, NN_X, NN_T), 0, {}),
    "tanh_ag": (tanh_sum, (rnd(5),), 0, {}, {"order2": True}),
    "sinusoid": (sinusoid_fit, ((1.2, 0.3, 2.0), np.linspace(0, 3, 7),
                                np.sin(np.linspace(0, 3, 7))), 0, {}),
    "rosenbrock": (rosenbrock, (np.array([-1.2, 1.0]),), 0, {}, {"order2": True}),
    "rosenbrock_nd": (rosenbrock_nd, (np.array([-1.2, 1.0, 0.8, 0.5]),), 0, {},
                      {"order2": True}),
    "logistic_regression": (lr_training_loss, (np.array([0.1, -0.2, 0.3]), LR_X, LR_T), 0, {},
                            {"order2": True}),
    "convnet": (convnet_loss, ({"k": rnd(2, 1, 2, 2), "b": rnd(2), "W": rnd(8, 3)}, CONV_X,
                               CONV_L), 0, {}),
    "rnn": (rnn_log_likelihood, (create_rnn_params(4, 3, 4), SEQ_IN, SEQ_T[:6]), 0, {}),
    "lstm": (lstm_log_likelihood, (create_lstm_params(4, 3, 4), SEQ_IN, SEQ_T[:6]), 0, {}),
    "gaussian_process": (gp_objective, (np.array([0.1, -1.0, 0.2, 0.3]), GP_X, GP_Y), 0, {},
                         {"order2": True}),
    "black_box_svi": (svi_loss, (rnd(4), 0, rnd(10, 2, scale=1.0)), 0, {}),
    "black_box_svi_seeded": (svi_loss_seeded, (rnd(4), 0), 0, {}),
    "natural_gradient_svi": (natural_gradient_objective, (rnd(6), rnd(7, 3, scale=1.0)), 0, {},
                             {"order2": True}),
    "bayesian_nn": (bnn_vi, (rnd(2 * BNN_NW, scale=0.3), rnd(3, BNN_NW, scale=1.0), BNN_X,
                             BNN_Y), 0, {}),
    "vae": (vae_lower_bound, (VAE_GEN, VAE_REC, VAE_DATA, VAE_EPS), (0, 1), {}),
    "mixture_model": (gmm_objective, (GMM_PARAMS, GMM_DATA), 0, {}),
    "ode_net": (ode_net_loss, (ODE_P, rnd(3, 2), rnd(3, 2)), 0, {}),
    "fluidsim": (fluid_distance, (rnd(FL_N, FL_N, scale=0.2), rnd(FL_N, FL_N, scale=0.2),
                                  FL_SMOKE, FL_TARGET), (0, 1), {}, {"f32": False}),
    "wing": (wing_objective, (rnd(5, 5), np.ones((5, 5))), 0, {}),
    "gan_gen": (gan_objective, (GAN_G, GAN_D, rnd(4, 3), rnd(4, 2)), 0, {}),
    "gan_dsc": (gan_objective, (GAN_G, GAN_D, rnd(4, 3), rnd(4, 2)), 1, {}),
    "negative_binomial": (negbin_fit, ((0.5, 0.2), NB_X), 0, {}),
    "hmm": (hmm_log_likelihood, ((rnd(3), rnd(3, 3), rnd(3, 3)), HMM_DATA), 0, {}),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_corpus10_autograd_examples(name):
    run_table(CASES, name)


def test_bayesian_nn_shapes_in_a_list_refused():
    """autograd's bayesian_neural_net.py verbatim keeps the layer shapes in a
    *list* closed over by a generator: a list is data read when the code runs
    (it may change between calls without recompiling), so the generator's
    loop runs at run time and yields tuples of differentiated arrays, which a
    runtime list cannot hold.  Refused at the yield; with ``tuple(zip(...))``
    (structure, guarded) the same program works (the "bayesian_nn" case)."""
    from s2sgrad import grad
    from s2sgrad.errors import S2SGradError
    args = (rnd(2 * BNN_NW, scale=0.3), rnd(3, BNN_NW, scale=1.0), BNN_X, BNN_Y)
    with pytest.raises(S2SGradError, match=r"test_corpus10_autograd_examples.py:\d+: 'a tuple "
                                           r"built from computed values'"):
        grad(bnn_vi)(*args, logprob=BNN_LOGPROB_LIST)
