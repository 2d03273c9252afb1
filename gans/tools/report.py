"""Builds results/README.md, results/REPORT.md and results/<run>/ from finished workdirs and
experiments, and the results table of the top-level README; nothing here is typed in.

  python -m gans.tools.report --machine="2-core CPU" [--workdirs=W1,W2,...] [--sweep=DIR]
      [--augmentation=DIR] [--earlier=PAGE] [--out=results] [--readme_only] [--readme=README.md]

Each workdir must hold a finished train.py run, the `eval.json` of `evaluate.py --workdir` (and
`eval_ema.json` where the run kept an EMA of G), and `command.txt` with the commands that made
them; an optional `note.txt` is printed under the run. Copies a few epochs' sample grids, the GIF,
the curves and the evaluation figures into results/<run>/, with `run.json`: what the pages need
of the run that is not in those files (its config, epochs, seconds per epoch, note). The pages
are built from every results/<run>/ holding a run.json, so runs collected earlier stay on them
after their workdirs are gone, and a run collected again replaces its folder. Both pages write
one table of every metric beside its real reference, with the median seconds per epoch over the
run's epochs; runs on the MLP backbone in their papers' settings (`ORIGINAL_SETTINGS`) get a
section of their own, apart from the headline tables. REPORT.md opens with each dataset's
families on the fast networks: the loss and penalty study, read from
<out>/loss_study_<dataset>/cells.jsonl (`gans.tools.sweep`), beside the 10-epoch runs of the same
recipes and of the other families, with their time to quality, in a table and a figure,
fd_vs_seconds_<dataset>.png. The
sweeps and augmentation grids collected into <out> stay on REPORT.md as the runs do. The top-level
README's table, between its marker comments, lists each dataset's best runs, so that the figures a
reader meets first are rebuilt with the pages, never retyped.
"""
import glob
import json
import math
import os
import re
import shlex
import shutil
import statistics

import numpy as np
from absl import flags

from gans.core import families
from gans.core.errors import UsageError
from gans.run import checkpoints, pictures
from gans.tools import cli

FLAGS = flags.FLAGS

METRICS = [('classifier_score', 'classifier score ↑', 2), ('frechet_distance', 'FD ↓', 1),
           ('kid', 'KID ↓', 3), ('precision', 'precision ↑', 3), ('recall', 'recall ↑', 3),
           ('density', 'density', 3), ('coverage', 'coverage ↑', 3),
           ('classes_covered', 'classes', 0), ('class_entropy', 'class entropy', 3),
           ('nearest_train_distance_median', 'nearest-train L2', 0),
           ('conditional_accuracy', 'conditional acc. ↑', 4)]
# Copied from every workdir where present, beside its family's report and report figures.
COPIED = ['progress.gif', 'losses.png', 'dx_dgz.png', 'fid.png', 'loss_terms.png',
          'encoder_losses.png', 'eval.json', 'eval_class_histogram.png',
          'eval_ema.json', 'eval_nearest_neighbours.png', 'eval_confusion.png', 'metrics.jsonl',
          'command.txt', 'samples.npz', 'samples.png']
# (file, caption) of the figures shown under a run, where the run has them.
FIGURES = [('progress.gif', 'progress'), ('losses.png', 'losses'), ('dx_dgz.png', 'D(x), D(G(z))'),
           ('loss_terms.png', 'loss terms'), ('encoder_losses.png', 'encoder losses'),
           ('fid.png', 'Fréchet distance during training'),
           ('eval_class_histogram.png', 'class histogram'),
           ('eval_nearest_neighbours.png', 'nearest train images'),
           ('eval_confusion.png', 'confusion matrix'),
           ('samples.png', 'exported samples (samples.npz)')]
# Sample grids copied per run, evenly spread over its epochs, beside those at the epochs the
# family's original work showed (its `reference_grid_epochs`), where the run reached them.
GRIDS = 4
RUN_FILE = 'run.json'
# Config fields that name folders of the machine that trained the run, left out of run.json.
MACHINE_FIELDS = ('data_dir', 'classifier_dir')
# Files larger than this stay in the workdir (an InfoGAN's GIF of its tall grid: about 20 MB).
MAX_COPIED_BYTES = 8 * 2**20


def read_jsonl(path):
  with open(path) as f:
    return [json.loads(line) for line in f if line.strip()]


def collect_run(workdir, out_dir):
  """Copies a finished workdir's files into out_dir/<run>/ (replacing that folder) with run.json."""
  name = os.path.basename(os.path.normpath(workdir))
  target = os.path.join(out_dir, name)
  shutil.rmtree(target, ignore_errors=True)
  os.makedirs(target)
  config = {k: v for k, v in run_config(workdir).items() if k not in MACHINE_FIELDS}
  spec = families.spec(config['model'])
  own = [f'{spec.report_stem}.json'] if spec.report_stem else []
  for filename in COPIED + own + [figure for figure, _ in spec.report_figures]:
    path = os.path.join(workdir, filename)
    if os.path.exists(path) and os.path.getsize(path) <= MAX_COPIED_BYTES:
      shutil.copy(path, target)
    elif os.path.exists(path):
      print(f'{name}: {filename} not copied ({os.path.getsize(path) / 2**20:.0f} MB)')
  rows = read_jsonl(os.path.join(workdir, 'metrics.jsonl'))
  epochs = [r for r in rows if 'epoch_end' in r]
  grids = sorted(glob.glob(os.path.join(workdir, 'samples', 'step_*.png')))
  picks = {round(i) for i in np.linspace(0, len(grids) - 1, min(GRIDS, len(grids)))}
  published = spec.reference_grid_epochs(config)
  picks = sorted(picks | {e - 1 for e in published if e <= len(grids)})
  for i in picks:
    shutil.copy(grids[i], os.path.join(target, f'samples_epoch_{i + 1:03d}.png'))
  note_path = os.path.join(workdir, 'note.txt')
  fitted = rows[0] if rows and 'fit_seconds' in rows[0] else None  # PPCA: one closed-form fit
  summary = {'epochs': len(epochs), 'fit': fitted, 'config': config,
             'seconds_per_epoch': (float(np.median([r['seconds_per_epoch'] for r in epochs]))
                                   if epochs else None),
             'note': open(note_path).read().strip() if os.path.exists(note_path) else ''}
  with open(os.path.join(target, RUN_FILE), 'w') as f:
    json.dump(summary, f, indent=1)
    f.write('\n')


