"""Scores samples with the dataset's evaluator classifier, each metric beside its real reference.

The reference is the same number of real *train* images put through the same code against the
same real *test* split: the best a generator of that many samples could hope to score with this
yardstick. Samples and reference are both compared with the test split, never with the train
images the classifier learnt from, except in the memorisation check, which asks exactly that.
"""
import json
import os
import zipfile

import numpy as np
from absl import logging

from gans.core import data, metrics
from gans.core.errors import UsageError
from gans.evaluation import classifier
from gans.run import datasets, pictures
from gans.run.progress import Progress

MIN_SAMPLES = metrics.MIN_SAMPLES
MEMORISATION_QUERIES = 1000  # samples (and test images) whose nearest train image is searched


def as_images(images, what='images') -> np.ndarray:
  """uint8 (N, 28, 28, 1) from uint8, or float in [-1, 1] or [0, 1], of shape (N, 28, 28[, 1])."""
  images = np.asarray(images)
  if images.ndim == 4 and images.shape[-1] == 1:
    images = images[..., 0]
  if images.ndim != 3 or images.shape[1:] != (28, 28):
    raise UsageError(f'{what} must have shape (N, 28, 28) or (N, 28, 28, 1), got {images.shape}')
  if images.dtype == np.uint8:
    return images[..., None]
  if not np.issubdtype(images.dtype, np.floating):
    raise UsageError(f'{what} must be uint8 or float, got dtype {images.dtype}')
  if images.size and not np.all(np.isfinite(images)):
    raise UsageError(f'{what} contain NaN or Inf pixels')
  low, high = (float(images.min()), float(images.max())) if images.size else (0.0, 0.0)
  if low < -1 - 1e-6 or high > 1 + 1e-6:
    raise UsageError(f'float {what} must lie in [-1, 1] or [0, 1], got [{low:.3g}, {high:.3g}]')
  if low < 0:
    return data.to_uint8(images)[..., None]
  return np.clip(np.round(images * 255), 0, 255).astype(np.uint8)[..., None]


def as_labels(labels, num_images, num_classes) -> np.ndarray:
  labels = np.asarray(labels)
  if labels.shape != (num_images,) or not np.issubdtype(labels.dtype, np.integer):
    raise UsageError(f'labels must be integers of shape ({num_images},), got {labels.dtype} '
                     f'{labels.shape}')
  if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
    raise UsageError(f'labels must lie in [0, {num_classes}), got [{labels.min()}, '
                     f'{labels.max()}]')
  return labels.astype(np.int32)


def load_samples(path, num_classes):
  """(images uint8 (N, 28, 28, 1), labels or None) from an npz of `images` [and `labels`].

  Only an npz of plain arrays is read, never unpickled: a file is data, not code to run."""
  if not os.path.isfile(path):
    raise UsageError(f'--samples {path!r}: no such file')
  if not zipfile.is_zipfile(path):
    raise UsageError(f'--samples {path!r} is not an npz file written by numpy.savez or '
                     f'numpy.savez_compressed (it is not a zip archive of .npy arrays)')
  try:
    with np.load(path, allow_pickle=False) as npz:
      arrays = {k: npz[k] for k in npz.files}
  except ValueError as e:  # numpy refuses an object array without unpickling it
    if 'allow_pickle' in str(e) or 'pickled' in str(e):
      raise UsageError(f'--samples {path!r} holds object arrays, which are not read (only '
                       f'numeric arrays are); save images as uint8 or float') from None
    raise UsageError(f'--samples {path!r} is not a readable npz file: {e}') from None
  except (OSError, EOFError, zipfile.BadZipFile) as e:
    raise UsageError(f'--samples {path!r} is not a readable npz file: {e}') from None
  if 'images' not in arrays:
    raise UsageError(f'{path!r} has no array named images (it has: {", ".join(arrays) or "none"})')
  images = as_images(arrays['images'])
  labels = arrays.get('labels')
  return images, None if labels is None else as_labels(labels, len(images), num_classes)


def check_count(num_samples):
  if num_samples < MIN_SAMPLES:
    raise UsageError(f'{num_samples} samples are too few to score; at least {MIN_SAMPLES} needed')


