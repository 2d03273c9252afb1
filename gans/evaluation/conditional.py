"""The reports only some families can be asked, on the real test split.

- CC-GAN: in-painting of test images (error in the hole, and whether the evaluator classifier
  recognises the in-painted image), and D's semi-supervised test accuracy beside the same
  network trained on the same labelled images alone.
- E-cGAN / IcGAN: reconstruction x -> G(E_z(x), E_y(x)) and label swap G(E_z(x), y').
- InfoGAN: how well its categorical code names the dataset's classes, unsupervised.
- BiGAN: reconstruction x -> G(E(x)) through its encoder.
"""
import os

import jax
import numpy as np

from gans.core import data, metrics, optimizers
from gans.core import state as state_lib
from gans.core.families import ccgan
from gans.evaluation import classifier, sampling, supervised
from gans.run import datasets, pictures, runs

BATCH = 1000


def _batched(fn, *arrays):
  """fn over chunks of BATCH rows (the last one padded, so it compiles once), concatenated."""
  out = []
  for start in range(0, len(arrays[0]), BATCH):
    chunk = [a[start:start + BATCH] for a in arrays]
    pad = BATCH - len(chunk[0])
    chunk = [np.pad(a, [(0, pad)] + [(0, 0)] * (a.ndim - 1)) for a in chunk]
    out.append(jax.tree.map(lambda x: np.asarray(x)[:BATCH - pad], fn(*chunk)))
  return jax.tree.map(lambda *x: np.concatenate(x), *out)


def inpaint(config, family, networks, state, images, seed=0):
  """(masks, in-painted float images) for float `images`, a random hole each (fold_in(seed))."""
  generator = state_lib.make_sampler(networks.generator)
  variables = state_lib.generator_variables(state)
  key = jax.random.key(seed)
  masks = np.asarray(ccgan.random_masks(jax.random.fold_in(key, 0), len(images),
                                        config.conditional.hole_size))
  z = np.asarray(jax.random.normal(jax.random.fold_in(key, 1), (len(images), config.latent_dim)))

  def fill(x, m, z):
    draws, batch = {'z': z, 'mask': m}, {'image': x}
    return family.fake_images(generator(variables, family.generator_input(draws, batch)), draws,
                              batch)

  return masks, _batched(jax.jit(fill), images, masks, z)


def discriminator_accuracy(family, networks, state, images, labels) -> float:
  """CC-GAN's D as a K-class classifier: argmax of its class logits."""
  variables = state.discriminator.variables()
  logits = _batched(jax.jit(lambda x: family.heads(networks.discriminator.apply(
      variables, x, train=False))['class']), images)
  return float(np.mean(logits.argmax(-1) == labels))


def supervised_baseline(config, networks, images, labels, subset, num_steps, seed=0) -> dict:
  """CC-GAN's D network trained from scratch on the labelled subset alone (same batch size,
  steps and optimiser settings as D's): the accuracy semi-supervised training must beat."""
  tx = optimizers.make(**optimizers.discriminator_settings(config))
  return supervised.train_classifier(networks.discriminator, tx, images[subset], labels[subset],
                                     num_steps, config.conditional.labelled_batch_size,
                                     jax.random.key(seed))


def semi_supervised_report(config, family, networks, state, steps) -> dict:
  """CC-GAN's D and the supervised-only baseline on the real test split."""
  train_images, train_labels = datasets.load_split(config.dataset, 'train', config.data_dir)
  test_images, test_labels = datasets.load_split(config.dataset, 'test', config.data_dir)
  subset = runs.labelled_subset(config, train_labels)
  test_x = data.to_float(test_images)
  # The baseline is D's network without spectral normalisation, an adversarial regulariser
  # whose power-iteration statistics plain supervised training does not keep.
  plain = networks._replace(discriminator=networks.discriminator.clone(spectral_norm=False))
  baseline = supervised_baseline(config, plain, train_images, train_labels, subset, steps)
  baseline_state = state.replace(discriminator=state.discriminator.replace(
      params=baseline, batch_stats={}))
  return {'num_labelled': len(subset), 'steps': steps,
          'ccgan_test_accuracy': discriminator_accuracy(family, networks, state, test_x,
                                                        test_labels),
          'supervised_only_test_accuracy': discriminator_accuracy(
              family, plain, baseline_state, test_x, test_labels)}