def load_run(folder):
  """A collected run, read back from its results/<run>/ folder."""
  def read(filename):
    path = os.path.join(folder, filename)
    return json.load(open(path)) if os.path.exists(path) else None
  name = os.path.basename(os.path.normpath(folder))
  with open(os.path.join(folder, 'command.txt')) as f:
    commands = f.read().strip()
  grids = sorted(os.path.basename(p)
                 for p in glob.glob(os.path.join(folder, 'samples_epoch_*.png')))
  run = read(RUN_FILE)
  spec = families.spec(run['config']['model'])
  figures = FIGURES + list(spec.report_figures)
  return {'name': name, **run, 'report': read('eval.json'),
          'ema_report': read('eval_ema.json'), 'commands': commands, 'grids': grids,
          'family_report': read(f'{spec.report_stem}.json') if spec.report_stem else None,
          'figures': [(f, c) for f, c in figures if os.path.exists(os.path.join(folder, f))]}


def collected_runs(out_dir):
  """Every run collected into out_dir, MNIST's first, each dataset's in the registry's order of
  models."""
  runs = [load_run(os.path.dirname(p)) for p in glob.glob(os.path.join(out_dir, '*', RUN_FILE))]
  datasets = list(DATASET_TITLES)
  return sorted(runs, key=lambda r: (datasets.index(r['config']['dataset']),
                                     families.models().index(r['config']['model']), r['name']))


def run_config(workdir):
  """The config saved with the newest checkpoint, read by the run format's own reader."""
  return checkpoints.read_latest_meta(workdir)['config']


def cell(value, digits):
  return f'{value:.{digits}f}'


def timing(run):
  """Median seconds per epoch, or a PPCA's fit time."""
  if run['fit']:
    return f'fit {run["fit"]["fit_seconds"]:.1f} s'
  return f'{run["seconds_per_epoch"]:.2f}'


def epochs_cell(run):
  """'trained / asked for' (the config's num_epochs), or '–' for a closed-form fit."""
  if run['fit']:
    return '–'
  asked = run['config'].get('num_epochs') if run['config'].get('num_steps') is None else None
  return f'{run["epochs"]} / {asked}' if asked else str(run['epochs'])


def scored_versions(run):
  """(label suffix, evaluation) of the run's generator and, where it kept one, of its EMA."""
  ema = [(' (EMA of G)', run['ema_report'])] if run['ema_report'] else []
  return [('', run['report'])] + ema


def metric_cells(report):
  samples, real = report['samples'], report['real']
  return [f'{cell(samples[key], d)} / {cell(real[key], d)}' if key in samples else '–'
          for key, _, d in METRICS]


QUALITY_FACTORS = (10, 4)  # time to quality: the Fréchet distance within these multiples of real


def training_seconds_at(rows, step):
  """Training seconds (compilation and Fréchet checks left out, as the epoch times) until `step`:
  the epochs before its own, and its own in proportion to the steps done."""
  seconds, start = 0.0, 0
  for row in (r for r in rows if 'epoch_end' in r):
    if step <= row['step']:
      return seconds + row['seconds'] * (step - start) / (row['step'] - start)
    seconds, start = seconds + row['seconds'], row['step']
  return None  # beyond the last finished epoch


def comparable_curve(rows, num_samples, key='eval_fid') -> list:
  """The Fréchet curve's points (of G, or of its EMA with key 'eval_fid_ema') that scored
  `num_samples` samples, as many as the evaluation: only those compare with its real reference
  (the distance's bias depends on the count)."""
  return [r for r in rows if key in r and r['eval_num_samples'] == num_samples]


def time_to_quality(rows, real_fd, num_samples, key='eval_fid') -> list:
  """(factor, step, epoch, training seconds) at which the curve's Fréchet distance (`key`) first
  came within factor x `real_fd`, or (factor, None, None, None); [] when the curve has no point
  comparable with the evaluation (`comparable_curve`)."""
  curve = comparable_curve(rows, num_samples, key)
  if not curve:
    return []
  out = []
  for factor in QUALITY_FACTORS:
    first = next((r for r in curve if r[key] <= factor * real_fd), None)
    out.append((factor, None, None, None) if first is None else
               (factor, first['step'], first['epoch'], training_seconds_at(rows, first['step'])))
  return out


# The Fréchet curves a run may record during training: G's, and its EMA's where it keeps one.
QUALITY_CURVES = (('eval_fid', 'G'), ('eval_fid_ema', 'the EMA of G'))


