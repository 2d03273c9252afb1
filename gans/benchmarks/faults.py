"""Kill soak: SIGKILL train.py at random moments, resume, and check nothing was lost or changed.

  python -m gans.benchmarks.faults --rounds=5 --kills_per_round=4 [--data_dir=DIR] [--seed=0]

Each round trains a small MLP GAN (200 steps, a checkpoint every 20) once without interruption,
then again in a fresh workdir, killed `kills_per_round` times with SIGKILL and rerun after each
kill; every other kill waits for a checkpoint write to be in flight (an orbax temporary folder on
disk), the others come after a random delay. The finished run must hold a state (parameters,
optimiser states, BatchNorm statistics, step) bitwise equal to the uninterrupted run's, at the
same final step, with the same training lines in metrics.jsonl. Progress: a bar over the
train.py runs on a terminal, a log line at least every 30 s otherwise. Prints one summary line;
exits 1 if any round differs.
"""
import glob
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time

import numpy as np
from absl import flags

from gans.core.errors import UsageError
from gans.run import checkpoints, startup
from gans.run import progress as progress_lib
from gans.tools import cli

FLAGS = flags.FLAGS
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
NUM_STEPS = 200
RUN_FLAGS = ['--model=mlp', '--dataset=mnist', f'--num_steps={NUM_STEPS}', '--batch_size=32',
             '--config.checkpoint_every_steps=20', '--config.log_every_steps=10',
             '--config.latent_dim=16', '--config.mlp.generator_widths=(64,)',
             '--config.mlp.discriminator_widths=(64,)', '--config.num_sample_images=8',
             '--config.parallel=jit']


def train_command(workdir, data_dir, seed):
  return [sys.executable, os.path.join(REPO, 'train.py'), f'--workdir={workdir}',
          f'--data_dir={data_dir}', f'--seed={seed}', *RUN_FLAGS]


def run_to_end(workdir, data_dir, seed):
  result = subprocess.run(train_command(workdir, data_dir, seed), capture_output=True, text=True)
  if result.returncode != 0:
    raise RuntimeError(f'train.py failed in {workdir}: {result.stderr.strip().splitlines()[-1:]}')


def checkpoint_in_flight(workdir) -> bool:
  pattern = os.path.join(checkpoints.checkpoint_dir(workdir), '*.orbax-checkpoint-tmp*')
  return bool(glob.glob(pattern))


def kill_once(workdir, data_dir, seed, during_write, max_delay, rng) -> bool:
  """Starts train.py and SIGKILLs it; False if it finished before it could be killed.

  A plain kill comes at a uniform moment in the first half of `max_delay` (the reference run's
  time): a victim on a machine up to twice as fast as during the reference is still running.
  """
  process = subprocess.Popen(train_command(workdir, data_dir, seed), stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
  delay = max_delay * 3 if during_write else rng.uniform(0, max_delay / 2)
  deadline = time.monotonic() + delay
  while process.poll() is None and time.monotonic() < deadline:
    if during_write and checkpoint_in_flight(workdir):
      break
    time.sleep(0.001 if during_write else 0.01)
  if process.poll() is not None:
    return False
  process.send_signal(signal.SIGKILL)
  process.wait()
  return True


def final_arrays(workdir):
  """(step, flat list of numpy leaves) of the newest checkpoint."""
  import jax  # only here: the parent never runs JAX computations
  step, tree = checkpoints.read_latest_state(workdir)
  return step, [np.asarray(leaf) for leaf in jax.tree.leaves(tree)]


def training_lines(workdir):
  with open(os.path.join(workdir, 'metrics.jsonl')) as f:
    return [line for line in f if 'd_loss' in json.loads(line)]


def soak(rounds, kills_per_round, data_dir, seed=0, root=None) -> dict:
  """Runs the soak; returns the counts the summary line prints."""
  rng = random.Random(seed)
  progress = progress_lib.Progress('kill soak', rounds * (kills_per_round + 2), unit='run')
  counts = {'rounds': rounds, 'kills': 0, 'kills_during_write': 0, 'exact_resumes': 0,
            'lost_steps': 0, 'differing_rounds': 0}
  with tempfile.TemporaryDirectory(dir=root) as tmp:
    for r in range(rounds):
      reference, victim = os.path.join(tmp, f'reference{r}'), os.path.join(tmp, f'killed{r}')
      started = time.monotonic()
      run_to_end(reference, data_dir, seed + r)
      run_seconds = time.monotonic() - started
      launched = r * (kills_per_round + 2) + 1
      progress.update(launched)
      for k in range(kills_per_round):
        during_write = k % 2 == 1
        if kill_once(victim, data_dir, seed + r, during_write, run_seconds, rng):
          counts['kills'] += 1
          counts['kills_during_write'] += during_write
        progress.update(launched + k + 1)
      run_to_end(victim, data_dir, seed + r)
      progress.update(launched + kills_per_round + 1)
      (step_a, leaves_a), (step_b, leaves_b) = final_arrays(reference), final_arrays(victim)
      counts['lost_steps'] += step_a - step_b
      exact = (step_a == step_b == NUM_STEPS and len(leaves_a) == len(leaves_b)
               and all(np.array_equal(a, b) for a, b in zip(leaves_a, leaves_b))
               and training_lines(reference) == training_lines(victim))
      counts['exact_resumes' if exact else 'differing_rounds'] += 1
  progress.close()
  return counts


def summary_line(counts) -> str:
  return (f'{counts["kills"]} kills ({counts["kills_during_write"]} during a checkpoint write) in '
          f'{counts["rounds"]} runs, {counts["exact_resumes"]} exact resumes, '
          f'{counts["differing_rounds"]} differing, {counts["lost_steps"]} lost steps')


def define_flags():
  """The command line's flags; defined by `__main__` only, so importing this module adds none."""
  flags.DEFINE_integer('rounds', 5, 'Rounds: an uninterrupted run and a killed one each.')
  flags.DEFINE_integer('kills_per_round', 4, 'SIGKILLs of the second run of each round.')
  flags.DEFINE_string('data_dir', None, 'Folder with mnist/ IDX files; default $GANS_DATA_DIR.')
  flags.DEFINE_integer('seed', 0, 'Seed of the runs (seed + round) and of the kill delays.')


def main():
  startup.prepare()
  for name in ('rounds', 'kills_per_round'):
    if FLAGS[name].value < 1:
      raise UsageError(f'--{name} must be a positive integer, got {FLAGS[name].value}')
  data_dir = FLAGS.data_dir or os.environ.get('GANS_DATA_DIR')
  if not data_dir or not os.path.isdir(os.path.join(data_dir, 'mnist')):
    raise UsageError(f'--data_dir (or $GANS_DATA_DIR) must hold mnist/ IDX files, got '
                     f'{data_dir!r}')
  started = time.monotonic()
  counts = soak(FLAGS.rounds, FLAGS.kills_per_round, data_dir, FLAGS.seed)
  print(f'{summary_line(counts)}; {time.monotonic() - started:.0f} s')
  sys.exit(1 if counts['differing_rounds'] or counts['lost_steps'] else 0)


if __name__ == '__main__':
  cli.run_main(main, define_flags)
