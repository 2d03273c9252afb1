"""Trains a GAN: `python train.py --model=dcgan --dataset=mnist [--workdir=workdirs/dcgan_mnist]`.

Running the same command again on the same workdir resumes from its latest checkpoint. SIGTERM or
Ctrl-C stops it after a checkpoint at the current step (exit status 128 + the signal).
"""
import os
import sys

from absl import flags, logging
from ml_collections import config_flags

from gans.core.errors import Interrupted, NonFiniteError
from gans.tools import cli

FLAGS = flags.FLAGS
config_flags.DEFINE_config_file(
    'config', os.path.join(os.path.dirname(os.path.abspath(__file__)), 'gans/configs/default.py'),
    'ml_collections config file; override fields with --config.FIELD=VALUE.')
flags.DEFINE_string('workdir', None, 'Directory for checkpoints, metrics and pictures; default '
                    'workdirs/<model>_<dataset>.')
flags.DEFINE_string('model', None, 'A model of the family registry, gans/core/families '
                    '(config.model); an unknown one is refused with the list.')
flags.DEFINE_string('dataset', None, 'mnist, fashion_mnist, kmnist or emnist/{byclass,balanced,'
                    'letters,digits} (config.dataset).')
flags.DEFINE_string('data_dir', None, 'Folder of IDX files per dataset; default $GANS_DATA_DIR.')
flags.DEFINE_string('loss', None, 'non_saturating, minimax, least_squares, hinge, '
                    'wasserstein_gp or wasserstein_clip (config.loss).')
flags.DEFINE_integer('num_epochs', None, 'Epochs to train (config.num_epochs).')
flags.DEFINE_integer('num_steps', None, 'Steps to train; overrides --num_epochs.')
flags.DEFINE_integer('batch_size', None, 'Global batch size over all devices.')
flags.DEFINE_integer('seed', None, 'Seed of the root PRNG key.')
flags.DEFINE_integer('eval_every', None, 'Record the Fréchet distance and classifier score every '
                     'this many steps (config.eval_every_steps; 0: never).')
flags.DEFINE_string('profile_steps', None, 'A:B writes a jax.profiler trace of steps A+1..B to '
                    'WORKDIR/profile (config.profile_steps).')
flags.DEFINE_bool('distributed', False, 'Join a multi-process run through '
                  'jax.distributed.initialize (docs/training.md, Multi-host).')
flags.DEFINE_string('coordinator_address', None, 'HOST:PORT of process 0 for --distributed; '
                    'default $JAX_COORDINATOR_ADDRESS, else detected on SLURM and TPU pods.')
flags.DEFINE_integer('num_processes', None, 'Processes of the --distributed run; default '
                     '$JAX_NUM_PROCESSES, else detected on SLURM and TPU pods.')
flags.DEFINE_integer('process_id', None, 'This process\'s index in [0, num_processes) for '
                     '--distributed; default $JAX_PROCESS_ID, else detected.')
flags.DEFINE_integer('distributed_timeout', 300, 'Seconds --distributed waits for the '
                     'coordinator and every process to join before it gives up.')
PLAIN_FLAGS = ('model', 'dataset', 'data_dir', 'loss', 'num_epochs', 'num_steps', 'batch_size',
               'seed')


def main():
  from gans.run import startup
  startup.prepare()
  import jax
  from gans.run import distributed, runs
  from gans.training import loop
  distributed.start(FLAGS.distributed, FLAGS.coordinator_address, FLAGS.num_processes,
                    FLAGS.process_id, FLAGS.distributed_timeout)
  config = FLAGS.config
  for name in PLAIN_FLAGS:
    if FLAGS[name].value is not None:
      config[name] = FLAGS[name].value
  if FLAGS.eval_every is not None:
    config.eval_every_steps = FLAGS.eval_every
  if FLAGS.profile_steps is not None:
    config.profile_steps = FLAGS.profile_steps
  logging.info('JAX %s, process %d of %d, devices: %s', jax.__version__, jax.process_index(),
               jax.process_count(), jax.devices())
  try:
    loop.train(config, FLAGS.workdir or runs.default_workdir(config))
  except Interrupted as e:  # not an error: the run stopped cleanly and resumes where it stopped
    print(f'stopped: {e}', file=sys.stderr, flush=True)
    sys.exit(e.exit_code)


if __name__ == '__main__':
  cli.run_main(main, other_errors=(NonFiniteError,))
