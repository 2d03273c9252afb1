import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gans.configs import default
from gans.core import families, losses
from gans.core.models import dcgan, lenet


def count(tree):
  return sum(x.size for x in jax.tree.leaves(tree))


@pytest.mark.parametrize('name, g_params, g_stats, d_params', [
    ('mlp', 1_486_352, 0, 1_460_225),
    ('dcgan', 2_305_472, 25_472, 212_865),
])
def test_baseline_architectures_have_exact_parameter_counts(name, g_params, g_stats, d_params):
  config = default.get_config()
  config.model = name
  generator, discriminator = families.build(config).networks()[:2]
  g_vars = jax.eval_shape(
      lambda: generator.init(jax.random.key(0), jnp.zeros((1, 100)), train=False))
  d_vars = jax.eval_shape(
      lambda: discriminator.init(jax.random.key(0), jnp.zeros((1, 28, 28, 1)), train=False))
  assert count(g_vars['params']) == g_params
  assert count(g_vars.get('batch_stats', {})) == g_stats
  assert count(d_vars['params']) == d_params
  assert set(d_vars) == {'params'}


def test_dcgan_dense_widths_build_infogans_mnist_networks_around_unchanged_names():
  # InfoGAN's MNIST networks (Chen et al. 2016, appendix C): G dense 1024, dense 7x7x128, 4x4
  # transposed convolutions of 64 and 1 maps; D 4x4 convolutions of 64 and 128 maps, dense 1024,
  # batch norm after all but D's first layer. Counted by hand, no bias before a batch norm.
  config = default.get_config()
  config.dcgan.generator_features = (128, 64)
  config.dcgan.kernel_size = 4
  config.dcgan.discriminator_batch_norm = True
  config.dcgan.generator_dense_widths = (1024,)
  config.dcgan.discriminator_dense_widths = (1024,)
  generator, discriminator = families.build(config).networks()[:2]
  g_vars = jax.eval_shape(
      lambda: generator.init(jax.random.key(0), jnp.zeros((1, 100)), train=False))
  d_vars = jax.eval_shape(
      lambda: discriminator.init(jax.random.key(0), jnp.zeros((2, 28, 28, 1)), train=False))
  g_params = 100 * 1024 + 2 * 1024 + 1024 * 7 * 7 * 128 + 2 * 7 * 7 * 128 + 4 * 4 * 128 * 64 \
      + 2 * 64 + 4 * 4 * 64
  d_params = 4 * 4 * 64 + 64 + 4 * 4 * 64 * 128 + 2 * 128 + 7 * 7 * 128 * 1024 + 2 * 1024 + 1025
  assert count(g_vars['params']) == g_params
  assert count(g_vars['batch_stats']) == 2 * (1024 + 7 * 7 * 128 + 64)
  assert count(d_vars['params']) == d_params
  # The layers without the dense ones keep their names, so older checkpoints still load.
  assert {'Dense_0', 'BatchNorm_0', 'HiddenDense_0', 'HiddenBatchNorm_0'} <= set(g_vars['params'])
  assert set(d_vars['params']) == {'Conv_0', 'Conv_1', 'BatchNorm_0', 'HiddenDense_0',
                                   'HiddenBatchNorm_0', 'Dense_0'}


