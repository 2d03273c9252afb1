"""The networks of BiGAN / ALI (Donahue et al. 2017; Dumoulin et al. 2017) on either backbone.

G(z) -> x and the encoder E(x) -> z are one module, so that one optimiser updates them jointly
against D; D judges (x, z) pairs: on the MLP backbone the code appended to the flattened image,
on the DCGAN backbone to the features of D's convolutions (`ConvPairDiscriminator`).
"""

import flax.linen as nn
import jax.numpy as jnp

from gans.core.models import dcgan


class GeneratorEncoder(nn.Module):
  """G and E as one network. Called on noise z it is G alone (sampling, grids); called on
  {'z', 'image'} (the train step) it returns {'image': G(z), 'code': E(image)}."""
  generator: nn.Module
  encoder: nn.Module

  def __call__(self, inputs, *, train):
    if not isinstance(inputs, dict):
      return self.generator(inputs, train=train)
    return {'image': self.generator(inputs['z'], train=train),
            'code': self.encode(inputs['image'], train=train)}

  def encode(self, images, *, train=False):
    return self.encoder(images, train=train)


class PairDiscriminator(nn.Module):
  """The backbone discriminator on [flattened image, code]."""
  backbone: nn.Module

  @nn.compact
  def __call__(self, inputs, *, train):
    image = inputs['image']
    x = jnp.concatenate([image.reshape((image.shape[0], -1)), inputs['code']], axis=-1)
    return self.backbone(x, train=train)


class ConvPairDiscriminator(nn.Module):
  """The joint discriminator of the ALI and BiGAN papers on the DCGAN backbone: `backbone`'s
  convolutions on the image, the code appended to their flattened features, then `backbone`'s
  dense layers and logit on the two together, where x and z meet (its module without
  convolutions, named 'joint'). Its settings (widths, batch or layer norm, slope, dropout,
  spectral normalisation) are all `backbone`'s, a `dcgan.Discriminator`.

  The code enters no layer but the joint ones, whose batch norm is the backbone's: by halves, a
  real pair's logit depends on the other real pairs of the batch and on no fake one, as an
  image's does in the DCGAN backbone's D.
  """
  backbone: dcgan.Discriminator

  @nn.compact
  def __call__(self, inputs, *, train):
    d = self.backbone
    x = dcgan.convolutions(d, inputs['image'], train)
    x = jnp.concatenate([x.reshape((x.shape[0], -1)), inputs['code']], axis=-1)
    return d.copy(features=(), name='joint')(x, train=train)


# The pair discriminator of each backbone, around the backbone's discriminator.
PAIR_DISCRIMINATORS = {'mlp': PairDiscriminator, 'dcgan': ConvPairDiscriminator}
