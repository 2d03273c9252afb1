"""Do a generator's samples help a classifier? The augmentation grid, resumable cell by cell.

  python -m gans.experiments.augmentation --dataset=mnist --output_dir=results/augmentation_mnist \
      --generators=cgan=workdirs/cgan_mnist,acgan=workdirs/acgan_mnist,ppca=workdirs/cppca64_mnist \
      [--ema_generators=acgan]

For each seed, real training fraction f and synthetic:real ratio r, the evaluator's LeNet is
trained from scratch on a random f of the train split plus r times as many samples of a
class-conditional generator (labels balanced; the EMA of the generators named in
--ema_generators), and scored on the real test split; r = 0 is the
real-only baseline, shared by all generators. "Synthetic only" trains on as many samples as the
whole train split and nothing real: the classification accuracy score (CAS, Ravuri & Vinyals
2019). Every cell trains for the same --num_steps minibatches, so cells differ only in data.

Each finished cell is appended to cells.jsonl; a second run skips the cells it finds there, so
an interrupted grid resumes where it stopped. augmentation.md (mean ± std over seeds) and
augmentation.png are rewritten from all finished cells after each cell, so a grid that runs for
hours can be read (and its folder collected) part way. Progress: a bar over the cells (and
one over each cell's classifier steps) on a terminal, a log line at least every 30 s otherwise.
"""
import dataclasses
import json
import os
import time

import jax
import numpy as np
import optax
from absl import flags, logging

from gans.core import data
from gans.core.errors import UsageError
from gans.core.models import lenet
from gans.evaluation import sampling, supervised
from gans.run import datasets, startup
from gans.run import progress as progress_lib
from gans.tools import cli

FLAGS = flags.FLAGS


def define_flags():
  """The command line's flags; defined by `__main__` only, so importing this module adds none."""
  flags.DEFINE_string('dataset', 'mnist', 'Real dataset (its train split is subsampled, its test '
                      'split scores every cell).')
  flags.DEFINE_list('generators', [], 'name=workdir pairs of class-conditional generators (cgan, '
                    'acgan, ecgan, or ppca with ppca.class_conditional).')
  flags.DEFINE_list('ema_generators', [], 'Names of --generators sampled from the EMA of their '
                    'generator (a run with ema_decay > 0), the others from G itself.')
  flags.DEFINE_list('ratios', ['0', '0.25', '0.5', '1', '2'], 'Synthetic:real ratios.')
  flags.DEFINE_list('fractions', ['0.01', '0.1', '1'], 'Fractions of the real train split.')
  flags.DEFINE_list('seeds', ['0', '1', '2'], 'Seeds: real subset, samples, classifier init.')
  flags.DEFINE_bool('synthetic_only', True, 'Also train on samples alone (CAS).')
  flags.DEFINE_integer('num_steps', 2000, 'Minibatch steps per classifier.')
  flags.DEFINE_integer('batch_size', 128, 'Minibatch size.')
  flags.DEFINE_float('learning_rate', 1e-3, 'Adam learning rate, cosine-decayed to 0.')
  flags.DEFINE_string('output_dir', None, 'Where cells.jsonl, augmentation.md and .png go.')
  flags.DEFINE_string('data_dir', None, 'Folder of IDX files per dataset; default $GANS_DATA_DIR.')


SYNTHETIC_ONLY = 'synthetic_only'  # the ratio field of a CAS cell
REAL_ONLY = 'real_only'  # the generator field of an r = 0 cell


@dataclasses.dataclass(frozen=True)
class Settings:
  """What every cell of one grid shares; a grid refuses to continue under other settings."""
  dataset: str
  num_steps: int
  batch_size: int
  learning_rate: float


def cell_key(cell) -> tuple:
  return cell['generator'], cell['fraction'], cell['ratio'], cell['seed']


def read_cells(path) -> list:
  """The finished cells; a line torn by a kill is dropped (its cell runs again)."""
  if not os.path.exists(path):
    return []
  cells = []
  with open(path) as f:
    for line in f:
      try:
        cells.append(json.loads(line))
      except ValueError:
        continue
  return cells


def plan(generators, ratios, fractions, seeds, synthetic_only) -> list:
  """Every cell of the grid as (generator, fraction, ratio, seed), seed by seed."""
  cells = []
  for seed in seeds:
    for fraction in fractions:
      if 0 in ratios:
        cells.append((REAL_ONLY, fraction, 0, seed))
      cells += [(g, fraction, r, seed) for g in generators for r in ratios if r > 0]
    if synthetic_only:
      cells += [(g, 1.0, SYNTHETIC_ONLY, seed) for g in generators]
  return cells