def test_dcgan_head_width_gives_the_later_outputs_a_hidden_layer_of_their_own():
  # InfoGAN's reference code: Q = dense 128, batch norm, LeakyReLU, dense to the code outputs,
  # on D's last features; D's real/fake logit stays one dense layer on them.
  config = default.add_family_section(default.get_config(), families.spec('infogan'))
  config.model, config.infogan.backbone = 'infogan', 'dcgan'
  config.dcgan.discriminator_batch_norm = True
  config.dcgan.discriminator_dense_widths = (32,)
  config.dcgan.discriminator_head_width = 16
  discriminator = families.build(config).networks()[1]
  x = jax.random.normal(jax.random.key(1), (4, 28, 28, 1))
  variables = discriminator.init(jax.random.key(0), x, train=False)
  params = variables['params']
  outputs = 1 + 10 + 2
  assert count(params['HeadDense']) == 32 * 16  # no bias before its batch norm
  assert count(params['HeadBatchNorm']) == 2 * 16
  assert count(params['HeadOutput']) == 16 * (outputs - 1) + outputs - 1
  assert count(params['Dense_0']) == 32 + 1
  assert discriminator.apply(variables, x, train=False).shape == (4, outputs)

  def output_sums(params):
    y = discriminator.apply(dict(variables, params=params), x, train=False)
    return y[:, 0].sum(), y[:, 1:].sum()

  first, rest = jax.jacrev(output_sums)(params)
  norm = lambda tree: float(sum(jnp.abs(leaf).sum() for leaf in jax.tree.leaves(tree)))
  for name in ('HeadDense', 'HeadBatchNorm', 'HeadOutput'):
    assert norm(first[name]) == 0 and norm(rest[name]) > 0
  assert norm(rest['Dense_0']) == 0 and norm(first['Dense_0']) > 0
  assert norm(first['HiddenDense_0']) > 0 and norm(rest['HiddenDense_0']) > 0  # shared trunk


def test_dcgan_generator_takes_its_own_slope_only_when_given_one():
  config = default.get_config()
  config.dcgan.negative_slope = 0.2
  generator, discriminator = families.build(config).networks()[:2]
  assert (generator.negative_slope, discriminator.negative_slope) == (0.2, 0.2)
  config.dcgan.generator_negative_slope = 0.0  # ReLU, as the DCGAN paper's generator
  generator, discriminator = families.build(config).networks()[:2]
  assert (generator.negative_slope, discriminator.negative_slope) == (0.0, 0.2)
  z = jnp.linspace(-3, 3, 200).reshape(2, 100)
  variables = generator.init(jax.random.key(0), z, train=False)
  leaky = generator.clone(negative_slope=0.2).apply(variables, z, train=False)
  assert float(jnp.abs(generator.apply(variables, z, train=False) - leaky).max()) > 1e-3


def test_dcgan_init_stddev_draws_every_kernel_from_that_normal():
  config = default.get_config()
  config.dcgan.init_stddev = 0.02
  generator, discriminator = families.build(config).networks()[:2]
  g_vars = generator.init(jax.random.key(0), jnp.zeros((1, 100)), train=False)
  d_vars = discriminator.init(jax.random.key(0), jnp.zeros((1, 28, 28, 1)), train=False)
  kernels = [leaf for path, leaf in jax.tree_util.tree_leaves_with_path(
      (g_vars['params'], d_vars['params'])) if 'kernel' in jax.tree_util.keystr(path)]
  assert len(kernels) == 4 + 3  # G: dense, 3 transposed convolutions; D: 2 convolutions, dense
  for kernel in kernels:
    assert abs(float(jnp.std(kernel)) - 0.02) < 0.002 and abs(float(jnp.mean(kernel))) < 0.002
  # Flax's default scales with the fan-in instead: 1 / sqrt(100) for G's dense layer
  default_g = families.build(default.get_config()).networks()[0].init(
      jax.random.key(0), jnp.zeros((1, 100)), train=False)
  assert abs(float(jnp.std(default_g['params']['Dense_0']['kernel'])) - 0.1) < 0.01


@pytest.mark.parametrize('name', ['mlp', 'dcgan'])
def test_output_shapes_and_ranges(name):
  config = default.get_config()
  config.model = name
  generator, discriminator = families.build(config).networks()[:2]
  z = 3 * jax.random.normal(jax.random.key(0), (5, 100))
  g_vars = generator.init(jax.random.key(1), z, train=False)
  images = generator.apply(g_vars, z, train=False)
  assert images.shape == (5, 28, 28, 1)
  assert float(images.min()) >= -1 and float(images.max()) <= 1
  d_vars = discriminator.init(jax.random.key(2), images, train=False)
  logits = discriminator.apply(d_vars, images, train=True, rngs={'dropout': jax.random.key(3)})
  assert logits.shape == (5,)
  # Dropout is on in training mode only: two keys give two answers, inference is deterministic.
  other = discriminator.apply(d_vars, images, train=True, rngs={'dropout': jax.random.key(4)})
  assert not jnp.allclose(logits, other)
  assert jnp.array_equal(discriminator.apply(d_vars, images, train=False),
                         discriminator.apply(d_vars, images, train=False))