def quality_lines(run, folder) -> list:
  """The run's time to quality, a sentence for G and one for its EMA where its curve has one,
  against the real reference of its evaluation."""
  path = os.path.join(folder, 'metrics.jsonl')
  if not (run['report'] and 'samples' in run['report'] and os.path.exists(path)):
    return []
  rows, num_samples = read_jsonl(path), run['report']['num_samples']
  real_fd = run['report']['real']['frechet_distance']
  lines = []
  for key, generator in QUALITY_CURVES:
    reached = time_to_quality(rows, real_fd, num_samples, key)
    if not reached:
      continue
    parts = []
    for factor, step, epoch, seconds in reached:
      when = '' if seconds is None else f', {seconds:.0f} s of training'
      reach = 'not reached' if step is None else f'at step {step:,} (epoch {epoch:.2f}{when})'
      parts.append(f'within {factor} × real ({factor * real_fd:.1f}) {reach}')
    lowest = min(comparable_curve(rows, num_samples, key), key=lambda r: r[key])
    lines += [f'Time to quality (the Fréchet distance of {generator} during training, '
              f'{num_samples:,} samples, the curve of fid.png): ' + '; '.join(parts)
              + f'; lowest {lowest[key]:.1f} at epoch {lowest["epoch"]:.2f}.', '']
  return lines


def earlier_lines(pages):
  return ['Runs made by earlier versions of the code and not re-made yet on this one: '
          + ', '.join(f'[{p}]({p})' for p in pages) + '.', ''] if pages else []


def field(report, path):
  """The report's field at the dotted `path` (a report_table column's), None where it has none."""
  value = report
  for key in path.split('.'):
    if not isinstance(value, dict) or key not in value:
      return None
    value = value[key]
  return value


def field_cell(report, path, digits) -> str:
  """The report's field at the dotted `path`, to `digits` decimals (None: as it is); '–' where
  the report has no such field."""
  value = field(report, path)
  if value is None:
    return '–'
  return str(value) if digits is None else cell(value, digits)


def report_tables(runs) -> list:
  """The tables of the families' own reports across runs, as each family describes its table
  (`report_table`); runs of families that share a table's title share the table."""
  tables = {}
  for run in runs:
    spec = families.spec(run['config']['model']).report_table
    if spec and run['family_report']:
      tables.setdefault(spec['title'], (spec, []))[1].append(run)
  lines = []
  for title, (spec, members) in tables.items():
    run_columns = ['epochs', 's/epoch'] if spec.get('run_columns') else []
    header = ['run'] + run_columns + [label for label, _, _ in spec['columns']]
    lines += [f'## {title}', '', spec['intro'], '', '| ' + ' | '.join(header) + ' |',
              '|' + '---|' * len(header)]
    for run in members:
      cells = [f'[{run["name"]}](#{run["name"]})']
      if run_columns:
        cells += [str(run['epochs']), f'{run["seconds_per_epoch"]:.2f}']
      cells += [field_cell(run['family_report'], path, digits)
                for _, path, digits in spec['columns']]
      lines.append('| ' + ' | '.join(cells) + ' |')
    lines += ['', spec['footer'].format(**members[0]['family_report']), '']
  return lines


# Runs on the MLP backbone in the settings of their family's paper or reference code, each still
# reproducible from its config: the pages list them apart from the headline tables, in a section
# of their own. A run whose train command names one of these config files belongs there (the
# same families on the fast networks, wgan_dcgan.py and the like, do not).
ORIGINAL_SETTINGS = ('wgan', 'r1', 'dragan', 'bigan', 'infogan')
ORIGINAL_SETTINGS_TITLE = 'The original settings'
ORIGINAL_SETTINGS_INTRO = (
    'WGAN, R1, DRAGAN, BiGAN and InfoGAN on the MLP backbone, each in the settings of its paper '
    'or reference code that its config describes. Their networks and budgets are not those of '
    'the headline runs above, so their numbers are listed apart; each stays reproducible from '
    'the config in its command.')


def config_file(commands) -> str:
  """The stem of the config file that a run's train command names ('wgan' of
  `--config=gans/configs/wgan.py:fashion_mnist`), '' where it names none."""
  match = re.search(r'--config=\S*?(\w+)\.py', commands)
  return match.group(1) if match else ''


def split_original_settings(runs) -> tuple:
  """(headline runs, runs in their original settings), each in the order given."""
  original = [run for run in runs if config_file(run['commands']) in ORIGINAL_SETTINGS]
  return [run for run in runs if run not in original], original


def readme_table(runs) -> list:
  """The lines of README.md's table of every metric of the runs, each run's G and its EMA."""
  lines = ['| run | epochs | s/epoch (median) | evaluator test acc. | '
           + ' | '.join(label for _, label, _ in METRICS) + ' |',
           '|' + '---|' * (4 + len(METRICS))]
  first_with = {}  # a report's sample scores -> the row that showed them first
  for run in runs:
    for version, report in scored_versions(run):
      scores = json.dumps(report['samples'], sort_keys=True)
      row = f'[{run["name"]}](#{run["name"]}){version}'
      # A generator trained unchanged inside another run (an E-cGAN's cGAN) scores the same.
      same = (f' (the same generator as {first_with[scores]}, so the same scores)'
              if scores in first_with else '')
      first_with.setdefault(scores, row)
      lines.append(f'| {row}{same} | {epochs_cell(run)} | '
                   f'{timing(run)} | {report["classifier"]["test_accuracy"]:.4f} | '
                   + ' | '.join(metric_cells(report)) + ' |')
  return lines


