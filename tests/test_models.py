import jax
import jax.numpy as jnp
import pytest

from gans import models
from gans.configs import default


def count(tree):
  return sum(x.size for x in jax.tree.leaves(tree))


@pytest.mark.parametrize('name, g_params, g_stats, d_params', [
    ('mlp', 1_486_352, 0, 1_460_225),
    ('dcgan', 2_305_472, 25_472, 212_865),
])
def test_seed_architectures_have_exact_parameter_counts(name, g_params, g_stats, d_params):
  config = default.get_config()
  config.model = name
  generator, discriminator = models.build(config)
  g_vars = jax.eval_shape(lambda: generator.init(jax.random.key(0), jnp.zeros((1, 100)), train=False))
  d_vars = jax.eval_shape(
      lambda: discriminator.init(jax.random.key(0), jnp.zeros((1, 28, 28, 1)), train=False))
  assert count(g_vars['params']) == g_params
  assert count(g_vars.get('batch_stats', {})) == g_stats
  assert count(d_vars['params']) == d_params
  assert set(d_vars) == {'params'}


@pytest.mark.parametrize('name', ['mlp', 'dcgan'])
def test_output_shapes_and_ranges(name):
  config = default.get_config()
  config.model = name
  generator, discriminator = models.build(config)
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
  generator, discriminator = models.build(config)
  z = jnp.zeros((2, 100))
  g_vars = generator.init(jax.random.key(0), z, train=False)
  assert generator.apply(g_vars, z, train=False).shape == (2, 28, 28, 1)
  assert len([k for k in g_vars['params'] if k.startswith('ConvTranspose')]) == 4
  x = jnp.zeros((2, 28, 28, 1))
  assert discriminator.apply(discriminator.init(jax.random.key(0), x, train=False), x,
                             train=False).shape == (2,)
  config.model = 'mlp'
  config.mlp.generator_widths = (64, 64)
  generator, _ = models.build(config)
  params = generator.init(jax.random.key(0), z, train=False)['params']
  assert count(params) == (100 * 64 + 64) + (64 * 64 + 64) + (64 * 784 + 784)