def test_widths_and_depth_are_configurable():
  config = default.get_config()
  config.model = 'dcgan'
  config.dcgan.generator_features = (32, 16, 16, 8)  # one extra stride-1 layer
  config.dcgan.discriminator_features = (8, 16, 32)
  generator, discriminator = families.build(config).networks()[:2]
  z = jnp.zeros((2, 100))
  g_vars = generator.init(jax.random.key(0), z, train=False)
  assert generator.apply(g_vars, z, train=False).shape == (2, 28, 28, 1)
  assert len([k for k in g_vars['params'] if k.startswith('ConvTranspose')]) == 4
  x = jnp.zeros((2, 28, 28, 1))
  assert discriminator.apply(discriminator.init(jax.random.key(0), x, train=False), x,
                             train=False).shape == (2,)
  config.model = 'mlp'
  config.mlp.generator_widths = (64, 64)
  generator, _ = families.build(config).networks()[:2]
  params = generator.init(jax.random.key(0), z, train=False)['params']
  assert count(params) == (100 * 64 + 64) + (64 * 64 + 64) + (64 * 784 + 784)


@pytest.mark.parametrize('kernel_size, stride, in_features, out_features', [
    (5, 2, 16, 8), (5, 2, 8, 1), (5, 1, 1, 3), (4, 2, 1, 3), (4, 1, 16, 8), (3, 2, 8, 1),
    (2, 3, 4, 2), (1, 2, 3, 2),  # strides beyond the kernel: phases without taps
])
def test_subpixel_conv_transpose_equals_flax_conv_transpose(kernel_size, stride, in_features,
                                                            out_features):
  kernel, strides = (kernel_size, kernel_size), (stride, stride)
  plain = nn.ConvTranspose(out_features, kernel, strides, padding='SAME', use_bias=False)
  subpixel = dcgan.SubpixelConvTranspose(out_features, kernel, strides)
  rng = np.random.default_rng(0)
  params = {'params': {'kernel': rng.normal(size=kernel + (in_features, out_features))}}
  x = rng.normal(size=(3, 7, 5, in_features))  # not square: rows and columns cannot be mixed up
  cotangent = rng.normal(size=(3, 7 * stride, 5 * stride, out_features))
  params, x, cotangent = jax.tree.map(lambda a: jnp.asarray(a, jnp.float32), (params, x, cotangent))

  @jax.jit
  def output_and_vjp(params, x, cotangent):
    results = []
    for module in (plain, subpixel):
      out, vjp = jax.vjp(lambda p, x: module.apply(p, x), params, x)
      results.append((out,) + vjp(cotangent))
    return results

  want, got = output_and_vjp(params, x, cotangent)
  for want_leaf, got_leaf in zip(jax.tree.leaves(want), jax.tree.leaves(got)):
    assert got_leaf.shape == want_leaf.shape
    np.testing.assert_allclose(got_leaf, want_leaf, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize('shape, kernel_size, stride, padding', [
    ((14, 14), 5, 2, 'SAME'),   # the TensorFlow tutorial DCGAN discriminator's second convolution
    ((28, 28), 5, 2, 'SAME'),   # and its first
    ((15, 9), 4, 2, 'SAME'),    # odd sizes, even kernel, rows and columns differ
    ((15, 16), 3, 2, 'VALID'),
    ((10, 11), 3, 2, ((0, 3), (1, 2))),  # more cotangent than input: negative padding
    ((13, 13), 5, 3, 'SAME'),
    ((9, 8), 5, 1, 'SAME'),
])
def test_subpixel_input_grad_conv_equals_lax_conv(shape, kernel_size, stride, padding):
  rng = np.random.default_rng(0)
  x = jnp.asarray(rng.normal(size=(2,) + shape + (3,)), jnp.float32)
  kernel = jnp.asarray(rng.normal(size=(kernel_size, kernel_size, 3, 4)), jnp.float32)
  strides, numbers = (stride, stride), ('NHWC', 'HWIO', 'NHWC')
  plain = lambda x, k: jax.lax.conv_general_dilated(x, k, strides, padding,
                                                    dimension_numbers=numbers)
  subpixel = lambda x, k: dcgan.conv_with_subpixel_input_grad(x, k, strides, padding,
                                                              dimension_numbers=numbers)
  cotangent = jnp.asarray(rng.normal(size=plain(x, kernel).shape), jnp.float32)

  @jax.jit
  def output_and_vjp(x, kernel):
    results = []
    for conv in (plain, subpixel):
      out, vjp = jax.vjp(conv, x, kernel)
      results.append((out,) + vjp(cotangent))
    return results

  want, got = output_and_vjp(x, kernel)
  for want_leaf, got_leaf in zip(want, got):
    assert got_leaf.shape == want_leaf.shape
    np.testing.assert_allclose(got_leaf, want_leaf, rtol=1e-5, atol=1e-5)


def test_subpixel_input_grad_conv_refuses_what_it_does_not_compute():
  x, kernel = jnp.zeros((1, 8, 8, 4)), jnp.zeros((3, 3, 2, 4))
  with pytest.raises(ValueError, match='feature_group_count=2'):
    dcgan.conv_with_subpixel_input_grad(x, kernel, (2, 2), 'SAME', feature_group_count=2,
                                        dimension_numbers=('NHWC', 'HWIO', 'NHWC'))


def test_dcgan_discriminator_is_the_same_function_with_either_conv_input_grad():
  config = default.get_config()
  config.model = 'dcgan'
  discriminators = []
  for choice in ('plain', 'subpixel'):
    config.dcgan.conv_input_grad = choice
    discriminators.append(families.build(config).networks().discriminator)
  rng = np.random.default_rng(0)
  images = jnp.asarray(rng.uniform(-1, 1, size=(4, 28, 28, 1)), jnp.float32)
  weights = jnp.asarray(rng.normal(size=(4,)), jnp.float32)
  params = discriminators[0].init(jax.random.key(0), images, train=False)['params']
  assert jax.tree.map(jnp.shape, discriminators[1].init(
      jax.random.key(0), images, train=False)['params']) == jax.tree.map(jnp.shape, params)

  @jax.jit
  def run(params, images):
    """Per module, in training mode with the same dropout: the logits and the gradients of
    their weighted sum by parameters and by images (what the generator learns from)."""
    def weighted_sum(module, params, images):
      logits = module.apply({'params': params}, images, train=True,
                            rngs={'dropout': jax.random.key(1)})
      return jnp.sum(logits * weights), logits
    return [jax.grad(lambda p, x: weighted_sum(module, p, x), argnums=(0, 1), has_aux=True)(
        params, images) for module in discriminators]

  want, got = run(params, images)
  for want_leaf, got_leaf in zip(jax.tree.leaves(want), jax.tree.leaves(got)):
    np.testing.assert_allclose(got_leaf, want_leaf, rtol=1e-5,
                               atol=1e-5 * float(jnp.abs(want_leaf).max()))


def test_gradient_penalty_differentiates_through_the_subpixel_input_grad():
  # WGAN-GP differentiates D's input gradient by D's parameters: through the custom VJP.
  rng = np.random.default_rng(0)
  real, fake = (jnp.asarray(rng.uniform(-1, 1, size=(4, 28, 28, 1)), jnp.float32)
                for _ in range(2))
  config = default.get_config()
  config.model = 'dcgan'
  results = []
  for choice in ('plain', 'subpixel'):
    config.dcgan.conv_input_grad = choice
    discriminator = families.build(config).networks().discriminator
    params = discriminator.init(jax.random.key(0), real, train=False)['params']
    penalty = lambda p: losses.gradient_penalty(
        lambda x: discriminator.apply({'params': p}, x, train=False), real, fake,
        jax.random.key(1))
    results.append(jax.jit(jax.value_and_grad(penalty))(params))
  (want_value, want_grads), (got_value, got_grads) = results
  np.testing.assert_allclose(got_value, want_value, rtol=1e-5)
  assert float(jnp.abs(want_grads['Conv_1']['kernel']).max()) > 0
  for want, got in zip(jax.tree.leaves(want_grads), jax.tree.leaves(got_grads)):
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5 * float(jnp.abs(want).max()))


