"""The shared step: what it changes, pmap == jit, compile-once, scan == single steps."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import jax_utils

from conftest import tiny_config
from gans import losses, models, train_lib

KEY = jax.random.key(42)


def make_state(config):
  generator, discriminator = models.build(config)
  return train_lib.create_state(config, generator, discriminator, jax.random.key(0))


def fake_batches(num_steps, batch_size, seed=1):
  images = jax.random.uniform(jax.random.key(seed), (num_steps, batch_size, 28, 28, 1)) * 2 - 1
  return {'image': images, 'label': jnp.zeros((num_steps, batch_size), jnp.int32)}


def to_devices(batches, num_devices):
  """(K, B, ...) -> (devices, K, B / devices, ...), the layout data.Batches gives pmap."""
  return jax.tree.map(
      lambda x: jnp.swapaxes(x.reshape((x.shape[0], num_devices, -1) + x.shape[2:]), 0, 1), batches)


def copy(tree):
  return jax.tree.map(jnp.array, tree)


def max_abs_diff(a, b):
  return max(float(jnp.max(jnp.abs(x - y))) for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b)))


def assert_pmap_equals_jit(config, state, batches):
  """The steps jitted on the global batch and pmapped over 8 devices agree; returns the
  replicated pmap state."""
  jit_state, jit_metrics = train_lib.compile_steps(config, 'jit')(copy(state), batches, KEY)
  pmap_state, pmap_metrics = train_lib.compile_steps(config, 'pmap')(
      jax_utils.replicate(state), to_devices(batches, 8), KEY)
  assert max_abs_diff(jit_state, jax_utils.unreplicate(pmap_state)) < 1e-5
  for name in jit_metrics:
    np.testing.assert_allclose(pmap_metrics[name][0], jit_metrics[name], rtol=1e-4, atol=1e-6)
  return pmap_state


@pytest.mark.parametrize('model, loss', [('mlp', 'non_saturating'), ('dcgan', 'least_squares')])
def test_one_step_changes_both_networks_and_nothing_else(model, loss):
  config = tiny_config(model, loss=loss)
  state = make_state(config)
  new, metrics = train_lib.compile_steps(config, 'jit')(copy(state), fake_batches(1, 16), KEY)
  for name in ('generator', 'discriminator'):
    before, after = getattr(state, name), getattr(new, name)
    changed = jax.tree.map(lambda a, b: bool(jnp.any(a != b)), before.params, after.params)
    assert all(jax.tree.leaves(changed)), f'{name}: some parameters did not move'
    assert int(after.step) == 1
  if model == 'dcgan':  # the generator's BatchNorm running statistics moved too
    assert max_abs_diff(state.generator.batch_stats, new.generator.batch_stats) > 0
  assert new.ema == {} and int(new.step) == 1
  assert set(metrics) == {'d_loss', 'g_loss', 'd_real', 'd_fake', 'd_grad_norm', 'g_grad_norm'}
  assert all(np.isfinite(np.asarray(v)).all() and v.shape == (1,) for v in metrics.values())


@pytest.mark.parametrize('model', ['mlp', 'dcgan'])
def test_pmap_on_8_devices_equals_jit_on_the_global_batch(model):
  # Dropout draws per device by design, so it is off here; the latent noise and BatchNorm
  # statistics are those of the global batch on any device count.
  config = tiny_config(model)
  config[model].dropout_rate = 0.0
  pmap_state = assert_pmap_equals_jit(config, make_state(config), fake_batches(2, 16))
  # Replicas stay identical across devices.
  assert max_abs_diff(jax.tree.map(lambda x: x[0], pmap_state),
                      jax.tree.map(lambda x: x[7], pmap_state)) == 0


def test_step_compiles_once_across_calls():
  config = tiny_config('mlp')
  traces = []
  loss = losses.LOSSES['non_saturating']
  step = train_lib.make_train_step(config, *models.build(config), loss)

  def counted(state, batches, key):
    traces.append(1)
    return train_lib.scan_steps(step)(state, batches, key)

  run = jax.jit(counted, donate_argnums=(0,))
  state = jax.device_put(make_state(config), jax.devices()[0])  # committed, like the outputs
  for seed in range(4):
    state, _ = run(state, fake_batches(2, 16, seed), jax.random.fold_in(KEY, seed))
  assert len(traces) == 1 and run._cache_size() == 1


@pytest.mark.parametrize('unroll', [False, True], ids=['scan', 'unrolled'])
@pytest.mark.parametrize('model', ['mlp', 'dcgan'])
def test_k_fused_steps_equal_k_single_steps(model, unroll):
  config = tiny_config(model, ema_decay=0.9)
  state, batches = make_state(config), fake_batches(3, 16)
  step = train_lib.make_train_step(config, *models.build(config), losses.LOSSES[config.loss])
  run = jax.jit(train_lib.scan_steps(step, unroll))
  fused, fused_metrics = run(copy(state), batches, KEY)
  single = copy(state)
  for k in range(3):
    single, metrics = jax.jit(step)(single, jax.tree.map(lambda x: x[k], batches), KEY)
    np.testing.assert_allclose(metrics['d_loss'], fused_metrics['d_loss'][k], rtol=1e-6)
  assert max_abs_diff(fused, single) < 1e-6
  assert int(fused.step) == 3


def test_ema_follows_the_generator():
  config = tiny_config('mlp', ema_decay=0.5)
  state = make_state(config)
  new, _ = train_lib.compile_steps(config, 'jit')(copy(state), fake_batches(1, 16), KEY)
  expected = jax.tree.map(lambda e, p: 0.5 * e + 0.5 * p, state.ema['params'], new.generator.params)
  assert max_abs_diff(new.ema['params'], expected) < 1e-7
  assert max_abs_diff(new.ema['params'], state.ema['params']) > 0


def test_n_critic_updates_the_generator_every_nth_step():
  config = tiny_config('mlp', loss='wasserstein_gp', n_critic=3)
  state = make_state(config)
  run = train_lib.compile_steps(config, 'jit')
  g_steps = []
  for k in range(6):
    state, _ = run(state, fake_batches(1, 16, k), KEY)
    g_steps.append(int(state.generator.step))
  assert g_steps == [0, 0, 1, 1, 1, 2]
  assert int(state.discriminator.step) == 6
