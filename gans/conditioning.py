"""How each GAN uses labels and context, as data for the one train step (`gans.train_lib`).

A `Conditioning` says what the networks see (G: z, a label, a masked image; D: an image, a
label) and what D's outputs mean (a real/fake logit, K class logits), so the step adds the
class losses of AC-GAN and the semi-supervised CC-GAN, and trains E-cGAN's encoders, without a
second copy of the loop. Also here: CC-GAN's random holes and its labelled batches, and the
fixed inputs of the per-epoch sample grid.
"""
import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import optax

from gans import data
from gans.errors import UsageError
from gans.models import conditional


@dataclasses.dataclass(frozen=True)
class Conditioning:
  num_classes: int = 0
  generator_label: bool = False  # G(z, y), y drawn uniformly for fakes: cGAN, AC-GAN, E-cGAN
  discriminator_label: bool = False  # D(x, y): cGAN, E-cGAN
  auxiliary_classifier: bool = False  # AC-GAN: D's outputs are [real/fake, K class logits]
  class_loss_weight: float = 1.0  # AC-GAN's class cross-entropies, for D and for G
  hole_size: int = 0  # CC-GAN: G fills a random square hole of this side from its context
  semi_supervised: bool = False  # CC-GAN: D's outputs are K class logits, real/fake = logsumexp
  encoders: bool = False  # E-cGAN: E_z, E_y learn each step's generated (image, z, y)

  @property
  def conditional(self) -> bool:
    return self.num_classes > 0

  def generator_input(self, z, labels=None, images=None, masks=None):
    """z alone for unconditional models; else a dict of what this G is conditioned on."""
    if not self.conditional:
      return z
    inputs = {'z': z}
    if self.generator_label:
      inputs['label'] = labels
    if self.hole_size:
      inputs['context'] = jnp.where(masks, 0.0, images)
      inputs['mask'] = masks.astype(z.dtype)
    return inputs

  def compose(self, generated, images=None, masks=None):
    """CC-GAN's fake keeps the real context bit for bit: G's pixels only fill the hole."""
    return jnp.where(masks, generated, images) if self.hole_size else generated

  def discriminator_input(self, images, labels=None):
    return {'image': images, 'label': labels} if self.discriminator_label else images

  def heads(self, outputs) -> dict:
    """D's raw outputs as {'adv': real/fake logits (B,)[, 'class': class logits (B, K)]}."""
    if self.semi_supervised:
      return {'adv': jax.nn.logsumexp(outputs, axis=-1), 'class': outputs}
    if self.auxiliary_classifier:
      return {'adv': outputs[:, 0], 'class': outputs[:, 1:]}
    return {'adv': outputs}


def cross_entropy(logits, labels):
  return optax.softmax_cross_entropy_with_integer_labels(logits, labels).mean()


def accuracy(logits, labels):
  return jnp.mean(jnp.argmax(logits, -1) == labels)


def acgan_discriminator_class_loss(real_class_logits, real_labels, fake_class_logits,
                                   fake_labels):
  """AC-GAN's L_C for D: names the class of real images and of fakes made for a class."""
  return (cross_entropy(real_class_logits, real_labels)
          + cross_entropy(fake_class_logits, fake_labels))


def for_config(config) -> Conditioning:
  if config.model == 'ppca' and config.ppca.class_conditional:
    return Conditioning(conditional.num_classes(config), generator_label=True)
  if config.model not in conditional.MODELS:
    return Conditioning()
  c, k = config.conditional, conditional.num_classes(config)
  return {
      'cgan': Conditioning(k, generator_label=True, discriminator_label=True),
      'ecgan': Conditioning(k, generator_label=True, discriminator_label=True, encoders=True),
      'acgan': Conditioning(k, generator_label=True, auxiliary_classifier=True,
                            class_loss_weight=c.class_loss_weight),
      'ccgan': Conditioning(k, hole_size=c.hole_size, semi_supervised=True),
  }[config.model]


def random_masks(key, num, hole_size):
  """bool (num, 28, 28, 1), True inside one square hole per image at a uniform position."""
  side = data.IMAGE_SHAPE[0]
  corners = jax.random.randint(key, (num, 2, 1), 0, side - hole_size + 1)
  pixels = jnp.arange(side)
  inside = (pixels >= corners) & (pixels < corners + hole_size)  # (num, 2, side)
  return (inside[:, 0, :, None] & inside[:, 1, None, :])[..., None]