def test_dcgan_generator_is_the_same_function_with_either_transposed_conv():
  config = default.get_config()
  config.dcgan.transposed_conv = 'plain'
  plain, _ = families.build(config).networks()[:2]
  config.dcgan.transposed_conv = 'subpixel'
  subpixel, _ = families.build(config).networks()[:2]
  rng = np.random.default_rng(0)
  z = jnp.asarray(rng.normal(size=(4, 100)), jnp.float32)
  weights = jnp.asarray(rng.normal(size=(4, 28, 28, 1)), jnp.float32)
  # The same parameters: either formulation loads the other's checkpoints.
  shapes = [jax.eval_shape(lambda: module.init(jax.random.key(0), z, train=False))
            for module in (plain, subpixel)]
  assert shapes[0] == shapes[1] and count(shapes[1]['params']) == 2_305_472
  # Random parameters at the scale of the initialisers (drawn by numpy: threefry compiles slowly).
  variables = {
      'params': jax.tree.map(lambda s: jnp.asarray(rng.normal(size=s.shape) / np.sqrt(
          np.prod(s.shape[:-1])), jnp.float32), shapes[0]['params']),
      'batch_stats': jax.tree.map(lambda s: jnp.ones(s.shape), shapes[0]['batch_stats']),
  }

  @jax.jit
  def run(variables):
    """Per module: inference images, then in training mode (batch statistics) the gradient of
    a weighted sum of the images, and the images."""
    def weighted_sum(module, params):
      images, _ = module.apply({**variables, 'params': params}, z, train=True,
                               mutable=['batch_stats'])
      return jnp.sum(images * weights), images
    return [(module.apply(variables, z, train=False),
             *jax.grad(lambda p: weighted_sum(module, p), has_aux=True)(variables['params']))
            for module in (plain, subpixel)]

  (want_inference, want_grads, want_images), (got_inference, got_grads, got_images) = run(
      variables)
  np.testing.assert_allclose(got_inference, want_inference, rtol=1e-5, atol=1e-5)
  np.testing.assert_allclose(got_images, want_images, rtol=1e-5, atol=1e-5)
  # Through BatchNorm, rounding differences of 1e-6 relative reach entries near zero; compare
  # each gradient at its own scale.
  for want, got in zip(jax.tree.leaves(want_grads), jax.tree.leaves(got_grads)):
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5 * float(jnp.abs(want).max()))


