"""The classic GANs on the shared step: two time-scale learning rates and the optimiser choice,
WGAN with weight clipping, the DRAGAN and R1 penalties, spectral normalisation, InfoGAN and
BiGAN / ALI.

Each against hand-computed values on tiny inputs, what one step changes, pmap == jit ==
sharded, bitwise-exact resume, the experiment configs, and the refusal of bad settings. (The
InfoGAN and BiGAN reports: tests/test_evaluation.py; the matching of codes to classes:
tests/test_metrics.py.)"""
import glob
import importlib
import json
import math
import os
import re

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
import scipy.special

import conftest
import gans.configs
from conftest import assert_bitwise_equal, tiny_config
from gans.core import families, losses, optimizers
from gans.core import state as state_lib
from gans.core import step as step_lib
from gans.core.errors import UsageError
from gans.evaluation import sampling
from gans.run import config as config_lib
from gans.run import runs
from gans.training import loop
from test_conditional import backbone_inputs
from test_train_step import KEY, assert_modes_agree, copy, max_abs_diff, run_mode, setup


def configure(model='mlp', data_dir=None, **overrides):
  """tiny_config with 'section.field' overrides, resolved."""
  config = tiny_config(model, data_dir)
  for key, value in overrides.items():
    section, _, field = key.rpartition('.')
    (config[section] if section else config)[field] = value
  return config_lib.resolve(config)


def one_step(config, batch_size=16):
  """(state before, state after one jitted step, its metrics) on a random real batch."""
  family, networks, state, _, _ = setup(config)
  batch = {'image': jax.random.uniform(jax.random.key(1), (batch_size, 28, 28, 1)) * 2 - 1}
  new, metrics = jax.jit(step_lib.make_train_step(config, family, networks))(copy(state), batch,
                                                                             KEY)
  return state, new, metrics


def largest_change(before, after):
  return max(float(np.max(np.abs(np.asarray(a) - np.asarray(b))))
             for a, b in zip(jax.tree.leaves(before), jax.tree.leaves(after)))


def assert_resumes_bitwise(tmp_path, data_dir, model='mlp', **overrides):
  return conftest.assert_resumes_bitwise(
      tmp_path, lambda **more: configure(model, data_dir, **overrides, **more))


# ---- two time-scale update rule and the optimiser choice

def test_each_network_moves_by_its_own_learning_rate():
  # Adam's first update is -lr * g / (|g| + eps): every parameter with a gradient moves by lr.
  config = configure(learning_rate=1e-4, d_learning_rate=4e-4)
  before, after, _ = one_step(config)
  np.testing.assert_allclose(largest_change(before.generator.params, after.generator.params),
                             1e-4, rtol=1e-3)
  np.testing.assert_allclose(
      largest_change(before.discriminator.params, after.discriminator.params), 4e-4, rtol=1e-3)
  shared = configure(learning_rate=1e-4)  # None: D takes the shared learning rate
  before, after, _ = one_step(shared)
  np.testing.assert_allclose(
      largest_change(before.discriminator.params, after.discriminator.params), 1e-4, rtol=1e-3)


def test_ds_head_layers_move_by_their_own_learning_rate():
  # InfoGAN's Q on a hidden layer of its own (HeadDense, HeadOutput; HeadBatchNorm where D
  # normalises) at 1e-3; the rest of D, the adversarial output included, at D's 2e-4.
  config = infogan_config('dcgan', **{'dcgan.discriminator_head_width': 16,
                                      'd_learning_rate': 2e-4, 'd_head_learning_rate': 1e-3})
  before, after, _ = one_step(config)
  head = {name for name in before.discriminator.params if name.startswith('Head')}
  assert {'HeadDense', 'HeadOutput'} <= head
  # The head's own optimiser state shapes the checkpoint: a workdir keeps it or not for life.
  assert runs.identity(config)['optimizers']['discriminator'] == 'adam, head layers apart'
  without = infogan_config('dcgan', **{'dcgan.discriminator_head_width': 16})
  assert runs.identity(without)['optimizers']['discriminator'] == 'adam'
  for names, lr in ((head, 1e-3), (set(before.discriminator.params) - head, 2e-4)):
    np.testing.assert_allclose(
        largest_change({n: before.discriminator.params[n] for n in names},
                       {n: after.discriminator.params[n] for n in names}), lr, rtol=1e-3)


def test_the_discriminator_betas_are_its_own():
  config = configure(d_b1=0.0, d_b2=0.9)
  family, networks, state, _, _ = setup(config)
  d_adam, g_adam = state.discriminator.opt_state[0], state.generator.opt_state[0]
  assert isinstance(d_adam, optax.ScaleByAdamState)
  grads = jax.tree.map(jnp.ones_like, state.discriminator.params)
  # b1 = 0: D's first moment is the last gradient itself; G's (b1 = 0.5) is half of it.
  d_moment = state.discriminator.tx.update(grads, state.discriminator.opt_state,
                                           state.discriminator.params)[1][0].mu
  g_moment = state.generator.tx.update(jax.tree.map(jnp.ones_like, state.generator.params),
                                       state.generator.opt_state, state.generator.params)[1][0].mu
  assert all(np.all(np.asarray(m) == 1.0) for m in jax.tree.leaves(d_moment))
  assert all(np.all(np.asarray(m) == 0.5) for m in jax.tree.leaves(g_moment))
  assert jax.tree.structure(d_adam) == jax.tree.structure(g_adam)