def _score(evaluator, images, labels, test, train_images, seed):
  """Every metric of `images` (and `labels`) against the real test split."""
  num_classes = evaluator.model.num_classes
  probs, features = evaluator.predict(images)
  predicted = probs.argmax(-1)
  mean, cov = metrics.feature_statistics(features)
  kid_mean, kid_std = metrics.kernel_inception_distance(features, test['features'], seed=seed)
  manifold = metrics.manifold_metrics(test['features'], features, k_pr=3, k_dc=5,
                                      real_radii_pr=test['radii_3'],
                                      real_radii_dc=test['radii_5'])
  modes = metrics.mode_coverage(predicted, num_classes)
  queries = images[:MEMORISATION_QUERIES].reshape(-1, 784)
  nearest, nearest_index = metrics.nearest_neighbours(queries, train_images)
  scores = {
      'classifier_score': metrics.classifier_score(probs),
      'frechet_distance': metrics.frechet_distance(mean, cov, test['mean'], test['cov']),
      'kid': kid_mean, 'kid_std': kid_std,
      **manifold,
      'classes_covered': modes['num_covered'], 'class_entropy': modes['entropy'],
      'nearest_train_distance_median': float(np.median(nearest)),
      'nearest_train_distance_p5': float(np.percentile(nearest, 5)),
  }
  extras = {'class_counts': modes['counts'], 'nearest': nearest, 'nearest_index': nearest_index}
  if labels is not None:
    conditional = metrics.conditional_accuracy(predicted, labels, num_classes)
    scores['conditional_accuracy'] = conditional['accuracy']
    extras['per_class_accuracy'] = conditional['per_class_accuracy']
    extras['confusion'] = conditional['confusion']
  return scores, extras


# What samples are compared with: the test split's features, their mean and covariance, and the
# radii of their k-NN manifolds for precision/recall (k = 3) and density/coverage (k = 5).
TEST_STATISTICS = ('features', 'mean', 'cov', 'radii_3', 'radii_5')


def _test_statistics(features) -> dict:
  mean, cov = metrics.feature_statistics(features)
  return {'features': features, 'mean': mean, 'cov': cov,
          'radii_3': metrics.manifold_radii(features, 3),
          'radii_5': metrics.manifold_radii(features, 5)}


# The conditional parts of a labelled reference: dropped, it is the unlabelled one.
CONDITIONAL_SCORES, CONDITIONAL_EXTRAS = ('conditional_accuracy',), ('per_class_accuracy',
                                                                     'confusion')
# The reference an evaluator's folder may hold beside its weights: 10,000 samples, seed 0, the
# defaults of evaluate.py, so that a first evaluation need not score the real images.
SHIPPED_REFERENCE = {'num_samples': 10000, 'seed': 0}


def shipped_reference_path(evaluator) -> str:
  return os.path.join(evaluator.folder, 'reference-{num_samples}-{seed}.npz'.format(
      **SHIPPED_REFERENCE))


def _read_reference(path, params_sha256):
  """(test statistics, scores, extras) from a reference file of these evaluator weights, or
  None when there is none, it is torn, or it was made with other weights."""
  try:
    with np.load(path, allow_pickle=False) as npz:
      arrays = {k: npz[k] for k in npz.files}
    if str(arrays.pop('params_sha256', params_sha256)) != params_sha256:
      return None
    test = {k: arrays.pop(f'test_{k}') for k in TEST_STATISTICS}
    scores = json.loads(str(arrays.pop('scores')))
    return test, scores, {k.removeprefix('extra_'): v for k, v in arrays.items()}
  except (OSError, ValueError, KeyError, EOFError):
    return None


def _write_reference(path, reference, params_sha256, compressed=False):
  test, scores, extras = reference
  os.makedirs(os.path.dirname(path), exist_ok=True)
  tmp = path[:-len('.npz')] + f'.tmp{os.getpid()}.npz'
  (np.savez_compressed if compressed else np.savez)(
      tmp, scores=json.dumps(scores), params_sha256=params_sha256,
      **{f'test_{k}': v for k, v in test.items()}, **{f'extra_{k}': v for k, v in extras.items()})
  os.replace(tmp, path)


def _compute_reference(evaluator, dataset, num_samples, labelled, seed, data_dir, train_images,
                       train_labels):
  """The real test split's features and statistics, and the real reference's scores and figure
  data: num_samples real train images picked with the seed, scored by the same code."""
  test_images, _ = datasets.load_split(dataset, 'test', data_dir)
  _, test_features = evaluator.predict(test_images)
  test = _test_statistics(test_features)
  flat_train = train_images.reshape(len(train_images), -1)  # uint8; metrics make it float32
  pick = np.random.default_rng(seed).choice(len(train_images), num_samples, replace=False)
  scores, extras = _score(evaluator, train_images[pick], train_labels[pick] if labelled else None,
                          test, flat_train, seed)
  # The memorisation reference is unseen real data: test images against the train set.
  nearest = metrics.nearest_neighbour_distances(
      test_images[:MEMORISATION_QUERIES].reshape(-1, 784), flat_train)
  scores['nearest_train_distance_median'] = float(np.median(nearest))
  scores['nearest_train_distance_p5'] = float(np.percentile(nearest, 5))
  extras['nearest'] = nearest
  del extras['nearest_index']  # which train images the real ones are near: no figure shows it
  return test, scores, extras


