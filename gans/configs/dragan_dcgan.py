"""DRAGAN (Kodali et al. 2017) on the fast DCGAN's networks, 10 epochs; MNIST by default, run on
Fashion-MNIST with `--config=gans/configs/dragan_dcgan.py:fashion_mnist`.

dcgan_fast.py with DRAGAN's penalty, lambda 10, as dragan.py adds it to the MLP GAN:
(||grad D(x^)|| - 1)^2 at points x^ near the real images; everything else (non-saturating loss,
Adam 2e-4, b1 0.5, batch 64, EMA of G, D's batch norm by halves) is the fast DCGAN's. D keeps its
batch norm: in the loss study (results/loss_study_mnist, its STORY.md) every critic without it,
penalised or not, scored 3 to 4 times the base's Fréchet distance at 3,000 steps, and layer norm
did no better; with batch norm the penalty regularises the gradient of the real half's summed
logit, in which each image's statistics share, rather than each image's alone.
"""
from gans.configs import dcgan_fast


def get_config(dataset='mnist'):
  config = dcgan_fast.get_config(dataset)
  config.penalty = 'dragan'
  config.penalty_weight = 10.0
  return config
