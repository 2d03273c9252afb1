"""CC-GAN (Denton et al. 2016): context-conditional in-painting with a semi-supervised D.

G fills a random square hole (`conditional.hole_size`) of a real image from its context,
input [z, context, mask]; the fake is exactly the real image outside the hole. D has K class
logits and its real/fake logit is their logsumexp (the "fake" class K+1 has logit 0; Salimans
et al. 2016), so it is a K-class classifier trained on the adversarial task and on
`conditional.labelled_batch_size` images per step drawn from `conditional.num_labelled`
labelled train images (equal per class). No other label reaches the step: the run keeps the
images without labels, and the labels of the subset only.
"""
import jax
import jax.numpy as jnp
import numpy as np

from gans.core import data, losses
from gans.core.errors import UsageError
from gans.core.families import cgan, gan
from gans.core.models import conditional


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


class CCGAN(cgan.ConditionalSection, gan.GAN):
  samples_from_noise = False
  reports = ('ccgan',)
  name = 'CC-GAN'

  @classmethod
  def title(cls, config) -> str:
    return f'{super().title(config)}, {config["conditional"]["num_labelled"]} labels'

  def batch_sizes(self) -> list:
    return super().batch_sizes() + [('conditional.labelled_batch_size',
                                     self.config.conditional.labelled_batch_size)]

  def discriminator_outputs(self) -> int:
    return self.num_classes

  def networks(self, axis_name=None) -> gan.Networks:
    networks = super().networks(axis_name)
    return networks._replace(
        generator=conditional.ConditionalGenerator(networks.generator, self.num_classes))

  def labelled_subset(self, labels, key) -> np.ndarray:
    return labelled_subset(labels, self.config.conditional.num_labelled, self.num_classes, key)

  def train_data(self, images, labels, key) -> dict:
    subset = self.labelled_subset(labels, key)
    return {'images': {'image': images},
            'pool': {'labelled_image': images[subset], 'labelled_label': labels[subset]}}

  def extra_batch(self, pool, key) -> dict:
    """The labelled batch, drawn with replacement from the labelled subset."""
    pick = jax.random.randint(key, (self.config.conditional.labelled_batch_size,), 0,
                              len(pool['labelled_label']))
    return {'labelled_image': data.to_float(pool['labelled_image'][pick]),
            'labelled_label': pool['labelled_label'][pick]}

  def draw(self, key, num) -> dict:
    z_key, mask_key = jax.random.split(key)
    return {'z': jax.random.normal(z_key, (num, self.latent_dim)),
            'mask': random_masks(mask_key, num, self.config.conditional.hole_size)}

  def generator_input(self, draws, batch):
    return self.context_input(draws['z'], batch['image'], draws['mask'])

  @staticmethod
  def context_input(z, images, masks):
    return {'z': z, 'context': jnp.where(masks, 0.0, images), 'mask': masks.astype(z.dtype)}

  def fake_images(self, generated, draws, batch):
    return jnp.where(draws['mask'], generated, batch['image'])

  def heads(self, outputs) -> dict:
    return {'adv': jax.nn.logsumexp(outputs, axis=-1), 'class': outputs}

  def discriminator_terms(self, real_heads, fake_heads, batch, draws, discriminate):
    labelled = discriminate(batch['labelled_image'], None)['class']
    labels = batch['labelled_label']
    class_loss = losses.cross_entropy(labelled, labels)
    return class_loss, {'d_class_loss': class_loss,
                        'd_class_accuracy': losses.accuracy(labelled, labels)}

  def noise_inputs(self, z, start=0):
    raise UsageError('a CC-GAN in-paints given images; it does not sample from noise alone')

  def grid_inputs(self, z, images):
    """The first train images with the centred hole, shown as rows of (masked input,
    in-painted, original)."""
    masks = centred_masks(len(images), self.config.conditional.hole_size)
    return self.context_input(z[:len(images)], images, masks), len(images)

  def grid_rows(self, generated, inputs, images):
    masks = np.asarray(inputs['mask']).astype(bool)
    masked = np.where(masks, -1.0, images)  # the hole shown black
    return np.concatenate([masked, np.where(masks, generated, images), images])
