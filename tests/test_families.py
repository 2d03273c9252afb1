"""The classic GANs on the shared step: two time-scale learning rates and the optimiser choice,
WGAN with weight clipping, the DRAGAN and R1 penalties, spectral normalisation and InfoGAN.

Each against hand-computed values on tiny inputs, what one step changes, pmap == jit ==
sharded, bitwise-exact resume, and the refusal of bad settings."""
import re

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from conftest import assert_bitwise_equal, final_state, tiny_config
from gans.core import optimizers
from gans.core import step as step_lib
from gans.core.errors import UsageError
from gans.run import config as config_lib
from gans.run import runs
from gans.training import loop
from test_train_step import KEY, assert_modes_agree, copy, setup


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
  """loop.train to step 8 in one go, and to step 4 then 8: bitwise-equal final states."""
  whole = configure(model, data_dir, steps_per_call=3, **overrides)
  loop.train(whole, str(tmp_path / 'whole'))
  loop.train(configure(model, data_dir, steps_per_call=3, num_steps=4, **overrides),
             str(tmp_path / 'parts'))
  loop.train(whole, str(tmp_path / 'parts'))
  step_a, a = final_state(tmp_path / 'whole')
  step_b, b = final_state(tmp_path / 'parts')
  assert step_a == step_b == 8
  assert_bitwise_equal(a, b)
  return a


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


# ---- bad settings: one line naming the value

@pytest.mark.parametrize('overrides, message', [
    ({'optimizer': 'sgd'}, "unknown optimizer 'sgd'; allowed: adam, rmsprop"),
    ({'d_optimizer': 'lamb'}, "unknown d_optimizer 'lamb'; allowed: adam, rmsprop"),
    ({'d_learning_rate': -1e-4}, 'd_learning_rate must be positive, got -0.0001'),
    ({'learning_rate': 0.0}, 'learning_rate must be positive, got 0.0'),
    ({'d_b1': 1.0}, 'd_b1 must be in [0, 1), got 1.0'),
    ({'b2': -0.5}, 'b2 must be in [0, 1), got -0.5'),
])
def test_bad_settings_are_refused_with_one_line(overrides, message):
  with pytest.raises(UsageError, match=re.escape(message)):
    configure(**overrides)
