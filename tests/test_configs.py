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
  """Every family on the fast backbone trains on dcgan_fast's networks; SN-GAN's D loses its
  batch norm for spectral normalisation, WGAN-GP's critic takes layer norm in its place (the
  penalised DRAGAN and R1 keep it: results/loss_study_mnist/STORY.md), and nothing else."""
  from gans.configs import (acgan_dcgan, ccgan100_dcgan, cgan_dcgan, dcgan_fast, dragan_dcgan,
                            infogan_dcgan, r1_dcgan, sngan, wgan_dcgan, wgan_gp_dcgan)
  fast = dcgan_fast.get_config().dcgan.to_dict()
  no_batch_norm = dict(fast, discriminator_batch_norm=False,
                       discriminator_batch_norm_halves=False)
  for family in (infogan_dcgan, acgan_dcgan, ccgan100_dcgan, cgan_dcgan, wgan_dcgan,
                 dragan_dcgan, r1_dcgan):
    assert family.get_config().dcgan.to_dict() == fast
  for family in (sngan,):
    assert family.get_config().dcgan.to_dict() == no_batch_norm
  assert wgan_gp_dcgan.get_config().dcgan.to_dict() == dict(no_batch_norm,
                                                             discriminator_layer_norm=True)
  for family in (acgan_dcgan, ccgan100_dcgan, cgan_dcgan):  # and its optimiser (InfoGAN keeps
    config = family.get_config()                            # the paper's)
    assert (config.batch_size, config.learning_rate, config.ema_decay) == (64, 2e-4, 0.999)
  spectral = sngan.get_config()
  assert spectral.spectral_norm and spectral.loss == 'hinge'


def test_critics_updated_five_times_a_step_give_g_the_fast_dcgans_updates():
  """The WGANs on the fast networks train G as many times as the fast DCGAN's 10 epochs do, and
  score it at the same generator steps; a step is a critic update."""
  from gans.configs import dcgan_fast, wgan_dcgan, wgan_gp_dcgan
  fast = dcgan_fast.get_config()
  for family in (wgan_dcgan, wgan_gp_dcgan):
    config = family.get_config()
    assert config.n_critic == 5
    assert config.num_epochs / config.n_critic == fast.num_epochs
    assert config.eval_every_steps / config.n_critic == fast.eval_every_steps
