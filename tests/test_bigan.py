"""BiGAN / ALI on the DCGAN backbone (`bigan.backbone = 'dcgan'`): E's and D's shapes, what one
step trains, D's batch norm by halves on the pairs, a bitwise-exact resume and its config; and
the MLP BiGAN as it was before the backbone was a choice: its parameter tree, and the identity
and title of a run saved without the section. (The MLP BiGAN's losses and step:
tests/test_families.py; its report: tests/test_evaluation.py.)"""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gans.configs import bigan_dcgan, dcgan_fast
from gans.core import families
from gans.core.errors import UsageError
from gans.run import config as config_lib
from gans.run import runs
from test_families import (assert_resumes_bitwise, bigan_config, configure, largest_change,
                           one_step)
from test_train_step import assert_modes_agree, setup

# The fast DCGAN's D at tiny widths: convolutions of 4 and 8 maps, a dense layer of 16, batch
# norm by halves; no dropout, so that one step moves every weight.
TINY_DCGAN = {'bigan.backbone': 'dcgan', 'dcgan.discriminator_dense_widths': (16,),
              'dcgan.discriminator_batch_norm': True,
              'dcgan.discriminator_batch_norm_halves': True, 'dcgan.dropout_rate': 0.0}


def dcgan_bigan_config(data_dir=None, **overrides):
  return configure('bigan', data_dir, **TINY_DCGAN, **overrides)


def test_e_and_d_on_the_dcgan_backbone_take_and_give_their_shapes():
  family, networks, state, _, _ = setup(dcgan_bigan_config())
  x = jnp.zeros((6, 28, 28, 1))
  z = jnp.zeros((6, 8))
  codes = networks.generator.apply({'params': state.generator.params}, x, method='encode')
  assert codes.shape == (6, 8)
  logits = networks.discriminator.apply(state.discriminator.variables(state.discriminator.params),
                                        family.discriminator_input(x, z), train=False)
  assert logits.shape == (6,)
  # E: D's convolutions and dense layer without batch norm, to z's size; D: the code joins the
  # 7x7x8 features of its convolutions in the dense layer
  encoder = state.generator.params['encoder']
  assert set(encoder) == {'Conv_0', 'Conv_1', 'HiddenDense_0', 'Dense_0'}
  assert encoder['Dense_0']['kernel'].shape == (16, 8)
  joint = state.discriminator.params['joint']
  assert joint['HiddenDense_0']['kernel'].shape == (7 * 7 * 8 + 8, 16)
  assert set(state.discriminator.batch_stats) == {'BatchNorm_0', 'joint'}


def test_a_dcgan_bigan_step_trains_g_e_and_d():
  before, after, metrics = one_step(dcgan_bigan_config())
  for name in ('generator', 'encoder'):
    changed = jax.tree.map(lambda a, b: bool(jnp.any(a != b)), before.generator.params[name],
                           after.generator.params[name])
    assert all(jax.tree.leaves(changed)), name
  changed = jax.tree.map(lambda a, b: bool(jnp.any(a != b)), before.discriminator.params,
                         after.discriminator.params)
  assert all(jax.tree.leaves(changed))
  assert largest_change(before.discriminator.batch_stats, after.discriminator.batch_stats) > 0
  assert {'d_adv_loss', 'g_adv_loss', 'e_adv_loss'} <= set(metrics)


def test_a_real_pairs_logit_depends_on_no_fake_pair():
  """D judges [real pairs; fake pairs] as one batch; normalised by halves, the reals' logits
  are the same whatever the fakes, images and codes."""
  family, networks, state, _, _ = setup(dcgan_bigan_config())
  keys = jax.random.split(jax.random.key(7), 4)
  real = (jax.random.uniform(keys[0], (8, 28, 28, 1)) * 2 - 1, jax.random.normal(keys[1], (8, 8)))

  def real_logits(fake_key):
    image_key, code_key = jax.random.split(fake_key)
    fake = (jax.random.uniform(image_key, (8, 28, 28, 1)) * 2 - 1,
            3 * jax.random.normal(code_key, (8, 8)))
    joint = jax.tree.map(lambda r, f: jnp.concatenate([r, f]), real, fake)
    logits, _ = networks.discriminator.apply(
        state.discriminator.variables(state.discriminator.params),
        family.discriminator_input(*joint), train=True, mutable=['batch_stats'])
    return logits[:8]

  np.testing.assert_array_equal(real_logits(keys[2]), real_logits(keys[3]))


