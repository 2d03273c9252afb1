"""gans.tools.sample as a user runs it on tiny runs trained here: grids of G or its EMA, of a
chosen class or InfoGAN code, latent interpolations, and one error line for bad values."""
import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from conftest import REPO, tiny_config, write_mnist_like

SCALE, PAD, SIDE = 3, 2, 28  # pictures.save_grid's enlargement, image_grid's padding, MNIST's side


@pytest.fixture(scope='module')
def runs(tmp_path_factory):
  """{model: workdir} of 4-step tiny runs: an MLP GAN with an EMA of G, a cGAN and an InfoGAN
  without."""
  from gans.training import loop  # the top layer: only for the tests that train
  root = tmp_path_factory.mktemp('sample')
  data_dir = str(root / 'data')
  write_mnist_like(os.path.join(data_dir, 'mnist'))
  workdirs = {}
  for model, ema_decay in [('mlp', 0.5), ('cgan', 0.0), ('infogan', 0.0)]:
    workdirs[model] = str(root / model)
    loop.train(tiny_config(model, data_dir, num_steps=4, ema_decay=ema_decay), workdirs[model])
  return workdirs


def sample(*args):
  return subprocess.run([sys.executable, '-m', 'gans.tools.sample', *args], cwd=REPO,
                        capture_output=True, text=True, timeout=120)


def tiles(path, columns):
  """uint8 (N, 28, 28): the images of a grid PNG, row by row (blank tiles of a last row too)."""
  grid = np.asarray(Image.open(path))[::SCALE, ::SCALE]
  rows = (grid.shape[0] - PAD) // (SIDE + PAD)
  assert grid.shape[1] == columns * (SIDE + PAD) + PAD
  return np.stack([grid[PAD + r * (SIDE + PAD):][:SIDE, PAD + c * (SIDE + PAD):][:, :SIDE]
                   for r in range(rows) for c in range(columns)])


def grid_size(rows, columns):
  """(width, height) in pixels of a grid of rows x columns images."""
  return ((columns * (SIDE + PAD) + PAD) * SCALE, (rows * (SIDE + PAD) + PAD) * SCALE)


def test_the_default_grid_is_of_the_ema_and_interpolation_rows_of_g(runs, tmp_path):
  out = sample(f'--workdir={runs["mlp"]}')
  path = os.path.join(runs['mlp'], 'sample_grid.png')
  assert out.returncode == 0, out.stderr
  assert out.stdout == f'Wrote 64 samples of the EMA of G at step 4 to {path}\n'
  assert Image.open(path).size == grid_size(8, 8)
  path = str(tmp_path / 'walk.png')
  out = sample(f'--workdir={runs["mlp"]}', '--interpolate', '--noema', '--num=16',
               f'--output={path}')
  assert out.returncode == 0, out.stderr
  assert 'Wrote 16 interpolated samples of G at step 4' in out.stdout
  assert Image.open(path).size == grid_size(2, 8)


@pytest.mark.parametrize('model, flag, value', [('cgan', 'label', 3), ('infogan', 'code', 2)])
def test_a_chosen_class_or_code_conditions_every_sample(runs, tmp_path, model, flag, value):
  # Without the flag the values cycle, a column each, on the same noise: image `value` is drawn
  # with `value` in both grids, image 0 with 0 in one and `value` in the other.
  cycled, chosen = str(tmp_path / 'cycled.png'), str(tmp_path / 'chosen.png')
  assert sample(f'--workdir={runs[model]}', '--num=20', f'--output={cycled}').returncode == 0
  out = sample(f'--workdir={runs[model]}', '--num=20', f'--{flag}={value}', f'--output={chosen}')
  assert out.returncode == 0, out.stderr
  assert f'samples {"of class" if flag == "label" else "with code"} {value} of G' in out.stdout
  cycled, chosen = tiles(cycled, columns=10), tiles(chosen, columns=8)[:20]
  np.testing.assert_array_equal(cycled[value], chosen[value])
  assert not np.array_equal(cycled[0], chosen[0])


@pytest.mark.parametrize('model, args, message', [
    ('mlp', ['--label=3'], "--label is for a class-conditional model; workdir '{workdir}' holds "
                           "model 'mlp'"),
    ('cgan', ['--code=1'], "--code is for an InfoGAN; workdir '{workdir}' holds model 'cgan'"),
    ('cgan', ['--label=10'], "--label must be in [0, 10) for model 'cgan', got 10"),
    ('infogan', ['--code=-1'], "--code must be in [0, 10) for model 'infogan', got -1"),
    ('cgan', ['--ema'], "--ema: workdir '{workdir}': this run kept no EMA of the generator"),
    ('mlp', ['--interpolate', '--num=12'], '--num must be a multiple of 8 with --interpolate'),
    ('mlp', ['--output=grid.jpg'], "--output must name a .png file, got 'grid.jpg'"),
    (None, [], "no checkpoint in workdir '{workdir}'"),
])
def test_bad_values_are_one_error_line_and_exit_2(runs, tmp_path, model, args, message):
  workdir = runs[model] if model else str(tmp_path)
  out = sample(f'--workdir={workdir}', *args)
  assert out.returncode == 2
  assert [line for line in out.stderr.splitlines() if line.startswith('error:')] == [
      out.stderr.strip()]
  assert out.stderr.startswith(f'error: {message.format(workdir=workdir)}'), out.stderr
