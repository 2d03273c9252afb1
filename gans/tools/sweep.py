"""A recipe study: a grid of config overrides x seeds at one step budget, the seeds of each variant
trained side by side as a population (`gans.training.population`).

  python -m gans.tools.sweep --config=gans/configs/dcgan.py --output_dir=results/STUDY \
      --variant='tutorial' --variant='adam2e-4;learning_rate=2e-4;batch_size=64' \
      --seeds=0,1 --steps=3000 [--eval_every=500] [--eval_num_samples=2000] [--num_samples=10000]

A variant is `NAME[;FIELD=VALUE...]`, its fields set on the base config as `--config.FIELD=VALUE`
would (values read as Python literals, else as strings). Each finished cell (variant, seed)
appends one JSON line to OUTPUT_DIR/cells.jsonl: its overrides, its generator and discriminator
steps (--steps and --eval_every count G's updates, so that a variant with n_critic 5 trains five
D steps for each and its seconds say what they cost), the population's training seconds
(compilation and evaluations left out) and size, the Fréchet distance of --eval_num_samples
samples every --eval_every steps against those seconds, and the Fréchet distance, KID, precision
and recall of --num_samples samples of G and of its EMA beside the real reference's; for a family
with a report of its own (InfoGAN's code accuracy, E-cGAN's reconstruction), that report of G on
as many samples, its figures in OUTPUT_DIR/figures/VARIANT-seedSEED. A rerun skips finished
cells; a cell of the same name made with other settings is refused. After every variant trained,
OUTPUT_DIR/README.md gets one row per variant in cells.jsonl (median over the seeds, [min, max]),
the family report's table columns among them, and OUTPUT_DIR/fd_vs_seconds.png one curve per
variant (the median over the seeds); so a study may run a seed or a variant per command.
"""
import ast
import json
import os
import re

from absl import flags, logging
from ml_collections import config_flags

from gans.core import families
from gans.core import state as state_lib
from gans.core.errors import UsageError
from gans.evaluation import reports, sampling, scoring
from gans.run import config as config_lib
from gans.run import pictures, runs, startup
from gans.tools import cli
from gans.tools import report as report_tool
from gans.training import population

FLAGS = flags.FLAGS
SCORES = ('frechet_distance', 'kid', 'precision', 'recall')


def define_flags():
  """The command line's flags; defined by `__main__` only, so importing this module adds none."""
  config_flags.DEFINE_config_file('config', None, 'The base config file (FILE[:DATASET]).')
  flags.DEFINE_string('output_dir', None, 'Where cells.jsonl, README.md and the figure go.')
  flags.DEFINE_multi_string('variant', [], 'NAME[;FIELD=VALUE...]: overrides of the base config.')
  flags.DEFINE_list('seeds', ['0', '1'], 'Seeds of every variant, trained side by side.')
  flags.DEFINE_integer('steps', 3000, 'Generator steps each cell trains (a variant with '
                       'n_critic k trains k discriminator steps for each).', lower_bound=1)
  flags.DEFINE_integer('eval_every', 500, 'Generator steps between the Fréchet distances of the '
                       'curve (0: only at the end).', lower_bound=0)
  flags.DEFINE_integer('eval_num_samples', 2000, 'Samples of each point of the curve.',
                       lower_bound=scoring.MIN_SAMPLES)
  flags.DEFINE_integer('num_samples', 10000, 'Samples of the final scores.',
                       lower_bound=scoring.MIN_SAMPLES)


def parse_variant(text):
  """(name, {field: value}) of `NAME[;FIELD=VALUE...]`."""
  name, *assignments = [part.strip() for part in text.split(';')]
  if not name or '=' in name:
    raise UsageError(f'--variant {text!r} must start with its name: NAME[;FIELD=VALUE...]')
  overrides = {}
  for assignment in assignments:
    field, sep, value = assignment.partition('=')
    if not sep or not field:
      raise UsageError(f'--variant {text!r}: {assignment!r} is not FIELD=VALUE')
    try:
      overrides[field.strip()] = ast.literal_eval(value.strip())
    except (ValueError, SyntaxError):
      overrides[field.strip()] = value.strip()
  return name, overrides


def variant_config(base, overrides):
  config = base.copy_and_resolve_references()
  for field, value in overrides.items():
    *sections, last = field.split('.')
    target = config
    for section in sections:
      target = target[section]
    if last not in target:
      raise UsageError(f'--variant field {field!r}: the config has no such field')
    target[last] = tuple(value) if isinstance(value, list) else value
  return config_lib.resolve(config)


