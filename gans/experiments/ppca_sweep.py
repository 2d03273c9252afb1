"""How many components does PPCA need? Fits both variants for each k and scores their samples.

  python -m gans.experiments.ppca_sweep --dataset=mnist --output_dir=workdirs/ppca_sweep_mnist \
      [--components=2,4,8,16,32,64,128,256] [--num_samples=10000]

For each k: the unconditional and the class-conditional PPCA fitted on the train split, the
held-out log-likelihood of the test split (log p(x), and log p(x | y) per class), and
`num_samples` samples scored by the evaluator classifier: classifier score, Fréchet distance and
(class-conditional) conditional accuracy, beside the same numbers of as many real train images.
The knee is the smallest k whose conditional accuracy is within --knee_tolerance of the best.
Writes sweep.json, sweep.md and sweep.png to --output_dir. Progress: a bar over the fits on a
terminal, a log line at least every 30 s otherwise.
"""
import json
import os
import time

import jax
import numpy as np
from absl import flags, logging

from gans.configs import default
from gans.core import families, metrics
from gans.core.errors import UsageError
from gans.core.models import ppca
from gans.evaluation import classifier, sampling
from gans.run import config as config_lib
from gans.run import datasets, startup
from gans.run import progress as progress_lib
from gans.tools import cli

FLAGS = flags.FLAGS


def define_flags():
  """The command line's flags; defined by `__main__` only, so importing this module adds none."""
  flags.DEFINE_string('dataset', 'mnist', 'Dataset to fit (mnist, fashion_mnist, ...).')
  flags.DEFINE_list('components', ['2', '4', '8', '16', '32', '64', '128', '256'],
                    'The k to fit, comma-separated.')
  flags.DEFINE_integer('num_samples', 10000, 'Samples scored per model.')
  flags.DEFINE_float('knee_tolerance', 0.015, 'The knee: the smallest k whose conditional '
                     'accuracy is at most this far below the best k\'s.')
  flags.DEFINE_integer('seed', 0, 'Seed of the sampling noise and of the real reference subset.')
  flags.DEFINE_string('output_dir', None, 'Where sweep.json, sweep.md and sweep.png go.')
  flags.DEFINE_string('data_dir', None, 'Folder of IDX files per dataset; default $GANS_DATA_DIR.')
  flags.DEFINE_string('classifier_dir', None, 'Cache of evaluator classifiers; default '
                      '$GANS_CLASSIFIER_DIR, else ~/.cache/gans/classifiers.')


VARIANTS = {'unconditional': False, 'class_conditional': True}
COLOURS = {'unconditional': 'tab:blue', 'class_conditional': 'tab:orange'}


def _scores(evaluator, images, labels, test_mean, test_cov):
  probs, features = evaluator.predict(images)
  mean, cov = metrics.feature_statistics(features)
  scores = {'classifier_score': metrics.classifier_score(probs),
            'frechet_distance': metrics.frechet_distance(mean, cov, test_mean, test_cov)}
  if labels is not None:
    scores['conditional_accuracy'] = metrics.conditional_accuracy(
        probs.argmax(-1), labels, evaluator.model.num_classes)['accuracy']
  return scores


def knee(rows, tolerance) -> int:
  """The smallest k whose class-conditional accuracy is within `tolerance` of the best."""
  accuracies = {r['components']: r['conditional_accuracy'] for r in rows
                if r['variant'] == 'class_conditional'}
  best = max(accuracies.values())
  return min(k for k, accuracy in accuracies.items() if accuracy >= best - tolerance)


