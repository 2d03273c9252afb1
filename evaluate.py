"""Exports samples of a trained run:
`python evaluate.py --workdir W --num_samples N --export samples.npz [--seed S] [--use_ema]`.
"""
import sys

from absl import app, flags, logging

FLAGS = flags.FLAGS
flags.DEFINE_string('workdir', None, 'Workdir of a train.py run.')
flags.DEFINE_integer('num_samples', 10000, 'How many samples to generate.')
flags.DEFINE_string('export', None, 'Write the samples here (.npz with uint8 `images`) and a grid '
                    'PNG beside it.')
flags.DEFINE_integer('seed', 0, 'Seed of the sampling noise.')
flags.DEFINE_bool('use_ema', False, 'Sample from the EMA of the generator.')


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f'unexpected arguments: {" ".join(argv[1:])}')
  from gans import sampling
  from gans.errors import UsageError
  try:
    if not FLAGS.workdir or not FLAGS.export:
      raise UsageError('--workdir and --export are required')
    path, grid = sampling.export_samples(FLAGS.workdir, FLAGS.num_samples, FLAGS.export,
                                         FLAGS.seed, FLAGS.use_ema)
  except UsageError as e:
    print(f'error: {e}', file=sys.stderr)
    sys.exit(2)
  logging.info('Wrote %d samples to %s and a grid to %s', FLAGS.num_samples, path, grid)


if __name__ == '__main__':
  app.run(main)