def _check_settings(output_dir, settings, generators, ema_generators):
  """Writes experiment.json on the first run; later runs must match it: the same settings, and a
  generator name already in the grid from the same workdir, sampled from G or its EMA as before
  (a file without the 'ema_generators' record sampled G)."""
  path = os.path.join(output_dir, 'experiment.json')
  ours = {'settings': dataclasses.asdict(settings), 'generators': generators,
          'ema_generators': sorted(ema_generators)}
  if os.path.exists(path):
    with open(path) as f:
      saved = json.load(f)
    if saved['settings'] != ours['settings']:
      raise UsageError(f'{output_dir} holds a grid made with {saved["settings"]}, not '
                       f'{ours["settings"]}; use another --output_dir or the same settings')
    saved_ema = set(saved.get('ema_generators', []))
    for name, workdir in generators.items():
      if saved['generators'].get(name, workdir) != workdir:
        raise UsageError(f'{output_dir} holds cells of generator {name!r} from '
                         f'{saved["generators"][name]}, not {workdir}; use another name')
      if name in saved['generators'] and (name in saved_ema) != (name in ema_generators):
        sampled = 'its EMA' if name in saved_ema else 'G itself'
        raise UsageError(f'{output_dir} holds cells of generator {name!r} sampled from '
                         f'{sampled}; use another name to sample it otherwise')
    ours['generators'] = {**saved['generators'], **generators}
    ours['ema_generators'] = sorted(saved_ema | set(ema_generators))
  with open(path + '.tmp', 'w') as f:
    json.dump(ours, f, indent=1)
  os.replace(path + '.tmp', path)


def load_generators(generators, dataset, ema_generators=()):
  """name -> (family, generator, variables) of class-conditional generators of `dataset`, the
  variables of G's EMA for the names in `ema_generators`."""
  loaded = {}
  num_classes = data.get_info(dataset).num_classes
  for name, workdir in generators.items():
    family, generator, variables = sampling.load_generator(workdir, name in ema_generators,
                                                           asked_by='--ema_generators')
    if not family.label_model:
      raise UsageError(f'generator {name!r} ({workdir}, model {family.config.model}) does not '
                       f'take labels; the augmentation needs cgan, acgan, ecgan or a '
                       f'class-conditional ppca')
    if family.num_classes != num_classes:
      raise UsageError(f'generator {name!r} ({workdir}) makes {family.num_classes} classes of '
                       f'{family.config.dataset}; {dataset} has {num_classes}')
    loaded[name] = (family, generator, variables)
  return loaded


def real_subset(num_images, fraction, seed) -> np.ndarray:
  count = max(1, round(fraction * num_images))
  return np.random.default_rng([seed, round(fraction * 1e6)]).choice(num_images, count,
                                                                     replace=False)


def train_and_score(settings, images, labels, test_images, test_labels, seed,
                    description=None) -> float:
  """Test accuracy of the evaluator's LeNet trained on (images, labels) for the grid's steps;
  with a `description`, its steps show progress."""
  num_classes = data.get_info(settings.dataset).num_classes
  network = lenet.Classifier(num_classes)
  tx = optax.adam(optax.cosine_decay_schedule(settings.learning_rate, settings.num_steps))
  params = supervised.train_classifier(network, tx, images, labels, settings.num_steps,
                                       settings.batch_size, jax.random.key(seed),
                                       logits_of=lambda outputs: outputs[0],
                                       description=description)
  apply = jax.jit(lambda p, x: network.apply({'params': p}, x, train=False)[0].argmax(-1))
  predicted = np.concatenate([np.asarray(apply(params, data.to_float(test_images[i:i + 1000])))
                              for i in range(0, len(test_images), 1000)])
  return float(np.mean(predicted == test_labels))