def test_rmsprop_against_pytorchs_update_by_hand():
  # v <- alpha v + (1 - alpha) g^2; p <- p - lr g / (sqrt(v) + eps), alpha = b2, v0 = 0.
  lr, alpha, eps = 0.01, 0.9, optimizers.RMSPROP_EPS
  tx = optimizers.make('rmsprop', lr, 0.5, alpha)
  params = {'w': jnp.array([1.0, -2.0, 0.5])}
  grads = [np.array([0.5, -1.0, 2.0]), np.array([-0.25, 0.0, 1.0])]
  expected, v = np.array([1.0, -2.0, 0.5]), np.zeros(3)
  state = tx.init(params)
  for g in grads:
    updates, state = tx.update({'w': jnp.asarray(g, jnp.float32)}, state, params)
    params = optax.apply_updates(params, updates)
    v = alpha * v + (1 - alpha) * g ** 2
    expected = expected - lr * g / (np.sqrt(v) + eps)
  np.testing.assert_allclose(params['w'], expected, rtol=1e-6)


def test_a_discriminator_with_another_optimiser():
  config = configure(d_optimizer='rmsprop', d_learning_rate=1e-3)
  _, _, state, _, _ = setup(config)
  assert isinstance(state.discriminator.opt_state[0], optax.ScaleByRmsState)
  assert isinstance(state.generator.opt_state[0], optax.ScaleByAdamState)
  ident = runs.identity(config)['optimizers']
  assert ident == {'generator': 'adam', 'discriminator': 'rmsprop'}
  # The kinds shape the checkpoint, so they belong to a workdir's identity; the rates do not.
  assert runs.identity(configure())['optimizers'] == {'generator': 'adam',
                                                       'discriminator': 'adam'}
  assert 'd_learning_rate' not in runs.identity(config)


def test_ttur_runs_resume_bitwise(tmp_path, data_dir):
  assert_resumes_bitwise(tmp_path, data_dir, d_learning_rate=4e-4, d_optimizer='rmsprop',
                         d_b2=0.99)


# ---- WGAN with weight clipping

def test_clip_weights_lands_every_parameter_inside_the_bound():
  c = 0.01
  bound = np.float32(c)
  rng = np.random.default_rng(0)
  p = np.concatenate([rng.normal(0, 0.01, 10000), rng.normal(0, 0.2, 10000)]).astype(np.float32)
  u = rng.normal(0, 0.005, 20000).astype(np.float32)
  # and the hard cases: far outside (an initialiser's weights), just inside, exactly on it
  p[:6] = [0.6, -0.6, c, -c, np.nextafter(bound, 0), 0.0]
  u[:6] = [0.0, 0.0, 1e-9, -1e-9, 1e-3, 5.0]
  tx = optimizers.clip_weights(c)
  updates, _ = tx.update({'w': jnp.asarray(u)}, tx.init(None), {'w': jnp.asarray(p)})
  after = np.asarray(optax.apply_updates({'w': jnp.asarray(p)}, updates)['w'])
  assert np.all(np.abs(after) <= bound)
  plain = p + u
  inside = np.abs(plain) <= bound
  assert 0.2 < inside.mean() < 0.8  # both cases are exercised
  naive = p + (np.clip(plain, -bound, bound) - p)  # float32, as optax adds it back
  assert np.sum(np.abs(naive) > bound) > 10  # where landing needs the nudge
  np.testing.assert_array_equal(after[inside], plain[inside])  # updates inside are kept as they are
  # the others end on the bound, or a float or two inside it
  outside = ~inside
  np.testing.assert_array_equal(np.sign(after[outside]), np.sign(plain[outside]))
  assert np.all(np.abs(after[outside]) >= bound - 2 * np.spacing(np.abs(p[outside]) + bound))


def test_a_wasserstein_clip_step_clips_every_critic_weight_and_nothing_else():
  config = configure(loss='wasserstein_clip', clip_value=0.01)
  before, after, metrics = one_step(config)
  assert largest_change(before.discriminator.params, after.discriminator.params) > 0
  d_init = np.concatenate([np.ravel(x) for x in jax.tree.leaves(before.discriminator.params)])
  assert np.abs(d_init).max() > 0.1  # the initialiser's weights are far outside [-c, c]
  for leaf in jax.tree.leaves(after.discriminator.params):
    assert np.all(np.abs(np.asarray(leaf)) <= np.float32(0.01))
  g_after = np.concatenate([np.ravel(x) for x in jax.tree.leaves(after.generator.params)])
  assert np.abs(g_after).max() > 0.1  # G is not clipped
  np.testing.assert_allclose(metrics['d_loss'], metrics['d_adv_loss'], rtol=1e-6)
  assert 'd_gradient_penalty' not in metrics


