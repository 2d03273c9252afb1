"""Probabilistic PCA against an independent numpy computation, its sampler, and train.py --model
ppca."""
import json
import os

import jax
import numpy as np
import pytest

from conftest import tiny_config
from gans.core import data, families
from gans.core.errors import UsageError
from gans.core.models import ppca
from gans.evaluation import sampling
from gans.run import config as config_lib
from gans.training import loop


def numpy_ppca(x, k):
  """Tipping & Bishop's closed form straight from an SVD of the centred data, in float64."""
  mean = x.mean(0)
  _, s, vt = np.linalg.svd(x - mean, full_matrices=False)
  eigenvalues = np.zeros(x.shape[1])
  eigenvalues[:len(s)] = s ** 2 / len(x)
  noise = eigenvalues[k:].mean()
  return mean, vt[:k].T * np.sqrt(eigenvalues[:k] - noise), noise


def numpy_log_likelihood(x, mean, w, noise):
  """log N(x; mean, W W^T + noise I) with the full d x d covariance."""
  cov = w @ w.T + noise * np.eye(len(mean))
  centred = x - mean
  _, log_det = np.linalg.slogdet(cov)
  maha = np.einsum('nd,nd->n', centred, np.linalg.solve(cov, centred.T).T)
  return -0.5 * (len(mean) * np.log(2 * np.pi) + log_det + maha)


def low_rank_data(n, d, k, seed=0):
  rng = np.random.default_rng(seed)
  basis = rng.normal(size=(k, d)) * np.linspace(3, 1, k)[:, None]
  return (rng.normal(size=(n, k)) @ basis + 0.3 * rng.normal(size=(n, d)) + rng.normal(size=d))


def test_fit_and_log_likelihood_match_numpy():
  x = low_rank_data(400, 30, 3)
  ours = jax.device_get(ppca.fit(x.astype(np.float32), 3))
  mean, w, noise = numpy_ppca(x, 3)
  np.testing.assert_allclose(ours['mean'], mean, atol=1e-5)
  np.testing.assert_allclose(ours['noise_variance'], noise, rtol=1e-4)
  # W is fixed up to a rotation (here the signs of U's columns); W W^T is not.
  np.testing.assert_allclose(ours['weights'] @ ours['weights'].T, w @ w.T, atol=1e-3)
  held_out = low_rank_data(50, 30, 3, seed=1)
  np.testing.assert_allclose(ppca.log_likelihood(ours, held_out.astype(np.float32)),
                             numpy_log_likelihood(held_out, mean, w, noise), rtol=1e-4)


def test_samples_have_the_model_covariance():
  rng = np.random.default_rng(0)
  k, n = 4, 60_000
  params = {'mean': rng.normal(size=(1, ppca.DIM)).astype(np.float32),
            'weights': rng.normal(size=(1, ppca.DIM, k)).astype(np.float32),
            'noise_variance': np.array([0.25], np.float32)}
  noise = jax.random.normal(jax.random.key(0), (n, k + ppca.DIM))
  x = np.asarray(ppca.Generator(k).apply({'params': params}, noise, train=False)).reshape(n, -1)
  w = params['weights'][0].astype(np.float64)
  model_cov = w @ w.T + 0.25 * np.eye(ppca.DIM)
  sample_cov = np.cov(x, rowvar=False)
  assert np.linalg.norm(sample_cov - model_cov) / np.linalg.norm(model_cov) < 0.03
  np.testing.assert_allclose(x.mean(0), params['mean'][0], atol=0.05)


def test_class_conditional_generator_samples_each_class_model():
  rng = np.random.default_rng(0)
  params = {'mean': rng.normal(size=(3, ppca.DIM)).astype(np.float32),
            'weights': 0.1 * rng.normal(size=(3, ppca.DIM, 2)).astype(np.float32),
            'noise_variance': np.array([0.01, 0.02, 0.03], np.float32)}
  labels = np.array([2, 0, 1, 2])
  noise = np.asarray(jax.random.normal(jax.random.key(1), (4, 2 + ppca.DIM)))
  x = np.asarray(ppca.Generator(2, num_classes=3).apply(
      {'params': params}, {'z': noise, 'label': labels}, train=False)).reshape(4, -1)
  for i, y in enumerate(labels):
    expected = (params['weights'][y] @ noise[i, :2] + params['mean'][y]
                + np.sqrt(params['noise_variance'][y]) * noise[i, 2:])
    np.testing.assert_allclose(x[i], expected, atol=1e-5)


def test_mean_log_likelihood_per_class_is_that_of_each_class_model():
  rng = np.random.default_rng(2)
  images = rng.integers(0, 256, (60, 28, 28), dtype=np.uint8)
  labels = np.arange(60) % 2
  params = ppca.fit_generator(images, labels, 3, class_conditional=True)
  x = data.to_float(images).reshape(60, -1).astype(np.float64)
  expected = np.concatenate([numpy_log_likelihood(x[labels == c], *numpy_ppca(x[labels == c], 3))
                             for c in (0, 1)]).mean()
  np.testing.assert_allclose(ppca.mean_log_likelihood(params, images, labels), expected, rtol=1e-4)


def test_too_few_images_per_class_for_the_components_is_refused():
  images = np.zeros((20, 28, 28), np.uint8)
  with pytest.raises(UsageError, match='ppca.components=3 needs more than 4 images per model; '
                                       'the smallest class has 2'):
    ppca.fit_generator(images, np.arange(20) % 10, 3, class_conditional=True)


def test_train_fits_once_and_exports_labelled_samples(tmp_path, data_dir):
  config = tiny_config('ppca', data_dir)
  config.ppca.components = 2
  config.ppca.class_conditional = True
  config = config_lib.resolve(config)
  assert config.latent_dim == 2 + ppca.DIM
  workdir = str(tmp_path / 'run')
  loop.train(config, workdir)
  with open(os.path.join(workdir, 'metrics.jsonl')) as f:
    row = json.loads(f.readline())
  assert row['step'] == 1 and np.isfinite(row['test_log_likelihood'])
  assert os.path.exists(os.path.join(workdir, 'samples', 'step_0000001.png'))
  before = os.listdir(os.path.join(workdir, 'checkpoints'))
  assert loop.train(config, workdir)['fit_seconds'] is None  # fitted already: left as it is
  assert os.listdir(os.path.join(workdir, 'checkpoints')) == before

  family, generator, variables = sampling.load_generator(workdir)
  images, labels = sampling.generate(family, generator, variables, 30, seed=0)
  assert images.shape == (30, 28, 28) and images.dtype == np.uint8
  np.testing.assert_array_equal(labels, np.arange(30) % 10)
  # Class c's samples come from class c's model: the nearest class mean is c's own.
  means = variables['params']['mean']
  generated = data.to_float(images).reshape(30, -1)
  distances = ((generated[:, None] - means[None]) ** 2).sum(-1)
  assert np.mean(distances.argmin(1) == labels) == 1.0


@pytest.mark.parametrize('components', [0, 784])
def test_bad_component_counts_are_refused(components):
  config = tiny_config('ppca')
  config.ppca.components = components
  with pytest.raises(UsageError, match=rf'ppca.components must be an integer in \[1, 783\], '
                                       rf'got {components}'):
    config_lib.resolve(config)


def test_unconditional_ppca_has_no_label_inputs(data_dir):
  config = tiny_config('ppca', data_dir)
  family = families.build(config)
  assert not family.label_model
  generator, discriminator, _ = family.networks()
  assert discriminator is None and generator.num_classes == 0