def centred_masks(num, hole_size):
  """The hole in the middle of every image: the in-painting grids' fixed mask."""
  side = data.IMAGE_SHAPE[0]
  start = (side - hole_size) // 2
  inside = (np.arange(side) >= start) & (np.arange(side) < start + hole_size)
  return np.broadcast_to((inside[:, None] & inside[None, :])[None, :, :, None],
                         (num,) + data.IMAGE_SHAPE)


def labelled_subset(labels, num_labelled, num_classes, key) -> np.ndarray:
  """Sorted indices of num_labelled // K images of every class, chosen by `key`."""
  per_class, remainder = divmod(num_labelled, num_classes)
  if per_class == 0 or remainder:
    raise UsageError(f'conditional.num_labelled must be a positive multiple of the {num_classes} '
                     f'classes, got {num_labelled}')
  order = np.asarray(jax.random.permutation(key, len(labels)))
  chosen = []
  for c in range(num_classes):
    of_class = order[labels[order] == c][:per_class]
    if len(of_class) < per_class:
      raise UsageError(f'conditional.num_labelled={num_labelled} asks for {per_class} images of '
                       f'class {c}, but the train split has {len(of_class)}')
    chosen.append(of_class)
  return np.sort(np.concatenate(chosen))


class LabelledBatches:
  """CC-GAN's data: `data.Batches` without labels, plus a labelled batch from a fixed subset.

  Only the subset's labels reach the step. Step s draws its labelled batch (with replacement)
  from fold_in(key, s), so batches remain a pure function of the step and resume exactly.
  """

  def __init__(self, batches, images, labels, subset, batch_size, key):
    if batch_size % (batches.global_batch // batches.process_batch) or batch_size <= 0:
      raise UsageError(f'conditional.labelled_batch_size must be a positive multiple of the '
                       f'process count, got {batch_size}')
    self.batches, self.images, self.labels, self.subset = batches, images, labels, subset
    self.batch_size, self.key = batch_size, key
    self.steps_per_epoch = batches.steps_per_epoch

  def position(self, step):
    return self.batches.position(step)

  def get(self, step, count):
    batch = self.batches.get(step, count)
    del batch['label']
    processes = self.batches.global_batch // self.batches.process_batch
    local = self.batch_size // processes
    offset = self.batches.process_offset // self.batches.process_batch * local
    idx = np.stack([np.asarray(jax.random.choice(jax.random.fold_in(self.key, s), self.subset,
                                                 (self.batch_size,)))[offset:offset + local]
                    for s in range(step, step + count)])
    extra = {'labelled_image': data.to_float(self.images[idx]), 'labelled_label': self.labels[idx]}
    if self.batches.num_devices:
      devices = self.batches.num_devices
      if local % devices:
        raise UsageError(f'conditional.labelled_batch_size {self.batch_size} is not divisible by '
                         f'the {devices} devices')
      extra = {k: np.swapaxes(v.reshape((count, devices, -1) + v.shape[2:]), 0, 1)
               for k, v in extra.items()}
    return {**batch, **extra}


def balanced_labels(conditioning, start, num):
  """Labels start, start + 1, ... modulo K: every class equally often among exported samples."""
  return (start + np.arange(num)) % conditioning.num_classes


def noise_inputs(conditioning, z, start=0):
  """G's input for a batch of noise: z, with balanced labels for label models."""
  if conditioning.hole_size:
    raise UsageError('a CC-GAN in-paints given images; it does not sample from noise alone')
  if not conditioning.generator_label:
    return z
  return conditioning.generator_input(z, balanced_labels(conditioning, start, len(z)))


def grid_inputs(conditioning, z, images=None):
  """The fixed inputs of the per-epoch grid and its columns.

  Label models: one row per class, the same noise down each column. CC-GAN: `images` with the
  centred hole, shown as rows of (masked input, in-painted, original) by `grid_rows`.
  """
  if conditioning.generator_label:
    columns = max(1, len(z) // conditioning.num_classes)
    labels = np.repeat(np.arange(conditioning.num_classes), columns)
    return conditioning.generator_input(np.tile(z[:columns], (conditioning.num_classes, 1)),
                                        labels), columns
  if conditioning.hole_size:
    masks = centred_masks(len(images), conditioning.hole_size)
    return conditioning.generator_input(z[:len(images)], images=images, masks=masks), len(images)
  return z, 8


def grid_rows(conditioning, generated, inputs, images=None):
  """Images of the grid, row after row (float in [-1, 1])."""
  if not conditioning.hole_size:
    return generated
  masks = inputs['mask'].astype(bool)
  masked = np.where(masks, -1.0, images)  # the hole shown black
  return np.concatenate([masked, np.where(masks, generated, images), images])