def test_the_wgan_config_is_the_papers():
  config = config_lib.resolve(importlib.import_module('gans.configs.wgan').get_config())
  assert (config.loss, config.optimizer, config.learning_rate, config.n_critic,
          config.clip_value) == ('wasserstein_clip', 'rmsprop', 5e-5, 5, 0.01)


def assert_modes_agree_to_adams_rounding(config):
  """pmap == jit == sharded where some gradient is (nearly) zero, a sum of cancelling terms
  whose rounding depends on how the batch is split.

  Adam's first steps, lr * g / (|g| + eps), move such a weight by up to lr whatever the size of
  g, so that rounding shows in the move. Under a loss linear in D's outputs (Wasserstein) a
  hidden unit active on every real and every fake image has a bias gradient of exactly zero; in
  the BiGAN, D's weight from z_0 into one hidden unit moves 2.3e-4 in the two steps, 8.7e-6
  (LLVM -O3) to 1.1e-5 (-O0) apart between jit and sharded. So the states agree to 2 lr (two
  steps), not to 1e-5, and the metrics as tightly as ever.
  """
  assert config.optimizer == 'adam'
  return assert_modes_agree(config, tolerance=2 * config.learning_rate)


def test_wasserstein_clip_runs_agree_across_modes_and_resume_bitwise(tmp_path, data_dir):
  config = configure(loss='wasserstein_clip', n_critic=2, **{'mlp.dropout_rate': 0.0})
  for state, _ in assert_modes_agree_to_adams_rounding(config).values():
    for leaf in jax.tree.leaves(state.discriminator.params):
      assert np.all(np.abs(leaf) <= np.float32(0.01))
  state = assert_resumes_bitwise(tmp_path, data_dir, loss='wasserstein_clip',
                                 optimizer='rmsprop', n_critic=2)
  for leaf in jax.tree.leaves(state['state']['discriminator']['params']):
    assert np.all(np.abs(leaf) <= np.float32(0.01))


# ---- DRAGAN and R1

def quadratic_critic(x):
  """0.5 ||x||^2 per image: its gradient at x is x itself."""
  return 0.5 * jnp.sum(x.reshape(x.shape[0], -1) ** 2, axis=1)


IMAGES = jnp.asarray(np.random.default_rng(3).uniform(-1, 1, (4, 3, 3, 1)), jnp.float32)


def test_dragan_points_are_the_reference_perturbation():
  key = jax.random.key(7)
  points = np.asarray(losses.dragan_points(IMAGES, key))
  real = np.asarray(IMAGES)
  # by hand: x + a * 0.5 * std(batch) * u, u per pixel, a per image, both U[0, 1)
  noise_key, mix_key = jax.random.split(key)
  u = np.asarray(jax.random.uniform(noise_key, real.shape))
  a = np.asarray(jax.random.uniform(mix_key, (4, 1, 1, 1)))
  np.testing.assert_allclose(points, real + a * 0.5 * real.std() * u, rtol=1e-6, atol=1e-7)
  offsets = (points - real) / (0.5 * real.std())
  assert np.all(offsets >= 0) and np.all(offsets < 1)
  assert len(np.unique(np.round(offsets[0], 6))) > 1  # per pixel, not per image


def test_dragan_penalty_against_a_hand_computed_value():
  key = jax.random.key(7)
  points = np.asarray(losses.dragan_points(IMAGES, key), np.float64)
  # the quadratic critic's gradient at a point is the point: penalty = mean (||x^|| - 1)^2
  expected = np.mean((np.linalg.norm(points.reshape(4, -1), axis=1) - 1) ** 2)
  np.testing.assert_allclose(losses.dragan_penalty(quadratic_critic, IMAGES, None, key),
                             expected, rtol=1e-5)
  # a linear critic has gradient w everywhere: (||w|| - 1)^2 wherever the points are
  w = jnp.arange(9.0).reshape(1, 3, 3, 1) / 10
  linear = lambda x: jnp.sum(x * w, axis=(1, 2, 3))
  np.testing.assert_allclose(losses.dragan_penalty(linear, IMAGES, None, key),
                             (np.linalg.norm(np.asarray(w)) - 1) ** 2, rtol=1e-5)


def test_r1_penalty_against_a_hand_computed_value():
  real = np.asarray(IMAGES, np.float64)
  # gamma / 2 E||grad D(x)||^2 with gamma folded into the weight: 0.5 mean ||x||^2 here
  np.testing.assert_allclose(losses.r1_penalty(quadratic_critic, IMAGES, None, None),
                             0.5 * np.mean(np.sum(real.reshape(4, -1) ** 2, axis=1)), rtol=1e-6)
  w = jnp.arange(9.0).reshape(1, 3, 3, 1) / 10
  linear = lambda x: jnp.sum(x * w, axis=(1, 2, 3))
  np.testing.assert_allclose(losses.r1_penalty(linear, IMAGES, None, None),
                             0.5 * np.sum(np.asarray(w) ** 2), rtol=1e-6)