def _reference(evaluator, dataset, num_samples, labelled, seed, data_dir, classifier_dir,
               train_images, train_labels):
  """(test statistics, the real reference's scores, its figure data), from the first of:
  - the cache, <classifier cache>/references/, keyed by the evaluator's weights (their sha256),
    dataset, count, seed and whether labels are scored;
  - the reference shipped beside the evaluator's weights (the defaults' count and seed; the
    unlabelled reference is the labelled one less its conditional parts);
  - scoring the real images, then caching the result.
  """
  sha = evaluator.info['params_sha256']
  name = (f'{dataset.replace("/", "_")}-{sha[:16]}-{num_samples}-'
          f'{seed}{"-labelled" if labelled else ""}.npz')
  path = os.path.join(classifier.cache_dir(classifier_dir), 'references', name)
  reference = _read_reference(path, sha)
  if reference is None and {'num_samples': num_samples, 'seed': seed} == SHIPPED_REFERENCE:
    reference = _shipped_reference(evaluator, labelled)
  if reference is None:
    reference = _compute_reference(evaluator, dataset, num_samples, labelled, seed, data_dir,
                                   train_images, train_labels)
    try:
      _write_reference(path, reference, sha)
    except OSError as e:  # a read-only cache costs time, not results
      logging.warning('Could not cache the real reference in %s: %s', path, e)
  return reference


def _shipped_reference(evaluator, labelled):
  """The reference beside the evaluator's weights, or None; unlabelled, the labelled one less its
  conditional parts (the same real images and seed give every other figure)."""
  if evaluator.folder is None:
    return None
  reference = _read_reference(shipped_reference_path(evaluator), evaluator.info['params_sha256'])
  if reference is None or labelled:
    return reference
  test, scores, extras = reference
  return (test, {k: v for k, v in scores.items() if k not in CONDITIONAL_SCORES},
          {k: v for k, v in extras.items() if k not in CONDITIONAL_EXTRAS})


def write_shipped_reference(evaluator, data_dir=None) -> str:
  """Scores the real reference of evaluate.py's defaults (labelled) and writes it, compressed,
  beside the evaluator's weights; returns its path."""
  dataset = evaluator.dataset
  train_images, train_labels = datasets.load_split(dataset, 'train', data_dir)
  reference = _compute_reference(evaluator, dataset, SHIPPED_REFERENCE['num_samples'], True,
                                 SHIPPED_REFERENCE['seed'], data_dir, train_images, train_labels)
  path = shipped_reference_path(evaluator)
  _write_reference(path, reference, evaluator.info['params_sha256'], compressed=True)
  return path


def evaluate(images, labels, dataset, data_dir=None, classifier_dir=None, seed=0):
  """{'dataset', 'num_samples', 'classifier', 'samples': {...}, 'real': {...}} plus figure data."""
  num_classes = data.get_info(dataset).num_classes
  images = as_images(images)
  labels = None if labels is None else as_labels(labels, len(images), num_classes)
  check_count(len(images))
  evaluator = classifier.get_evaluator(dataset, data_dir, classifier_dir)
  train_images, train_labels = datasets.load_split(dataset, 'train', data_dir)
  progress = Progress(f'scoring {len(images)} samples', 2, unit='stage')
  test, real_scores, real_extras = _reference(evaluator, dataset, len(images), labels is not None,
                                              seed, data_dir, classifier_dir, train_images,
                                              train_labels)
  progress.update(1)
  flat_train = train_images.reshape(len(train_images), -1)  # uint8; metrics make it float32
  sample_scores, sample_extras = _score(evaluator, images, labels, test, flat_train, seed)
  progress.update(2)
  progress.close()
  report = {'dataset': dataset, 'num_samples': len(images),
            'classifier': {k: evaluator.info[k] for k in ('test_accuracy', 'version')},
            'samples': sample_scores, 'real': real_scores}
  figures = {'samples': sample_extras, 'real': real_extras, 'images': images,
             'train_images': train_images, 'labels': labels}
  return report, figures


def format_report(report) -> str:
  """One line per metric: the samples' value beside the real reference."""
  if 'samples' not in report:  # a CC-GAN's or E-cGAN's own report
    return format_nested(report)
  scored = report.get('checkpoint')
  lines = [f'{report["dataset"]}: {report["num_samples"]} samples'
           + (f' of {scored["generator"]} at step {scored["step"]}' if scored else '')
           + f'; evaluator test accuracy {report["classifier"]["test_accuracy"]:.4f}',
           f'{"metric":34s} {"samples":>12s} {"real":>12s}']
  for name, value in report['samples'].items():
    lines.append(f'{name:34s} {value:12.4f} {report["real"][name]:12.4f}')
  return '\n'.join(lines + KID_NOTE)


