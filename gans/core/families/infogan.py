"""InfoGAN (Chen et al. 2016): codes beside the noise, and a head Q(c | x) on D's trunk that
learns to read them back from the fakes, which G is rewarded for making readable.

- G's input is [noise, continuous codes, onehot(categorical code)]: a categorical code of
  `infogan.categories` values, uniform, and `infogan.continuous` continuous codes, U[-1, 1].
  The continuous codes are the first entries of the noise vector z of `latent_dim` normals put
  through c = erf(z / sqrt 2) = 2 Phi(z) - 1, which is uniform on [-1, 1]; the other entries are
  the incompressible noise. So whatever samples from a vector of normals (evaluate.py, export,
  the training monitor) draws the continuous codes from their distribution too.
- D's last layer has 1 + K + C outputs: the real/fake logit, then Q's K categorical logits and
  Q's C continuous means: Q shares every layer of D but the last. On the DCGAN backbone,
  `dcgan.discriminator_head_width` gives Q a hidden layer of its own on D's last features, as
  InfoGAN's reference code does (128 units).
- The mutual-information lower bound, on the fakes, in both updates (D's trains its trunk and Q,
  G's trains G): the categorical code's cross-entropy, weighted by
  `infogan.categorical_weight`, and the continuous codes' negative log-likelihood under a
  unit-variance Gaussian at Q's means (the reference code's fixed standard deviation), summed
  over the codes, weighted by `infogan.continuous_weight`.

The categorical code cycles through its values when sampling, as a label model's labels do,
and is exported as `labels`; but it is not a class: real batches carry no labels, and
evaluate.py scores no conditional accuracy against it. Its own report matches codes to classes
first (`InfoGAN.report`).
"""
import math

import jax
import jax.numpy as jnp
import numpy as np

from gans.core import losses, metrics
from gans.core.errors import UsageError, check_integer, check_non_negative
from gans.core.families import gan
from gans.core.models import conditional

MAX_CATEGORIES = 64  # a grid row each; as many as EMNIST/byclass's 62 classes fit
MAX_CONTINUOUS = 10
TRAVERSAL = (-2.0, 2.0)  # the grid's range of each continuous code, beyond its [-1, 1]
GRID_COLUMNS = 9  # so that the traversals pass through 0


def gaussian_nll(means, codes):
  """Negative log-likelihood of `codes` (B, C) under N(means, 1), summed over the codes,
  averaged over the batch."""
  return jnp.mean(jnp.sum(0.5 * (codes - means) ** 2 + 0.5 * math.log(2 * math.pi), axis=-1))


class InfoGANSpec(gan.GANSpec):
  report_stem = 'eval_infogan'
  report_figures = (('infogan_codes.png', 'a row per categorical code value'),)
  report_table = {
      'title': 'InfoGAN: what the categorical code names',
      'intro': 'The evaluator\'s predicted class of samples drawn with each code value, after the '
               'best one-to-one matching of code values to classes; chance: the same matching '
               'with the codes shuffled.',
      'columns': [('code values', 'categories', None), ('code accuracy ↑', 'code_accuracy', 4),
                  ('chance', 'chance_accuracy', 4)],
      'footer': 'On {num_samples:,} samples.',
  }
  section = 'infogan'
  backbone_in_section = True

  @classmethod
  def section_defaults(cls) -> dict:
    return {
        'backbone': 'mlp',  # or 'dcgan'; its section sets the widths, learning rate, batch
        'categories': 10,  # values of the categorical code (2 to MAX_CATEGORIES)
        # Continuous codes, U[-1, 1]: erf(z / sqrt 2) of the first entries of z, so latent_dim
        # counts them; the rest of z is the noise.
        'continuous': 2,
        'categorical_weight': 1.0,  # of the code's cross-entropy, in D's and G's loss
        'continuous_weight': 1.0,  # of the Gaussian negative log-likelihood
    }

  @classmethod
  def check_config(cls, config):
    c = config['infogan']
    super().check_config(config)
    check_integer('infogan.categories', c['categories'], 2, MAX_CATEGORIES)
    check_integer('infogan.continuous', c['continuous'], 0, MAX_CONTINUOUS)
    if c['continuous'] >= config['latent_dim']:
      raise UsageError(f'infogan.continuous ({c["continuous"]}) must be smaller than latent_dim '
                       f'({config["latent_dim"]}): the continuous codes are the first entries '
                       f'of z, the rest is the noise')
    for field in ('categorical_weight', 'continuous_weight'):
      check_non_negative(f'infogan.{field}', c[field])

  @classmethod
  def title(cls, config) -> str:
    return f'InfoGAN ({config["infogan"]["backbone"]} backbone)'

  def grid_inputs(self, z, images):
    """One row per categorical value with the same noise down each column (continuous codes 0);
    then, for each continuous code, one row per categorical value with that code going from
    -2 to 2 across the columns (the other codes 0, the noise of the first column)."""
    del images
    columns = min(GRID_COLUMNS, len(z))
    noise = jnp.asarray(z)[:columns, self.family.continuous:]
    rows = np.repeat(np.arange(self.family.categories, dtype=np.int32), columns)
    count = len(rows)
    noises = [jnp.tile(noise, (self.family.categories, 1))]
    continuous = [np.zeros((count, self.family.continuous), np.float32)]
    values = np.tile(np.linspace(*TRAVERSAL, columns, dtype=np.float32), self.family.categories)
    for i in range(self.family.continuous):
      noises.append(jnp.tile(noise[:1], (count, 1)))
      codes = np.zeros((count, self.family.continuous), np.float32)
      codes[:, i] = values
      continuous.append(codes)
    inputs = self.family.codes_input(jnp.concatenate(noises),
                                     jnp.asarray(np.concatenate(continuous)),
                                     np.tile(rows, 1 + self.family.continuous))
    return inputs, columns

  @classmethod
  def describe_report(cls, report) -> str:
    """The report in one sentence, for the results pages."""
    return (f'its {report["categories"]}-valued code names the evaluator\'s class of '
            f'{report["code_accuracy"]:.4f} of samples after matching codes to classes (chance '
            f'{report["chance_accuracy"]:.4f}).')

  def report(self, networks, state, context) -> dict:
    """The unsupervised accuracy of the categorical code on `context.num_samples` samples, each
    code value equally often: the evaluator's predicted class of each sample against its code,
    after the best one-to-one matching of codes to classes (metrics.matched_accuracy). Its chance
    level is the same matching on the same samples with their codes shuffled: what a code that
    says nothing about the class scores, the matching's own optimism included.
    infogan_codes.png: a row of samples per code value, in the order of the classes matched to
    them."""
    del networks, state  # the context samples G
    images, codes = context.sample()
    predicted, num_classes = context.evaluator_classes(images)
    matched = metrics.matched_accuracy(codes, predicted, self.family.categories, num_classes)
    shuffled = np.random.default_rng(context.seed).permutation(codes)
    chance = metrics.matched_accuracy(shuffled, predicted, self.family.categories, num_classes)
    report = {
        'model': 'infogan', 'dataset': self.family.config.dataset, 'num_samples': len(images),
        'categories': self.family.categories, 'classes': num_classes,
        'classifier': context.evaluator_info,
        'code_accuracy': matched['accuracy'],
        'chance_accuracy': chance['accuracy'],
        'code_to_class': matched['assignment'].tolist(),
        'per_code_accuracy': [float(a) for a in matched['per_code_accuracy']],
    }
    order = np.argsort(np.where(matched['assignment'] >= 0, matched['assignment'], num_classes),
                       kind='stable')
    columns = 10
    blank = np.zeros((columns,) + images.shape[1:], images.dtype)
    rows = np.concatenate([np.concatenate([images[codes == c], blank])[:columns] for c in order])
    context.save_grid('infogan_codes.png', rows, columns=columns,
                      title='a row per code value, in the order of their matched classes')
    return report