def test_penalties_come_with_any_loss_and_after_the_losss_own():
  assert losses.penalties(configure()) == []
  chosen = losses.penalties(configure(loss='wasserstein_gp', penalty='r1', penalty_weight=2.0,
                                      gradient_penalty_weight=5.0))
  assert [(name, weight) for name, weight, _ in chosen] == [('d_gradient_penalty', 5.0),
                                                            ('d_r1_penalty', 2.0)]
  assert [name for name, _, _ in losses.penalties(configure(loss='hinge', penalty='dragan'))] == [
      'd_dragan_penalty']


@pytest.mark.parametrize('penalty, loss', [('dragan', 'hinge'), ('r1', 'non_saturating')])
def test_a_penalty_step_logs_it_and_adds_it_weighted(penalty, loss):
  config = configure(loss=loss, penalty=penalty, penalty_weight=3.0)
  _, _, metrics = one_step(config)
  name = f'd_{penalty}_penalty'
  assert float(metrics[name]) > 0
  np.testing.assert_allclose(metrics['d_loss'], metrics['d_adv_loss'] + 3.0 * metrics[name],
                             rtol=1e-5)


def test_r1_agrees_across_modes_and_dragan_where_its_noise_is_global():
  # R1 draws nothing: every mode agrees. DRAGAN's noise comes from the step's penalty key,
  # which pmap folds with the device as it does dropout's; the sharded mode draws it for the
  # global batch, as jit does, and takes the std of the whole batch.
  assert_modes_agree(configure(penalty='r1', **{'mlp.dropout_rate': 0.0}))
  dragan = configure(penalty='dragan', **{'mlp.dropout_rate': 0.0})
  out = setup(dragan)
  assert_modes_agree(dragan, modes=('jit', 'sharded'))
  assert max_abs_diff(run_mode(dragan, 'jit', setup_out=out)[0],
                      run_mode(dragan, 'pmap', setup_out=out)[0]) > 1e-6


@pytest.mark.parametrize('penalty', ['dragan', 'r1'])
def test_penalty_runs_resume_bitwise(tmp_path, data_dir, penalty):
  assert_resumes_bitwise(tmp_path, data_dir, penalty=penalty)


# ---- spectral normalisation

def spectral_stats(state):
  """{layer: (u, sigma)} of D's power iteration."""
  stats = {}
  for module in state.discriminator.batch_stats.values():
    for name, value in module.items():
      layer, _, kind = name.rpartition('/')
      stats.setdefault(layer, {})[kind] = np.asarray(value)
  return stats


@pytest.mark.parametrize('model', ['mlp', 'dcgan'])
def test_every_discriminator_layer_is_spectrally_normalised_and_its_vectors_update(model):
  config = configure(model, spectral_norm=True, loss='hinge')
  before, after, _ = one_step(config)
  layers = spectral_stats(before)
  kernels = [path for path, _ in jax.tree_util.tree_leaves_with_path(before.discriminator.params)
             if path[-1].key == 'kernel']
  assert len(layers) == len(kernels) == {'mlp': 2, 'dcgan': 3}[model]
  for layer, new in spectral_stats(after).items():
    assert not np.array_equal(new['u'], layers[layer]['u']), layer
    # sigma is written too (near lecun-normal init its first estimates are all close to 1)
    assert np.isfinite(new['sigma']) and new['sigma'] > 0
  # the same parameter tree as without, and G untouched by the option
  plain = setup(configure(model, loss='hinge'))[2]
  assert jax.tree.structure(plain.discriminator.params) == jax.tree.structure(
      before.discriminator.params)
  assert_bitwise_equal(plain.generator.params, before.generator.params)
  assert jax.tree.structure(plain.generator.batch_stats) == jax.tree.structure(
      before.generator.batch_stats)


@pytest.mark.parametrize('model', ['mlp', 'dcgan'])
def test_the_power_iteration_finds_each_layers_largest_singular_value(model):
  config = configure(model, spectral_norm=True)
  _, (_, discriminator, _), state, _, _ = setup(config)
  variables = state.discriminator.variables()
  images = jnp.zeros((2, 28, 28, 1))

  @jax.jit
  def iterate(stats):  # a training call: u moves one power iteration, the weights stay
    return discriminator.apply({**variables, 'batch_stats': stats}, images, train=True,
                               mutable=['batch_stats'], rngs={'dropout': KEY})[1]['batch_stats']

  for _ in range(1000):
    variables = {**variables, 'batch_stats': iterate(variables['batch_stats'])}
  for module in variables['batch_stats'].values():
    for name, value in module.items():
      if name.endswith('/sigma'):
        layer = name.split('/')[0]
        kernel = np.asarray(variables['params'][layer]['kernel'], np.float64)
        top = np.linalg.svd(kernel.reshape(-1, kernel.shape[-1]), compute_uv=False)[0]
        np.testing.assert_allclose(value, top, rtol=1e-3, err_msg=layer)
  # inference reads u and sigma without changing them
  out, unchanged = discriminator.apply(variables, images, train=False, mutable=['batch_stats'])
  assert_bitwise_equal(unchanged['batch_stats'], variables['batch_stats'])