def read_cells(path):
  if not os.path.exists(path):
    return []
  with open(path) as f:
    return [json.loads(line) for line in f if line.strip()]


def check_settings(cells, name, overrides, steps, dataset):
  # Compared as cells.jsonl holds them: JSON turns a tuple such as `(1024,)` into a list.
  overrides = json.loads(json.dumps(overrides))
  for cell in cells:
    if cell['variant'] == name and (cell['overrides'], cell['steps'], cell['dataset']) != (
        overrides, steps, dataset):
      raise UsageError(f'variant {name!r} is in cells.jsonl with overrides {cell["overrides"]}, '
                       f'{cell["steps"]} steps on {cell["dataset"]}; use another name or '
                       f'--output_dir')


def generator_samples(family, networks, states, index, num_samples, use_ema):
  variables = state_lib.generator_variables(population.member(states, index), use_ema)
  images, labels = sampling.generate(family, networks.generator, variables, num_samples, seed=0)
  return images, labels if family.label_model else None


def figures_dir(output_dir, name, seed):
  """The folder of a cell's report figures: the variant's name with anything but letters,
  digits and dots made a dash."""
  slug = re.sub(r'[^A-Za-z0-9.]+', '-', name).strip('-')
  return os.path.join(output_dir, 'figures', f'{slug}-seed{seed}')


