"""Draws a PNG grid of samples from a trained run's latest checkpoint:

  python -m gans.tools.sample --workdir=W [--num=64] [--label=K] [--code=K] [--ema/--noema]
      [--interpolate] [--output=FILE.png] [--seed=S]

The generator is the EMA of G where the run kept one (--noema: G itself). A class-conditional
model draws every sample of class --label, an InfoGAN every sample with categorical code
--code; without them the classes (codes) cycle, a column each. --interpolate draws rows of
COLUMNS images along the great circle between two random latent vectors (a row's class or code
fixed): a vector of d normals lies near the sphere of radius sqrt(d), where G was trained, and
the straight line between two of them passes inside it (its midpoint's length is about
sqrt(d / 2)), so a linear path's middle images show what G makes of inputs it never saw.
"""
import os

import numpy as np
from absl import flags

from gans.core import data
from gans.core import state as state_lib
from gans.core.errors import UsageError
from gans.core.families import infogan
from gans.run import pictures, runs, startup
from gans.tools import cli

FLAGS = flags.FLAGS
COLUMNS = 8  # images per row, and steps per interpolation


def define_flags():
  """The command line's flags; defined by `__main__` only, so importing this module adds none."""
  flags.DEFINE_string('workdir', None, 'Workdir of a train.py run; its latest checkpoint is '
                      'sampled.', required=True)
  flags.DEFINE_integer('num', 64, f'Images in the grid (a multiple of {COLUMNS} with '
                       '--interpolate).', lower_bound=1)
  flags.DEFINE_integer('label', None, 'The class of every sample, for a class-conditional model.')
  flags.DEFINE_integer('code', None, 'The categorical code of every sample, for an InfoGAN.')
  flags.DEFINE_bool('ema', None, 'Sample the EMA of G (--ema) or G (--noema); default the EMA '
                    'where the run kept one.')
  flags.DEFINE_bool('interpolate', False, f'Rows of {COLUMNS} images along a spherical '
                    'interpolation between two random latent vectors.')
  flags.DEFINE_string('output', None, 'The PNG to write; default WORKDIR/sample_grid.png '
                      '(WORKDIR/interpolation_grid.png with --interpolate).')
  flags.DEFINE_integer('seed', 0, 'Seed of the latent vectors.')


def slerp(a, b, t):
  """Points at fractions t along the great-circle arc from a to b (rows of vectors), their
  length interpolated between the two ends' lengths."""
  norm_a, norm_b = np.linalg.norm(a, axis=-1, keepdims=True), np.linalg.norm(b, axis=-1,
                                                                         keepdims=True)
  angle = np.arccos(np.clip(np.sum(a * b, -1, keepdims=True) / (norm_a * norm_b), -1, 1))
  unit = (np.sin((1 - t) * angle) * a / norm_a + np.sin(t * angle) * b / norm_b) / np.sin(angle)
  return unit * ((1 - t) * norm_a + t * norm_b)


def latent_vectors(latent_dim, num, interpolate, seed):
  """float32 (num, latent_dim) normals; with `interpolate`, rows of COLUMNS steps from one random
  vector to another."""
  rng = np.random.default_rng(seed)
  if not interpolate:
    return rng.standard_normal((num, latent_dim), np.float32)
  a, b = rng.standard_normal((2, num // COLUMNS, 1, latent_dim))
  return slerp(a, b, np.linspace(0, 1, COLUMNS)[:, None]).reshape(num, -1).astype(np.float32)


def label_values(family):
  """(flag, how many values) of the label input G takes: a class, an InfoGAN's categorical code;
  None for a generator of noise alone."""
  if isinstance(family, infogan.InfoGAN):
    return '--code', family.categories
  return ('--label', family.num_classes) if family.label_model else None


def chosen_value(config, family):
  """The --label or --code asked for, or None; refused where the run's model takes no such input
  or not that value."""
  takes = label_values(family)
  for flag, value in (('--label', FLAGS.label), ('--code', FLAGS.code)):
    if value is None:
      continue
    if takes is None or takes[0] != flag:
      what = 'a class-conditional model' if flag == '--label' else 'an InfoGAN'
      raise UsageError(f'{flag} is for {what}; workdir {FLAGS.workdir!r} holds model '
                       f'{config.model!r}')
    if not 0 <= value < takes[1]:
      raise UsageError(f'{flag} must be in [0, {takes[1]}) for model {config.model!r}, got {value}')
    return value
  return None


def grid_labels(family, value, num, interpolate):
  """(int32 labels of the samples, or None for a generator of noise alone; grid columns): `value`
  for every sample, else the values cycling, a column each (a row each with `interpolate`)."""
  takes = label_values(family)
  if takes is None:
    return None, COLUMNS
  if value is not None:
    return np.full(num, value, np.int32), COLUMNS
  if interpolate:
    return np.repeat(np.arange(num // COLUMNS) % takes[1], COLUMNS).astype(np.int32), COLUMNS
  return (np.arange(num) % takes[1]).astype(np.int32), takes[1]


def check_flags(output):
  """Refuses settings that need no checkpoint to judge, before one is loaded."""
  if FLAGS.interpolate and FLAGS.num % COLUMNS:
    raise UsageError(f'--num must be a multiple of {COLUMNS} with --interpolate (rows of '
                     f'{COLUMNS} steps), got {FLAGS.num}')
  if not output.endswith('.png'):
    raise UsageError(f'--output must name a .png file, got {output!r}')
  folder = os.path.dirname(os.path.abspath(output))
  if FLAGS.output and not (os.path.isdir(folder) and os.access(folder, os.W_OK)):
    raise UsageError(f'cannot write {output!r}: {folder} is not a writable directory')


def main():
  startup.prepare()
  name = 'interpolation_grid.png' if FLAGS.interpolate else 'sample_grid.png'
  output = FLAGS.output or os.path.join(FLAGS.workdir, name)
  check_flags(output)
  config, family, networks, state = runs.load(FLAGS.workdir)
  if not family.samples_from_noise:
    raise UsageError(f'model {config.model!r} in-paints given images; it does not sample from '
                     f'noise alone')
  labels, columns = grid_labels(family, chosen_value(config, family), FLAGS.num,
                                FLAGS.interpolate)
  use_ema = bool(state.ema) if FLAGS.ema is None else FLAGS.ema
  try:
    variables = state_lib.generator_variables(state, use_ema)
  except ValueError as e:
    raise UsageError(f'--ema: workdir {FLAGS.workdir!r}: {e}') from None
  inputs = family.noise_inputs(latent_vectors(family.latent_dim, FLAGS.num, FLAGS.interpolate,
                                              FLAGS.seed))
  if labels is not None:
    inputs = dict(inputs, label=labels)
  images = data.to_uint8(state_lib.make_sampler(networks.generator)(variables, inputs))
  pictures.save_grid(images, output, columns=columns)
  chosen = (f' of class {FLAGS.label}' if FLAGS.label is not None else
            f' with code {FLAGS.code}' if FLAGS.code is not None else '')
  print(f'Wrote {FLAGS.num} {"interpolated " if FLAGS.interpolate else ""}samples{chosen} of '
        f'{"the EMA of G" if use_ema else "G"} at step {int(state.step)} to {output}')


if __name__ == '__main__':
  cli.run_main(main, define_flags)