def test_ecgan_encoders_are_not_spectrally_normalised():
  config = configure(model='ecgan', spectral_norm=True)
  _, networks, state, _, _ = setup(config)
  assert state.discriminator.batch_stats and not state.auxiliary.batch_stats
  assert not networks.auxiliary.z_encoder.spectral_norm


def test_sngan_runs_agree_across_modes_and_resume_bitwise(tmp_path, data_dir):
  # The MLP backbone: the same checkpointed collection as the DCGAN's (whose layers the tests
  # above check), at a quarter of the compile time.
  # (the modes with the non-saturating loss: with hinge on this MLP, pmap and jit differed by
  # 5.7e-5 after two steps, rounding at hinge's kinks amplified by Adam, as for wasserstein_clip)
  assert_modes_agree(configure('mlp', spectral_norm=True, **{'mlp.dropout_rate': 0.0}))
  state = assert_resumes_bitwise(tmp_path, data_dir, 'mlp', spectral_norm=True, loss='hinge')
  assert state['state']['discriminator']['batch_stats']  # the vectors are checkpointed


# ---- InfoGAN

def infogan_config(backbone='mlp', data_dir=None, **overrides):
  return configure('infogan', data_dir, **{'infogan.backbone': backbone}, **overrides)


@pytest.mark.parametrize('backbone', ['mlp', 'dcgan'])
def test_infogan_feeds_g_the_codes_and_reads_them_from_ds_extra_outputs(backbone):
  config = infogan_config(backbone, **{'infogan.categories': 5, 'infogan.continuous': 3})
  family, (generator, discriminator, _), state, _, _ = setup(config)
  draws = family.draw(jax.random.key(1), 4)
  z, code = draws['z'], draws['code']
  assert z.shape == (4, 8) and code.shape == (4,) and int(code.max()) < 5
  g_in = backbone_inputs(generator, state.generator.variables(),
                         family.generator_input(draws, None))
  # [noise, continuous codes, onehot(code)]: the continuous codes are erf(z / sqrt 2) of z's
  # first 3 entries, the noise its other 5
  np.testing.assert_array_equal(g_in[:, :5], z[:, 3:])
  np.testing.assert_allclose(g_in[:, 5:8], scipy.special.erf(np.asarray(z[:, :3]) / np.sqrt(2)),
                             rtol=1e-5, atol=1e-6)
  np.testing.assert_array_equal(g_in[:, 8:], np.eye(5)[code])
  images = generator.apply(state.generator.variables(), family.generator_input(draws, None),
                           train=False)
  raw = discriminator.apply(state.discriminator.variables(), images, train=False)
  assert raw.shape == (4, 1 + 5 + 3)
  heads = family.heads(raw)
  np.testing.assert_array_equal(heads['adv'], raw[:, 0])
  np.testing.assert_array_equal(heads['code'], raw[:, 1:6])
  np.testing.assert_array_equal(heads['continuous'], raw[:, 6:])
  assert set(family.train_data(np.zeros((2, 28, 28, 1), np.uint8), np.zeros(2, np.int32),
                               None)['images']) == {'image'}  # real batches carry no labels


def test_the_continuous_codes_are_uniform_on_minus_one_one():
  family = families.build(infogan_config())
  codes = np.asarray(family.continuous_codes(jax.random.normal(jax.random.key(0), (200000, 8))))
  assert codes.shape == (200000, 2) and codes.min() > -1 and codes.max() < 1
  counts, _ = np.histogram(codes, bins=20, range=(-1, 1))
  np.testing.assert_allclose(counts / codes.size, 1 / 20, rtol=0.03)


def test_infogan_information_terms_against_hand_computed_values():
  family = families.build(infogan_config(**{'infogan.categories': 3, 'infogan.continuous': 2,
                                            'infogan.categorical_weight': 0.5,
                                            'infogan.continuous_weight': 2.0}))
  logits = np.array([[2.0, 0.0, -1.0], [0.0, 1.0, 0.0]])
  means = np.array([[0.5, -0.25], [0.0, 1.0]])
  z = np.array([[0.3, -1.2, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0], [2.0, 0.1, 0, 0, 0, 0, 0, 0]])
  draws = {'z': jnp.asarray(z, jnp.float32), 'code': jnp.array([0, 2])}
  heads = {'adv': jnp.zeros(2), 'code': jnp.asarray(logits), 'continuous': jnp.asarray(means)}
  # -log softmax of the code, averaged; Gaussian NLL (sigma 1) summed over codes, averaged
  ce = -np.mean([logits[0, 0] - np.log(np.exp(logits[0]).sum()),
                 logits[1, 2] - np.log(np.exp(logits[1]).sum())])
  c = np.vectorize(math.erf)(z[:, :2] / np.sqrt(2))
  nll = np.mean(np.sum(0.5 * (c - means) ** 2 + 0.5 * np.log(2 * np.pi), axis=1))
  value, terms = family.discriminator_terms(None, heads, None, draws, None)
  np.testing.assert_allclose(terms['d_info_categorical_loss'], ce, rtol=1e-6)
  np.testing.assert_allclose(terms['d_info_continuous_loss'], nll, rtol=1e-6)
  np.testing.assert_allclose(terms['d_info_categorical_accuracy'], 0.5)
  np.testing.assert_allclose(value, 0.5 * ce + 2.0 * nll, rtol=1e-6)
  value, terms = family.generator_terms(heads, draws, None)
  assert set(terms) == {'g_info_categorical_loss', 'g_info_continuous_loss'}
  np.testing.assert_allclose(value, 0.5 * ce + 2.0 * nll, rtol=1e-6)


