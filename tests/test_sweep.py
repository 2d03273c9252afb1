"""The recipe study: a grid of overrides x seeds, each finished cell a JSON line, a rerun skipping
what is there, and the table and figure built from the cells."""
import json
import os
import subprocess
import sys

import pytest

from conftest import REPO, train_evaluator, write_mnist_like

TINY = '''from gans.configs import default


def get_config(dataset='mnist'):
  config = default.get_config()
  config.model, config.dataset, config.parallel = 'mlp', dataset, 'jit'
  config.batch_size, config.latent_dim, config.num_sample_images = 16, 8, 8
  config.mlp.generator_widths, config.mlp.discriminator_widths = (32,), (32,)
  return config
'''


@pytest.fixture(scope='module')
def study(tmp_path_factory):
  root = tmp_path_factory.mktemp('study')
  data = str(root / 'data')
  write_mnist_like(os.path.join(data, 'mnist'), num_train=256, num_test=128)
  classifiers = train_evaluator(data, str(root / 'classifiers'))
  (root / 'tiny.py').write_text(TINY)
  (root / 'infogan.py').write_text(TINY.replace("'mlp', dataset", "'infogan', dataset").replace(
      '  return config', '  default.add_family_section(config, families.spec("infogan"))\n'
      '  config.infogan.continuous = 1\n  return config').replace(
          'from gans.configs import default', 'from gans.configs import default\n'
          'from gans.core import families'))
  env = dict(os.environ, GANS_DATA_DIR=data, GANS_CLASSIFIER_DIR=classifiers)

  def sweep(*variants, seeds='0,1', output='out', config='tiny.py', eval_every=2):
    return subprocess.run(
        [sys.executable, '-m', 'gans.tools.sweep', f'--config={root / config}',
         f'--output_dir={root / output}', f'--seeds={seeds}', '--steps=4',
         f'--eval_every={eval_every}',
         '--eval_num_samples=100', '--num_samples=100',
         *[f'--variant={v}' for v in variants]],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
  return root / 'out', sweep


def cells(out):
  return [json.loads(line) for line in (out / 'cells.jsonl').read_text().splitlines()]


def test_each_cell_is_a_line_and_a_rerun_trains_only_what_is_missing(study):
  out, sweep = study
  # A tuple override reads back from cells.jsonl as a list: the rerun must still match it.
  ema = 'ema;ema_decay=0.5;mlp.generator_widths=(48,)'
  first = sweep('base', ema)
  assert first.returncode == 0, first.stderr
  made = cells(out)
  assert [(c['variant'], c['seed']) for c in made] == [('base', 0), ('base', 1), ('ema', 0),
                                                       ('ema', 1)]
  for cell in made:
    assert cell['steps'] == 4 and cell['members'] == 2
    assert [p['step'] for p in cell['curve']] == [2, 4]
    assert cell['g']['frechet_distance'] > 0 and cell['real']['frechet_distance'] >= 0
    assert (cell['ema'] is None) == (cell['variant'] == 'base')
    assert ('fd_ema' in cell['curve'][0]) == (cell['variant'] == 'ema')
  assert made[0]['g'] != made[1]['g']  # two seeds, two runs
  assert made[2]['overrides'] == {'ema_decay': 0.5, 'mlp.generator_widths': [48]}

  again = sweep('base', ema, 'lr;learning_rate=1e-3', seeds='0,1')
  assert again.returncode == 0, again.stderr
  now = cells(out)
  assert now[:4] == made  # finished cells kept as they were, not trained again
  assert [(c['variant'], c['seed']) for c in now[4:]] == [('lr', 0), ('lr', 1)]

  readme = (out / 'README.md').read_text()
  for name in ('base', 'ema', 'lr'):
    assert f'| {name} |' in readme
  assert '`learning_rate=0.001`' in readme and (out / 'fd_vs_seconds.png').stat().st_size > 0


def test_a_variant_name_made_with_other_settings_is_refused(study):
  out, sweep = study
  if not (out / 'cells.jsonl').exists():
    assert sweep('base').returncode == 0
  before = (out / 'cells.jsonl').read_text()
  result = sweep('base;batch_size=32')
  assert result.returncode == 2
  assert "error: variant 'base' is in cells.jsonl with overrides {}" in result.stderr
  assert (out / 'cells.jsonl').read_text() == before
  bad = sweep('fast;learning_rate=1e-3', 'typo;no_such_field=1', seeds='5')
  assert bad.returncode == 2
  assert "error: --variant field 'no_such_field': the config has no such field" in bad.stderr
  inpainting = sweep('fast;learning_rate=1e-3', 'in-painting;model=ccgan', seeds='5')
  assert inpainting.returncode == 2
  assert ("error: variant 'in-painting': a ccgan does not sample from noise alone"
          in inpainting.stderr)
  assert (out / 'cells.jsonl').read_text() == before  # refused before anything trained


def test_the_budget_counts_generator_steps_whatever_n_critic(study):
  """With n_critic 2, four steps of G are eight of D; the curve is read at G's steps."""
  out, sweep = study
  result = sweep('two critics;n_critic=2', seeds='0', output='critics')
  assert result.returncode == 0, result.stderr
  [cell] = cells(out.parent / 'critics')
  assert (cell['steps'], cell['discriminator_steps']) == (4, 8)
  assert [p['step'] for p in cell['curve']] == [2, 4]
  assert '| two critics | `n_critic=2` | 0 | 4 | 8 |' in (out.parent / 'critics' /
                                                          'README.md').read_text()


def test_a_study_stopped_part_way_has_the_table_of_its_finished_variants(study):
  out, sweep = study
  # The second variant fails in training (a batch larger than the 256 training images), after
  # the first finished: its row is in the table all the same.
  result = sweep('first', 'too big;batch_size=512', seeds='3', output='stopped')
  assert result.returncode != 0
  stopped = out.parent / 'stopped'
  assert [(c['variant'], c['seed']) for c in cells(stopped)] == [('first', 3)]
  readme = (stopped / 'README.md').read_text()
  assert '| first |' in readme and 'too big' not in readme
  assert (stopped / 'fd_vs_seconds.png').stat().st_size > 0


def test_a_family_report_goes_into_each_cell_and_the_table(study):
  """An InfoGAN study records its code accuracy per seed, as evaluate.py's report computes it,
  writes the report's figure per cell and adds the report's columns to the table."""
  out, sweep = study
  result = sweep('two codes, base', output='codes', config='infogan.py', eval_every=0)
  assert result.returncode == 0, result.stderr
  made = cells(out.parent / 'codes')
  for cell in made:
    report = cell['report']
    assert report['model'] == 'infogan' and report['num_samples'] == 100
    assert 0 < report['chance_accuracy'] <= report['code_accuracy'] <= 1
    assert (out.parent / 'codes' / 'figures' / f'two-codes-base-seed{cell["seed"]}' /
            'infogan_codes.png').stat().st_size > 0
  accuracies = sorted(cell['report']['code_accuracy'] for cell in made)
  readme = (out.parent / 'codes' / 'README.md').read_text()
  assert '| code accuracy ↑ | chance |' in readme
  median = (accuracies[0] + accuracies[1]) / 2
  assert f'{median:.4f} [{accuracies[0]:.4f}, {accuracies[1]:.4f}]' in readme


def test_the_study_figure_tells_thirty_variants_apart():
  from gans.run import pictures
  styles = [tuple(pictures.line_style(i).values()) for i in range(30)]
  assert len(set(styles)) == 30
