"""Trains the evaluator classifier of a dataset and saves it where `evaluate.py` finds it.

  python -m gans.tools.train_evaluator --dataset=kmnist [--output_dir=DIR] [--data_dir=DIR]
  python -m gans.tools.train_evaluator --dataset=mnist --reference_only

MNIST and Fashion-MNIST ship their evaluators (gans/evaluation/weights/); this makes one for the
other datasets, into the cache ($GANS_CLASSIFIER_DIR, else ~/.cache/gans/classifiers, or
--output_dir). The shipped ones were made with --output_dir=gans/evaluation/weights. Progress: a
bar on a terminal, a log line every 30 s otherwise.

After training, or alone with --reference_only, it scores the real reference of evaluate.py's
defaults (10,000 real train images, seed 0, with their labels) and writes it, compressed, beside
the evaluator's weights (reference-10000-0.npz), so that no first evaluation has to; the shipped
evaluators ship theirs.
"""
from absl import flags

from gans.run import startup
from gans.tools import cli

FLAGS = flags.FLAGS


def define_flags():
  flags.DEFINE_string('dataset', None, 'mnist, fashion_mnist, kmnist, emnist/...', required=True)
  flags.DEFINE_string('output_dir', None, 'Where to save <dataset>/params.npz and info.json; '
                      'default $GANS_CLASSIFIER_DIR, else ~/.cache/gans/classifiers.')
  flags.DEFINE_string('data_dir', None, 'Folder of IDX files per dataset; default $GANS_DATA_DIR.')
  flags.DEFINE_bool('reference_only', False, 'Train nothing: write the real reference beside the '
                    'evaluator that evaluate.py uses (shipped, else in --output_dir\'s cache).')


def main():
  startup.prepare()
  from gans.evaluation import classifier, scoring
  if FLAGS.reference_only:
    evaluator = classifier.get_evaluator(FLAGS.dataset, FLAGS.data_dir, FLAGS.output_dir)
  else:
    evaluator = classifier.train_and_save(FLAGS.dataset, FLAGS.data_dir, FLAGS.output_dir)
    print(f'{FLAGS.dataset}: test accuracy {evaluator.info["test_accuracy"]:.4f}')
  print(f'{FLAGS.dataset}: real reference written to '
        f'{scoring.write_shipped_reference(evaluator, FLAGS.data_dir)}')


if __name__ == '__main__':
  cli.run_main(main, define_flags)
