"""Times a whole evaluation's worth of metrics for one set of samples:
`python -m gans.benchmark_metrics [--dataset mnist] [--num_samples 10000] [--num_train 60000]
[--repeats 3]`.

Inputs are random (numpy seed 0) but of evaluation size: the evaluator classifier (untrained
weights, the same computation) predicts probabilities and features of num_samples images, the
metrics run on features of that shape, and the memorisation check searches the train set for
as many queries as `gans.evaluation` uses. The generator is not timed. After one warm-up run
(which compiles), prints one JSON line: the median seconds of each part over --repeats runs and
the median total.
"""
import argparse
import json
import time

import jax
import jax.numpy as jnp
import numpy as np

from gans import classifier, data, evaluation, metrics, xla_cpu
from gans.models import lenet


def make_inputs(num_samples, feature_dim, num_classes, num_train, seed=0):
  rng = np.random.default_rng(seed)
  features = lambda: np.maximum(rng.normal(size=(num_samples, feature_dim)), 0).astype(np.float32)
  return {
      'images': rng.integers(0, 256, (num_samples,) + data.IMAGE_SHAPE, dtype=np.uint8),
      'real': features(),
      'fake': features(),
      'probs': rng.dirichlet(np.full(num_classes, 0.1), size=num_samples).astype(np.float32),
      'predicted': rng.integers(0, num_classes, num_samples),
      'target': rng.integers(0, num_classes, num_samples),
      'queries': rng.uniform(size=(evaluation.MEMORISATION_QUERIES, 784)).astype(np.float32),
      'train': rng.uniform(size=(num_train, 784)).astype(np.float32),
  }


def metric_calls(inputs, evaluator, num_classes):
  """name -> a call computing that part the way an evaluation would."""
  real, fake = inputs['real'], inputs['fake']
  return {
      'classifier_predict': lambda: evaluator.predict(inputs['images']),
      'frechet_distance': lambda: metrics.frechet_distance(
          *metrics.feature_statistics(real), *metrics.feature_statistics(fake)),
      'kernel_inception_distance': lambda: metrics.kernel_inception_distance(real, fake),
      'precision_recall': lambda: metrics.precision_recall(real, fake),
      'density_coverage': lambda: metrics.density_coverage(real, fake),
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


def main():
  xla_cpu.choose_kernels()  # before JAX starts its backend
  parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  parser.add_argument('--dataset', default='mnist', choices=data.DATASETS)
  parser.add_argument('--num_samples', type=int, default=10000)
  parser.add_argument('--num_train', type=int, default=60000)
  parser.add_argument('--repeats', type=int, default=3)
  args = parser.parse_args()
  for name in ('num_samples', 'num_train', 'repeats'):
    if getattr(args, name) < 1:
      parser.error(f'--{name} must be a positive integer, got {getattr(args, name)}')
  num_classes = data.get_info(args.dataset).num_classes
  model = lenet.Classifier(num_classes)
  params = model.init(jax.random.key(0), jnp.zeros((1,) + data.IMAGE_SHAPE), train=False)['params']
  evaluator = classifier.Evaluator(args.dataset, params, {})
  inputs = make_inputs(args.num_samples, model.feature_dim, num_classes, args.num_train)
  calls = metric_calls(inputs, evaluator, num_classes)
  time_once(calls)  # warm-up: compiles every jitted function
  runs = [time_once(calls) for _ in range(args.repeats)]
  result = {name: round(float(np.median([run[name] for run in runs])), 3) for name in calls}
  result['total'] = round(float(np.median([sum(run.values()) for run in runs])), 3)
  result.update(dataset=args.dataset, repeats=args.repeats, num_samples=args.num_samples,
                num_train=args.num_train, device=str(jax.devices()[0]), jax=jax.__version__)
  print(json.dumps(result))


if __name__ == '__main__':
  main()