def run_sweep(dataset, components, num_samples, seed=0, data_dir=None, classifier_dir=None,
              tolerance=0.015) -> dict:
  if not components or any(not 0 < k < ppca.DIM for k in components):
    raise UsageError(f'--components must be integers in [1, {ppca.DIM - 1}], got {components}')
  if num_samples < 2:
    raise UsageError(f'--num_samples must be an integer >= 2, got {num_samples}')
  train_images, train_labels = datasets.load_split(dataset, 'train', data_dir)
  test_images, test_labels = datasets.load_split(dataset, 'test', data_dir)
  if num_samples > len(train_images):
    raise UsageError(f'--num_samples {num_samples} exceeds the {len(train_images)} train images of '
                     f'{dataset} (the real reference is as many of them)')
  evaluator = classifier.get_evaluator(dataset, data_dir, classifier_dir)
  _, test_features = evaluator.predict(test_images)
  test_mean, test_cov = metrics.feature_statistics(test_features)
  pick = np.random.default_rng(seed).choice(len(train_images), num_samples, replace=False)
  real = _scores(evaluator, train_images[pick], train_labels[pick], test_mean, test_cov)
  rows = []
  progress = progress_lib.Progress(f'PPCA sweep of {dataset}', len(components) * len(VARIANTS),
                                 unit='fit')
  for k in components:
    for variant, class_conditional in VARIANTS.items():
      config = default.get_config()
      config.update({'model': 'ppca', 'dataset': dataset, 'data_dir': data_dir})
      config.ppca.update({'components': k, 'class_conditional': class_conditional})
      config = config_lib.resolve(config)
      started = time.perf_counter()
      params = ppca.fit_generator(train_images, train_labels, k, class_conditional)
      row = {'components': k, 'variant': variant, 'fit_seconds': time.perf_counter() - started,
             'test_log_likelihood': ppca.mean_log_likelihood(params, test_images, test_labels)}
      family = families.build(config)
      images, labels = sampling.generate(family, family.networks().generator,
                                         {'params': params}, num_samples, seed)
      row.update(_scores(evaluator, images, labels, test_mean, test_cov))
      logging.info('%s', json.dumps(row))
      rows.append(row)
      progress.update(len(rows))
  progress.close()
  return {'dataset': dataset, 'num_samples': num_samples, 'real': real, 'rows': rows,
          'knee_tolerance': tolerance, 'knee': knee(rows, tolerance),
          'classifier_test_accuracy': evaluator.info['test_accuracy']}


def markdown(result) -> str:
  real = result['real']
  lines = [f'PPCA on {result["dataset"]}: {result["num_samples"]} samples per model; knee '
           f'(smallest k within {result["knee_tolerance"]:.3f} of the best conditional accuracy): '
           f'**k = {result["knee"]}**', '',
           '| k | variant | test log-likelihood (nats/image) | classifier score | Fréchet distance '
           '| conditional accuracy | fit s |', '|---|---|---|---|---|---|---|']
  for r in result['rows']:
    accuracy = f'{r["conditional_accuracy"]:.4f}' if 'conditional_accuracy' in r else '–'
    lines.append(f'| {r["components"]} | {r["variant"]} | {r["test_log_likelihood"]:.1f} | '
                 f'{r["classifier_score"]:.3f} | {r["frechet_distance"]:.2f} | {accuracy} | '
                 f'{r["fit_seconds"]:.1f} |')
  lines.append(f'| real | {result["num_samples"]} train images | – | '
               f'{real["classifier_score"]:.3f} | {real["frechet_distance"]:.2f} | '
               f'{real["conditional_accuracy"]:.4f} | – |')
  return '\n'.join(lines) + '\n'


def plot(result, path):
  import matplotlib
  matplotlib.use('Agg')
  import matplotlib.pyplot as plt
  panels = [('test_log_likelihood', 'held-out log-likelihood (nats/image)'),
            ('classifier_score', 'classifier score'), ('frechet_distance', 'Fréchet distance'),
            ('conditional_accuracy', 'conditional accuracy')]
  fig, axes = plt.subplots(1, 4, figsize=(17, 3.8))
  for ax, (key, title) in zip(axes, panels):
    for variant in VARIANTS:
      rows = [r for r in result['rows'] if r['variant'] == variant and key in r]
      if rows:
        ax.plot([r['components'] for r in rows], [r[key] for r in rows], 'o-', label=variant,
                color=COLOURS[variant])
    if key in result['real']:
      ax.axhline(result['real'][key], color='k', ls='--', lw=1, label='real images')
    ax.axvline(result['knee'], color='r', ls=':', lw=1, label=f'knee k={result["knee"]}')
    ax.set_xscale('log', base=2)
    ax.set_xlabel('components k')
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
  fig.suptitle(f'PPCA component sweep on {result["dataset"]}')
  fig.tight_layout()
  fig.savefig(path, dpi=100)
  plt.close(fig)


def main():
  startup.prepare()
  if not FLAGS.output_dir:
    raise UsageError('--output_dir is required')
  try:
    components = sorted({int(k) for k in FLAGS.components})
  except ValueError:
    raise UsageError(f'--components must be integers, got {",".join(FLAGS.components)}') from None
  os.makedirs(FLAGS.output_dir, exist_ok=True)
  logging.info('JAX %s on %s', jax.__version__, jax.devices())
  result = run_sweep(FLAGS.dataset, components, FLAGS.num_samples, FLAGS.seed, FLAGS.data_dir,
                     FLAGS.classifier_dir, FLAGS.knee_tolerance)
  with open(os.path.join(FLAGS.output_dir, 'sweep.json'), 'w') as f:
    json.dump(result, f, indent=1)
  with open(os.path.join(FLAGS.output_dir, 'sweep.md'), 'w') as f:
    f.write(markdown(result))
  plot(result, os.path.join(FLAGS.output_dir, 'sweep.png'))
  print(markdown(result))


if __name__ == '__main__':
  cli.run_main(main, define_flags)