def test_lenet_pooling_is_flax_max_pool_in_value_and_gradient():
  """The evaluator classifier's max over a reshape is nn.max_pool: the same logits, features
  and parameter gradients (random inputs, so no window's maximum is tied but at ReLU's zeros,
  where no gradient flows either way)."""
  flax_pool = lenet.Classifier(10, pool=lambda x: nn.max_pool(x, (2, 2), strides=(2, 2)))
  ours = lenet.Classifier(10)
  x = jnp.asarray(np.random.default_rng(0).normal(size=(6, 28, 28, 1)), jnp.float32)
  params = ours.init(jax.random.key(0), x, train=False)['params']

  def loss_and_outputs(module, params):
    logits, features = module.apply({'params': params}, x, train=False)
    return jnp.sum(jnp.sin(logits)) + jnp.sum(features ** 2), (logits, features)

  (want_loss, want), want_grads = jax.value_and_grad(
      lambda p: loss_and_outputs(flax_pool, p), has_aux=True)(params)
  (got_loss, got), got_grads = jax.value_and_grad(
      lambda p: loss_and_outputs(ours, p), has_aux=True)(params)
  np.testing.assert_array_equal(got[0], want[0])
  np.testing.assert_array_equal(got[1], want[1])
  for want_grad, got_grad in zip(jax.tree.leaves(want_grads), jax.tree.leaves(got_grads)):
    np.testing.assert_allclose(got_grad, want_grad, rtol=1e-6, atol=1e-6 * float(
        jnp.abs(want_grad).max()))
  assert float(jnp.abs(got_grads['Conv_0']['kernel']).max()) > 0  # gradients reach the input layer