def write_readme(runs, machine, out_dir, earlier=()):
  sampled = [run for run in runs if 'samples' in run['report']]
  headline, original = split_original_settings(sampled)
  lines = ['# Results', '',
           'Every figure and number here comes from a real run on real data, made by the commands '
           f'shown under each run, on {machine}. Built by `python -m gans.tools.report` from each '
           'run\'s folder here (what it copied from the run\'s workdir, and `run.json`). Each '
           'metric is printed as **samples / real reference**: the reference is '
           'the same number of real *train* images scored by the same code against the real test '
           'split (see the Evaluate section of the top-level README for the metrics). Epochs: '
           'trained / asked for by the run\'s config.', '',
           *earlier_lines(earlier), *readme_table(headline)]
  lines += ['', f'Metrics on {sampled[0]["report"]["num_samples"]:,} samples per run (a label '
            'model\'s with every class equally often; conditional accuracy: the evaluator names '
            'the class asked for; "EMA of G": the same run sampled from the exponential moving '
            'average of its generator, `evaluate.py --use_ema`). KID is the unbiased MMD² of the '
            'evaluator\'s features in their own units (not scaled by 1,000). Seconds per epoch '
            'exclude compilation and the evaluations of `--eval_every`.', '']
  if original:
    lines += [f'## {ORIGINAL_SETTINGS_TITLE}', '', ORIGINAL_SETTINGS_INTRO, '',
              *readme_table(original), '']
  lines += report_tables(runs)
  for run in runs:
    name = run['name']
    lines += [f'## {name}', '', '```bash', run['commands'], '```', '']
    lines += [run['note'], ''] if run['note'] else []
    lines += quality_lines(run, os.path.join(out_dir, name))
    if run['fit']:  # a closed-form fit has no epochs, only its samples
      lines += ['Samples of the fit:', '']
    elif run['grids']:
      lines += ['Sample grids at epochs '
                + ', '.join(g[len('samples_epoch_'):-4].lstrip('0') for g in run['grids']) + ':',
                '']
    lines += [' '.join(f'![{g}]({name}/{g})' for g in run['grids']), '',
              ' '.join(f'![{caption}]({name}/{f})' for f, caption in run['figures']), '']
  with open(os.path.join(out_dir, 'README.md'), 'w') as f:
    f.write('\n'.join(lines))


DATASET_TITLES = {'mnist': 'MNIST', 'fashion_mnist': 'Fashion-MNIST'}
REPORT_METRICS = ['classifier_score', 'frechet_distance', 'kid', 'precision', 'recall',
                  'coverage', 'conditional_accuracy']


LOSS_LABELS = {'minimax': 'minimax loss', 'least_squares': 'least-squares loss',
               'hinge': 'hinge loss', 'wasserstein_gp': 'WGAN-GP',
               'wasserstein_clip': 'WGAN (weight clipping)'}


def model_label(config) -> str:
  """The family's title of the run, and what the run adds to the family's plain recipe."""
  label = families.spec(config['model']).title(config)
  # What the run adds to the family's plain recipe (fields that a run made by the first release of
  # this code lacks are at their defaults).
  extras = [LOSS_LABELS.get(config['loss'], '')]
  extras.append('spectral norm' if config.get('spectral_norm') else '')
  penalty = config.get('penalty', 'none')
  extras.append(f'{penalty.upper()} penalty' if penalty != 'none' else '')
  return ', '.join([label] + [e for e in extras if e])


# The loss and penalty study of each dataset: a `gans.tools.sweep` study in
# <out>/loss_study_<dataset>/ (its command in command.sh there), the fast DCGAN with each
# variant's overrides.
LOSS_STUDY = 'loss_study_{dataset}'
# The 10-epoch run of a study variant's recipe, results/<config>_<dataset>/ by the stem of its
# config file: the comparison gives its Fréchet distance and time to quality beside the cells.
TEN_EPOCH_RUNS = {'non-saturating': 'dcgan_fast', 'SN, hinge': 'sngan',
                  'WGAN-GP, LN': 'wgan_gp_dcgan', 'WGAN clip': 'wgan_dcgan',
                  'DRAGAN, BN halves': 'dragan_dcgan', 'R1 gamma 10, BN halves': 'r1_dcgan'}
# The families on the fast networks that no study variant stands for: a row each where its
# 10-epoch run is collected.
FAMILY_RUNS = {'BiGAN': 'bigan_dcgan', 'InfoGAN': 'infogan_dcgan', 'AC-GAN': 'acgan_dcgan',
               'cGAN': 'cgan_dcgan'}
# Overrides of D's normalisation, which the comparison gives a column of its own.
NORM_FIELDS = ('dcgan.discriminator_batch_norm', 'dcgan.discriminator_batch_norm_halves',
               'dcgan.discriminator_layer_norm')
RECIPE_FIELDS = ('loss', 'penalty', 'penalty_weight', 'spectral_norm')


def spread(values, form='.3g') -> str:
  """'median [min, max]' of the seeds' values."""
  return (f'{statistics.median(values):{form}} [{min(values):{form}}, '
          f'{max(values):{form}}]')


def curve_key(seed_cell) -> str:
  """The Fréchet distance of a study cell's curve: its EMA's where the cell kept one, else G's."""
  return 'fd_ema' if 'fd_ema' in seed_cell['curve'][0] else 'fd'


