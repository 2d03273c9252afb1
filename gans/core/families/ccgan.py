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

from gans.core import data, losses, optimizers
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


class CCGANSpec(cgan.ConditionalSpec):
  report_stem = 'eval'  # no sample scores to sit beside: the report is the evaluation
  report_figures = (('inpainting.png', 'in-painting'),)
  report_table = {
      'title': 'CC-GAN: in-painting and semi-supervised classification',
      'intro': 'In-painting of real test images, each with a random square hole; the evaluator '
               'classifier\'s accuracy on the in-painted, the masked (hole left at 0) and the '
               'original images. Semi-supervised: the CC-GAN discriminator\'s test accuracy as a '
               'classifier beside the same network trained on the same labelled images alone '
               '(same steps, batch and optimiser).',
      'run_columns': True,
      'columns': [('hole', 'inpainting.hole_size', None),
                  ('hole MSE ↓', 'inpainting.hole_mse', 4),
                  ('hole MSE of the mean image', 'inpainting.mean_image_fill_hole_mse', 4),
                  ('evaluator acc. in-painted', 'inpainting.evaluator_accuracy_inpainted', 4),
                  ('evaluator acc. masked', 'inpainting.evaluator_accuracy_masked', 4),
                  ('evaluator acc. original', 'inpainting.evaluator_accuracy_original', 4),
                  ('labelled images', 'semi_supervised.num_labelled', None),
                  ('CC-GAN D test acc.', 'semi_supervised.ccgan_test_accuracy', 4),
                  ('supervised-only test acc.', 'semi_supervised.supervised_only_test_accuracy',
                   4)],
      'footer': 'On {num_test_images:,} test images (in-painting) and the whole test split '
                '(classification).',
  }
  name = 'CC-GAN'

  @classmethod
  def title(cls, config) -> str:
    return f'{super().title(config)}, {config["conditional"]["num_labelled"]} labels'

  def grid_inputs(self, z, images):
    """The first train images with the centred hole, shown as rows of (masked input,
    in-painted, original)."""
    masks = centred_masks(len(images), self.family.config.conditional.hole_size)
    return self.family.context_input(z[:len(images)], images, masks), len(images)

  def grid_rows(self, generated, inputs, images):
    masks = np.asarray(inputs['mask']).astype(bool)
    masked = np.where(masks, -1.0, images)  # the hole shown black
    return np.concatenate([masked, np.where(masks, generated, images), images])

  @classmethod
  def describe_report(cls, report) -> str:
    """The report in one sentence, for the results pages."""
    paint, semi = report['inpainting'], report['semi_supervised']
    return (f'D as a classifier {semi["ccgan_test_accuracy"]:.4f} on the test split vs '
            f'{semi["supervised_only_test_accuracy"]:.4f} for the same network trained on the '
            f'{semi["num_labelled"]} labelled images alone; in-painted test images are '
            f'recognised {paint["evaluator_accuracy_inpainted"]:.4f} (masked '
            f'{paint["evaluator_accuracy_masked"]:.4f}, originals '
            f'{paint["evaluator_accuracy_original"]:.4f}).')

  def report(self, networks, state, context) -> dict:
    """In-painting of `context.num_samples` test images (the squared error in the hole beside
    filling it with the mean train image; whether the evaluator recognises the in-painted
    images) and D's semi-supervised test accuracy beside the same network trained on the same
    labelled images alone; inpainting.png."""
    originals, labels = context.test_images(context.num_samples)
    train_images, train_labels = context.train_images()
    masks, filled = self.inpaint(context, originals)
    in_hole = lambda x: x[masks].reshape(len(x), -1)
    hole_error = lambda x: float(np.mean((in_hole(x) - in_hole(originals)) ** 2))
    mean_fill = np.where(masks, data.to_float(train_images).mean(0), originals)
    report = {
        'model': 'ccgan', 'dataset': self.family.config.dataset, 'num_test_images': len(originals),
        'classifier': context.evaluator_info,
        'inpainting': {
            'hole_size': self.family.config.conditional.hole_size,
            'hole_mse': hole_error(filled),
            'mean_image_fill_hole_mse': hole_error(mean_fill),
            'evaluator_accuracy_inpainted': context.evaluator_accuracy(filled, labels),
            'evaluator_accuracy_masked': context.evaluator_accuracy(
                np.where(masks, 0.0, originals), labels),
            'evaluator_accuracy_original': context.evaluator_accuracy(originals, labels)},
        'semi_supervised': self.semi_supervised_report(context, networks, state, train_images,
                                                       train_labels),
    }
    shown = slice(0, 10)
    context.save_grid('inpainting.png', np.concatenate([
        np.where(masks[shown], -1.0, originals[shown]), filled[shown], originals[shown]]),
                      columns=10, title='rows: masked test images, in-painted, originals')
    return report

  def inpaint(self, context, images):
    """(masks, in-painted float images) for float `images`, a random hole each, drawn from
    fold_in(key(seed), 0) and the noise from fold_in(key(seed), 1)."""
    generator, key = context.generator(), jax.random.key(context.seed)
    masks = np.asarray(random_masks(jax.random.fold_in(key, 0), len(images),
                                    self.family.config.conditional.hole_size))
    z = np.asarray(jax.random.normal(jax.random.fold_in(key, 1),
                                     (len(images), self.family.latent_dim)))

    def fill(x, m, z):
      draws, batch = {'z': z, 'mask': m}, {'image': x}
      family = self.family
      return family.fake_images(generator(family.generator_input(draws, batch)), draws, batch)

    return masks, context.batched(jax.jit(fill), images, masks, z)

  def classifier_accuracy(self, context, discriminator, variables, images, labels) -> float:
    """D as a K-class classifier: argmax of its class logits."""
    logits = context.batched(jax.jit(lambda x: self.family.heads(discriminator.apply(
        variables, x, train=False))['class']), images)
    return float(np.mean(logits.argmax(-1) == labels))

  def semi_supervised_report(self, context, networks, state, train_images, train_labels):
    """D and a supervised-only baseline on the real test split. The baseline is D's network
    without the layers that keep statistics (spectral normalisation, an adversarial
    regulariser, and batch norm), trained from scratch on the labelled subset alone with D's
    optimiser settings, batch and number of steps: the accuracy semi-supervised training must
    beat."""
    subset = context.labelled_subset(train_labels)
    test_x, test_labels = context.test_images()
    plain = gan.BACKBONES[self.family.backbone].without_statistics(networks.discriminator)
    steps = int(state.step)
    tx = optimizers.make(**optimizers.discriminator_settings(self.family.config))
    baseline = context.train_classifier(plain, tx, train_images[subset], train_labels[subset],
                                        steps, self.family.config.conditional.labelled_batch_size)
    return {'num_labelled': len(subset), 'steps': steps,
            'ccgan_test_accuracy': self.classifier_accuracy(
                context, networks.discriminator, state.discriminator.variables(), test_x,
                test_labels),
            'supervised_only_test_accuracy': self.classifier_accuracy(
                context, plain, {'params': baseline}, test_x, test_labels)}


class CCGAN(gan.GAN):
  Spec = CCGANSpec
  samples_from_noise = False

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