def run_variant(base, name, overrides, seeds, output_dir):
  """Trains the variant's seeds as one population and appends their cells; returns them."""
  config = variant_config(base, overrides)
  family = families.build(config)
  networks = family.networks()
  monitor = scoring.TrainingMonitor(config.dataset, config.data_dir, config.classifier_dir,
                                    runs.monitor_noise(_with_samples(config)))
  sampler = state_lib.make_sampler(networks.generator)
  curves = {seed: [] for seed in seeds}
  n_critic = config.n_critic  # a step is one update of D; G learns on every n_critic-th

  def record(step, states, seconds):
    for index, seed in enumerate(seeds):
      point = {'step': step // n_critic, 'seconds': round(seconds, 2)}
      for key, use_ema in (('fd', False), ('fd_ema', True)):
        if use_ema and not config.ema_decay:
          continue
        variables = state_lib.generator_variables(population.member(states, index), use_ema)
        point[key] = monitor(family, sampler, variables)['eval_fid']
      curves[seed].append(point)
      logging.info('%s, seed %d: %s', name, seed,
                   ', '.join(f'{k} {v:.4g}' for k, v in point.items()))

  states, timing = population.train_population(
      config, seeds, FLAGS.steps * n_critic, every=(FLAGS.eval_every or FLAGS.steps) * n_critic,
      at_every=record)
  cells = []
  for index, seed in enumerate(seeds):
    cell = {'variant': name, 'overrides': overrides, 'seed': seed, 'dataset': config.dataset,
            'steps': FLAGS.steps, 'discriminator_steps': FLAGS.steps * n_critic,
            'population_seconds': round(timing['seconds'], 2),
            'members': timing['members'], 'formulation': timing['formulation'],
            'curve': curves[seed]}
    for key, use_ema in (('g', False), ('ema', True)):
      if use_ema and not config.ema_decay:
        cell[key] = None
        continue
      images, labels = generator_samples(family, networks, states, index, FLAGS.num_samples,
                                         use_ema)
      report, _ = scoring.evaluate(images, labels, config.dataset, config.data_dir,
                                   config.classifier_dir)
      cell[key] = {k: report['samples'][k] for k in SCORES}
      cell['real'] = {k: report['real'][k] for k in SCORES}
    if family.spec.report_stem:  # evaluate.py's report of G, from seed 0
      figures = figures_dir(output_dir, name, seed)
      os.makedirs(figures, exist_ok=True)
      cell['report'] = reports.family_report(config, family, networks,
                                             population.member(states, index), FLAGS.num_samples,
                                             0, figures, config.classifier_dir)
    with open(os.path.join(output_dir, 'cells.jsonl'), 'a') as f:
      f.write(json.dumps(cell) + '\n')
    cells.append(cell)
  return cells


def _with_samples(config):
  """The config with eval_num_samples set to the curve's sample count (the monitor's noise)."""
  config = config.copy_and_resolve_references()
  config.eval_num_samples = FLAGS.eval_num_samples
  return config


def report_columns(cells):
  """(label, dotted field, decimals) of the numeric columns of the family report's table, for
  cells that carry a family report; none for others."""
  reported = [cell for cell in cells if cell.get('report')]
  if not reported:
    return []
  spec = families.spec(reported[0]['report']['model']).report_table
  return [column for column in spec['columns'] if column[2] is not None] if spec else []


def write_readme(cells, output_dir):
  variants = list(dict.fromkeys(cell['variant'] for cell in cells))
  header = ['variant', 'overrides', 'seeds', 'G steps', 'D steps', 'training s (population)']
  for key in ('g', 'ema'):
    header += [f'{"EMA " if key == "ema" else ""}{s.replace("_", " ")}' for s in SCORES]
  extra = report_columns(cells)
  header += [label for label, _, _ in extra]
  lines = ['# Recipe study', '',
           'Each row: one variant, median over its seeds [min, max]; G and its EMA scored on the '
           'same number of samples, beside the real reference (last row). Seconds: the '
           'population\'s training time, compilation and evaluations left out. Built by '
           '`python -m gans.tools.sweep` from cells.jsonl.', '',
           '| ' + ' | '.join(header) + ' |', '|' + '---|' * len(header)]
  for name in variants:
    ours = [cell for cell in cells if cell['variant'] == name]
    row = [name, ', '.join(f'`{k}={v}`' for k, v in ours[0]['overrides'].items()) or '(base)',
           ','.join(str(cell['seed']) for cell in ours), str(ours[0]['steps']),
           str(ours[0].get('discriminator_steps', ours[0]['steps'])),
           report_tool.spread([cell['population_seconds'] for cell in ours])]
    for key in ('g', 'ema'):
      row += [report_tool.spread([cell[key][s] for cell in ours]) if ours[0][key] else '–'
              for s in SCORES]
    for _, path, digits in extra:
      values = [report_tool.field(cell.get('report') or {}, path) for cell in ours]
      row.append('–' if None in values else report_tool.spread(values, f'.{digits}f'))
    lines.append('| ' + ' | '.join(row) + ' |')
  real = cells[0]['real']
  lines.append('| real reference | | | | | | ' + ' | '.join(f'{real[s]:.3g}' for s in SCORES)
               + ' |' + ' |' * (len(SCORES) + len(extra)))
  lines += ['', '![Fréchet distance against training seconds](fd_vs_seconds.png)', '']
  with open(os.path.join(output_dir, 'README.md'), 'w') as f:
    f.write('\n'.join(lines))
  curves = report_tool.median_curves(cells)
  pictures.save_labelled_curves(curves, 'training seconds (population)',
                                'Fréchet distance (EMA where kept)',
                                os.path.join(output_dir, 'fd_vs_seconds.png'))


def main():
  startup.prepare()
  if FLAGS.config is None or not FLAGS.output_dir or not FLAGS.variant:
    raise UsageError('--config, --output_dir and at least one --variant are required')
  try:
    seeds = [int(seed) for seed in FLAGS.seeds]
  except ValueError:
    raise UsageError(f'--seeds must be integers, got {",".join(FLAGS.seeds)}') from None
  variants = [parse_variant(text) for text in FLAGS.variant]
  names = [name for name, _ in variants]
  if len(set(names)) != len(names):
    raise UsageError(f'--variant names must differ, got {", ".join(names)}')
  os.makedirs(FLAGS.output_dir, exist_ok=True)
  path = os.path.join(FLAGS.output_dir, 'cells.jsonl')
  base = FLAGS.config
  for name, overrides in variants:  # every refusal before anything trains
    check_settings(read_cells(path), name, overrides, FLAGS.steps, base.dataset)
    config = variant_config(base, overrides)
    if not families.build(config).samples_from_noise:
      raise UsageError(f'variant {name!r}: a {config.model} does not sample from noise alone, '
                       f'and a study scores samples of G from noise; evaluate its runs with '
                       f'evaluate.py')
  for name, overrides in variants:
    done = {cell['seed'] for cell in read_cells(path) if cell['variant'] == name}
    pending = [seed for seed in seeds if seed not in done]
    if pending:
      run_variant(base, name, overrides, pending, FLAGS.output_dir)
      # The table of every cell in cells.jsonl after every variant, so that a study stopped part
      # way, or run a seed or a variant per command, has all its finished rows.
      write_readme(read_cells(path), FLAGS.output_dir)
  cells = read_cells(path)
  write_readme(cells, FLAGS.output_dir)
  print(f'{len(cells)} cells in {path}; the table in {os.path.join(FLAGS.output_dir, "README.md")}')


if __name__ == '__main__':
  cli.run_main(main, define_flags)
