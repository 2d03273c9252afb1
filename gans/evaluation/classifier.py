"""The evaluator classifier of each dataset: the fixed yardstick of every metric.

Every metric of `gans.evaluation` looks at images through this classifier (its class
probabilities and its penultimate-layer features). Retrained on every machine, it would differ
in its last digits from machine to machine, and so would every Fréchet distance; so the
repository ships the weights of the MNIST and Fashion-MNIST evaluators (`weights/<dataset>/`,
params.npz with its sha256 and VERSION in info.json), checked on load. Other datasets get theirs
from `python -m gans.tools.train_evaluator`, cached; nothing trains one silently. VERSION is
bumped on purpose, whenever a change would change the weights (the network, the training
settings, the training loop, the data pipeline), and never by an edit that does not.
"""
import hashlib
import json
import os
import shutil
import time

import jax
import numpy as np
import optax
from absl import logging
from flax import traverse_util

from gans.core import data
from gans.core.errors import UsageError
from gans.core.models import lenet
from gans.evaluation import supervised
from gans.run import datasets

VERSION = 2  # 1: the epoch loop of the first evaluators; 2: gans.evaluation.supervised
# The evaluators shipped with the repository, with the sha256 of their weights.
SHIPPED = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'weights')
TRAINING = {'seed': 0, 'num_epochs': 10, 'batch_size': 128, 'learning_rate': 1e-3}
DEFAULT_CACHE = os.path.join('~', '.cache', 'gans', 'classifiers')
PREDICT_BATCH = 1000


def cache_dir(directory=None) -> str:
  """The flag's directory, else $GANS_CLASSIFIER_DIR, else ~/.cache/gans/classifiers."""
  return os.path.abspath(os.path.expanduser(
      directory or os.environ.get('GANS_CLASSIFIER_DIR') or DEFAULT_CACHE))


class Evaluator:
  """A trained classifier: `predict(images) -> (probs, features)` in batches, jitted once.
  `folder`: where its weights were read from (None for one not saved yet)."""

  def __init__(self, dataset, params, info, folder=None):
    self.dataset, self.params, self.info, self.folder = dataset, params, info, folder
    self.model = lenet.Classifier(data.get_info(dataset).num_classes)
    self._apply = jax.jit(lambda p, x: self.model.apply({'params': p}, x, train=False))

  def predict(self, images):
    """images: uint8 (N, 28, 28[, 1]) -> (probs float32 (N, classes), features float32 (N, F))."""
    images = np.asarray(images).reshape((-1,) + data.IMAGE_SHAPE)
    probs, features = [], []
    for start in range(0, len(images), PREDICT_BATCH):
      chunk = data.to_float(images[start:start + PREDICT_BATCH])
      pad = PREDICT_BATCH - len(chunk)  # one shape, one compilation
      logits, feats = self._apply(self.params, np.pad(chunk, ((0, pad), (0, 0), (0, 0), (0, 0))))
      probs.append(np.asarray(jax.nn.softmax(logits))[:len(chunk)])
      features.append(np.asarray(feats)[:len(chunk)])
    return np.concatenate(probs), np.concatenate(features)


def accuracy(evaluator: Evaluator, images, labels) -> float:
  probs, _ = evaluator.predict(images)
  return float(np.mean(probs.argmax(-1) == labels))


def train(dataset, data_dir=None):
  """Trains the classifier on the real train split; returns an Evaluator with its test accuracy."""
  num_classes = data.get_info(dataset).num_classes
  images, labels = datasets.load_split(dataset, 'train', data_dir)
  test_images, test_labels = datasets.load_split(dataset, 'test', data_dir)
  model = lenet.Classifier(num_classes)
  num_steps = TRAINING['num_epochs'] * len(images) // TRAINING['batch_size']
  schedule = optax.cosine_decay_schedule(TRAINING['learning_rate'], num_steps)
  started = time.perf_counter()
  params = supervised.train_classifier(
      model, optax.adam(schedule), images, labels, num_steps, TRAINING['batch_size'],
      jax.random.key(TRAINING['seed']), logits_of=lambda outputs: outputs[0],
      description=f'evaluator classifier of {dataset}')
  info = {'dataset': dataset, 'version': VERSION, 'training': TRAINING,
          'train_seconds': round(time.perf_counter() - started, 1)}
  evaluator = Evaluator(dataset, jax.device_get(params), info)
  info['test_accuracy'] = accuracy(evaluator, test_images, test_labels)
  return evaluator