def test_a_dcgan_bigan_resumes_bitwise(tmp_path, data_dir):
  assert_resumes_bitwise(tmp_path, data_dir, 'bigan', **TINY_DCGAN)


def test_the_bigan_dcgan_config_resolves_to_the_fast_recipe_with_a_joint_dense_layer():
  config = config_lib.resolve(bigan_dcgan.get_config('fashion_mnist'))
  assert config.model == 'bigan' and config.dataset == 'fashion_mnist'
  assert families.backbone(config) == 'dcgan'
  assert (bigan_dcgan.get_config().dcgan.to_dict()
          == dcgan_fast.get_config().dcgan.to_dict())  # dense 1024, batch norm by halves
  assert (config.batch_size, config.num_epochs, config.ema_decay) == (64, 10, 0.999)
  assert families.spec('bigan').title(config) == 'BiGAN (dcgan backbone)'


def test_a_dcgan_bigan_without_a_dense_layer_in_d_is_refused():
  with pytest.raises(UsageError, match='needs dcgan.discriminator_dense_widths'):
    configure('bigan', **{**TINY_DCGAN, 'dcgan.discriminator_dense_widths': ()})


def test_the_mlp_bigan_keeps_its_parameter_tree():
  _, _, state, _, _ = setup(bigan_config())
  shapes = jax.tree.map(np.shape, (state.generator.params, state.discriminator.params))
  dense = lambda inputs, outputs: {'bias': (outputs,), 'kernel': (inputs, outputs)}
  assert shapes == (
      {'generator': {'Dense_0': dense(8, 32), 'Dense_1': dense(32, 784)},
       'encoder': {'Dense_0': dense(784, 32), 'Dense_1': dense(32, 8)}},
      {'backbone': {'Dense_0': dense(784 + 8, 32), 'Dense_1': dense(32, 1)}})
  assert not state.generator.batch_stats and not state.discriminator.batch_stats


def test_a_bigan_saved_before_its_section_resumes_with_its_identity_and_title():
  config = bigan_config()
  meta = runs.checkpoint_meta(config, 4, 4)
  del meta['config']['bigan']  # as the runs of the MLP-only BiGAN saved their config
  runs.check_compatible(config, meta, 'old')
  old = runs.config_from_meta(meta)
  assert runs.identity(old) == runs.identity(config)
  assert families.build(old).backbone == 'mlp'
  assert families.spec('bigan').title(meta['config']) == 'BiGAN'
  with pytest.raises(UsageError, match='holds a run with architecture='):
    runs.check_compatible(dcgan_bigan_config(), meta, 'old')


def test_pmap_and_sharded_equal_jit_for_a_dcgan_bigan():
  """E's term runs D on the real pairs beside the fakes, as D's update does, so batch norm by
  halves sees the same halves on one device or eight (the tiny batch of 16: 2 pairs a device)."""
  config = dcgan_bigan_config()
  assert jax.device_count() == 8
  # The metrics agree to float rounding. The states agree to what two Adam steps can do with
  # rounding: a weight whose gradient is about 0 moves by up to the learning rate either way,
  # as the rounding's sign says (measured: 1.6e-4 for sharded and pmap alike). With D called on
  # the reals alone, pmap's E term was off by 4.7e-3 and its state by 1.3e-3.
  assert_modes_agree(config, tolerance=4 * config.learning_rate)
