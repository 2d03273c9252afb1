"""Scores a training run's latest checkpoint: eval[_ema].json and figures in its workdir."""
from gans.core import data
from gans.core import state as state_lib
from gans.core.errors import UsageError
from gans.evaluation import reports, sampling, scoring
from gans.run import runs


def evaluate_workdir(workdir, num_samples=10000, seed=0, data_dir=None, classifier_dir=None,
                     dataset=None):
  """Noise-driven generators (and their EMA when kept) are scored on `num_samples` samples, a
  label model's with balanced labels (conditional accuracy, confusion); a family's own report
  (CC-GAN: in-painting and semi-supervised accuracy; E-cGAN: reconstruction and label swap;
  InfoGAN: the accuracy of its categorical code; BiGAN: reconstruction) is added. `dataset`
  scores against another dataset of as many classes as the run's own.
  """
  scoring.check_count(num_samples)
  config, family, networks, state = runs.load(workdir)
  config.data_dir = data_dir or config.data_dir
  if dataset and dataset != config.dataset:
    ours, theirs = data.get_info(config.dataset).num_classes, data.get_info(dataset).num_classes
    if ours != theirs:
      raise UsageError(f'workdir {workdir!r} holds a {config.model} of {config.dataset} '
                       f'({ours} classes); --dataset {dataset} has {theirs}')
    config.dataset = dataset
  results = {}
  if family.samples_from_noise:
    versions = [('eval', False)] + ([('eval_ema', True)] if state.ema else [])
    for stem, use_ema in versions:
      variables = state_lib.generator_variables(state, use_ema)
      images, labels = sampling.generate(family, networks.generator, variables, num_samples, seed)
      # Only a label model's labels are classes: an InfoGAN's codes get a report of their own.
      report, figures = scoring.evaluate(images, labels if family.label_model else None,
                                         config.dataset, config.data_dir, classifier_dir, seed)
      # What was scored: a report outlives the workdir's newer checkpoints.
      report = {'checkpoint': {'step': int(state.step),
                               'generator': 'EMA of G' if use_ema else 'G'}, 'seed': seed,
                **report}
      scoring.write_outputs(report, figures, workdir, stem)
      results[stem] = report
  if family.spec.report_stem:
    report = {'checkpoint': {'step': int(state.step)}, 'seed': seed,
              **reports.family_report(config, family, networks, state, num_samples, seed,
                                      workdir, classifier_dir)}
    scoring.write_json(report, workdir, family.spec.report_stem)
    results[family.spec.report_stem] = report
  return results