def test_an_infogan_step_trains_q_in_both_updates():
  config = infogan_config()
  before, after, metrics = one_step(config)
  assert largest_change(before.discriminator.params, after.discriminator.params) > 0
  for name in ('generator', 'discriminator'):
    changed = jax.tree.map(lambda a, b: bool(jnp.any(a != b)), getattr(before, name).params,
                           getattr(after, name).params)
    assert all(jax.tree.leaves(changed)), name
  np.testing.assert_allclose(metrics['d_loss'], metrics['d_adv_loss']
                             + metrics['d_info_categorical_loss']
                             + metrics['d_info_continuous_loss'], rtol=1e-5)
  np.testing.assert_allclose(metrics['g_loss'], metrics['g_adv_loss']
                             + metrics['g_info_categorical_loss']
                             + metrics['g_info_continuous_loss'], rtol=1e-5)
  # a step before any learning: Q is at chance on the 10-way code
  assert float(metrics['d_info_categorical_loss']) == pytest.approx(np.log(10), rel=0.2)


def test_infogan_grid_has_a_row_per_code_then_the_traversals():
  config = infogan_config(**{'infogan.categories': 3, 'infogan.continuous': 2})
  family = families.build(config)
  z = jax.random.normal(jax.random.key(0), (12, 8))
  inputs, columns = family.spec.grid_inputs(z, None)
  assert columns == 9
  labels, g_z = np.asarray(inputs['label']), np.asarray(inputs['z'])
  assert len(labels) == 3 * (1 + 2) * 9
  np.testing.assert_array_equal(labels, np.tile(np.repeat(np.arange(3), 9), 3))
  noise, continuous = g_z[:, :6], g_z[:, 6:]
  block = 27
  # the first block: the noise of column j down each column, the continuous codes 0
  np.testing.assert_array_equal(noise[:block].reshape(3, 9, 6), np.broadcast_to(
      np.asarray(z)[:9, 2:], (3, 9, 6)))
  assert np.all(continuous[:block] == 0)
  for i in range(2):  # then code i from -2 to 2 across the columns, one noise
    rows = slice(block * (1 + i), block * (2 + i))
    np.testing.assert_allclose(continuous[rows, i].reshape(3, 9),
                               np.tile(np.linspace(-2, 2, 9), (3, 1)))
    assert np.all(continuous[rows, 1 - i] == 0)
    np.testing.assert_array_equal(noise[rows], np.broadcast_to(np.asarray(z)[0, 2:], (27, 6)))


def test_infogan_samples_cycle_through_the_codes_without_being_a_label_model():
  family = families.build(infogan_config(**{'infogan.categories': 4}))
  assert not family.label_model and family.samples_from_noise
  np.testing.assert_array_equal(family.sample_labels(2, 6), [2, 3, 0, 1, 2, 3])
  z = jax.random.normal(jax.random.key(0), (6, 8))
  inputs = family.noise_inputs(z, start=2)
  np.testing.assert_array_equal(inputs['label'], [2, 3, 0, 1, 2, 3])
  np.testing.assert_allclose(inputs['z'][:, 6:], family.continuous_codes(z), rtol=1e-6)
  # every other family keeps what it had: labels for label models only
  assert families.build(configure()).sample_labels(0, 3) is None
  np.testing.assert_array_equal(families.build(configure(model='acgan')).sample_labels(8, 3),
                                [8, 9, 0])


def test_infogan_runs_agree_across_modes_and_resume_bitwise(tmp_path, data_dir):
  assert_modes_agree(infogan_config(**{'mlp.dropout_rate': 0.0}))
  assert_resumes_bitwise(tmp_path, data_dir, 'infogan')


def test_infogan_exports_its_codes_as_labels_and_draws_its_grid(tmp_path, data_dir):
  workdir = str(tmp_path / 'run')
  loop.train(infogan_config(data_dir=data_dir, num_steps=4), workdir)
  assert os.path.getsize(os.path.join(workdir, 'samples', 'step_0000004.png')) > 0
  assert os.path.getsize(os.path.join(workdir, 'loss_terms.png')) > 0
  path, _ = sampling.export_samples(workdir, 25, str(tmp_path / 's.npz'))
  with np.load(path) as npz:
    assert npz['images'].shape == (25, 28, 28)
    np.testing.assert_array_equal(npz['labels'], np.arange(25) % 10)


# ---- BiGAN / ALI

def bigan_config(data_dir=None, **overrides):
  return configure('bigan', data_dir, **{'mlp.dropout_rate': 0.0, **overrides})


