"""Times the evaluator classifier's training step with each max-pooling formulation:
`python -m gans.benchmarks.classifier [--batch_size=128] [--steps=60] [--repeats=3]`.

The LeNet (`gans.core.models.lenet`) trains in `gans.evaluation.supervised.train_classifier`, for
the shipped evaluators and for each cell of the augmentation grid, where it is nearly all of the
time. Its pooling, `lenet.max_pool_2x2`, is a max over a reshape rather than nn.max_pool, whose
gradient XLA:CPU computes slowly; this measures by how much. Each formulation trains on random
images through train_classifier itself, for 1 step and for 1 + --steps steps; the difference of
the two wall times is --steps steps without the compilation. Repeated --repeats times, the two
formulations alternating; prints the medians in ms per step and their ratio as a markdown table.
"""
import functools
import statistics
import time

import flax.linen as nn
import jax
import numpy as np
import optax
from absl import flags

from gans.core.models import lenet
from gans.evaluation import supervised
from gans.run import startup
from gans.tools import cli

FLAGS = flags.FLAGS

USED = 'max over a reshape (lenet.max_pool_2x2, used)'
FLAX = 'nn.max_pool'
POOLINGS = {
    USED: lenet.max_pool_2x2,
    FLAX: functools.partial(nn.max_pool, window_shape=(2, 2), strides=(2, 2)),
}


def define_flags():
  """The command line's flags; defined by `__main__` only, so importing this module adds none."""
  flags.DEFINE_integer('batch_size', 128, 'Minibatch size (the augmentation grid\'s).',
                       lower_bound=1)
  flags.DEFINE_integer('steps', 60, 'Steps timed, beyond the first (which compiles).',
                       lower_bound=1)
  flags.DEFINE_integer('repeats', 3, 'Timings of each formulation; the medians are printed.',
                       lower_bound=1)


def seconds_to_train(pool, images, labels, num_steps, batch_size) -> float:
  network = lenet.Classifier(10, pool=pool)
  started = time.perf_counter()
  params = supervised.train_classifier(network, optax.adam(1e-3), images, labels, num_steps,
                                       batch_size, jax.random.key(0),
                                       logits_of=lambda outputs: outputs[0])
  jax.block_until_ready(params)
  return time.perf_counter() - started


def main():
  startup.prepare()
  rng = np.random.default_rng(0)
  images = rng.integers(0, 256, (4096, 28, 28), dtype=np.uint8)
  labels = rng.integers(0, 10, 4096)
  per_step = {name: [] for name in POOLINGS}
  for _ in range(FLAGS.repeats):
    for name, pool in POOLINGS.items():
      train = functools.partial(seconds_to_train, pool, images, labels,
                                batch_size=FLAGS.batch_size)
      per_step[name].append((train(1 + FLAGS.steps) - train(1)) / FLAGS.steps)
  medians = {name: 1000 * statistics.median(times) for name, times in per_step.items()}
  print(f'LeNet training step, batch {FLAGS.batch_size}, on {jax.devices()[0].platform}: '
        f'median of {FLAGS.repeats} timings of {FLAGS.steps} steps\n')
  print('| pooling | ms per step |\n|---|---|')
  for name, ms in medians.items():
    print(f'| {name} | {ms:.1f} |')
  print(f'\nnn.max_pool / max over a reshape: {medians[FLAX] / medians[USED]:.2f}')


if __name__ == '__main__':
  cli.run_main(main, define_flags)
