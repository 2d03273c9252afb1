"""Times a whole evaluation's worth of metrics for one set of samples:
`python -m gans.benchmarks.metrics [--dataset=mnist] [--num_samples=10000]
[--num_train=60000] [--repeats=3]`.

Inputs are random (numpy seed 0) but of evaluation size: the evaluator classifier (untrained
weights, the same computation) predicts probabilities and features of num_samples images, the
metrics run on features of that shape, and the memorisation check searches the train set for
as many queries as `gans.evaluation.scoring` uses. The generator is not timed. After one warm-up run
(which compiles), prints one JSON line: the median seconds of each part over --repeats runs and
the median total.
"""
import json
import time

import jax
import jax.numpy as jnp
import numpy as np
from absl import flags

from gans.core import data, metrics
from gans.core.errors import UsageError
from gans.core.models import lenet
from gans.evaluation import classifier, scoring
from gans.run import startup
from gans.tools import cli

FLAGS = flags.FLAGS


def make_inputs(num_samples, feature_dim, num_classes, num_train, seed=0):
  rng = np.random.default_rng(seed)
  features = lambda: np.maximum(rng.normal(size=(num_samples, feature_dim)), 0).astype(np.float32)
  real = features()
  return {
      'images': rng.integers(0, 256, (num_samples,) + data.IMAGE_SHAPE, dtype=np.uint8),
      'real': real,
      'real_radii_3': metrics.manifold_radii(real, 3),
      'real_radii_5': metrics.manifold_radii(real, 5),
      'fake': features(),
      'probs': rng.dirichlet(np.full(num_classes, 0.1), size=num_samples).astype(np.float32),
      'predicted': rng.integers(0, num_classes, num_samples),
      'target': rng.integers(0, num_classes, num_samples),
      # Pixels, uint8 as an evaluation hands them over.
      'queries': rng.integers(0, 256, (scoring.MEMORISATION_QUERIES, 784), dtype=np.uint8),
      'train': rng.integers(0, 256, (num_train, 784), dtype=np.uint8),
  }


def metric_calls(inputs, evaluator, num_classes):
  """name -> a call computing that part the way an evaluation would."""
  real, fake = inputs['real'], inputs['fake']
  return {
      'classifier_predict': lambda: evaluator.predict(inputs['images']),
      'frechet_distance': lambda: metrics.frechet_distance(
          *metrics.feature_statistics(real), *metrics.feature_statistics(fake)),
      'kernel_inception_distance': lambda: metrics.kernel_inception_distance(real, fake),
      # An evaluation has the real side's radii from its cached reference: only the fake side's
      # radii and the two ball passes are its own.
      'precision_recall_density_coverage': lambda: metrics.manifold_metrics(
          real, fake, 3, 5, inputs['real_radii_3'], inputs['real_radii_5']),
      'mode_coverage': lambda: metrics.mode_coverage(inputs['predicted'], num_classes),
      'classifier_score': lambda: metrics.classifier_score(inputs['probs']),
      'conditional_accuracy': lambda: metrics.conditional_accuracy(
          inputs['predicted'], inputs['target'], num_classes),
      'memorisation_nearest_train': lambda: metrics.nearest_neighbour_distances(
          inputs['queries'], inputs['train']),
  }


def time_once(calls):
  seconds = {}
  for name, call in calls.items():
    start = time.perf_counter()
    call()  # every part returns numpy or python values, so its work is done on return
    seconds[name] = time.perf_counter() - start
  return seconds


def define_flags():
  """The command line's flags; defined by `__main__` only, so importing this module adds none."""
  flags.DEFINE_enum('dataset', 'mnist', list(data.DATASETS), 'Dataset whose classifier and class '
                    'count are used.')
  flags.DEFINE_integer('num_samples', 10000, 'Samples (and real images) per evaluation.')
  flags.DEFINE_integer('num_train', 60000, 'Train images the memorisation check searches.')
  flags.DEFINE_integer('repeats', 3, 'Timed runs after the warm-up; the medians are printed.')


def main():
  startup.prepare()
  for name in ('num_samples', 'num_train', 'repeats'):
    if FLAGS[name].value < 1:
      raise UsageError(f'--{name} must be a positive integer, got {FLAGS[name].value}')
  num_classes = data.get_info(FLAGS.dataset).num_classes
  model = lenet.Classifier(num_classes)
  params = model.init(jax.random.key(0), jnp.zeros((1,) + data.IMAGE_SHAPE), train=False)['params']
  evaluator = classifier.Evaluator(FLAGS.dataset, params, {})
  inputs = make_inputs(FLAGS.num_samples, model.feature_dim, num_classes, FLAGS.num_train)
  calls = metric_calls(inputs, evaluator, num_classes)
  time_once(calls)  # warm-up: compiles every jitted function
  runs = [time_once(calls) for _ in range(FLAGS.repeats)]
  result = {name: round(float(np.median([run[name] for run in runs])), 3) for name in calls}
  result['total'] = round(float(np.median([sum(run.values()) for run in runs])), 3)
  result.update(dataset=FLAGS.dataset, repeats=FLAGS.repeats, num_samples=FLAGS.num_samples,
                num_train=FLAGS.num_train, device=str(jax.devices()[0]), jax=jax.__version__)
  print(json.dumps(result))


if __name__ == '__main__':
  cli.run_main(main, define_flags)
