"""The evaluation pipeline: input checks, the classifier cache, scores beside the real reference."""
import glob
import json
import os
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest

from conftest import REPO, tiny_config, train_evaluator, write_mnist_like
from gans.core.errors import UsageError
from gans.evaluation import classifier, scoring
from gans.evaluation import workdir as workdir_lib
from gans.core import data
from gans.run import datasets, runs
from gans.training import loop

SHIPPED = classifier.SHIPPED  # before conftest points it elsewhere for every test


@pytest.fixture(scope='module')
def small_data(tmp_path_factory):
  """256 train / 128 test images: enough for the classifier's batches and the k-NN metrics."""
  root = str(tmp_path_factory.mktemp('data'))
  write_mnist_like(os.path.join(root, 'mnist'), num_train=256, num_test=128)
  return root


@pytest.fixture(scope='module')
def classifier_dir(tmp_path_factory, small_data):
  return train_evaluator(small_data, str(tmp_path_factory.mktemp('classifiers')))


def test_images_are_accepted_in_every_documented_form():
  pixels = np.arange(120 * 784, dtype=np.int64).reshape(120, 28, 28) % 256
  expected = pixels.astype(np.uint8)[..., None]
  np.testing.assert_array_equal(scoring.as_images(pixels.astype(np.uint8)), expected)
  np.testing.assert_array_equal(scoring.as_images(expected), expected)
  np.testing.assert_array_equal(scoring.as_images(pixels / 127.5 - 1), expected)
  np.testing.assert_array_equal(scoring.as_images((pixels / 255.0).astype(np.float32)),
                                expected)


@pytest.mark.parametrize('images, message', [
    (np.zeros((4, 32, 32), np.uint8),
     r'shape \(N, 28, 28\) or \(N, 28, 28, 1\), got \(4, 32, 32\)'),
    (np.zeros((4, 28, 28), np.int32), 'uint8 or float, got dtype int32'),
    (np.full((4, 28, 28), np.nan), 'NaN or Inf'),
    (np.full((4, 28, 28), 255.0), r'\[-1, 1\] or \[0, 1\], got \[255, 255\]'),
])
def test_bad_images_are_refused(images, message):
  with pytest.raises(UsageError, match=message):
    scoring.as_images(images)


def test_bad_labels_are_refused():
  with pytest.raises(UsageError, match=r'labels must lie in \[0, 10\), got \[0, 10\]'):
    scoring.as_labels(np.arange(11), 11, 10)
  with pytest.raises(UsageError, match=r'integers of shape \(5,\)'):
    scoring.as_labels(np.zeros(4, np.int64), 5, 10)


def test_classifier_is_cached_with_its_provenance(small_data, classifier_dir, monkeypatch):
  cached = classifier.load('mnist', classifier_dir)
  assert cached.info['dataset'] == 'mnist'
  assert cached.info['version'] == classifier.VERSION
  assert 0 <= cached.info['test_accuracy'] <= 1
  monkeypatch.setattr(classifier, 'train', lambda *a: pytest.fail('retrained despite a cache'))
  again = classifier.get_evaluator('mnist', small_data, classifier_dir)
  images, labels = datasets.load_split('mnist', 'test', small_data)
  probs, features = again.predict(images)
  assert probs.shape == (128, 10) and features.shape == (128, 128)
  np.testing.assert_allclose(probs.sum(1), 1, rtol=1e-5)
  assert classifier.accuracy(again, images, labels) == pytest.approx(cached.info['test_accuracy'])


def test_a_cache_of_another_version_is_not_trusted(small_data, classifier_dir, tmp_path):
  folder = tmp_path / 'cache'
  evaluator = classifier.load('mnist', classifier_dir)
  evaluator.info = dict(evaluator.info, version=classifier.VERSION - 1)
  classifier.save(evaluator, str(folder))
  assert classifier.load('mnist', str(folder)) is None


