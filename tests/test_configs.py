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
  """infogan_dcgan, sngan, acgan_dcgan and ccgan100_dcgan train on dcgan_fast's networks; SN-GAN
  alone swaps D's batch norm for spectral normalisation."""
  from gans.configs import acgan_dcgan, ccgan100_dcgan, dcgan_fast, infogan_dcgan, sngan
  fast = dcgan_fast.get_config().dcgan.to_dict()
  for family in (infogan_dcgan, acgan_dcgan, ccgan100_dcgan):
    assert family.get_config().dcgan.to_dict() == fast
  for family in (acgan_dcgan, ccgan100_dcgan):  # and its optimiser (InfoGAN keeps the paper's)
    config = family.get_config()
    assert (config.batch_size, config.learning_rate, config.ema_decay) == (64, 2e-4, 0.999)
  spectral = sngan.get_config()
  assert spectral.spectral_norm and spectral.loss == 'hinge'
  assert spectral.dcgan.to_dict() == dict(fast, discriminator_batch_norm=False,
                                          discriminator_batch_norm_halves=False)
