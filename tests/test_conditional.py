"""The conditional family: label inputs, AC-GAN's class loss, CC-GAN's holes and labelled
batches, E-cGAN's encoders, pmap == jit, exact resume, and the errors of label misuse."""
import math
import os
import re

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import tensorflow_datasets as tfds

from conftest import (assert_bitwise_equal, assert_resumes_bitwise, final_state, tiny_config,
                      write_mnist_like)
from gans.core import data, families
from gans.core import step as step_lib
from gans.core.errors import UsageError
from gans.core.families import ccgan
from gans.evaluation import reports
from gans.evaluation import sampling, workdir as workdir_eval
from gans.run import checkpoints, datasets, pictures
from gans.run import config as config_lib
from gans.training import loop
from test_train_step import STEP_KEYS, assert_modes_agree, copy, setup


def conditional_config(model, backbone='mlp', data_dir=None, **overrides):
  config = tiny_config(model, data_dir)
  config.conditional.backbone = backbone
  config.conditional.labelled_batch_size = 8
  config.conditional.num_labelled = 20
  for key, value in overrides.items():  # 'section.field' keys set a field of a section
    section, _, field = key.rpartition('.')
    (config[section] if section else config)[field] = value
  return config_lib.resolve(config)


def backbone_inputs(module, variables, inputs):
  """What the wrapped backbone network receives, captured with nn.intercept_methods."""
  seen = []

  def record(next_fn, args, kwargs, context):
    if context.module.name == 'backbone' and context.method_name == '__call__':
      seen.append(args[0])
    return next_fn(*args, **kwargs)

  with nn.intercept_methods(record):
    module.apply(variables, inputs, train=False)
  return seen[0]


@pytest.mark.parametrize('backbone', ['mlp', 'dcgan'])
def test_labels_enter_both_networks_one_hot(backbone):
  config = conditional_config('cgan', backbone)
  _, (generator, discriminator, _), state, _, _ = setup(config)
  z = jax.random.normal(jax.random.key(1), (4, config.latent_dim))
  labels = jnp.array([0, 3, 9, 3])
  images = generator.apply(state.generator.variables(), {'z': z, 'label': labels}, train=False)
  assert images.shape == (4, 28, 28, 1)

  g_in = backbone_inputs(generator, state.generator.variables(), {'z': z, 'label': labels})
  np.testing.assert_array_equal(g_in[:, :config.latent_dim], z)
  np.testing.assert_array_equal(g_in[:, config.latent_dim:], np.eye(10)[labels])

  d_in = backbone_inputs(discriminator, state.discriminator.variables(),
                         {'image': images, 'label': labels})
  if backbone == 'mlp':  # the one-hot appended to the flattened image
    np.testing.assert_array_equal(d_in, np.concatenate([images.reshape(4, -1),
                                                        np.eye(10)[labels]], 1))
  else:  # K constant label maps beside the image channel
    assert d_in.shape == (4, 28, 28, 11)
    np.testing.assert_array_equal(d_in[..., 0], images[..., 0])
    np.testing.assert_array_equal(d_in[..., 1:], np.broadcast_to(
        np.eye(10)[labels][:, None, None, :], (4, 28, 28, 10)))
  logits = discriminator.apply(state.discriminator.variables(),
                               {'image': images, 'label': labels}, train=False)
  assert logits.shape == (4,)


@pytest.mark.parametrize('model, outputs', [('acgan', 11), ('ccgan', 10)])
def test_discriminator_heads(model, outputs):
  config = conditional_config(model)
  family, (_, discriminator, _), state, _, _ = setup(config)
  raw = discriminator.apply(state.discriminator.variables(), jnp.zeros((3, 28, 28, 1)),
                            train=False)
  assert raw.shape == (3, outputs)
  heads = family.heads(raw)
  assert heads['class'].shape == (3, 10) and heads['adv'].shape == (3,)
  if model == 'acgan':
    np.testing.assert_array_equal(heads['adv'], raw[:, 0])
  else:  # real/fake against a "fake" class of logit 0: D(x) = Z / (Z + 1), Z = sum exp(l)
    z_sum = np.exp(np.asarray(raw, np.float64)).sum(1)
    np.testing.assert_allclose(jax.nn.sigmoid(heads['adv']), z_sum / (z_sum + 1), rtol=1e-5)