# What the KID lines mean, printed under every report.
KID_NOTE = [
    'kid: unbiased MMD² of the evaluator\'s features with the cubic kernel, in those features\' '
    'own units (not scaled by 1,000);',
    'kid_std: the spread of one 1,000-image subset\'s estimate over the 100 subsets, not the error '
    'of the mean; the real reference is 0 up to that spread.']


def format_nested(report, indent='') -> str:
  """Every number of a report, one per line, nested sections indented."""
  lines = []
  for name, value in report.items():
    if isinstance(value, dict):
      lines.append(f'{indent}{name}:')
      lines.append(format_nested(value, indent + '  '))
    elif isinstance(value, float):
      lines.append(f'{indent}{name:40s} {value:10.4f}')
    else:
      lines.append(f'{indent}{name:40s} {value}')
  return '\n'.join(lines)


def write_json(report, output_dir, stem):
  os.makedirs(output_dir, exist_ok=True)
  tmp = os.path.join(output_dir, f'{stem}.json.tmp')
  with open(tmp, 'w') as f:
    json.dump(report, f, indent=1)
  os.replace(tmp, os.path.join(output_dir, f'{stem}.json'))


def write_outputs(report, figures, output_dir, stem='eval'):
  """`<stem>.json` and the figures (class histogram, confusion matrix, nearest neighbours)."""
  write_json(report, output_dir, stem)
  samples, real = figures['samples'], figures['real']
  pictures.save_class_histogram(samples['class_counts'], real['class_counts'],
                             os.path.join(output_dir, f'{stem}_class_histogram.png'))
  pictures.save_nearest_neighbour_figure(
      samples['nearest'], real['nearest'], figures['images'],
      figures['train_images'][samples['nearest_index']],
      os.path.join(output_dir, f'{stem}_nearest_neighbours.png'))
  if 'confusion' in samples:
    pictures.save_confusion_matrix(samples['confusion'],
                                os.path.join(output_dir, f'{stem}_confusion.png'))


def default_output_dir(path) -> str:
  """Where --samples writes without --output_dir: workdirs/evaluations/<folder>_<name>, under the
  working directory (never beside the npz, which may be a file of someone's repository)."""
  folder = os.path.basename(os.path.dirname(os.path.abspath(path)))
  stem = os.path.splitext(os.path.basename(path))[0]
  return os.path.join('workdirs', 'evaluations', f'{folder}_{stem}' if folder else stem)


def evaluate_file(path, dataset, seed=0, data_dir=None, classifier_dir=None, output_dir=None):
  """Scores any npz of samples; writes `<name>_eval.json` and figures to output_dir (default:
  default_output_dir(path)). Returns ({stem: report}, the folder written)."""
  images, labels = load_samples(path, data.get_info(dataset).num_classes)
  report, figures = evaluate(images, labels, dataset, data_dir, classifier_dir, seed)
  stem = os.path.splitext(os.path.basename(path))[0] + '_eval'
  output_dir = output_dir or default_output_dir(path)
  write_outputs(report, figures, output_dir, stem)
  return {stem: report}, output_dir


class TrainingMonitor:
  """Fréchet distance and classifier score of one fixed noise batch, as training goes on."""

  def __init__(self, dataset, data_dir, classifier_dir, noise):
    self.evaluator = classifier.get_evaluator(dataset, data_dir, classifier_dir)
    test_images, _ = datasets.load_split(dataset, 'test', data_dir)
    _, test_features = self.evaluator.predict(test_images)
    self.test_mean, self.test_cov = metrics.feature_statistics(test_features)
    self.noise = noise

  def __call__(self, family, sampler, variables) -> dict:
    """The metrics.jsonl fields of the generator `variables`, sampled by the jitted `sampler`
    (state.make_sampler) from the family's inputs for the fixed noise."""
    images = np.concatenate([
        data.to_uint8(sampler(variables, family.noise_inputs(
            self.noise[i:i + classifier.PREDICT_BATCH], i)))
        for i in range(0, len(self.noise), classifier.PREDICT_BATCH)])
    probs, features = self.evaluator.predict(images)
    mean, cov = metrics.feature_statistics(features)
    return {'eval_fid': metrics.frechet_distance(mean, cov, self.test_mean, self.test_cov),
            'eval_classifier_score': metrics.classifier_score(probs),
            'eval_num_samples': len(images)}
