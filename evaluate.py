"""Scores a trained run or any npz of samples, each metric beside its real-data reference.

  python evaluate.py --workdir=W [--num_samples=10000]           # eval.json + figures in W
  python evaluate.py --samples=S.npz --dataset=mnist [--output_dir=D]  # S_eval.json + figures in D
  python evaluate.py --workdir=W --num_samples=N --export=S.npz   # only export samples
"""
from absl import flags, logging

from gans.core.errors import UsageError
from gans.tools import cli

FLAGS = flags.FLAGS
flags.DEFINE_string('workdir', None, 'Workdir of a train.py run: scores its latest checkpoint.')
flags.DEFINE_string('samples', None, 'An npz of `images` (N, 28, 28[, 1]), uint8 or float in '
                    '[-1, 1] or [0, 1], and optional integer `labels` (N,), to score.')
flags.DEFINE_string('dataset', None, 'The dataset --samples imitate (mnist, fashion_mnist, ...); '
                    'with --workdir, score against it instead of the run\'s own (same classes).')
flags.DEFINE_integer('num_samples', 10000, 'How many samples to generate from --workdir.')
flags.DEFINE_string('export', None, 'With --workdir: only write the samples to this .npz (uint8 '
                    '`images`) and a grid PNG beside it.')
flags.DEFINE_integer('seed', 0, 'Seed of the sampling noise and of the metrics\' subsets.')
flags.DEFINE_bool('use_ema', False, 'Export from the EMA of the generator.')
flags.DEFINE_string('data_dir', None, 'Folder of IDX files per dataset; default $GANS_DATA_DIR.')
flags.DEFINE_string('classifier_dir', None, 'Cache of evaluator classifiers; default '
                    '$GANS_CLASSIFIER_DIR, else ~/.cache/gans/classifiers.')
flags.DEFINE_string('output_dir', None, 'With --samples: where to write the report and figures; '
                    'default workdirs/evaluations/<folder of the npz>_<its name>.')


def main():
  from gans.run import startup
  startup.prepare()
  from gans.evaluation import scoring
  if bool(FLAGS.workdir) == bool(FLAGS.samples):
    raise UsageError('give exactly one of --workdir (a training run) or --samples (an npz)')
  if FLAGS.workdir:  # checkpoints: orbax, and the families' code
    from gans.evaluation import sampling, workdir
  if FLAGS.export:
    if not FLAGS.workdir:
      raise UsageError('--export needs --workdir')
    path, grid = sampling.export_samples(FLAGS.workdir, FLAGS.num_samples, FLAGS.export,
                                         FLAGS.seed, FLAGS.use_ema)
    logging.info('Wrote %d samples to %s and a grid to %s', FLAGS.num_samples, path, grid)
    return
  if FLAGS.workdir:
    reports = workdir.evaluate_workdir(FLAGS.workdir, FLAGS.num_samples, FLAGS.seed,
                                       FLAGS.data_dir, FLAGS.classifier_dir, FLAGS.dataset)
    written = FLAGS.workdir
  else:
    if not FLAGS.dataset:
      raise UsageError('--samples needs --dataset, the dataset the samples imitate')
    reports, written = scoring.evaluate_file(FLAGS.samples, FLAGS.dataset, FLAGS.seed,
                                             FLAGS.data_dir, FLAGS.classifier_dir,
                                             FLAGS.output_dir)
  for stem, report in reports.items():
    print(f'[{stem}]\n{scoring.format_report(with_directions(report))}')
  if any('samples' in report for report in reports.values()):
    print('↑: higher is better; ↓: lower is better')
  logging.info('Wrote %s and their figures to %s',
               ', '.join(f'{stem}.json' for stem in reports), written)


def with_directions(report):
  """The report with ↑ or ↓ after each metric the results pages mark so (their table's
  labels, gans.tools.report.METRICS), so that the console table reads like them."""
  if 'samples' not in report:  # a family's own report: none of those metrics
    return report
  from gans.tools.report import METRICS
  directions = {key: label[-1] for key, label, _ in METRICS if label[-1] in '↑↓'}

  def marked(scores):
    return {f'{name} {directions[name]}' if name in directions else name: value
            for name, value in scores.items()}

  return {**report, 'samples': marked(report['samples']), 'real': marked(report['real'])}


if __name__ == '__main__':
  cli.run_main(main)
