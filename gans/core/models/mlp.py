"""MLP GAN (Goodfellow et al. 2014) with the reference MLP GAN implementation's widths:
G 100-256-512-1024-784, D 784-1024-512-256-1."""
import functools
from typing import Sequence

import flax.linen as nn
import jax.numpy as jnp

from gans.core.models import spectral

IMAGE_SHAPE = (28, 28, 1)


class Generator(nn.Module):
  widths: Sequence[int] = (256, 512, 1024)
  negative_slope: float = 0.2

  @nn.compact
  def __call__(self, z, *, train):
    del train  # no dropout or normalisation in this generator
    x = z
    for width in self.widths:
      x = nn.leaky_relu(nn.Dense(width)(x), self.negative_slope)
    x = nn.Dense(IMAGE_SHAPE[0] * IMAGE_SHAPE[1] * IMAGE_SHAPE[2])(x)
    return jnp.tanh(x).reshape((-1,) + IMAGE_SHAPE)


class Discriminator(nn.Module):
  widths: Sequence[int] = (1024, 512, 256)
  negative_slope: float = 0.2
  dropout_rate: float = 0.3
  outputs: int = 1  # 1: one real/fake logit per image, (B,); more: (B, outputs) logits
  spectral_norm: bool = False  # every Dense spectrally normalised (`spectral.layer`)

  @nn.compact
  def __call__(self, x, *, train):
    dense = functools.partial(spectral.layer, train=train, spectral_norm=self.spectral_norm)
    x = x.reshape((x.shape[0], -1))
    for width in self.widths:
      x = nn.leaky_relu(dense(nn.Dense(width), x), self.negative_slope)
      x = nn.Dropout(self.dropout_rate, deterministic=not train)(x)
    x = dense(nn.Dense(self.outputs), x)
    return x[:, 0] if self.outputs == 1 else x


def discriminator_normalises_batch(config) -> bool:
  del config
  return False  # no batch norm in this D


def without_statistics(discriminator):
  """D's network without spectral normalisation, whose power iteration keeps 'batch_stats':
  what a classifier or encoder trained on plain parameters builds."""
  return discriminator.clone(spectral_norm=False)


FORMULATION_FIELDS = ()  # every field of config.mlp changes what the networks compute


def check_section(section):
  """config.mlp holds sizes and rates only; the networks refuse what they cannot build."""
  del section


def build(config, axis_name=None, discriminator_outputs=1):
  """G and D from `config.mlp` (and `config.spectral_norm` for D); `axis_name` is unused (no
  batch statistics here)."""
  del axis_name
  return (Generator(config.mlp.generator_widths, config.mlp.negative_slope),
          Discriminator(config.mlp.discriminator_widths, config.mlp.negative_slope,
                        config.mlp.dropout_rate, discriminator_outputs, config.spectral_norm))
