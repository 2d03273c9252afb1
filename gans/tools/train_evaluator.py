"""Trains the evaluator classifier of a dataset and saves it where `evaluate.py` finds it.

  python -m gans.tools.train_evaluator --dataset=kmnist [--output_dir=DIR] [--data_dir=DIR]

MNIST and Fashion-MNIST ship their evaluators (gans/evaluation/weights/); this makes one for the
other datasets, into the cache ($GANS_CLASSIFIER_DIR, else ~/.cache/gans/classifiers, or
--output_dir). The shipped ones were made with --output_dir=gans/evaluation/weights. Progress: a
bar on a terminal, a log line every 30 s otherwise.
"""
from absl import flags

from gans.run import xla_cpu
from gans.tools import cli

FLAGS = flags.FLAGS


def define_flags():
  flags.DEFINE_string('dataset', None, 'mnist, fashion_mnist, kmnist, emnist/...', required=True)
  flags.DEFINE_string('output_dir', None, 'Where to save <dataset>/params.npz and info.json; '
                      'default $GANS_CLASSIFIER_DIR, else ~/.cache/gans/classifiers.')
  flags.DEFINE_string('data_dir', None, 'Folder of IDX files per dataset; default $GANS_DATA_DIR.')


def main():
  xla_cpu.choose_kernels()  # before JAX starts its backend
  from gans.evaluation import classifier
  from gans.run import checkpoints
  checkpoints.quiet_orbax_logging()
  evaluator = classifier.train_and_save(FLAGS.dataset, FLAGS.data_dir, FLAGS.output_dir)
  print(f'{FLAGS.dataset}: test accuracy {evaluator.info["test_accuracy"]:.4f}')


if __name__ == '__main__':
  cli.run_main(main, define_flags)