def median_curves(cells) -> dict:
  """{variant: (training seconds, Fréchet distances)}, each point the median over the variant's
  seeds (of the EMA of G where kept), as far as every seed's curve goes."""
  curves = {}
  for name in dict.fromkeys(seed_cell['variant'] for seed_cell in cells):
    ours = [seed_cell for seed_cell in cells if seed_cell['variant'] == name]
    key, points = curve_key(ours[0]), min(len(seed_cell['curve']) for seed_cell in ours)
    curves[name] = ([statistics.median(c['curve'][i]['seconds'] for c in ours)
                     for i in range(points)],
                    [statistics.median(c['curve'][i][key] for c in ours) for i in range(points)])
  return curves


def recipe_words(overrides) -> str:
  """A study variant's loss, penalty and spectral norm in words, then its other overrides but
  those of D's normalisation (`NORM_FIELDS`) as FIELD=VALUE; the base's loss is
  non-saturating."""
  words = [LOSS_LABELS.get(overrides.get('loss', 'non_saturating'),
                           overrides.get('loss', 'non_saturating').replace('_', '-') + ' loss')]
  if overrides.get('penalty', 'none') != 'none':
    weight = overrides.get('penalty_weight')
    words.append(f'{overrides["penalty"].upper()} penalty'
                 + ('' if weight is None else f' (weight {weight:g})'))
  if overrides.get('spectral_norm'):
    words.append('spectral norm')
  told = {*RECIPE_FIELDS, *NORM_FIELDS}
  rest = ', '.join(f'`{k}={v}`' for k, v in overrides.items() if k not in told)
  return ', '.join(words) + (f'; {rest}' if rest else '')


def run_recipe(config) -> dict:
  """A run's loss, penalty and D's normalisation in the study's override fields, for
  `recipe_words` and `discriminator_norm`."""
  recipe = {'loss': config.get('loss', 'non_saturating'), 'penalty': config.get('penalty', 'none'),
            'spectral_norm': config.get('spectral_norm', False)}
  if recipe['penalty'] != 'none':
    recipe['penalty_weight'] = config['penalty_weight']
  dcgan = config.get('dcgan') or {}
  for field in NORM_FIELDS:
    name = field.split('.')[1]
    if name in dcgan:
      recipe[field] = dcgan[name]
  return recipe


def discriminator_norm(overrides) -> str:
  """D's normalisation in a study variant: the base's batch norm over the real and the fake
  images apart ('BN halves'), unless its overrides change it to joint batch norm ('BN'), layer
  norm ('LN') or none."""
  batch_norm, halves, layer_norm = (overrides.get(field, default) for field, default
                                    in zip(NORM_FIELDS, (True, True, False)))
  if not batch_norm:
    return 'LN' if layer_norm else 'none'
  return 'BN halves' if halves else 'BN'


def scored(seed_cell) -> dict:
  """A study cell's final scores: of its EMA of G where it kept one, else of G."""
  return seed_cell['ema'] or seed_cell['g']


def ten_epoch_run(runs, config_stem, dataset):
  """The collected run <config_stem>_<dataset> with scores, or None."""
  name = f'{config_stem}_{dataset}' if config_stem else None
  return next((r for r in runs if r['name'] == name and 'samples' in (r['report'] or {})), None)


def run_quality(run, out_dir):
  """(Fréchet distance cell linked to the run, [training seconds to each QUALITY_FACTORS x real
  or None], the curve [(seconds, distance)]) of a run's scored generator (its EMA where kept)."""
  version, report = scored_versions(run)[-1]
  fd = f'[{report["samples"]["frechet_distance"]:.1f}](README.md#{run["name"]}){version}'
  path = os.path.join(out_dir, run['name'], 'metrics.jsonl')
  if not os.path.exists(path):
    return fd, [None] * len(QUALITY_FACTORS), []
  rows, num_samples = read_jsonl(path), report['num_samples']
  key = 'eval_fid_ema' if version else 'eval_fid'
  reached = time_to_quality(rows, report['real']['frechet_distance'], num_samples, key)
  seconds = [at for _, _, _, at in reached] or [None] * len(QUALITY_FACTORS)
  curve = [(training_seconds_at(rows, r['step']), r[key])
           for r in comparable_curve(rows, num_samples, key)]
  return fd, seconds, [(at, distance) for at, distance in curve if at is not None]


def comparison(cells, runs, dataset, out_dir) -> tuple:
  """The lines of a dataset's comparison table, a row per study variant (median over its seeds
  [min, max]) and per family with a 10-epoch run only, then the real reference; and
  {row: (seconds, distances)} of the 10-epoch runs' curves."""
  header = ['family or variant', 'loss and penalty; other overrides', 'D\'s normalisation',
            'seeds',
            'FD ↓ median [min, max]', 'KID ↓', 'precision ↑', 'recall ↑', '10-epoch run: FD ↓',
            *(f'seconds to {factor} × real' for factor in QUALITY_FACTORS)]
  lines = ['| ' + ' | '.join(header) + ' |', '|' + '---|' * len(header)]
  rows = [(name, TEN_EPOCH_RUNS.get(name)) for name in dict.fromkeys(c['variant'] for c in cells)]
  rows += [(name, stem) for name, stem in {**TEN_EPOCH_RUNS, **FAMILY_RUNS}.items()
           if name not in dict(rows) and ten_epoch_run(runs, stem, dataset)]
  curves = {}
  for name, stem in rows:
    ours = [seed_cell for seed_cell in cells if seed_cell['variant'] == name]
    run = ten_epoch_run(runs, stem, dataset)
    recipe = ours[0]['overrides'] if ours else run_recipe(run['config'])
    row = [name, recipe_words(recipe), discriminator_norm(recipe)]
    if ours:
      scores = [scored(seed_cell) for seed_cell in ours]
      fd = spread([s['frechet_distance'] for s in scores], '.1f')
      row += [','.join(str(seed_cell['seed']) for seed_cell in ours),
              fd if ours[0]['ema'] else f'{fd} (G)',
              *(cell(statistics.median(s[key] for s in scores), 3)
                for key in ('kid', 'precision', 'recall'))]
    else:
      row += ['–'] * 5
    if run:
      fd, seconds, curve = run_quality(run, out_dir)
      row += [fd, *('–' if at is None else f'{at:,.0f}' for at in seconds)]
      if curve:
        curves[name] = tuple(map(list, zip(*curve)))
    else:
      row += ['–'] * (1 + len(QUALITY_FACTORS))
    lines.append('| ' + ' | '.join(row) + ' |')
  real = cells[0]['real'] if cells else ten_epoch_run(runs, rows[0][1], dataset)['report']['real']
  lines.append(f"| real train images (reference) | | | | {cell(real['frechet_distance'], 2)} | "
               + ' | '.join(cell(real[key], 3) for key in ('kid', 'precision', 'recall'))
               + ' |' + ' |' * (1 + len(QUALITY_FACTORS)))
  return lines, curves


