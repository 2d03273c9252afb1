"""The networks of BiGAN / ALI (Donahue et al. 2017; Dumoulin et al. 2017) on the MLP backbone.

G(z) -> x and the encoder E(x) -> z are one module, so that one optimiser updates them jointly
against D; D judges (x, z) pairs, the code appended to the flattened image.
"""
import flax.linen as nn
import jax.numpy as jnp


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
