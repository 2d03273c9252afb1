"""The shared step: what it changes, its batches, pmap == jit == sharded, compile-once, K fused
steps == K single steps, EMA, n_critic and the penalty's term."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from conftest import tiny_config
from gans.core import data, families
from gans.core import parallel
from gans.core import state as state_lib
from gans.core import step as step_lib

KEY = jax.random.key(42)
STEP_KEYS = {'train': KEY, 'batches': jax.random.key(43)}
BASE_METRICS = {'d_loss', 'g_loss', 'd_real', 'd_fake', 'd_grad_norm', 'g_grad_norm',
                'd_adv_loss', 'g_adv_loss'}


def setup(config, num_images=64, seed=1):
  """(family, networks, fresh state, the family's training data, epoch 0's order) on random
  uint8 images with labels 0, 1, ... modulo the classes."""
  family = families.build(config)
  networks = family.networks()
  state = state_lib.create_state(config, family, networks, jax.random.key(0))
  images = np.random.default_rng(seed).integers(0, 256, (num_images, 28, 28, 1), np.uint8)
  labels = (np.arange(num_images) % family.num_classes).astype(np.int32)
  train_data = family.train_data(images, labels, jax.random.key(5))
  order = np.asarray(data.epoch_order(jax.random.key(6), 0, num_images, config.batch_size))
  return family, networks, state, train_data, order


def copy(tree):
  return jax.tree.map(jnp.array, tree)


def max_abs_diff(a, b):
  return max(float(np.max(np.abs(np.asarray(x) - np.asarray(y))))
             for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b)))


def run_mode(config, mode, num_steps=2, setup_out=None):
  """(state, metrics) as numpy after `num_steps` steps in one call of the given parallel mode."""
  family, _, state, train_data, order = setup_out or setup(config)
  placement = parallel.Placement(mode)
  run = placement.compile(config, family, num_steps)
  new_state, metrics = run(placement.put(copy(state)), placement.put(train_data),
                           placement.put_order(order), STEP_KEYS)
  return placement.host(new_state), placement.host(metrics)


def assert_modes_agree(config, modes=('jit', 'pmap', 'sharded'), tolerance=1e-5, setup_out=None):
  """Every mode's state and metrics after two steps agree with the first mode's; returns
  {mode: (state, metrics)}."""
  out = setup_out or setup(config)
  results = {mode: run_mode(config, mode, setup_out=out) for mode in modes}
  reference_state, reference_metrics = results[modes[0]]
  for mode in modes[1:]:
    state, metrics = results[mode]
    assert max_abs_diff(reference_state, state) < tolerance, mode
    for name in reference_metrics:
      np.testing.assert_allclose(metrics[name], reference_metrics[name], rtol=1e-4, atol=1e-6,
                                 err_msg=f'{mode}: {name}')
  return results


@pytest.mark.parametrize('model, loss', [('mlp', 'non_saturating'), ('dcgan', 'least_squares')])
def test_one_step_changes_both_networks_and_nothing_else(model, loss):
  config = tiny_config(model, loss=loss)
  family, networks, state, _, _ = setup(config)
  batch = {'image': jax.random.uniform(jax.random.key(1), (16, 28, 28, 1)) * 2 - 1}
  train_step = jax.jit(step_lib.make_train_step(config, family, networks))
  new, metrics = train_step(copy(state), batch, KEY)
  for name in ('generator', 'discriminator'):
    before, after = getattr(state, name), getattr(new, name)
    changed = jax.tree.map(lambda a, b: bool(jnp.any(a != b)), before.params, after.params)
    assert all(jax.tree.leaves(changed)), f'{name}: some parameters did not move'
    assert int(after.step) == 1
  if model == 'dcgan':  # the generator's BatchNorm running statistics moved too
    assert max_abs_diff(state.generator.batch_stats, new.generator.batch_stats) > 0
  assert new.ema == {} and new.auxiliary == {} and int(new.step) == 1
  assert set(metrics) == BASE_METRICS
  assert all(np.isfinite(np.asarray(v)) and v.shape == () for v in metrics.values())
  np.testing.assert_allclose(metrics['d_loss'], metrics['d_adv_loss'], rtol=1e-6)


def test_each_step_gathers_its_rows_of_the_epoch_order():
  config = tiny_config('mlp')
  family, _, _, train_data, order = setup(config)
  gather = jax.jit(lambda s: step_lib.gather_batch(
      family, jax.tree.map(jnp.asarray, train_data), jnp.asarray(order), s, KEY))
  for s in (0, 3, 5):  # 4 steps per epoch: step 5 is the second row of the epoch's order
    np.testing.assert_array_equal(data.to_uint8(gather(s)['image']),
                                  train_data['images']['image'][order[s % 4]])
  assert set(gather(0)) == {'image'}  # an unconditional GAN keeps no labels on the device


@pytest.mark.parametrize('model', ['mlp', 'dcgan'])
def test_pmap_and_sharded_on_8_devices_equal_jit_on_one(model):
  # Dropout draws per device under pmap by design, so it is off here; the latent noise and
  # BatchNorm statistics are those of the global batch in every mode.
  config = tiny_config(model)
  config[model].dropout_rate = 0.0
  assert jax.device_count() == 8
  assert_modes_agree(config)


@pytest.mark.parametrize('halves, dense_widths', [(False, ()), (True, ()), (True, (16,))])
def test_batch_norm_in_the_discriminator_agrees_across_modes_and_learns_its_statistics(
    halves, dense_widths):
  # D's BatchNorm, like G's, must see the global batch of real and fake images under pmap
  # (or the global reals and the global fakes, each apart), after convolutions and dense layers.
  config = tiny_config('dcgan')
  config.dcgan.dropout_rate = 0.0
  config.dcgan.discriminator_batch_norm = True
  config.dcgan.discriminator_batch_norm_halves = halves
  config.dcgan.discriminator_dense_widths = dense_widths
  config.dcgan.generator_dense_widths = dense_widths
  out = setup(config)
  before = out[2].discriminator.batch_stats
  # the second convolution's (not the input layer's) and the dense hidden layers'
  assert set(before) == {'BatchNorm_0'} | {f'HiddenBatchNorm_{i}' for i in range(len(dense_widths))}
  results = assert_modes_agree(config, setup_out=out)
  after = results['jit'][0].discriminator.batch_stats
  assert max_abs_diff(before, after) > 1e-4


def test_infogans_q_head_normalises_by_halves_alike_in_every_mode():
  # Q's own hidden layer (InfoGAN's reference code) is batch-normalised as D's others are: the
  # global reals and the global fakes apart, in every mode.
  config = tiny_config('infogan')
  config.infogan.backbone = 'dcgan'
  config.dcgan.dropout_rate = 0.0
  config.dcgan.discriminator_batch_norm = True
  config.dcgan.discriminator_batch_norm_halves = True
  config.dcgan.discriminator_head_width = 8
  out = setup(config)
  before = out[2].discriminator.batch_stats
  assert set(before) == {'BatchNorm_0', 'HeadBatchNorm'}
  results = assert_modes_agree(config, setup_out=out)
  after = results['jit'][0].discriminator.batch_stats
  assert max_abs_diff(before['HeadBatchNorm'], after['HeadBatchNorm']) > 1e-4


@pytest.mark.parametrize('joint', [False, True])
def test_g_judged_beside_the_reals_when_d_normalises_over_its_batch(joint):
  # A stand-in D whose logit is an image's mean pixel minus the batch's: it depends on the batch.
  family = families.build(tiny_config('dcgan'))
  real = jnp.full((4, 28, 28, 1), 0.5)
  fake = jnp.linspace(-1, 0, 4)[:, None, None, None] * jnp.ones((4, 28, 28, 1))

  def discriminate(params, images, condition, key):
    means = images.mean(axis=(1, 2, 3))
    return {'adv': means - means.mean()}, {}

  keys = dict.fromkeys(step_lib.STEP_KEYS, KEY)
  loss = step_lib.losses_lib.LOSSES['non_saturating']
  value, _ = step_lib._generator_loss(fake, discriminate, None, family, loss, {'image': real}, {},
                                      keys, joint)
  fake_means = jnp.linspace(-1, 0, 4)
  batch_mean = (fake_means.sum() + 4 * 0.5) / 8 if joint else fake_means.mean()
  np.testing.assert_allclose(value, loss.g_loss(fake_means - batch_mean), rtol=1e-6)


def test_sharded_equals_jit_with_dropout_on():
  # What pmap cannot give: a global array's random bits do not depend on how it is split, so
  # the 8-device run draws the same dropout masks as the 1-device run. On the MLP: the DCGAN's
  # dropout is the same nn.Dropout, and its BatchNorm under sharding is checked above.
  config = tiny_config('mlp')
  assert config.mlp.dropout_rate > 0
  out = setup(config)
  results = assert_modes_agree(config, modes=('jit', 'sharded'), setup_out=out)
  # and pmap, which draws dropout per device, does differ: the test above is not vacuous
  assert max_abs_diff(results['jit'][0], run_mode(config, 'pmap', setup_out=out)[0]) > 1e-4


def test_sharded_state_stays_replicated_and_the_batch_is_split():
  config = tiny_config('mlp')
  family, _, state, train_data, order = setup(config)
  placement = parallel.Placement('sharded')
  placed_order = placement.put_order(order)
  assert placed_order.sharding.shard_shape(placed_order.shape) == (4, 2)  # 16 images over 8
  run = placement.compile(config, family, 1)
  new, _ = run(placement.put(copy(state)), placement.put(train_data), placed_order, STEP_KEYS)
  leaf = jax.tree.leaves(new.generator.params)[0]
  assert leaf.sharding.is_fully_replicated and len(leaf.sharding.device_set) == 8


def test_step_compiles_once_across_calls():
  config = tiny_config('mlp')
  family, _, state, train_data, order = setup(config)
  traces = []
  run = step_lib.make_run(config, family, 2, unroll=False)

  def counted(state, train_data, order, keys):
    traces.append(1)
    return run(state, train_data, order, keys)

  jitted = jax.jit(counted, donate_argnums=(0,))
  state = jax.device_put(copy(state), jax.devices()[0])  # committed, like the outputs
  for seed in range(4):
    epoch_order = data.epoch_order(jax.random.key(seed), seed, 64, 16)
    keys = {name: jax.random.fold_in(key, seed) for name, key in STEP_KEYS.items()}
    state, _ = jitted(state, train_data, epoch_order, keys)
  assert len(traces) == 1 and jitted._cache_size() == 1 and int(state.step) == 8


# The DCGAN unrolled only: XLA:CPU (the tests' backend) always unrolls; the scan is checked on
# the MLP.
@pytest.mark.parametrize('model, unroll', [('mlp', False), ('mlp', True), ('dcgan', True)],
                         ids=['mlp-scan', 'mlp-unrolled', 'dcgan-unrolled'])
def test_k_fused_steps_equal_k_single_steps(model, unroll):
  config = tiny_config(model, ema_decay=0.9)
  family, _, state, train_data, order = setup(config)
  fused, fused_metrics = jax.jit(step_lib.make_run(config, family, 2, unroll))(
      copy(state), train_data, order, STEP_KEYS)
  single_run = jax.jit(step_lib.make_run(config, family, 1, unroll))
  single = copy(state)
  for k in range(2):
    single, metrics = single_run(single, train_data, order, STEP_KEYS)
    np.testing.assert_allclose(metrics['d_loss'][0], fused_metrics['d_loss'][k], rtol=1e-6)
  assert max_abs_diff(fused, single) < 1e-6
  assert int(fused.step) == 2


def test_ema_follows_the_generator():
  config = tiny_config('mlp', ema_decay=0.5)
  _, _, state, _, _ = out = setup(config)
  new, _ = run_mode(config, 'jit', num_steps=1, setup_out=out)
  expected = jax.tree.map(lambda e, p: 0.5 * e + 0.5 * p, state.ema['params'], new.generator.params)
  assert max_abs_diff(new.ema['params'], expected) < 1e-7
  assert max_abs_diff(new.ema['params'], state.ema['params']) > 0


@pytest.mark.parametrize('step, expected_decay', [(0, 0.1), (8, 0.5), (10_000, 0.99)])
def test_ema_warmup_averages_with_the_smaller_decay(step, expected_decay):
  # min(0.99, (1 + t) / (10 + t)): 1/10 at the first step, 9/18 at the ninth, 0.99 from t = 881.
  config = tiny_config('mlp', ema_decay=0.99, ema_warmup=True)
  family, _, state, train_data, order = out = setup(config)
  state = state.replace(step=jnp.asarray(step, jnp.int32))
  new, _ = run_mode(config, 'jit', num_steps=1, setup_out=(family, None, state, train_data, order))
  expected = jax.tree.map(lambda e, p: expected_decay * e + (1 - expected_decay) * p,
                          state.ema['params'], new.generator.params)
  assert max_abs_diff(new.ema['params'], expected) < 1e-6


def test_n_critic_updates_the_generator_every_nth_step():
  config = tiny_config('mlp', loss='wasserstein_gp', n_critic=3)
  family, _, state, train_data, order = setup(config)
  run = jax.jit(step_lib.make_run(config, family, 1, unroll=True))
  g_steps = []
  for _ in range(6):
    state, metrics = run(state, train_data, order, STEP_KEYS)
    g_steps.append(int(state.generator.step))
  assert g_steps == [0, 0, 1, 1, 1, 2]
  assert int(state.discriminator.step) == 6
  # the penalty is logged, and D's loss is its adversarial term plus the weighted penalty
  assert set(metrics) == BASE_METRICS | {'d_gradient_penalty'}
  np.testing.assert_allclose(
      metrics['d_loss'], metrics['d_adv_loss'] + 10.0 * metrics['d_gradient_penalty'], rtol=1e-5)