def encode(networks, state, images):
  """{'z', 'label'} of float `images` by E-cGAN's encoders."""
  variables = {'params': state.auxiliary.params}
  out = _batched(jax.jit(lambda x: networks.auxiliary.apply(variables, x, train=False)), images)
  return {'z': out['z'], 'label': out['label_logits'].argmax(-1).astype(np.int32)}


def reconstruct(family, networks, state, images, labels=None):
  """G(E_z(x), y) with y = E_y(x), or the given `labels` (label swap)."""
  codes = encode(networks, state, images)
  generator = state_lib.make_sampler(networks.generator)
  variables = state_lib.generator_variables(state)
  labels = codes['label'] if labels is None else labels
  inputs = lambda z, y: family.generator_input({'z': z, 'label': y}, None)
  return _batched(jax.jit(lambda z, y: generator(variables, inputs(z, y))),
                  codes['z'], labels), codes


def first_test_images(config, num_images):
  """(float images, labels) of the first `num_images` images of the test split."""
  images, labels = datasets.load_split(config.dataset, 'test', config.data_dir)
  return data.to_float(images[:num_images]), labels[:num_images]


def _evaluator_accuracy(evaluator, images, labels) -> float:
  return classifier.accuracy(evaluator, data.to_uint8(images), labels)


def ccgan_report(config, family, networks, state, evaluator, num_images, output_dir,
                 seed=0) -> dict:
  """In-painting of `num_images` test images and the semi-supervised table; inpainting.png."""
  originals, labels = first_test_images(config, num_images)
  train_images, _ = datasets.load_split(config.dataset, 'train', config.data_dir)
  masks, filled = inpaint(config, family, networks, state, originals, seed)
  in_hole = lambda x: x[masks].reshape(len(x), -1)
  hole_error = lambda x: float(np.mean((in_hole(x) - in_hole(originals)) ** 2))
  mean_fill = np.where(masks, data.to_float(train_images).mean(0), originals)
  report = {
      'model': 'ccgan', 'dataset': config.dataset, 'num_test_images': len(originals),
      'classifier': {k: evaluator.info[k] for k in ('test_accuracy', 'version')},
      'inpainting': {
          'hole_size': config.conditional.hole_size,
          'hole_mse': hole_error(filled),
          'mean_image_fill_hole_mse': hole_error(mean_fill),
          'evaluator_accuracy_inpainted': _evaluator_accuracy(evaluator, filled, labels),
          'evaluator_accuracy_masked': _evaluator_accuracy(
              evaluator, np.where(masks, 0.0, originals), labels),
          'evaluator_accuracy_original': _evaluator_accuracy(evaluator, originals, labels)},
      'semi_supervised': semi_supervised_report(config, family, networks, state,
                                                int(state.step)),
  }
  shown = slice(0, 10)
  grid = np.concatenate([np.where(masks[shown], -1.0, originals[shown]), filled[shown],
                         originals[shown]])
  pictures.save_grid(data.to_uint8(grid), os.path.join(output_dir, 'inpainting.png'), columns=10,
                  title='rows: masked test images, in-painted, originals')
  return report


def ecgan_report(config, family, networks, state, evaluator, num_images, output_dir,
                 seed=0) -> dict:
  """Reconstruction and label swap of `num_images` test images; reconstructions.png,
  label_swap.png."""
  originals, labels = first_test_images(config, num_images)
  del seed  # reconstruction draws nothing
  rebuilt, codes = reconstruct(family, networks, state, originals)
  num_classes = family.num_classes
  # Each image swapped to the class after its own: every target differs from the true label.
  targets = ((labels + 1) % num_classes).astype(np.int32)
  swapped, _ = reconstruct(family, networks, state, originals, targets)
  report = {
      'model': 'ecgan', 'dataset': config.dataset, 'num_test_images': len(originals),
      'reconstruction_mse': float(np.mean((rebuilt - originals) ** 2)),
      'label_encoder_accuracy': float(np.mean(codes['label'] == labels)),
      'evaluator_accuracy_reconstructed': _evaluator_accuracy(evaluator, rebuilt, labels),
      'evaluator_accuracy_original': _evaluator_accuracy(evaluator, originals, labels),
      'evaluator_agreement_swapped': _evaluator_accuracy(evaluator, swapped, targets),
  }
  shown = originals[:10]
  pictures.save_grid(data.to_uint8(np.concatenate([shown, rebuilt[:10]])),
                  os.path.join(output_dir, 'reconstructions.png'), columns=10,
                  title='test images (top) and G(E_z(x), E_y(x))')
  rows = min(8, len(shown))
  every_class = np.tile(np.arange(num_classes, dtype=np.int32), rows)
  swap_grid, _ = reconstruct(family, networks, state, np.repeat(shown[:rows], num_classes, 0),
                             every_class)
  swaps = swap_grid.reshape((rows, num_classes) + data.IMAGE_SHAPE)
  table = np.concatenate([shown[:rows, None], swaps], axis=1)
  pictures.save_grid(data.to_uint8(table.reshape((-1,) + data.IMAGE_SHAPE)),
                  os.path.join(output_dir, 'label_swap.png'), columns=num_classes + 1,
                  title='each row: a test image, then G(E_z(x), y) for y = 0, 1, ...')
  return report