def _folder(root, dataset):
  return os.path.join(root, dataset.replace('/', '_'))


def shipped_folder(dataset) -> str:
  """Where the repository ships the evaluator of `dataset` (MNIST, Fashion-MNIST)."""
  return _folder(SHIPPED, dataset)


def _sha256(path) -> str:
  with open(path, 'rb') as f:
    return hashlib.sha256(f.read()).hexdigest()


def save(evaluator: Evaluator, directory=None) -> str:
  """Writes params.npz and info.json (with the sha256 of params.npz) to <directory>/<dataset>/
  atomically; returns the folder."""
  folder = _folder(cache_dir(directory), evaluator.dataset)
  tmp = folder + f'.tmp{os.getpid()}'
  shutil.rmtree(tmp, ignore_errors=True)
  os.makedirs(tmp)
  flat = traverse_util.flatten_dict(jax.device_get(evaluator.params), sep='/')
  np.savez(os.path.join(tmp, 'params.npz'), **flat)
  info = dict(evaluator.info, params_sha256=_sha256(os.path.join(tmp, 'params.npz')))
  with open(os.path.join(tmp, 'info.json'), 'w') as f:
    json.dump(info, f, indent=1)
  if os.path.exists(folder):
    shutil.rmtree(folder)
  os.replace(tmp, folder)
  evaluator.folder = folder
  return folder


def _read(folder, dataset):
  """The Evaluator in `folder`, or None if there is none or it is of another VERSION; a file that
  does not match its sha256 is refused."""
  try:
    with open(os.path.join(folder, 'info.json')) as f:
      info = json.load(f)
  except (OSError, ValueError):
    return None
  if info.get('version') != VERSION or info.get('dataset') != dataset:
    logging.warning('Ignoring the evaluator classifier in %s: version %s of %s, this code uses '
                    'version %d', folder, info.get('version'), info.get('dataset'), VERSION)
    return None
  path = os.path.join(folder, 'params.npz')
  if not os.path.exists(path) or _sha256(path) != info.get('params_sha256'):
    raise UsageError(f'the evaluator classifier weights {path} do not match the sha256 in its '
                     f'info.json; restore them (git checkout) or retrain them')
  with np.load(path) as npz:
    params = traverse_util.unflatten_dict({k: npz[k] for k in npz.files}, sep='/')
  return Evaluator(dataset, params, info, folder)


def load(dataset, directory=None):
  """The evaluator of `dataset`: the one the repository ships, else one trained into the cache
  (`train_evaluator`); None when there is neither."""
  return _read(shipped_folder(dataset), dataset) or _read(_folder(cache_dir(directory), dataset),
                                                          dataset)


def get_evaluator(dataset, data_dir=None, directory=None) -> Evaluator:
  """The shipped or cached evaluator of `dataset`. Never trains one silently: without one, the
  error names the command that does."""
  del data_dir  # the evaluator is trained by its own command, not on first use
  data.get_info(dataset)
  evaluator = load(dataset, directory)
  if evaluator is None:
    raise UsageError(f'no evaluator classifier of version {VERSION} for {dataset}: train one with '
                     f'`python -m gans.tools.train_evaluator --dataset={dataset}` (about 10 '
                     f'minutes on a CPU; cached in {cache_dir(directory)})')
  return evaluator


def train_and_save(dataset, data_dir=None, directory=None) -> Evaluator:
  """Trains the evaluator of `dataset` and saves it to the cache (or `directory`)."""
  target = cache_dir(directory)
  try:
    os.makedirs(target, exist_ok=True)
  except OSError as e:
    raise UsageError(f'classifier cache {target!r} is not writable: {e.strerror}') from None
  evaluator = train(dataset, data_dir)
  folder = save(evaluator, directory)
  logging.info('Evaluator classifier of %s: test accuracy %.4f, saved to %s', dataset,
               evaluator.info['test_accuracy'], folder)
  return evaluator