def loss_study_lines(runs, out_dir) -> list:
  """REPORT.md's opening: each dataset's comparison of the loss and penalty study's variants
  (`LOSS_STUDY`) and of the families' 10-epoch runs on the fast networks, as a table and a
  figure of the runs' Fréchet distance against training seconds, fd_vs_seconds_<dataset>.png,
  written beside the page; a line for a dataset with neither yet."""
  lines = ['## Every family on the fast networks', '',
           'The loss and penalty study (after Lucic et al. 2018, "Are GANs Created Equal?"): the '
           'fast DCGAN trained for the same number of generator steps with each loss or penalty, '
           'several seeds each, every seed scored on the same number of samples. A row gives the '
           'median over the seeds and, for the Fréchet distance, [min, max]; scores are of the '
           'EMA of G where the variant keeps one ("(G)": of G). Beside each, the 10-epoch run of '
           'the same recipe (a variant with 5 D steps a G step trains 50 epochs, so that G gets '
           'as many updates), and the families that the study has no variant for, each by its '
           'own 10-epoch run: its Fréchet distance of 10,000 samples, and its training seconds '
           '(compilation and evaluations left out) at the first evaluation during training '
           'within 10 × and 4 × the real reference\'s distance. The figure draws those '
           'evaluations against training seconds, one line per run.', '']
  for dataset, title in DATASET_TITLES.items():
    folder = LOSS_STUDY.format(dataset=dataset)
    path = os.path.join(out_dir, folder, 'cells.jsonl')
    cells = read_jsonl(path) if os.path.exists(path) else []
    if not cells and not any(ten_epoch_run(runs, stem, dataset)
                             for stem in {**TEN_EPOCH_RUNS, **FAMILY_RUNS}.values()):
      lines += [f'{title}: no finished cell of the study in {folder}/ and no 10-epoch run yet.',
                '']
      continue
    table, curves = comparison(cells, runs, dataset, out_dir)
    lines += [f'### {title}, fast networks', '']
    if cells:
      steps = ', '.join(f'{steps:,}' for steps in sorted({c['steps'] for c in cells}))
      lines += [f'Study: {steps} generator steps; cells in [{folder}/cells.jsonl]('
                f'{folder}/cells.jsonl), made by [{folder}/command.sh]({folder}/command.sh), its '
                f'own page [{folder}/README.md]({folder}/README.md).', '']
    else:
      lines += [f'Study: no finished cell in {folder}/ yet.', '']
    lines += [*table, '']
    if curves:
      figure = f'fd_vs_seconds_{dataset}.png'
      pictures.save_labelled_curves(curves, 'training seconds',
                                    'Fréchet distance (EMA of G where kept)',
                                    os.path.join(out_dir, figure))
      lines += [f'![Fréchet distance against training seconds, {title}]({figure})', '']
  return lines


EXPERIMENTS = {'ppca_sweep': 'sweep', 'augmentation': 'augmentation'}  # kind: its files' stem


def collect_experiment(folder, out_dir, kind):
  """Copies a sweep's or an augmentation grid's table, plot, command and note into
  results/<kind>_<dataset>/, from which `load_experiment` reads it back."""
  stem = EXPERIMENTS[kind]
  with open(os.path.join(folder, 'sweep.json' if stem == 'sweep' else 'experiment.json')) as f:
    meta = json.load(f)
  dataset = meta['dataset'] if stem == 'sweep' else meta['settings']['dataset']
  target = os.path.join(out_dir, f'{kind}_{dataset}')
  shutil.rmtree(target, ignore_errors=True)  # collected again: no file of the earlier copy stays
  os.makedirs(target)
  names = [f'{stem}.md', f'{stem}.png', 'command.txt', 'note.txt',
           'sweep.json' if stem == 'sweep' else 'cells.jsonl']
  for name in names:
    if name != 'note.txt' or os.path.exists(os.path.join(folder, name)):
      shutil.copy(os.path.join(folder, name), target)


def load_experiment(folder, kind):
  """A collected sweep or augmentation grid, read back from its results/<kind>_<dataset>/."""
  stem, name = EXPERIMENTS[kind], os.path.basename(os.path.normpath(folder))
  def read(filename):
    path = os.path.join(folder, filename)
    return open(path).read().strip() if os.path.exists(path) else ''
  return {'dataset': name[len(kind) + 1:], 'table': read(f'{stem}.md'),
          'commands': read('command.txt'), 'note': read('note.txt'), 'plot': f'{name}/{stem}.png'}