@pytest.mark.parametrize('loss, expected', [
    ('non_saturating', lambda l: np.mean(np.log1p(np.exp(l)))),  # -log(1 - sigmoid): "fake"
    ('minimax', lambda l: np.mean(np.log(scipy.special.expit(l)))),  # log D, minimised
    ('hinge', np.mean), ('wasserstein_gp', np.mean), ('wasserstein_clip', np.mean)])
def test_bigan_encoder_loss_against_hand_computed_values(loss, expected):
  logits = np.array([-1.5, 0.2, 2.0], np.float32)
  family = families.build(bigan_config(loss=loss))
  value, terms = family.generator_terms(None, None, lambda: {'adv': jnp.asarray(logits)})
  np.testing.assert_allclose(value, expected(logits), rtol=1e-5)
  assert terms == {'e_adv_loss': value}


def test_a_bigan_step_judges_the_pairs_and_trains_g_and_e_jointly():
  config = bigan_config()
  family, networks, state, _, _ = setup(config)
  x = jax.random.uniform(jax.random.key(1), (16, 28, 28, 1)) * 2 - 1
  new, metrics = jax.jit(step_lib.make_train_step(config, family, networks))(
      copy(state), {'image': x}, KEY)
  # the step's noise, drawn as every unconditional family draws it
  z = jax.random.normal(jax.random.split(jax.random.fold_in(KEY, 0))[0], (16, 8))
  g = lambda params: networks.generator.apply({'params': params}, {'z': z, 'image': x},
                                              train=False)
  d = lambda params, images, code: networks.discriminator.apply(
      {'params': params}, {'image': images, 'code': code}, train=False)
  before = g(state.generator.params)
  real_logits = d(state.discriminator.params, x, before['code'])
  fake_logits = d(state.discriminator.params, before['image'], z)
  np.testing.assert_allclose(metrics['d_adv_loss'],
                             np.mean(np.log1p(np.exp(-real_logits)))
                             + np.mean(np.log1p(np.exp(fake_logits))), rtol=1e-5)
  # G's and E's terms against the updated D
  d_params = new.discriminator.params
  np.testing.assert_allclose(metrics['e_adv_loss'], np.mean(np.log1p(np.exp(
      d(d_params, x, before['code'])))), rtol=1e-5)
  np.testing.assert_allclose(metrics['g_adv_loss'], np.mean(np.log1p(np.exp(
      -d(d_params, before['image'], z)))), rtol=1e-5)
  np.testing.assert_allclose(metrics['g_loss'], metrics['g_adv_loss'] + metrics['e_adv_loss'],
                             rtol=1e-6)
  assert set(state.generator.params) == {'generator', 'encoder'}
  for name in ('generator', 'encoder'):  # one update moves every weight of G and of E
    changed = jax.tree.map(lambda a, b: bool(jnp.any(a != b)), state.generator.params[name],
                           new.generator.params[name])
    assert all(jax.tree.leaves(changed)), name
  assert largest_change(state.discriminator.params, d_params) > 0


def test_bigan_samples_from_noise_alone_and_encodes_to_the_latent():
  config = bigan_config()
  family, networks, state, _, _ = setup(config)
  z = jax.random.normal(jax.random.key(3), (5, 8))
  variables = state_lib.generator_variables(state)
  images = state_lib.make_sampler(networks.generator)(variables, family.noise_inputs(z))
  assert images.shape == (5, 28, 28, 1) and family.sample_labels(0, 5) is None
  codes = networks.generator.apply(variables, images, method='encode')
  assert codes.shape == (5, 8)


def test_bigan_runs_agree_across_modes_and_resume_bitwise(tmp_path, data_dir):
  assert_modes_agree_to_adams_rounding(bigan_config())
  assert_resumes_bitwise(tmp_path, data_dir, 'bigan')


# ---- the experiment configs

EXPERIMENTS = sorted(os.path.basename(p)[:-3] for p in glob.glob(os.path.join(
    os.path.dirname(gans.configs.__file__), '*.py')) if not p.endswith('__init__.py'))


@pytest.mark.parametrize('name', EXPERIMENTS)
def test_every_experiment_config_resolves_on_each_dataset_it_is_given(name):
  """One config per experiment, the dataset its argument (`--config=FILE:fashion_mnist`): the
  other dataset changes nothing else."""
  get_config = importlib.import_module(f'gans.configs.{name}').get_config
  mnist = get_config() if name == 'default' else get_config('mnist')
  config_lib.resolve(mnist)
  if name == 'default':
    return
  fashion = get_config('fashion_mnist')
  assert (mnist.dataset, fashion.dataset) == ('mnist', 'fashion_mnist')
  assert {**fashion.to_dict(), 'dataset': 'mnist'} == mnist.to_dict()
  with pytest.raises(UsageError, match="unknown dataset 'cifar10'"):
    config_lib.resolve(get_config('cifar10'))


# ---- old runs

# (A resolved config holds only its own family's section, so an old run's lack of the infogan
# section, added with these fields, needs no test of its own.)
NEW_FIELDS = ('optimizer', 'd_optimizer', 'd_learning_rate', 'd_b1', 'd_b2', 'clip_value',
              'penalty', 'penalty_weight', 'spectral_norm', 'd_head_learning_rate')