def run_grid(settings, generators, ratios, fractions, seeds, output_dir, synthetic_only=True,
             data_dir=None, ema_generators=()) -> list:
  """Runs the cells not yet in output_dir/cells.jsonl; returns all cells."""
  unknown = sorted(set(ema_generators) - set(generators))
  if unknown:
    raise UsageError(f'--ema_generators names {",".join(unknown)}, not among --generators '
                     f'({",".join(generators) or "none"})')
  if any(r < 0 for r in ratios):
    raise UsageError(f'--ratios must be >= 0, got {ratios}')
  if any(not 0 < f <= 1 for f in fractions):
    raise UsageError(f'--fractions must lie in (0, 1], got {fractions}')
  if not generators and (synthetic_only or any(r > 0 for r in ratios)):
    raise UsageError('--generators is empty; give name=workdir pairs (or only --ratios=0 and '
                     '--nosynthetic_only)')
  os.makedirs(output_dir, exist_ok=True)
  _check_settings(output_dir, settings, {k: os.path.abspath(v) for k, v in generators.items()},
                  set(ema_generators))
  loaded = load_generators(generators, settings.dataset, set(ema_generators))
  train_images, train_labels = datasets.load_split(settings.dataset, 'train', data_dir)
  test_images, test_labels = datasets.load_split(settings.dataset, 'test', data_dir)
  path = os.path.join(output_dir, 'cells.jsonl')
  finished = read_cells(path)
  with open(path + '.tmp', 'w') as f:  # without a torn last line, which the next cell would join
    f.writelines(json.dumps(c) + '\n' for c in finished)
  os.replace(path + '.tmp', path)
  done = {cell_key(c) for c in finished}
  todo = [c for c in plan(list(generators), ratios, fractions, seeds, synthetic_only)
          if c not in done]
  logging.info('%d cells finished, %d to run', len(done), len(todo))
  samples = {}  # (generator, seed) -> (images, labels), made once, sliced per cell

  def synthetic(name, seed, count):
    if (name, seed) not in samples:
      most = max([round(r * len(train_images)) for r in ratios] + [len(train_images)])
      family, generator, variables = loaded[name]
      logging.info('sampling %d images of generator %r, seed %d', most, name, seed)
      started = time.perf_counter()
      images, labels = sampling.generate(family, generator, variables, most, seed)
      samples[(name, seed)] = images.reshape((-1,) + train_images.shape[1:]), labels
      logging.info('sampled them in %.0f s', time.perf_counter() - started)
    images, labels = samples[(name, seed)]
    return images[:count], labels[:count]  # labels cycle, so any prefix is balanced

  progress = progress_lib.Progress('augmentation grid', len(todo), unit='cell')
  for number, (name, fraction, ratio, seed) in enumerate(todo, 1):
    started = time.perf_counter()
    if ratio == SYNTHETIC_ONLY:
      images, labels = synthetic(name, seed, len(train_images))
      num_real = 0
    else:
      pick = real_subset(len(train_images), fraction, seed)
      num_real = len(pick)
      images, labels = train_images[pick], train_labels[pick]
      if ratio > 0:
        fake_images, fake_labels = synthetic(name, seed, round(ratio * num_real))
        images = np.concatenate([images, fake_images])
        labels = np.concatenate([labels, fake_labels])
    accuracy = train_and_score(settings, images, labels, test_images, test_labels, seed,
                               f'cell {number}/{len(todo)}')
    cell = {'generator': name, 'fraction': fraction, 'ratio': ratio, 'seed': seed,
            'num_real': num_real, 'num_synthetic': len(images) - num_real,
            'test_accuracy': accuracy, 'seconds': round(time.perf_counter() - started, 2)}
    with open(path, 'a') as f:
      f.write(json.dumps(cell) + '\n')
    logging.info('cell %d/%d: %s', number, len(todo), json.dumps(cell))
    write_pages(read_cells(path), settings, output_dir)
    progress.update(number)
  progress.close()
  return read_cells(path)


def summarise(cells) -> dict:
  """(generator, fraction, ratio) -> (mean, std, number of seeds) of the test accuracy."""
  groups = {}
  for c in cells:
    groups.setdefault((c['generator'], c['fraction'], c['ratio']), []).append(c['test_accuracy'])
  return {k: (float(np.mean(v)), float(np.std(v)), len(v)) for k, v in groups.items()}


def _fmt(stat, num_seeds):
  """mean ± std in %, with the number of seeds when a cell has fewer than the grid."""
  if stat is None:
    return '–'
  text = f'{100 * stat[0]:.2f} ± {100 * stat[1]:.2f}'
  return text if stat[2] == num_seeds else f'{text} (n={stat[2]})'


def _row(columns) -> str:
  return '| ' + ' | '.join(columns) + ' |'


