"""The evaluator classifier of each dataset: trained once on the real train split, then cached.

Every metric of `gans.evaluation` looks at images through this classifier (its class
probabilities and its penultimate-layer features), so it is trained with a fixed seed and stored
with the dataset, its test accuracy and a version hash of the code that made it; a cache made by
other code is retrained rather than trusted.
"""
import hashlib
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
from flax.training import train_state
from tqdm import tqdm

from gans import data
from gans.errors import UsageError
from gans.models import lenet

TRAINING = {'seed': 0, 'num_epochs': 10, 'batch_size': 128, 'learning_rate': 1e-3}
DEFAULT_CACHE = os.path.join('~', '.cache', 'gans', 'classifiers')
PREDICT_BATCH = 1000


def code_version() -> str:
  """A hash of the sources that decide the classifier's weights."""
  digest = hashlib.sha256(json.dumps(TRAINING, sort_keys=True).encode())
  for module in (lenet, data):
    with open(module.__file__, 'rb') as f:
      digest.update(f.read())
  with open(__file__, 'rb') as f:
    digest.update(f.read())
  return digest.hexdigest()[:12]


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


def _train_step(model):
  def step(state, batch, key):
    def loss_fn(params):
      logits, _ = model.apply({'params': params}, batch['image'], train=True,
                              rngs={'dropout': jax.random.fold_in(key, state.step)})
      return optax.softmax_cross_entropy_with_integer_labels(logits, batch['label']).mean()
    loss, grads = jax.value_and_grad(loss_fn)(state.params)
    return state.apply_gradients(grads=grads), loss
  return jax.jit(step, donate_argnums=(0,))


def accuracy(evaluator: Evaluator, images, labels) -> float:
  probs, _ = evaluator.predict(images)
  return float(np.mean(probs.argmax(-1) == labels))


def train(dataset, data_dir=None):
  """Trains the classifier on the real train split; returns an Evaluator with its test accuracy."""
  num_classes = data.get_info(dataset).num_classes
  images, labels = data.load_split(dataset, 'train', data_dir)
  test_images, test_labels = data.load_split(dataset, 'test', data_dir)
  model = lenet.Classifier(num_classes)
  data_key, init_key, train_key = jax.random.split(jax.random.key(TRAINING['seed']), 3)
  batches = data.Batches(images, labels, TRAINING['batch_size'], data_key)
  total = TRAINING['num_epochs'] * batches.steps_per_epoch
  params = model.init(init_key, jnp.zeros((1,) + data.IMAGE_SHAPE), train=False)['params']
  schedule = optax.cosine_decay_schedule(TRAINING['learning_rate'], total)
  state = train_state.TrainState.create(apply_fn=None, params=params, tx=optax.adam(schedule))
  step = _train_step(model)
  started = time.perf_counter()
  for s in tqdm(range(total), desc=f'evaluator classifier for {dataset}', unit='step',
                disable=None):
    batch = jax.tree.map(lambda x: x[0], batches.get(s, 1))
    state, _ = step(state, batch, train_key)
  info = {'dataset': dataset, 'code_version': code_version(), 'training': TRAINING,
          'train_seconds': round(time.perf_counter() - started, 1)}
  evaluator = Evaluator(dataset, jax.device_get(state.params), info)
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
  if info.get('code_version') != code_version() or info.get('dataset') != dataset:
    logging.info('Cached classifier in %s was made by other code (%s); retraining', folder,
                 info.get('code_version'))
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