def collected_experiments(out_dir, kind) -> list:
  """Every sweep or augmentation grid of `kind` collected into out_dir, so that REPORT.md keeps
  them after their output folders are gone."""
  folders = sorted(glob.glob(os.path.join(out_dir, f'{kind}_*', f'{EXPERIMENTS[kind]}.md')))
  return [load_experiment(os.path.dirname(path), kind) for path in folders]


def findings(run):
  """What a run's own family report says, in the family's sentence."""
  if not run['family_report']:
    return []
  return [families.spec(run['config']['model']).describe_report(run['family_report'])]


def models_table(runs) -> list:
  """The lines of REPORT.md's table of the runs on the evaluation suite."""
  lines = ['| model | run | epochs | s/epoch | ' + ' | '.join(
      label for key, label, _ in METRICS if key in REPORT_METRICS) + ' |',
           '|' + '---|' * (4 + len(REPORT_METRICS))]
  for run in runs:
    if 'samples' not in run['report']:
      continue
    for version, report in scored_versions(run):
      cells = [c for (key, _, _), c in zip(METRICS, metric_cells(report))
               if key in REPORT_METRICS]
      lines.append(f'| {model_label(run["config"])}{version} | '
                   f'[{run["name"]}](README.md#{run["name"]}) | {epochs_cell(run)} | '
                   f'{timing(run)} | ' + ' | '.join(cells) + ' |')
  return lines + ['']


def findings_and_samples(runs) -> list:
  """The lines of what each family's own report found of the runs, then their samples at their
  last epoch."""
  lines = []
  for run in runs:
    link = f'[{run["name"]}](README.md#{run["name"]})'
    lines += [f'- {model_label(run["config"])} ({link}): {finding}' for finding in findings(run)]
  if lines:
    lines.append('')
  headers = [f'{model_label(r["config"])}<br>`{r["name"]}`' for r in runs]
  return lines + ['#### Samples (last epoch)', '', '| ' + ' | '.join(headers) + ' |',
                  '|' + '---|' * len(runs),
                  '| ' + ' | '.join(f'![{r["name"]}]({r["name"]}/{r["grids"][-1]})' for r in runs)
                  + ' |', '']


def write_report(runs, sweeps, grids, machine, out_dir, earlier=()):
  """REPORT.md: the loss and penalty study of each dataset, then a page per dataset comparing
  every model, the runs in their original settings apart, then the PPCA sweep and the
  augmentation grid."""
  datasets = [d for d in DATASET_TITLES if any(r['config']['dataset'] == d for r in runs)]
  lines = ['# Report: every model of the codebase on MNIST and Fashion-MNIST', '',
           f'All numbers come from real runs on real data on {machine}, built by '
           '`python -m gans.tools.report` from the runs\' folders; each run\'s train and evaluate '
           'commands, its sample grids at several epochs, GIF, curves and evaluation figures are '
           'in [results/README.md](README.md) under the run\'s name. Metrics are **samples / '
           'real reference** (the same number of real train images through the same code). '
           'Seconds per epoch are this machine\'s; for scale, the earlier TensorFlow 2 port this '
           'codebase grew from reported '
           '4.56 s and 26.3 s per epoch on a GPU. Epochs: trained / asked for by the run\'s '
           'config; a run short of its config\'s length is extended by running its command '
           'again, which resumes it.', '',
           *earlier_lines(earlier), *loss_study_lines(runs, out_dir)]
  lines += ['Pages: ' + ', '.join(f'[{DATASET_TITLES[d]}](#{DATASET_TITLES[d].lower()})'
                                   for d in datasets), '']
  for dataset in datasets:
    headline, original = split_original_settings(
        [r for r in runs if r['config']['dataset'] == dataset])
    lines += [f'## {DATASET_TITLES[dataset]}', '', '### Every model on the evaluation suite', '',
              *models_table(headline),
              'Conditional accuracy: how often the evaluator names the class asked for (label '
              'models only). An E-cGAN row scores its cGAN generator, trained beside the '
              'encoders; CC-GAN in-paints given images and is scored below. "EMA of G": the run '
              'sampled from the exponential moving average of its generator\'s variables.', '',
              *findings_and_samples(headline)]
    if original:
      lines += [f'### {ORIGINAL_SETTINGS_TITLE}', '', ORIGINAL_SETTINGS_INTRO, '',
                *models_table(original), *findings_and_samples(original)]
    for title, items in (('PPCA component sweep', sweeps), ('Augmentation experiment', grids)):
      ours_items = [item for item in items if item['dataset'] == dataset]
      if not ours_items:
        lines += [f'### {title}', '', 'Not run on this dataset yet.', '']
      for item in ours_items:
        lines += [f'### {title}', '', '```bash', item['commands'], '```', '']
        lines += [item['note'], ''] if item['note'] else []
        lines += [item['table'], '', f'![{title}]({item["plot"]})', '']
  with open(os.path.join(out_dir, 'REPORT.md'), 'w') as f:
    f.write('\n'.join(lines))


README_MARKERS = ('<!-- results:begin -->', '<!-- results:end -->')
README_BEST = 3  # runs per dataset in the top-level README's table


def best_version(run):
  """(label, evaluation) of whichever of the run's generator and its EMA scores the lower Fréchet
  distance: the version a reader would sample."""
  return min(scored_versions(run), key=lambda version: version[1]['samples']['frechet_distance'])