def infogan_report(config, family, networks, state, evaluator, num_samples, output_dir,
                   seed=0) -> dict:
  """The unsupervised accuracy of the categorical code on `num_samples` samples, each code value
  equally often: the evaluator's predicted class of each sample against its code, after the
  best one-to-one matching of codes to classes (metrics.matched_accuracy). Its chance level is
  the same matching on the same samples with their codes shuffled: what a code that says
  nothing about the class scores, the matching's own optimism included. infogan_codes.png: a
  row of samples per code value, in the order of the classes matched to them.
  """
  variables = state_lib.generator_variables(state)
  images, codes = sampling.generate(family, networks.generator, variables, num_samples, seed)
  probs, _ = evaluator.predict(images)
  predicted = probs.argmax(-1)
  num_classes = probs.shape[-1]
  matched = metrics.matched_accuracy(codes, predicted, family.categories, num_classes)
  shuffled = np.random.default_rng(seed).permutation(codes)
  chance = metrics.matched_accuracy(shuffled, predicted, family.categories, num_classes)
  report = {
      'model': 'infogan', 'dataset': config.dataset, 'num_samples': len(images),
      'categories': family.categories, 'classes': num_classes,
      'classifier': {k: evaluator.info[k] for k in ('test_accuracy', 'version')},
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
  pictures.save_grid(rows, os.path.join(output_dir, 'infogan_codes.png'), columns=columns,
                     title='a row per code value, in the order of their matched classes')
  return report


def bigan_report(config, family, networks, state, evaluator, num_images, output_dir,
                 seed=0) -> dict:
  """Reconstruction G(E(x)) of `num_images` test images, as E-cGAN's without its label: the
  squared error and the evaluator's accuracy on the reconstructions; reconstructions.png."""
  del family, seed  # reconstruction draws nothing
  originals, labels = first_test_images(config, num_images)
  variables = state_lib.generator_variables(state)
  generator = state_lib.make_sampler(networks.generator)
  encode = jax.jit(lambda x: networks.generator.apply(variables, x, method='encode'))
  codes = _batched(encode, originals)
  rebuilt = _batched(jax.jit(lambda z: generator(variables, z)), codes)
  report = {
      'model': 'bigan', 'dataset': config.dataset, 'num_test_images': len(originals),
      'classifier': {k: evaluator.info[k] for k in ('test_accuracy', 'version')},
      'reconstruction_mse': float(np.mean((rebuilt - originals) ** 2)),
      'evaluator_accuracy_reconstructed': _evaluator_accuracy(evaluator, rebuilt, labels),
      'evaluator_accuracy_original': _evaluator_accuracy(evaluator, originals, labels),
  }
  pictures.save_grid(data.to_uint8(np.concatenate([originals[:10], rebuilt[:10]])),
                     os.path.join(output_dir, 'reconstructions.png'), columns=10,
                     title='test images (top) and G(E(x))')
  return report


# The extra reports a family names in `reports`: name -> (output stem, report function).
REPORTS = {'ccgan': ('eval', ccgan_report), 'icgan': ('eval_icgan', ecgan_report),
           'infogan': ('eval_infogan', infogan_report), 'bigan': ('eval_bigan', bigan_report)}
