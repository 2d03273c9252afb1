"""The networks of the conditional families around the MLP or DCGAN backbones.

- cGAN (Mirza & Osindero 2014): G(z, y) and D(x, y) with one-hot labels; G's input vector is
  [z, onehot(y)]; D sees the one-hot appended to the flattened image (MLP) or as K constant
  label maps beside the image channel (DCGAN).
- AC-GAN (Odena et al. 2017): G(z, y); D(x) has a real/fake logit and K class logits.
- CC-GAN (Denton et al. 2016): G in-paints a square hole from its context, input
  [z, context, mask]; D(x) has K class logits and its real/fake logit is their logsumexp
  (Salimans et al. 2016: the "fake" class has logit 0), so it is a semi-supervised classifier.
- E-cGAN / IcGAN (Perarnau et al. 2016): the cGAN plus encoders E_z(x) -> z and E_y(x) -> y.

The backbones are the unconditional families' own modules; what the heads mean and how the
labels enter the losses is the families' (`gans.core.families`).
"""
import flax.linen as nn
import jax
import jax.numpy as jnp


class ConditionalGenerator(nn.Module):
  """The backbone generator on one flat vector: z, then onehot(label), then context and mask."""
  backbone: nn.Module
  num_classes: int

  @nn.compact
  def __call__(self, inputs, *, train):
    parts = [inputs['z']]
    if 'label' in inputs:
      parts.append(jax.nn.one_hot(inputs['label'], self.num_classes))
    for name in ('context', 'mask'):
      if name in inputs:
        parts.append(inputs[name].reshape((inputs[name].shape[0], -1)))
    return self.backbone(jnp.concatenate(parts, axis=-1), train=train)


class ConditionalDiscriminator(nn.Module):
  """The backbone discriminator on (image, onehot(label)): appended flat, or as label maps."""
  backbone: nn.Module
  num_classes: int
  label_maps: bool  # True for convolutional backbones

  @nn.compact
  def __call__(self, inputs, *, train):
    image, onehot = inputs['image'], jax.nn.one_hot(inputs['label'], self.num_classes)
    if self.label_maps:
      maps = jnp.broadcast_to(onehot[:, None, None, :], image.shape[:3] + (self.num_classes,))
      x = jnp.concatenate([image, maps], axis=-1)
    else:
      x = jnp.concatenate([image.reshape((image.shape[0], -1)), onehot], axis=-1)
    return self.backbone(x, train=train)


class Encoders(nn.Module):
  """IcGAN's encoders, each a backbone discriminator without dropout: x -> {'z', 'label_logits'}."""
  z_encoder: nn.Module
  label_encoder: nn.Module

  @nn.compact
  def __call__(self, images, *, train):
    return {'z': self.z_encoder(images, train=train),
            'label_logits': self.label_encoder(images, train=train)}