def test_no_evaluator_is_trained_silently_and_the_error_names_the_command(small_data, tmp_path,
                                                                          monkeypatch):
  monkeypatch.setattr(classifier, 'train', lambda *a: pytest.fail('trained silently'))
  with pytest.raises(UsageError, match=re.escape(
      'train one with `python -m gans.tools.train_evaluator --dataset=mnist`')):
    classifier.get_evaluator('mnist', small_data, str(tmp_path / 'empty'))
  with pytest.raises(UsageError, match='train one with'):
    scoring.evaluate(np.zeros((120, 28, 28), np.uint8), None, 'mnist', small_data,
                     str(tmp_path / 'empty'))


def test_weights_that_do_not_match_their_sha256_are_refused(classifier_dir, tmp_path):
  folder = tmp_path / 'copy'
  shutil.copytree(os.path.join(classifier_dir, 'mnist'), folder / 'mnist')
  path = folder / 'mnist' / 'params.npz'
  raw = bytearray(path.read_bytes())
  raw[len(raw) // 2] ^= 0xFF
  path.write_bytes(bytes(raw))
  with pytest.raises(UsageError, match='do not match the sha256'):
    classifier.load('mnist', str(folder))


@pytest.mark.parametrize('dataset, accuracy', [('mnist', 0.99), ('fashion_mnist', 0.90)])
def test_the_shipped_evaluators_load_checked_and_score_the_real_test_split(dataset, accuracy,
                                                                           monkeypatch):
  monkeypatch.setattr(classifier, 'SHIPPED', SHIPPED)
  evaluator = classifier.load(dataset, '/nonexistent')  # the shipped one, never a cache
  assert evaluator.info['version'] == classifier.VERSION and evaluator.info['dataset'] == dataset
  assert evaluator.info['test_accuracy'] >= accuracy
  reference = scoring._shipped_reference(evaluator, labelled=True)
  assert reference is not None  # beside the weights, made with them
  test, real_scores, _ = reference
  assert test['features'].shape == (10000, evaluator.model.feature_dim)
  assert real_scores['conditional_accuracy'] > accuracy
  data_dir = os.environ.get('GANS_DATA_DIR')
  if data_dir and os.path.exists(os.path.join(data_dir, dataset)):  # CI has the real files
    images, labels = datasets.load_split(dataset, 'test', data_dir)
    assert classifier.accuracy(evaluator, images, labels) == pytest.approx(
        evaluator.info['test_accuracy'], abs=1e-6)
    # The shipped reference is what scoring the real images gives on this machine.
    train_images, train_labels = datasets.load_split(dataset, 'train', data_dir)
    _, rescored, _ = scoring._compute_reference(evaluator, dataset, 10000, True, 0, data_dir,
                                                train_images, train_labels)
    assert rescored == pytest.approx(real_scores, rel=1e-4)


def test_the_real_reference_is_cached_and_reused(small_data, classifier_dir, monkeypatch):
  images = np.random.default_rng(3).integers(0, 256, (110, 28, 28)).astype(np.uint8)
  first, _ = scoring.evaluate(images, None, 'mnist', small_data, classifier_dir, seed=5)
  cached = glob.glob(os.path.join(classifier_dir, 'references', 'mnist-*-110-5.npz'))
  assert len(cached) == 1
  real_score = scoring._score
  calls = []
  monkeypatch.setattr(scoring, '_score', lambda *a: calls.append(1) or real_score(*a))
  second, _ = scoring.evaluate(images, None, 'mnist', small_data, classifier_dir, seed=5)
  assert len(calls) == 1  # the samples only; the reference came from the cache
  assert second == first


def test_a_reference_beside_the_evaluator_spares_a_fresh_cache_the_real_images(
    small_data, classifier_dir, tmp_path, monkeypatch):
  """The reference shipped beside an evaluator's weights gives the same figures as one scored
  from the real images, labelled or not, and is ignored when made with other weights."""
  monkeypatch.setattr(scoring, 'SHIPPED_REFERENCE', {'num_samples': 110, 'seed': 5})
  images = np.random.default_rng(4).integers(0, 256, (110, 28, 28)).astype(np.uint8)
  labels = np.arange(110) % 10
  scored = {labelled: scoring.evaluate(images, labels if labelled else None, 'mnist', small_data,
                                       classifier_dir, seed=5)[0] for labelled in (True, False)}
  fresh = str(tmp_path / 'fresh')  # the same evaluator, no reference cached
  shutil.copytree(os.path.join(classifier_dir, 'mnist'), os.path.join(fresh, 'mnist'))
  path = scoring.write_shipped_reference(classifier.load('mnist', fresh), small_data)
  assert path == os.path.join(fresh, 'mnist', 'reference-110-5.npz')
  computed = []
  real_compute = scoring._compute_reference
  monkeypatch.setattr(scoring, '_compute_reference',
                      lambda *a: computed.append(1) or real_compute(*a))
  for labelled in (True, False):
    report, _ = scoring.evaluate(images, labels if labelled else None, 'mnist', small_data, fresh,
                                 seed=5)
    assert report == scored[labelled]
  assert 'conditional_accuracy' in scored[True]['real']
  assert 'conditional_accuracy' not in scored[False]['real']
  assert not computed
  with np.load(path) as npz:  # the same file, as if made with other weights
    arrays = dict(npz)
  np.savez(path, **dict(arrays, params_sha256='0' * 64))
  shutil.rmtree(os.path.join(fresh, 'references'), ignore_errors=True)
  report, _ = scoring.evaluate(images, None, 'mnist', small_data, fresh, seed=5)
  assert computed and report == scored[False]


def test_samples_equal_to_the_reference_score_like_it(small_data, classifier_dir, tmp_path):
  """The reference is N real train images picked with the seed; the same images score the same."""
  train_images, train_labels = datasets.load_split('mnist', 'train', small_data)
  pick = np.random.default_rng(0).choice(256, 120, replace=False)
  path = str(tmp_path / 'real.npz')
  np.savez(path, images=train_images[pick, ..., 0], labels=train_labels[pick])
  reports, written = scoring.evaluate_file(path, 'mnist', 0, small_data, classifier_dir,
                                           str(tmp_path / 'out'))
  assert written == str(tmp_path / 'out')
  report = reports['real_eval']
  memorisation = {'nearest_train_distance_median', 'nearest_train_distance_p5'}
  distribution_metrics = lambda scores: {k: v for k, v in scores.items() if k not in memorisation}
  assert distribution_metrics(report['samples']) == pytest.approx(
      distribution_metrics(report['real']))
  assert report['samples']['nearest_train_distance_median'] == 0  # they are train images
  assert report['real']['nearest_train_distance_median'] > 0  # test images against train
  evaluator = classifier.load('mnist', classifier_dir)
  expected = np.mean(evaluator.predict(train_images[pick])[0].argmax(-1) == train_labels[pick])
  assert report['samples']['conditional_accuracy'] == pytest.approx(expected)
  for name in ['real_eval.json', 'real_eval_class_histogram.png', 'real_eval_confusion.png',
               'real_eval_nearest_neighbours.png']:
    assert (tmp_path / 'out' / name).stat().st_size > 0
  assert json.load(open(tmp_path / 'out' / 'real_eval.json'))['num_samples'] == 120
  assert sorted(os.listdir(tmp_path)) == ['out', 'real.npz']  # nothing beside the samples


def test_other_samples_score_worse_than_the_reference(small_data, classifier_dir):
  noise = np.random.default_rng(1).integers(0, 256, (120, 28, 28)).astype(np.uint8)
  blank = np.zeros((120, 28, 28), np.uint8)
  noise_report, _ = scoring.evaluate(noise, None, 'mnist', small_data, classifier_dir)
  blank_report, _ = scoring.evaluate(blank, None, 'mnist', small_data, classifier_dir)
  assert noise_report['samples']['nearest_train_distance_median'] > 0
  # One image repeated: a collapsed generator, one predicted class.
  assert blank_report['samples']['classifier_score'] == pytest.approx(1.0, abs=1e-4)
  assert blank_report['samples']['classes_covered'] == 1
  assert blank_report['samples']['frechet_distance'] > blank_report['real']['frechet_distance']
  assert blank_report['samples']['recall'] == 0


def run_evaluate(*args, env, cwd=None):
  return subprocess.run([sys.executable, os.path.join(REPO, 'evaluate.py'), *args],
                        capture_output=True, text=True, timeout=60, env=env, cwd=cwd)


def test_scored_samples_are_written_under_workdirs_never_beside_the_npz(tmp_path, small_data,
                                                                       classifier_dir):
  shipped = tmp_path / 'results' / 'some_run'  # a repository's tracked folder, say
  shipped.mkdir(parents=True)
  train_images, _ = datasets.load_split('mnist', 'train', small_data)
  write_npz(shipped / 'samples.npz', images=train_images[:110])
  env = dict(os.environ, GANS_DATA_DIR=small_data, GANS_CLASSIFIER_DIR=classifier_dir)
  result = run_evaluate('--samples=results/some_run/samples.npz', '--dataset=mnist', env=env,
                        cwd=tmp_path)
  assert result.returncode == 0, result.stderr
  assert os.listdir(shipped) == ['samples.npz']
  written = tmp_path / 'workdirs' / 'evaluations' / 'some_run_samples'
  assert json.load(open(written / 'samples_eval.json'))['num_samples'] == 110
  assert 'workdirs/evaluations/some_run_samples' in result.stderr


def write_npz(path, **arrays):
  with open(path, 'wb') as f:
    np.savez(f, **arrays)


@pytest.mark.parametrize('content, message', [
    ('text', 'is not an npz file written by numpy.savez'),
    (np.zeros(3), 'is not an npz file written by numpy.savez'),  # an .npy renamed
    ({'images': np.array([{'a': 1}], dtype=object)}, 'holds object arrays, which are not read'),
    ({'pixels': np.zeros((120, 28, 28), np.uint8)}, 'has no array named images (it has: pixels)'),
    ({'images': np.zeros((120, 28), np.uint8)}, 'images must have shape'),
    ({'images': np.full((120, 28, 28), np.nan, np.float32)}, 'NaN or Inf'),
    ({'images': np.zeros((120, 28, 28), np.int16)}, 'uint8 or float, got dtype int16'),
    ({'images': np.full((120, 28, 28), 255.0)}, 'must lie in [-1, 1] or [0, 1], got [255, 255]'),
    ({'images': np.zeros((120, 28, 28), np.uint8), 'labels': np.zeros(120, np.float32)},
     'labels must be integers of shape (120,)'),
    ({'images': np.zeros((120, 28, 28), np.uint8), 'labels': np.full(120, 10)},
     r'labels must lie in [0, 10), got [10, 10]'),
    ({'images': np.zeros((0, 28, 28), np.uint8)}, '0 samples are too few to score'),
])
def test_hostile_sample_files_get_one_line_and_nothing_is_overwritten(tmp_path, small_data,
                                                                       content, message):
  path = tmp_path / 'samples.npz'
  if isinstance(content, str):
    path.write_text(content)
  elif isinstance(content, np.ndarray):
    with open(path, 'wb') as f:
      np.save(f, content)
  else:
    write_npz(path, **content)
  previous = tmp_path / 'out' / 'samples_eval.json'
  previous.parent.mkdir()
  previous.write_text('{"kept": true}')
  env = dict(os.environ, GANS_DATA_DIR=small_data, GANS_CLASSIFIER_DIR=str(tmp_path / 'none'))
  result = run_evaluate(f'--samples={path}', '--dataset=mnist', f'--output_dir={previous.parent}',
                        env=env)
  assert result.returncode == 2
  errors = [line for line in result.stderr.splitlines() if line.strip()]
  assert len(errors) == 1 and errors[0].startswith('error: ') and message in errors[0], errors
  assert 'allow_pickle' not in result.stderr  # never the advice to unpickle a stranger's file
  assert previous.read_text() == '{"kept": true}'
  assert not (tmp_path / 'none').exists()


def test_unknown_dataset_is_refused(tmp_path):
  result = run_evaluate(f'--samples={tmp_path / "s.npz"}', '--dataset=cifar10', env=os.environ)
  assert result.returncode == 2
  assert "error: unknown dataset 'cifar10'; allowed: mnist" in result.stderr


def test_a_workdir_is_scored_with_and_without_its_ema(tmp_path, small_data, classifier_dir):
  workdir = str(tmp_path / 'run')
  loop.train(tiny_config('mlp', small_data, num_steps=4, ema_decay=0.5), workdir)
  reports = workdir_lib.evaluate_workdir(workdir, num_samples=120, data_dir=small_data,
                                        classifier_dir=classifier_dir)
  assert set(reports) == {'eval', 'eval_ema'}
  plain, ema = reports['eval'], reports['eval_ema']
  assert plain['num_samples'] == ema['num_samples'] == 120
  assert plain['real'] == ema['real']  # one reference, the same real images
  assert plain['samples']['frechet_distance'] != ema['samples']['frechet_distance']
  # Which checkpoint and which generator each report scored.
  assert plain['checkpoint'] == {'step': 4, 'generator': 'G'}
  assert ema['checkpoint'] == {'step': 4, 'generator': 'EMA of G'}
  assert 'of EMA of G at step 4' in scoring.format_report(ema)
  for stem in ('eval', 'eval_ema'):
    assert json.load(open(os.path.join(workdir, f'{stem}.json'))) == reports[stem]
    for figure in ('class_histogram', 'nearest_neighbours'):
      assert os.path.getsize(os.path.join(workdir, f'{stem}_{figure}.png')) > 0
  with pytest.raises(UsageError, match='99 samples are too few'):
    workdir_lib.evaluate_workdir(workdir, num_samples=99, data_dir=small_data,
                                classifier_dir=classifier_dir)


@pytest.mark.parametrize('spectral_norm', [False, True])
def test_a_ccgan_is_scored_on_in_painting_and_semi_supervised_accuracy(tmp_path, small_data,
                                                                        classifier_dir,
                                                                        spectral_norm):
  # (with spectral normalisation, the supervised-only baseline is D's network without it)
  workdir = str(tmp_path / 'run')
  config = tiny_config('ccgan', small_data, spectral_norm=spectral_norm)
  config.conditional.num_labelled = 20
  config.conditional.labelled_batch_size = 8
  loop.train(config, workdir)
  report = workdir_lib.evaluate_workdir(workdir, num_samples=100, data_dir=small_data,
                                       classifier_dir=classifier_dir)['eval']
  assert report['num_test_images'] == 100
  painting, semi = report['inpainting'], report['semi_supervised']
  assert painting['hole_size'] == 12 and painting['hole_mse'] > 0
  for name in ('inpainted', 'masked', 'original'):
    assert 0 <= painting[f'evaluator_accuracy_{name}'] <= 1
  assert semi['num_labelled'] == 20 and semi['steps'] == 8
  assert 0 <= semi['ccgan_test_accuracy'] <= 1 and 0 <= semi['supervised_only_test_accuracy'] <= 1
  assert json.load(open(os.path.join(workdir, 'eval.json'))) == report
  assert os.path.getsize(os.path.join(workdir, 'inpainting.png')) > 0
  assert 'semi_supervised:' in scoring.format_report(report)


def train_and_score(tmp_path, model, data_dir, classifier_dir, num_samples):
  """(workdir, evaluate_workdir's reports) of a tiny run of `model`."""
  workdir = str(tmp_path / 'run')
  loop.train(tiny_config(model, data_dir), workdir)
  return workdir, workdir_lib.evaluate_workdir(workdir, num_samples=num_samples,
                                               data_dir=data_dir, classifier_dir=classifier_dir)


def test_an_ecgan_is_scored_as_a_cgan_and_on_reconstruction(tmp_path, small_data, classifier_dir):
  workdir, reports = train_and_score(tmp_path, 'ecgan', small_data, classifier_dir, 100)
  assert set(reports) == {'eval', 'eval_icgan'}
  assert 0 <= reports['eval']['samples']['conditional_accuracy'] <= 1  # labels were exported
  assert 'conditional_accuracy' in reports['eval']['real']  # real images with their labels
  icgan = reports['eval_icgan']
  assert icgan['reconstruction_mse'] > 0 and 0 <= icgan['evaluator_agreement_swapped'] <= 1
  for name in ('eval_confusion.png', 'reconstructions.png', 'label_swap.png'):
    assert os.path.getsize(os.path.join(workdir, name)) > 0


def test_an_infogan_is_scored_without_conditional_accuracy_and_on_its_code(tmp_path, small_data,
                                                                          classifier_dir):
  workdir, reports = train_and_score(tmp_path, 'infogan', small_data, classifier_dir, 120)
  assert set(reports) == {'eval', 'eval_infogan'}
  # its codes are not classes: no conditional accuracy, no confusion matrix
  assert 'conditional_accuracy' not in reports['eval']['samples']
  assert 'conditional_accuracy' not in reports['eval']['real']
  assert not os.path.exists(os.path.join(workdir, 'eval_confusion.png'))
  info = reports['eval_infogan']
  assert (info['categories'], info['classes'], info['num_samples']) == (10, 10, 120)
  assert 0 <= info['chance_accuracy'] <= 1 and 0 <= info['code_accuracy'] <= 1
  assert sorted(info['code_to_class']) == list(range(10))  # one-to-one
  assert len(info['per_code_accuracy']) == 10
  assert json.load(open(os.path.join(workdir, 'eval_infogan.json'))) == info
  assert os.path.getsize(os.path.join(workdir, 'infogan_codes.png')) > 0
  assert 'code_accuracy' in scoring.format_report(info)


def test_a_bigan_is_scored_and_reconstructs_through_its_encoder(tmp_path, small_data,
                                                               classifier_dir):
  workdir, reports = train_and_score(tmp_path, 'bigan', small_data, classifier_dir, 100)
  assert set(reports) == {'eval', 'eval_bigan'}
  assert 'conditional_accuracy' not in reports['eval']['samples']
  report = reports['eval_bigan']
  # the reconstruction error, computed here from the checkpoint without the report's code
  _, _, networks, state = runs.load(workdir)
  images, _ = datasets.load_split('mnist', 'test', small_data)
  x = data.to_float(images[:100])
  variables = {'params': state.generator.params}
  rebuilt = networks.generator.apply(
      variables, networks.generator.apply(variables, x, method='encode'), train=False)
  assert report['num_test_images'] == len(x)
  np.testing.assert_allclose(report['reconstruction_mse'], np.mean((rebuilt - x) ** 2),
                             rtol=1e-5)
  assert 0 <= report['evaluator_accuracy_reconstructed'] <= 1
  assert json.load(open(os.path.join(workdir, 'eval_bigan.json'))) == report
  assert os.path.getsize(os.path.join(workdir, 'reconstructions.png')) > 0


def test_collected_runs_stay_on_the_pages_after_their_workdirs_are_gone(tmp_path, small_data,
                                                                          classifier_dir):
  from gans.tools import report as collect  # the tool that builds results/
  workdir = str(tmp_path / 'tiny_ema')
  loop.train(tiny_config('mlp', small_data, ema_decay=0.5, num_steps=32), workdir)
  reports = workdir_lib.evaluate_workdir(workdir, num_samples=100, data_dir=small_data,
                                         classifier_dir=classifier_dir)
  assert set(reports) == {'eval', 'eval_ema'}
  with open(os.path.join(workdir, 'command.txt'), 'w') as f:
    f.write('python train.py --workdir=workdirs/tiny_ema\n')
  with open(os.path.join(workdir, 'note.txt'), 'w') as f:
    f.write('A tiny run.\n')
  out = str(tmp_path / 'results')
  collect.collect_run(workdir, out)
  shutil.rmtree(workdir)
  summary = json.load(open(os.path.join(out, 'tiny_ema', collect.RUN_FILE)))
  assert summary['epochs'] == 2 and summary['note'] == 'A tiny run.'  # 32 steps of 16 of 256 images
  assert 'data_dir' not in summary['config'] and small_data not in json.dumps(summary)
  [run] = collect.collected_runs(out)
  collect.write_readme([run], 'a test machine', out)
  readme = open(os.path.join(out, 'README.md')).read()
  for version, stem in (('', 'eval'), (' (EMA of G)', 'eval_ema')):
    fd = reports[stem]['samples']['frechet_distance']
    assert f'| [tiny_ema](#tiny_ema){version} | 2 | ' in readme
    assert f'{fd:.1f} / ' in readme.split(f'(#tiny_ema){version} |')[1].split('\n')[0]
  assert 'A tiny run.' in readme and 'tiny_ema/samples_epoch_002.png' in readme