def test_acgan_class_loss_against_a_hand_computed_value():
  real = jnp.array([[2.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
  fake = jnp.array([[0.0, 0.0, 3.0]])
  # -log softmax of the true class, averaged over real and over fake separately.
  real_ce = (-(2 - math.log(math.exp(2) + 2)) - (1 - math.log(math.e + 2))) / 2
  fake_ce = -(0 - math.log(math.exp(3) + 2))
  family = families.build(conditional_config('acgan', **{'conditional.class_loss_weight': 0.5}))
  as_heads = lambda logits: {'adv': jnp.zeros(len(logits)), 'class': logits}
  weighted, terms = family.discriminator_terms(as_heads(real), as_heads(fake),
                                               {'label': jnp.array([0, 1])},
                                               {'label': jnp.array([1])}, None)
  np.testing.assert_allclose(terms['d_class_loss'], real_ce + fake_ce, rtol=1e-6)
  np.testing.assert_allclose(weighted, 0.5 * (real_ce + fake_ce), rtol=1e-6)
  weighted, terms = family.generator_terms(as_heads(fake), {'label': jnp.array([1])}, None)
  np.testing.assert_allclose(terms['g_class_loss'], fake_ce, rtol=1e-6)
  np.testing.assert_allclose(weighted, 0.5 * fake_ce, rtol=1e-6)


def test_acgan_step_logs_all_four_loss_terms_and_their_sums():
  config = conditional_config('acgan')
  family, _, state, train_data, order = setup(config)
  _, metrics = jax.jit(step_lib.make_run(config, family, 1, unroll=True))(
      copy(state), train_data, order, STEP_KEYS)
  for name in ('d_adv_loss', 'd_class_loss', 'g_adv_loss', 'g_class_loss'):
    assert np.isfinite(metrics[name]).all() and metrics[name][0] > 0
  np.testing.assert_allclose(metrics['d_loss'], metrics['d_adv_loss'] + metrics['d_class_loss'],
                             rtol=1e-6)
  np.testing.assert_allclose(metrics['g_loss'], metrics['g_adv_loss'] + metrics['g_class_loss'],
                             rtol=1e-6)


def test_random_holes_are_squares_of_the_asked_size_inside_the_image():
  masks = np.asarray(ccgan.random_masks(jax.random.key(0), 500, 9))
  assert masks.shape == (500, 28, 28, 1) and masks.dtype == bool
  assert (masks.sum((1, 2, 3)) == 81).all()
  rows, cols = masks[..., 0].any(2), masks[..., 0].any(1)
  assert (rows.sum(1) == 9).all() and (cols.sum(1) == 9).all()  # one 9x9 square each
  tops = rows.argmax(1)
  assert tops.min() == 0 and tops.max() == 28 - 9  # every position, edges included
  centre = ccgan.centred_masks(2, 12)[0, :, :, 0]
  assert centre[8:20, 8:20].all() and centre.sum() == 144


def test_ccgan_keeps_the_context_exactly_and_fills_only_the_hole():
  config = conditional_config('ccgan')
  family, networks, state, _, _ = setup(config)
  images = np.asarray(jax.random.uniform(jax.random.key(2), (20, 28, 28, 1)) * 2 - 1)
  context = reports.ReportContext(config, family, networks, state, None, 20, 0, None)
  masks, filled = family.spec.inpaint(context, images)
  np.testing.assert_array_equal(filled[~masks], images[~masks])  # bit for bit
  assert np.all(filled[masks] != images[masks])
  # and the step's fakes, made the same way, carry the real context too
  draws, batch = {'z': jnp.zeros((20, config.latent_dim)), 'mask': masks}, {'image': images}
  inputs = family.generator_input(draws, batch)
  assert np.all(np.asarray(inputs['context'])[masks] == 0)
  np.testing.assert_array_equal(np.asarray(inputs['context'])[~masks], images[~masks])
  fake = family.fake_images(jnp.full_like(images, 7.0), draws, batch)
  np.testing.assert_array_equal(np.asarray(fake)[~masks], images[~masks])
  assert np.all(np.asarray(fake)[masks] == 7.0)


def test_labelled_batches_reveal_only_the_balanced_subset():
  rng = np.random.default_rng(0)
  labels = rng.integers(0, 10, 500).astype(np.int32)
  images = rng.integers(0, 256, (500, 28, 28, 1), np.uint8)
  subset = ccgan.labelled_subset(labels, 30, 10, jax.random.key(1))
  assert len(subset) == 30 and (np.bincount(labels[subset], minlength=10) == 3).all()
  config = conditional_config('ccgan', **{'conditional.num_labelled': 30,
                                          'conditional.labelled_batch_size': 16})
  family = families.build(config)
  train_data = family.train_data(images, labels, jax.random.key(1))
  assert set(train_data['images']) == {'image'}  # the unlabelled stream carries no labels
  np.testing.assert_array_equal(train_data['pool']['labelled_label'], labels[subset])
  order = data.epoch_order(jax.random.key(2), 0, 500, 16)
  on_device = jax.tree.map(jnp.asarray, train_data)
  gather = jax.jit(lambda s: step_lib.gather_batch(family, on_device, order, s,
                                                   jax.random.key(3)))
  batch = gather(5)
  assert batch['labelled_image'].shape == (16, 28, 28, 1)
  chosen = {tuple(images[i].ravel()): labels[i] for i in subset}
  for image, label in zip(batch['labelled_image'], batch['labelled_label']):
    assert chosen[tuple(data.to_uint8(image).ravel())] == label  # images of the subset, true labels
  assert_bitwise_equal(batch, gather(5))  # a pure function of the step
  assert np.any(np.asarray(batch['labelled_label']) != np.asarray(gather(6)['labelled_label']))
  with pytest.raises(UsageError, match='num_labelled must be a positive multiple of the 10'):
    ccgan.labelled_subset(labels, 25, 10, jax.random.key(1))


def test_encoders_have_the_shapes_of_z_and_y_and_learn_to_invert_the_generator():
  config = conditional_config('ecgan', learning_rate=1e-3)
  family, (generator, _, encoders), state, train_data, order = setup(config)
  out = encoders.apply({'params': state.auxiliary.params}, jnp.zeros((5, 28, 28, 1)), train=False)
  assert out['z'].shape == (5, config.latent_dim) and out['label_logits'].shape == (5, 10)

  # 30 steps, a call each: on CPU a call of 30 fused steps is 30 unrolled steps to compile.
  step = jax.jit(step_lib.make_run(config, family, 1, unroll=True))
  trained, history = copy(state), []
  for _ in range(30):
    trained, metrics = step(trained, train_data, order, STEP_KEYS)
    history.append(metrics)
  metrics = jax.tree.map(lambda *m: np.concatenate(m), *history)
  z = jax.random.normal(jax.random.key(7), (64, config.latent_dim))
  labels = jnp.arange(64) % 10
  images = generator.apply(trained.generator.variables(), {'z': z, 'label': labels}, train=False)

  def z_error(encoder_state):
    codes = encoders.apply({'params': encoder_state.params}, images, train=False)
    return float(jnp.mean((codes['z'] - z) ** 2))

  # With the final generator fixed, the trained encoders invert it better than the initial ones.
  assert z_error(trained.auxiliary) < 0.8 * z_error(state.auxiliary)
  assert metrics['encoder_z_loss'][-5:].mean() < metrics['encoder_z_loss'][:5].mean()
  assert metrics['encoder_label_loss'][-5:].mean() < metrics['encoder_label_loss'][:5].mean()


@pytest.mark.parametrize('model, backbone', [('cgan', 'dcgan'), ('ccgan', 'mlp'),
                                             ('acgan', 'mlp')])
def test_pmap_and_sharded_on_8_devices_equal_jit(model, backbone):
  config = conditional_config(model, backbone)
  config[backbone].dropout_rate = 0.0
  assert_modes_agree(config)


@pytest.mark.parametrize('model', ['ccgan', 'ecgan'])
def test_conditional_run_resumes_bitwise_equal(tmp_path, data_dir, model):
  assert_resumes_bitwise(tmp_path,
                         lambda **more: conditional_config(model, data_dir=data_dir, **more))


def test_a_label_run_writes_class_rows_and_exports_labels(tmp_path, data_dir):
  workdir = str(tmp_path / 'run')
  config = conditional_config('acgan', data_dir=data_dir, num_sample_images=20)
  loop.train(config, workdir)
  for name in ('losses.png', 'loss_terms.png', 'progress.gif', 'samples/step_0000008.png'):
    assert os.path.getsize(os.path.join(workdir, name)) > 0
  grid = pictures.Grid(families.build(config), np.arange(20.0)[:, None] * np.ones(8), None)
  assert grid.columns == 2
  np.testing.assert_array_equal(grid.inputs['label'], np.repeat(np.arange(10), 2))
  np.testing.assert_array_equal(grid.inputs['z'][0::2], grid.inputs['z'][0:1].repeat(10, 0))

  path, _ = sampling.export_samples(workdir, 25, str(tmp_path / 's.npz'))
  with np.load(path) as npz:
    assert npz['images'].shape == (25, 28, 28) and npz['labels'].dtype == np.int32
    np.testing.assert_array_equal(npz['labels'], np.arange(25) % 10)


def test_emnist_and_kmnist_train_through_tfds(tmp_path, monkeypatch):
  monkeypatch.delenv('GANS_DATA_DIR', raising=False)
  monkeypatch.setattr(datasets, '_download_reachable', lambda timeout=3.0: True)
  for dataset, classes in (('emnist/byclass', 62), ('kmnist', 10)):
    config = conditional_config('acgan', dataset=dataset, num_steps=2, checkpoint_every_steps=2)
    with tfds.testing.mock_data(num_examples=1000):
      loop.train(config, str(tmp_path / dataset.replace('/', '_')))
    _, state = final_state(tmp_path / dataset.replace('/', '_'))
    kernel = state['state']['discriminator']['params']['Dense_1']['kernel']
    assert kernel.shape[-1] == 1 + classes  # a real/fake logit and a logit per class


def test_a_dataset_missing_classes_is_refused(tmp_path):
  root = str(tmp_path / 'data')
  write_mnist_like(os.path.join(root, 'mnist'), num_classes=7)  # labels 0..6 only
  with pytest.raises(UsageError, match=r'none of class\(es\) \[7, 8, 9\]'):
    loop.train(conditional_config('cgan', data_dir=root), str(tmp_path / 'run'))
  assert not os.path.exists(tmp_path / 'run')


def test_a_checkpoint_of_another_class_count_is_refused(tmp_path, data_dir):
  workdir = str(tmp_path / 'run')
  loop.train(conditional_config('cgan', data_dir=data_dir), workdir)
  before = checkpoints.read_steps(workdir)
  digits = conditional_config('cgan', data_dir=data_dir, dataset='emnist/balanced')
  with pytest.raises(UsageError, match="dataset='mnist'"):
    loop.train(digits, workdir)
  assert checkpoints.read_steps(workdir) == before
  with pytest.raises(UsageError, match='10 classes.*emnist/balanced has 47'):
    workdir_eval.evaluate_workdir(workdir, 100, dataset='emnist/balanced')


def test_ccgan_cannot_be_sampled_from_noise(tmp_path, data_dir):
  workdir = str(tmp_path / 'run')
  loop.train(conditional_config('ccgan', data_dir=data_dir), workdir)
  with pytest.raises(UsageError, match='in-paints given images'):
    sampling.export_samples(workdir, 10, str(tmp_path / 's.npz'))
  assert not os.path.exists(tmp_path / 's.npz')


@pytest.mark.parametrize('overrides, message', [
    ({'model': 'ccgan', 'conditional.num_labelled': 0},
     'conditional.num_labelled must be a positive integer, got 0'),
    ({'model': 'acgan', 'conditional.class_loss_weight': -1.0},
     'conditional.class_loss_weight must be >= 0, got -1.0'),
    ({'model': 'ccgan', 'eval_every_steps': 4},
     'eval_every_steps is for models that sample from noise; a ccgan does not'),
])
def test_bad_conditional_settings_are_refused(overrides, message):
  config = tiny_config(overrides['model'])
  for key, value in overrides.items():
    section, _, field = key.rpartition('.')
    (config[section] if section else config)[field] = value
  with pytest.raises(UsageError, match=re.escape(message)):
    config_lib.resolve(config)