@pytest.mark.parametrize('model', ['mlp', 'acgan', 'ppca'])
def test_a_run_saved_before_these_fields_resumes_under_the_defaults(model):
  config = configure(model)
  saved = json.loads(config.to_json_best_effort())
  for field in NEW_FIELDS:
    del saved[field]
  meta = {'format_version': runs.FORMAT_VERSION, 'config': saved}
  runs.check_compatible(config, meta, 'old')  # the same identity: no refusal
  # and its optimiser states have the tree the code before them built, optax.adam's, so its
  # checkpoints restore
  if model != 'ppca':
    _, _, state, _, _ = setup(config_lib.resolve(runs.config_from_meta(meta)))
    for network in (state.generator, state.discriminator):
      assert jax.tree.structure(network.opt_state) == jax.tree.structure(
          optax.adam(1e-3).init(network.params))
  with pytest.raises(UsageError, match="penalty='none', not 'r1'"):
    runs.check_compatible(configure(model, penalty='r1'), meta, 'old')


# ---- bad settings: one line naming the value

@pytest.mark.parametrize('overrides, message', [
    ({'optimizer': 'sgd'}, "unknown optimizer 'sgd'; allowed: adam, rmsprop"),
    ({'d_optimizer': 'lamb'}, "unknown d_optimizer 'lamb'; allowed: adam, rmsprop"),
    ({'d_learning_rate': -1e-4}, 'd_learning_rate must be positive, got -0.0001'),
    ({'learning_rate': 0.0}, 'learning_rate must be positive, got 0.0'),
    ({'d_b1': 1.0}, 'd_b1 must be in [0, 1), got 1.0'),
    ({'b2': -0.5}, 'b2 must be in [0, 1), got -0.5'),
    ({'loss': 'wasserstein_clip', 'clip_value': -0.01}, 'clip_value must be positive, got -0.01'),
    ({'penalty': 'r2'}, "unknown penalty 'r2'; allowed: none, dragan, r1"),
    ({'penalty': 'dragan', 'penalty_weight': -1.0}, 'penalty_weight must be >= 0, got -1.0'),
    ({'spectral_norm': None}, 'spectral_norm must be true or false, got None'),
    ({'ema_warmup': None}, 'ema_warmup must be true or false, got None'),
    ({'model': 'dcgan', 'dcgan.init_stddev': -0.02},
     "dcgan.init_stddev must be None (Flax's LeCun normal) or > 0, got -0.02"),
    ({'model': 'dcgan', 'dcgan.generator_negative_slope': 1.5},
     "dcgan.generator_negative_slope must be None (D's negative_slope) or in [0, 1), got 1.5"),
    ({'model': 'dcgan', 'dcgan.discriminator_dense_widths': (1024, 0)},
     'dcgan.discriminator_dense_widths must be a tuple of positive integers (or () for none), '
     'got (1024, 0)'),
    ({'d_head_learning_rate': 1e-3},
     'd_head_learning_rate=0.001 needs head layers in D: the dcgan backbone with '
     'dcgan.discriminator_head_width > 0'),
    ({'model': 'dcgan', 'dcgan.discriminator_batch_norm': True,
      'dcgan.discriminator_layer_norm': True},
     'dcgan.discriminator_layer_norm=True needs dcgan.discriminator_batch_norm=False: D '
     'normalises one way or the other'),
    ({'model': 'dcgan', 'dcgan.discriminator_head_width': -1},
     'dcgan.discriminator_head_width must be an integer >= 0 (0 for none), got -1'),
    ({'model': 'dcgan', 'dcgan.discriminator_batch_norm': None},
     'dcgan.discriminator_batch_norm must be true or false, got None'),
    ({'model': 'infogan', 'infogan.categories': 100},
     'infogan.categories must be an integer in [2, 64], got 100'),
    ({'model': 'infogan', 'infogan.categories': 1},
     'infogan.categories must be an integer in [2, 64], got 1'),
    ({'model': 'infogan', 'infogan.continuous': 8},
     'infogan.continuous (8) must be smaller than latent_dim (8)'),
    ({'model': 'infogan', 'infogan.backbone': 'resnet'},
     "unknown infogan.backbone 'resnet'; allowed: mlp, dcgan"),
    ({'model': 'infogan', 'infogan.continuous_weight': -0.5},
     'infogan.continuous_weight must be >= 0, got -0.5'),
    ({'model': 'bigan', 'loss': 'least_squares'},
     "loss 'least_squares' does not suit a bigan; allowed: non_saturating, minimax, hinge, "
     'wasserstein_gp, wasserstein_clip'),
])
def test_bad_settings_are_refused_with_one_line(overrides, message):
  with pytest.raises(UsageError, match=re.escape(message)):
    configure(**overrides)


def test_a_head_width_for_a_discriminator_of_one_output_is_refused():
  family = families.build(configure('dcgan', **{'dcgan.discriminator_head_width': 128}))
  with pytest.raises(UsageError, match=re.escape(
      "dcgan.discriminator_head_width=128 needs a discriminator with outputs beside its first "
      "(InfoGAN's Q); dcgan's has 1")):
    family.networks()
