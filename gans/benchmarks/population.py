"""Times a population of seeds trained side by side against the same seeds one after another:
`python -m gans.benchmarks.population --model=mlp --batch_size=64 --members=2,4 --steps=40`.

For each population size P and formulation (`gans.training.population.FORMULATIONS`) it trains P
seeds together in one program and the same P seeds one at a time through the same code
(populations of one), each for --steps steps after compilation, on the real training split, and
prints one JSON line per size and formulation: the seconds of each, the members' steps per
second either way and their ratio (above 1: the population is faster). Repeated --repeats times;
the medians are printed.
"""
import json
import statistics

import jax
from absl import flags

from gans.configs import default
from gans.core import families
from gans.core.errors import UsageError
from gans.run import startup
from gans.tools import cli
from gans.training import population

FLAGS = flags.FLAGS


def define_flags():
  """The command line's flags; defined by `__main__` only, so importing this module adds none."""
  flags.DEFINE_string('model', 'mlp', 'A model that trains by steps (config.model).')
  flags.DEFINE_string('dataset', 'mnist', 'Dataset (config.dataset).')
  flags.DEFINE_integer('batch_size', 64, 'Batch size of each member.', lower_bound=1)
  flags.DEFINE_list('members', ['2', '4'], 'Population sizes to time.')
  flags.DEFINE_list('formulations', list(population.FORMULATIONS), 'How the members are put '
                    'into one program (gans.training.population.FORMULATIONS).')
  flags.DEFINE_integer('steps', 40, 'Steps each member trains, after compilation.',
                       lower_bound=1)
  flags.DEFINE_integer('repeats', 3, 'Timings of each way; the medians are printed.',
                       lower_bound=1)
  flags.DEFINE_string('data_dir', None, 'Folder of IDX files per dataset; default $GANS_DATA_DIR.')


def seconds_of(config, seeds, steps, formulation='vmap'):
  _, timing = population.train_population(config, seeds, steps, formulation)
  return timing['seconds']


def main():
  startup.prepare()
  try:
    sizes = [int(m) for m in FLAGS.members]
  except ValueError:
    raise UsageError(f'--members must be integers, got {",".join(FLAGS.members)}') from None
  if not sizes or min(sizes) < 1:
    raise UsageError(f'--members must be positive integers, got {",".join(FLAGS.members)}')
  config = default.get_config()
  config.model = FLAGS.model
  config.dataset = FLAGS.dataset
  config.batch_size = FLAGS.batch_size
  config.data_dir = FLAGS.data_dir
  if families.family_class(config.model).closed_form:
    raise UsageError(f'--model={config.model} is fitted in closed form: it has no steps to time')
  for name in FLAGS.formulations:
    if name not in population.FORMULATIONS:
      raise UsageError(f'--formulations: unknown {name!r}; allowed: '
                       f'{", ".join(population.FORMULATIONS)}')
  for size in sizes:
    seeds = list(range(size))
    apart = [sum(seconds_of(config, [seed], FLAGS.steps) for seed in seeds)
             for _ in range(FLAGS.repeats)]
    apart_s = statistics.median(apart)
    for formulation in FLAGS.formulations:
      together_s = statistics.median(seconds_of(config, seeds, FLAGS.steps, formulation)
                                     for _ in range(FLAGS.repeats))
      print(json.dumps({
          'model': config.model, 'batch_size': config.batch_size, 'members': size,
          'formulation': formulation,
          'steps': FLAGS.steps, 'seconds_together': round(together_s, 3),
          'seconds_one_after_another': round(apart_s, 3),
          'member_steps_per_second_together': round(size * FLAGS.steps / together_s, 2),
          'member_steps_per_second_one_after_another': round(size * FLAGS.steps / apart_s, 2),
          'speedup': round(apart_s / together_s, 3), 'repeats': FLAGS.repeats,
          'device': str(jax.devices()[0]), 'jax': jax.__version__}), flush=True)


if __name__ == '__main__':
  cli.run_main(main, define_flags)