@pytest.mark.parametrize('backbone', ['mlp', 'dcgan'])
def test_without_statistics_leaves_a_discriminator_of_plain_parameters(backbone):
  # What CC-GAN's supervised baseline and the encoders of E-cGAN and BiGAN train: no
  # 'batch_stats' to carry, whatever regularisers D has.
  config = default.get_config()
  config.model = backbone
  config.spectral_norm = True
  config.dcgan.discriminator_batch_norm = True
  discriminator = families.build(config).networks()[1]
  x = jnp.zeros((2, 28, 28, 1))
  assert 'batch_stats' in jax.eval_shape(
      lambda: discriminator.init(jax.random.key(0), x, train=False))
  plain = families.gan.BACKBONES[backbone].without_statistics(discriminator)
  assert set(jax.eval_shape(lambda: plain.init(jax.random.key(0), x, train=False))) == {'params'}


def test_halves_batch_norm_normalises_each_half_as_batch_norm_would_alone():
  x = jax.random.normal(jax.random.key(0), (12, 5, 5, 3)) * jnp.arange(1.0, 4.0) + 2.0
  x = x.at[6:].multiply(3.0)  # the second half ("fakes") on another scale
  halves = dcgan.HalvesBatchNorm(use_running_average=False)
  variables = halves.init(jax.random.key(1), x)
  variables = {'params': {'scale': jnp.asarray([0.5, 1.0, 2.0]),
                          'bias': jnp.asarray([0.1, 0.0, -0.1])},
               'batch_stats': variables['batch_stats']}
  y, mutated = halves.apply(variables, x, mutable=['batch_stats'])
  plain = nn.BatchNorm(use_running_average=False, momentum=0.9, epsilon=1e-5)
  alone = [plain.apply(variables, part, mutable=['batch_stats']) for part in (x[:6], x[6:])]
  np.testing.assert_allclose(y, jnp.concatenate([alone[0][0], alone[1][0]]), atol=1e-5)
  for stat in ('mean', 'var'):  # the running averages move by the halves' mean statistics
    expected = (alone[0][1]['batch_stats'][stat] + alone[1][1]['batch_stats'][stat]) / 2
    np.testing.assert_allclose(mutated['batch_stats'][stat], expected, rtol=1e-5)
  inference = dcgan.HalvesBatchNorm(use_running_average=True)
  np.testing.assert_allclose(
      inference.apply(variables, x),
      nn.BatchNorm(use_running_average=True).apply(variables, x), atol=1e-6)


def test_dcgan_layer_norm_normalises_each_image_alone_where_batch_norm_would_be():
  """The D a per-sample gradient penalty needs: an image's logit, and so its input gradient,
  does not depend on the rest of its batch, as it does under batch norm."""
  x = jax.random.normal(jax.random.key(0), (6, 28, 28, 1))
  for layer_norm in (True, False):
    config = default.get_config()
    config.model = 'dcgan'
    config.dcgan.discriminator_features = (8, 16)
    config.dcgan.discriminator_dense_widths = (16,)
    config.dcgan.dropout_rate = 0.0
    config.dcgan.discriminator_batch_norm = not layer_norm
    config.dcgan.discriminator_layer_norm = layer_norm
    discriminator = families.build(config).networks()[1]
    variables = discriminator.init(jax.random.key(1), x, train=False)
    apply = lambda images: discriminator.apply(variables, images, train=True,
                                               mutable=['batch_stats'])[0]
    alone, in_batch = np.asarray(apply(x[:2])), np.asarray(apply(x)[:2])
    if layer_norm:
      assert {'LayerNorm_0', 'HiddenLayerNorm_0'} <= set(variables['params'])
      assert 'batch_stats' not in variables and 'bias' in variables['params']['Conv_1']
      np.testing.assert_allclose(alone, in_batch, rtol=1e-5, atol=1e-6)
    else:
      assert 'bias' not in variables['params']['Conv_1']
      assert np.max(np.abs(alone - in_batch)) > 1e-3
