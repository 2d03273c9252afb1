"""Builds results/README.md and results/<run>/ from finished workdirs; nothing here is typed in.

  python results/collect.py --machine "2-core CPU" WORKDIR... [--out results]

Each workdir must hold a finished train.py run, the `eval.json` of `evaluate.py --workdir`, and
`command.txt` with the commands that made them; an optional `note.txt` is printed under the run. Copies a few epochs' sample grids, the GIF, the
curves and the evaluation figures, and writes one table of every metric beside its real
reference, with the median seconds per epoch over the run's epochs.
"""
import argparse
import glob
import json
import os
import shutil

import numpy as np

METRICS = [('classifier_score', 'classifier score ↑', 2), ('frechet_distance', 'FD ↓', 1),
           ('kid', 'KID ↓', 3), ('precision', 'precision ↑', 3), ('recall', 'recall ↑', 3),
           ('density', 'density', 3), ('coverage', 'coverage ↑', 3),
           ('classes_covered', 'classes', 0), ('class_entropy', 'class entropy', 3),
           ('nearest_train_distance_median', 'nearest-train L2', 0)]
COPIED = ['progress.gif', 'losses.png', 'dx_dgz.png', 'fid.png', 'eval.json',
          'eval_class_histogram.png', 'eval_nearest_neighbours.png', 'metrics.jsonl',
          'command.txt']
GRIDS = 4  # sample grids copied per run, evenly spread over its epochs


def read_jsonl(path):
  with open(path) as f:
    return [json.loads(line) for line in f if line.strip()]


def collect_run(workdir, out_dir):
  name = os.path.basename(os.path.normpath(workdir))
  target = os.path.join(out_dir, name)
  os.makedirs(target, exist_ok=True)
  for filename in COPIED:
    if os.path.exists(os.path.join(workdir, filename)):
      shutil.copy(os.path.join(workdir, filename), target)
  rows = read_jsonl(os.path.join(workdir, 'metrics.jsonl'))
  epochs = [r for r in rows if 'epoch_end' in r]
  grids = sorted(glob.glob(os.path.join(workdir, 'samples', 'step_*.png')))
  picks = sorted({round(i) for i in np.linspace(0, len(grids) - 1, min(GRIDS, len(grids)))})
  grid_names = []
  for i in picks:
    grid_names.append(f'samples_epoch_{i + 1:03d}.png')
    shutil.copy(grids[i], os.path.join(target, grid_names[-1]))
  with open(os.path.join(workdir, 'eval.json')) as f:
    report = json.load(f)
  with open(os.path.join(workdir, 'command.txt')) as f:
    commands = f.read().strip()
  note_path = os.path.join(workdir, 'note.txt')
  note = open(note_path).read().strip() if os.path.exists(note_path) else ''
  return {'name': name, 'epochs': len(epochs), 'report': report, 'commands': commands,
          'seconds_per_epoch': float(np.median([r['seconds_per_epoch'] for r in epochs])),
          'grids': grid_names, 'note': note, 'has_fid': os.path.exists(os.path.join(target, 'fid.png'))}


def cell(value, digits):
  return f'{value:.{digits}f}'


def write_readme(runs, machine, out_dir):
  lines = ['# Results', '',
           'Every figure and number here comes from a real run on real data, made by the commands '
           f'shown under each run, on {machine}. Built by `python results/collect.py` from the '
           'workdirs. Each metric is printed as **samples / real reference**: the reference is '
           'the same number of real *train* images scored by the same code against the real test '
           'split (see the Evaluate section of the top-level README for the metrics).', '',
           '| run | epochs | s/epoch (median) | evaluator test acc. | '
           + ' | '.join(label for _, label, _ in METRICS) + ' |',
           '|' + '---|' * (4 + len(METRICS))]
  for run in runs:
    samples, real = run['report']['samples'], run['report']['real']
    cells = [f'{cell(samples[key], d)} / {cell(real[key], d)}' for key, _, d in METRICS]
    lines.append(f'| [{run["name"]}](#{run["name"]}) | {run["epochs"]} | '
                 f'{run["seconds_per_epoch"]:.2f} | '
                 f'{run["report"]["classifier"]["test_accuracy"]:.4f} | ' + ' | '.join(cells) + ' |')
  lines += ['', f'Metrics on {runs[0]["report"]["num_samples"]:,} samples per run. Seconds per '
            'epoch exclude compilation and the evaluations of `--eval_every`.', '']
  for run in runs:
    name = run['name']
    lines += [f'## {name}', '', '```bash', run['commands'], '```', '']
    lines += [run['note'], ''] if run['note'] else []
    lines += ['Samples from one fixed noise batch at epochs '
              + ', '.join(g[len('samples_epoch_'):-4].lstrip('0') for g in run['grids']) + ':', '']
    lines += [' '.join(f'![{g}]({name}/{g})' for g in run['grids']), '',
              f'![progress]({name}/progress.gif) ![losses]({name}/losses.png) '
              f'![D(x), D(G(z))]({name}/dx_dgz.png)'
              + (f' ![Fréchet distance during training]({name}/fid.png)' if run['has_fid'] else ''),
              '', f'![class histogram]({name}/eval_class_histogram.png) '
              f'![nearest train images]({name}/eval_nearest_neighbours.png)', '']
  with open(os.path.join(out_dir, 'README.md'), 'w') as f:
    f.write('\n'.join(lines))


def main():
  parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  parser.add_argument('workdirs', nargs='+')
  parser.add_argument('--machine', required=True, help='what the runs ran on, for the README')
  parser.add_argument('--out', default=os.path.dirname(os.path.abspath(__file__)))
  args = parser.parse_args()
  runs = [collect_run(w, args.out) for w in args.workdirs]
  write_readme(runs, args.machine, args.out)


if __name__ == '__main__':
  main()
