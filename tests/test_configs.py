"""Every shipped config resolves on every dataset: a mistyped field or a value the checks refuse
in one of gans/configs fails here, in a second, not when a user starts an hour-long run."""
import importlib
import inspect
import pkgutil

import pytest

import gans.configs
from gans.core import data
from gans.run import config as run_config

NAMES = sorted(m.name for m in pkgutil.iter_modules(gans.configs.__path__))


@pytest.mark.parametrize('name', NAMES)
def test_config_resolves_on_every_dataset(name):
  get_config = importlib.import_module(f'gans.configs.{name}').get_config
  if not inspect.signature(get_config).parameters:  # default.py: the dataset is a field
    assert run_config.resolve(get_config()).dataset == 'mnist'
    return
  for dataset in data.DATASETS:
    assert run_config.resolve(get_config(dataset)).dataset == dataset


def test_families_on_the_fast_backbone_share_its_networks():
  """infogan_dcgan, sngan and acgan_dcgan train on dcgan_fast's networks; SN-GAN alone swaps
  D's batch norm for spectral normalisation."""
  from gans.configs import acgan_dcgan, dcgan_fast, infogan_dcgan, sngan
  fast = dcgan_fast.get_config().dcgan.to_dict()
  assert infogan_dcgan.get_config().dcgan.to_dict() == fast
  assert acgan_dcgan.get_config().dcgan.to_dict() == fast
  spectral = sngan.get_config()
  assert spectral.spectral_norm and spectral.loss == 'hinge'
  assert spectral.dcgan.to_dict() == dict(fast, discriminator_batch_norm=False,
                                          discriminator_batch_norm_halves=False)