def markdown(cells, settings) -> str:
  summary = summarise(cells)
  generators = sorted({c['generator'] for c in cells} - {REAL_ONLY})
  fractions = sorted({c['fraction'] for c in cells if c['ratio'] != SYNTHETIC_ONLY})
  ratios = sorted({c['ratio'] for c in cells if c['ratio'] not in (0, SYNTHETIC_ONLY)})
  seeds = sorted({c['seed'] for c in cells})
  lines = [f'Test accuracy (%) of the LeNet on real {settings.dataset} test images, mean ± std '
           f'over seeds {seeds}; {settings.num_steps} steps of batch {settings.batch_size} per '
           f'cell; ratio = synthetic:real images.', '',
           _row(['real fraction', 'generator', 'ratio 0 (real only)']
                + [f'ratio {r:g}' for r in ratios]),
           '|---|---|---|' + '---|' * len(ratios)]
  for fraction in fractions:
    baseline = _fmt(summary.get((REAL_ONLY, fraction, 0)), len(seeds))
    for g in generators or ['–']:  # a grid of baselines alone (--ratios=0) still has its rows
      row = [_fmt(summary.get((g, fraction, r)), len(seeds)) for r in ratios]
      lines.append(_row([f'{100 * fraction:g} %', g, baseline] + row))
  cas = [(g, summary.get((g, 1.0, SYNTHETIC_ONLY))) for g in generators]
  if any(stat for _, stat in cas):
    real = _fmt(summary.get((REAL_ONLY, 1.0, 0)), len(seeds))
    lines += ['', 'Synthetic only (classification accuracy score): as many samples as the whole '
              f'train split, no real image; real only on 100 %: {real}.', '',
              '| generator | synthetic only |', '|---|---|']
    lines += [f'| {g} | {_fmt(stat, len(seeds))} |' for g, stat in cas if stat]
  return '\n'.join(lines) + '\n'


def plot(cells, path, dataset):
  import matplotlib
  matplotlib.use('Agg')
  import matplotlib.pyplot as plt
  summary = summarise(cells)
  generators = sorted({c['generator'] for c in cells} - {REAL_ONLY})
  fractions = sorted({c['fraction'] for c in cells if c['ratio'] != SYNTHETIC_ONLY})
  fig, axes = plt.subplots(1, len(fractions), figsize=(5 * len(fractions), 3.8), squeeze=False)
  for ax, fraction in zip(axes[0], fractions):
    for g in generators:
      points = sorted((r, summary[(g, fraction, r)]) for (gg, f, r) in summary
                      if gg == g and f == fraction and r != SYNTHETIC_ONLY)
      baseline = summary.get((REAL_ONLY, fraction, 0))
      if baseline:
        points = [(0, baseline)] + points
      ax.errorbar([r for r, _ in points], [100 * s[0] for _, s in points],
                  yerr=[100 * s[1] for _, s in points], marker='o', capsize=3, label=g)
      cas = summary.get((g, 1.0, SYNTHETIC_ONLY))
      if cas and fraction == 1.0:
        ax.axhline(100 * cas[0], ls=':', lw=1, color=ax.lines[-1].get_color(),
                   label=f'{g}: synthetic only')
    ax.set_title(f'{dataset}: {100 * fraction:g} % of the real train split')
    ax.set_xlabel('synthetic : real')
    ax.set_ylabel('test accuracy (%)')
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
  fig.tight_layout()
  fig.savefig(path, dpi=100)
  plt.close(fig)


def write_pages(cells, settings, output_dir) -> str:
  """Rewrites augmentation.md and augmentation.png from `cells`; returns the table."""
  table = markdown(cells, settings)
  with open(os.path.join(output_dir, 'augmentation.md'), 'w') as f:
    f.write(table)
  plot(cells, os.path.join(output_dir, 'augmentation.png'), settings.dataset)
  return table


def _numbers(name, values, kind):
  try:
    return sorted({kind(v) for v in values})
  except ValueError:
    raise UsageError(f'--{name} must be {kind.__name__}s, got {",".join(values)}') from None


def main():
  startup.prepare()
  if not FLAGS.output_dir:
    raise UsageError('--output_dir is required')
  generators = {}
  for pair in FLAGS.generators:
    name, sep, workdir = pair.partition('=')
    if not sep or not name or not workdir:
      raise UsageError(f'--generators takes name=workdir pairs, got {pair!r}')
    generators[name] = workdir
  data.get_info(FLAGS.dataset)
  for field in ('num_steps', 'batch_size'):
    if FLAGS[field].value <= 0:
      raise UsageError(f'--{field} must be a positive integer, got {FLAGS[field].value}')
  settings = Settings(FLAGS.dataset, FLAGS.num_steps, FLAGS.batch_size, FLAGS.learning_rate)
  ratios = _numbers('ratios', FLAGS.ratios, float)
  fractions = _numbers('fractions', FLAGS.fractions, float)
  seeds = _numbers('seeds', FLAGS.seeds, int)
  logging.info('JAX %s on %s', jax.__version__, jax.devices())
  cells = run_grid(settings, generators, ratios, fractions, seeds, FLAGS.output_dir,
                   FLAGS.synthetic_only, FLAGS.data_dir, FLAGS.ema_generators)
  print(write_pages(cells, settings, FLAGS.output_dir))


if __name__ == '__main__':
  cli.run_main(main, define_flags)