class InfoGAN(gan.GAN):
  Spec = InfoGANSpec

  def __init__(self, config, backbone, num_classes):
    super().__init__(config, backbone, num_classes)
    self.categories = config.infogan.categories
    self.continuous = config.infogan.continuous

  def discriminator_outputs(self) -> int:
    return 1 + self.categories + self.continuous

  def networks(self, axis_name=None) -> gan.Networks:
    networks = super().networks(axis_name)
    return networks._replace(
        generator=conditional.ConditionalGenerator(networks.generator, self.categories))

  # ---- the codes
  def draw(self, key, num) -> dict:
    z_key, code_key = jax.random.split(key)
    return {'z': jax.random.normal(z_key, (num, self.latent_dim)),
            'code': jax.random.randint(code_key, (num,), 0, self.categories)}

  def continuous_codes(self, z):
    """The continuous codes of noise vectors z: erf of their first entries / sqrt 2."""
    return jax.scipy.special.erf(z[:, :self.continuous] / math.sqrt(2.0))

  def codes_input(self, noise, continuous, code):
    """G's input for the incompressible noise, the continuous codes and the categorical code."""
    return {'z': jnp.concatenate([noise, continuous], axis=-1), 'label': code}

  def generator_input(self, draws, batch):
    del batch
    z = draws['z']
    return self.codes_input(z[:, self.continuous:], self.continuous_codes(z), draws['code'])

  def heads(self, outputs) -> dict:
    k = self.categories
    return {'adv': outputs[:, 0], 'code': outputs[:, 1:1 + k], 'continuous': outputs[:, 1 + k:]}

  # ---- the mutual-information terms
  def information_terms(self, heads, draws):
    """(weighted sum, categorical cross-entropy, continuous negative log-likelihood) of Q on
    fakes made with `draws`."""
    categorical = losses.cross_entropy(heads['code'], draws['code'])
    continuous = gaussian_nll(heads['continuous'], self.continuous_codes(draws['z']))
    info = self.config.infogan
    return (info.categorical_weight * categorical + info.continuous_weight * continuous,
            categorical, continuous)

  def discriminator_terms(self, real_heads, fake_heads, batch, draws, discriminate):
    del real_heads, batch, discriminate
    value, categorical, continuous = self.information_terms(fake_heads, draws)
    return value, {'d_info_categorical_loss': categorical,
                   'd_info_continuous_loss': continuous,
                   'd_info_categorical_accuracy': losses.accuracy(fake_heads['code'],
                                                                  draws['code'])}

  def generator_terms(self, fake_heads, draws, real_heads):
    del real_heads
    value, categorical, continuous = self.information_terms(fake_heads, draws)
    return value, {'g_info_categorical_loss': categorical, 'g_info_continuous_loss': continuous}

  # ---- sampling and pictures
  def sample_labels(self, start, num):
    """The categorical codes of the samples numbered from `start`: every value equally often."""
    return ((start + np.arange(num)) % self.categories).astype(np.int32)

  def noise_inputs(self, z, start=0):
    return self.codes_input(z[:, self.continuous:], self.continuous_codes(z),
                            self.sample_labels(start, len(z)))
