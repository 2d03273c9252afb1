"""The evaluator classifier of each dataset: trained once on the real train split, then cached.

Every metric of `gans.evaluation` looks at images through this classifier (its class
probabilities and its penultimate-layer features), so it is trained with a fixed seed and stored
with the dataset, its test accuracy and VERSION; a cache of another version is retrained rather
than trusted. VERSION is bumped on purpose, whenever a change would change the weights (the
network, the training settings, the training loop, the data pipeline), and never by an edit
that does not: the yardstick must not move under its users.
"""
import json
import os
import shutil
import time

import jax
import jax.numpy as jnp
import numpy as np
import optax
import orbax.checkpoint as ocp
from absl import logging

from gans.core import data
from gans.core.errors import UsageError
from gans.core.models import lenet
from gans.evaluation import supervised
from gans.run import datasets

VERSION = 2  # 1: the epoch loop of the first evaluators; 2: gans.evaluation.supervised
TRAINING = {'seed': 0, 'num_epochs': 10, 'batch_size': 128, 'learning_rate': 1e-3}
DEFAULT_CACHE = os.path.join('~', '.cache', 'gans', 'classifiers')
PREDICT_BATCH = 1000


def cache_dir(directory=None) -> str:
  """The flag's directory, else $GANS_CLASSIFIER_DIR, else ~/.cache/gans/classifiers."""
  return os.path.abspath(os.path.expanduser(
      directory or os.environ.get('GANS_CLASSIFIER_DIR') or DEFAULT_CACHE))


class Evaluator:
  """A trained classifier: `predict(images) -> (probs, features)` in batches, jitted once."""

  def __init__(self, dataset, params, info):
    self.dataset, self.params, self.info = dataset, params, info
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


def _folder(directory, dataset):
  return os.path.join(cache_dir(directory), dataset.replace('/', '_'))


def save(evaluator: Evaluator, directory=None):
  """Writes params and info.json to a temporary folder, then renames it into place atomically."""
  folder = _folder(directory, evaluator.dataset)
  tmp = folder + f'.tmp{os.getpid()}'
  shutil.rmtree(tmp, ignore_errors=True)
  os.makedirs(tmp)
  with ocp.StandardCheckpointer() as checkpointer:
    checkpointer.save(os.path.join(tmp, 'params'), evaluator.params)
  with open(os.path.join(tmp, 'info.json'), 'w') as f:
    json.dump(evaluator.info, f, indent=1)
  if os.path.exists(folder):
    shutil.rmtree(folder)
  os.replace(tmp, folder)


def load(dataset, directory=None):
  """The cached Evaluator of `dataset` made by this code, or None."""
  folder = _folder(directory, dataset)
  try:
    with open(os.path.join(folder, 'info.json')) as f:
      info = json.load(f)
  except (OSError, ValueError):
    return None
  if info.get('version') != VERSION or info.get('dataset') != dataset:
    logging.info('Cached classifier in %s is of version %s, not %d; retraining', folder,
                 info.get('version'), VERSION)
    return None
  model = lenet.Classifier(data.get_info(dataset).num_classes)
  template = model.init(jax.random.key(0), jnp.zeros((1,) + data.IMAGE_SHAPE), train=False)
  with ocp.StandardCheckpointer() as checkpointer:
    params = checkpointer.restore(os.path.join(folder, 'params'),
                                  jax.device_get(template['params']))
  return Evaluator(dataset, params, info)


def get_evaluator(dataset, data_dir=None, directory=None) -> Evaluator:
  """The cached classifier of `dataset`, trained and cached first if there is none."""
  data.get_info(dataset)
  evaluator = load(dataset, directory)
  if evaluator is None:
    target = cache_dir(directory)
    try:
      os.makedirs(target, exist_ok=True)
    except OSError as e:
      raise UsageError(f'classifier cache {target!r} is not writable: {e.strerror}') from None
    logging.info('Training the evaluator classifier of %s (once; cached in %s)', dataset, target)
    evaluator = train(dataset, data_dir)
    save(evaluator, directory)
    logging.info('Evaluator classifier of %s: test accuracy %.4f', dataset,
                 evaluator.info['test_accuracy'])
  return evaluator
