"""What a family's own evaluation report may ask of the evaluation layer.

A family with a `report_stem` (CC-GAN's in-painting, E-cGAN's reconstruction, InfoGAN's codes,
BiGAN's encoder) computes its report in its own file, `family.spec.report(networks, state,
context)`, from what a `ReportContext` hands it: the real test and train splits, the evaluator
classifier, samples of G, a supervised classifier trained from scratch, and figures written to the
output folder. The family's code stays pure (the core does no file I/O); the context does the
reading, the classifying and the writing.
"""
import os

import jax
import numpy as np

from gans.core import data
from gans.core import state as state_lib
from gans.evaluation import classifier, sampling, supervised
from gans.run import datasets, pictures, runs

BATCH = 1000


class ReportContext:
  """One evaluation's data, evaluator and output folder, for `family.spec.report`."""

  def __init__(self, config, family, networks, state, evaluator, num_samples, seed, output_dir):
    self.config, self.family, self.networks, self.state = config, family, networks, state
    self.evaluator, self.num_samples, self.seed = evaluator, num_samples, seed
    self.output_dir = output_dir

  @property
  def evaluator_info(self) -> dict:
    return {k: self.evaluator.info[k] for k in ('test_accuracy', 'version')}

  def test_images(self, num_images=None):
    """(float images, labels) of the first `num_images` images of the test split (all: None)."""
    images, labels = datasets.load_split(self.config.dataset, 'test', self.config.data_dir)
    return data.to_float(images[:num_images]), labels[:num_images]

  def train_images(self):
    """(uint8 images, labels) of the train split."""
    return datasets.load_split(self.config.dataset, 'train', self.config.data_dir)

  def labelled_subset(self, labels):
    """The labelled train images (sorted indices) the run chose, as in training."""
    return runs.labelled_subset(self.config, labels)

  def evaluator_accuracy(self, images, labels) -> float:
    """How often the evaluator classifier names `labels` for float `images`."""
    return classifier.accuracy(self.evaluator, data.to_uint8(images), labels)

  def evaluator_classes(self, images):
    """(the evaluator's class of each uint8 image, how many classes it knows)."""
    probs, _ = self.evaluator.predict(images)
    return probs.argmax(-1), probs.shape[-1]

  def generator_variables(self):
    return state_lib.generator_variables(self.state)

  def generator(self):
    """G of the run in inference mode, as a function of its inputs (z or a dict)."""
    sampler, variables = state_lib.make_sampler(self.networks.generator), self.generator_variables()
    return lambda inputs: sampler(variables, inputs)

  def sample(self):
    """(uint8 images, labels or codes) of `num_samples` samples of G, from `seed`."""
    return sampling.generate(self.family, self.networks.generator, self.generator_variables(),
                             self.num_samples, self.seed)

  def train_classifier(self, network, tx, images, labels, num_steps, batch_size):
    """Params of `network` trained from scratch on uint8 `images` and `labels` (key 0)."""
    return supervised.train_classifier(network, tx, images, labels, num_steps, batch_size,
                                       jax.random.key(0))

  @staticmethod
  def batched(fn, *arrays):
    """fn over chunks of BATCH rows (the last one padded, so it compiles once), concatenated."""
    out = []
    for start in range(0, len(arrays[0]), BATCH):
      chunk = [a[start:start + BATCH] for a in arrays]
      pad = BATCH - len(chunk[0])
      chunk = [np.pad(a, [(0, pad)] + [(0, 0)] * (a.ndim - 1)) for a in chunk]
      out.append(jax.tree.map(lambda x: np.asarray(x)[:BATCH - pad], fn(*chunk)))
    return jax.tree.map(lambda *x: np.concatenate(x), *out)

  def save_grid(self, filename, images, columns, title):
    """A PNG grid of float ([-1, 1]) or uint8 images in the output folder."""
    images = np.asarray(images)
    if images.dtype != np.uint8:
      images = data.to_uint8(images)
    pictures.save_grid(images, os.path.join(self.output_dir, filename), columns=columns,
                       title=title)


def family_report(config, family, networks, state, num_samples, seed, output_dir,
                  classifier_dir=None) -> dict:
  """`family.spec.report` of the run's state against the dataset's evaluator, its figures written to
  `output_dir`: what evaluate.py and a recipe study's cells record."""
  evaluator = classifier.get_evaluator(config.dataset, config.data_dir, classifier_dir)
  context = ReportContext(config, family, networks, state, evaluator, num_samples, seed,
                          output_dir)
  return family.spec.report(networks, state, context)