def train_arguments(commands) -> str:
  """The arguments of the run's train command less its --workdir: the config and what it
  overrides, which is what a reader needs to train the same run."""
  lines = commands.replace('\\\n', ' ').splitlines()
  line = next((text for text in lines if text.startswith('python train.py')), None)
  if line is None:
    return '–'
  return ' '.join(arg for arg in shlex.split(line)[2:] if not arg.startswith('--workdir'))


def best_runs_table(runs, link_prefix, best=README_BEST) -> list:
  """The lines of a table of each dataset's `best` runs by the Fréchet distance of G or its EMA
  (whichever is lower), each beside its train arguments, then the dataset's real reference. A
  generator trained unchanged inside another run (an E-cGAN's cGAN) scores the same as that run
  and is listed once."""
  lines = ['| dataset | run | model | FD ↓ | KID ↓ | precision ↑ | recall ↑ | train arguments |',
           '|' + '---|' * 8]
  for dataset, title in DATASET_TITLES.items():
    scored, seen = [], set()
    for run in runs:
      if run['config']['dataset'] != dataset or 'samples' not in run['report']:
        continue
      version, report = best_version(run)
      scores = json.dumps(report['samples'], sort_keys=True)
      if scores not in seen:
        seen.add(scores)
        scored.append((report['samples']['frechet_distance'], run, version, report))
    scored.sort(key=lambda entry: entry[0])
    for _, run, version, report in scored[:best]:
      samples = report['samples']
      lines.append(f'| {title} | [{run["name"]}]({link_prefix}README.md#{run["name"]}) | '
                   f'{model_label(run["config"])}{version} | '
                   f'{cell(samples["frechet_distance"], 2)} | {cell(samples["kid"], 3)} | '
                   f'{cell(samples["precision"], 3)} | {cell(samples["recall"], 3)} | '
                   f'`{train_arguments(run["commands"])}` |')
    if scored:
      real = scored[0][3]['real']
      lines.append(f'| {title} | real train images (reference) | | '
                   f'{cell(real["frechet_distance"], 2)} | {cell(real["kid"], 3)} | '
                   f'{cell(real["precision"], 3)} | {cell(real["recall"], 3)} | |')
  return lines


def write_readme_table(readme, runs, out_dir, best=README_BEST):
  """Rewrites the table between the README_MARKERS of `readme` (the text around them is kept), its
  links relative to the README's folder; a README without both markers is refused."""
  if not os.path.isfile(readme):
    raise UsageError(f'--readme {readme!r} is not a file')
  with open(readme) as f:
    text = f.read()
  begin, end = README_MARKERS
  if text.count(begin) != 1 or text.count(end) != 1 or text.index(begin) > text.index(end):
    raise UsageError(f'--readme {readme!r} must hold {begin} and then {end}, once each')
  prefix = os.path.relpath(out_dir, os.path.dirname(os.path.abspath(readme))) + '/'
  table = '\n'.join(best_runs_table(runs, '' if prefix == './' else prefix, best))
  head, rest = text.split(begin)
  with open(readme, 'w') as f:
    f.write(f'{head}{begin}\n{table}\n{end}{rest.split(end, 1)[1]}')


def define_flags():
  """The command line's flags; defined by `__main__` only, so importing this module adds none."""
  flags.DEFINE_list('workdirs', [], 'Finished workdirs to (re)collect; the pages show these and '
                    'every run collected before.')
  flags.DEFINE_string('machine', None, 'What the runs ran on, for the pages.', required=True)
  flags.DEFINE_string('out', 'results', 'The results folder the pages are built in.')
  flags.DEFINE_multi_string('sweep', [], 'output_dir of a `python -m gans.experiments.ppca_sweep` '
                            '(with command.txt) to (re)collect into --out.')
  flags.DEFINE_multi_string('augmentation', [], 'output_dir of a `python -m '
                            'gans.experiments.augmentation` (with command.txt) to (re)collect into '
                            '--out.')
  flags.DEFINE_multi_string('earlier', [], 'A page in --out of earlier runs not re-made yet, '
                            'linked from both pages.')
  flags.DEFINE_bool('readme_only', False, 'Rebuild README.md only, not REPORT.md.')
  flags.DEFINE_string('readme', None, 'A README whose table between the comments '
                      f'{README_MARKERS[0]} and {README_MARKERS[1]} is rewritten with each '
                      'dataset\'s best runs. Default: README.md in the folder above --out (the '
                      'repository\'s, for --out=results), where that file exists.')


def main():
  for workdir in FLAGS.workdirs:
    collect_run(workdir, FLAGS.out)
  runs = collected_runs(FLAGS.out)
  write_readme(runs, FLAGS.machine, FLAGS.out, FLAGS.earlier)
  readme = FLAGS.readme or os.path.join(os.path.dirname(os.path.abspath(FLAGS.out)), 'README.md')
  if FLAGS.readme or os.path.exists(readme):
    write_readme_table(readme, runs, FLAGS.out)
  if FLAGS.readme_only:
    return
  for kind, folders in (('ppca_sweep', FLAGS.sweep), ('augmentation', FLAGS.augmentation)):
    for folder in folders:
      collect_experiment(folder, FLAGS.out, kind)
  write_report(runs, collected_experiments(FLAGS.out, 'ppca_sweep'),
               collected_experiments(FLAGS.out, 'augmentation'), FLAGS.machine, FLAGS.out,
               FLAGS.earlier)


if __name__ == '__main__':
  cli.run_main(main, define_flags)
