"""DRAGAN (Kodali et al. 2017) on the fast DCGAN's networks, 10 epochs; MNIST by default, run on
Fashion-MNIST with `--config=gans/configs/dragan_dcgan.py:fashion_mnist`.

dcgan_fast.py with DRAGAN's penalty, lambda 10, as dragan.py adds it to the MLP GAN:
(||grad D(x^)|| - 1)^2 at points x^ near the real images. D loses its batch norm
(`dcgan_fast.drop_discriminator_batch_norm`), since the penalty is on each sample's gradient;
everything else (non-saturating loss, Adam 2e-4, b1 0.5, batch 64, EMA of G) is the fast DCGAN's.
Its cell of the loss study (3,000 generator steps, both seeds): results/loss_study_mnist.
"""
from gans.configs import dcgan_fast


def get_config(dataset='mnist'):
  config = dcgan_fast.get_config(dataset)
  config.penalty = 'dragan'
  config.penalty_weight = 10.0
  dcgan_fast.drop_discriminator_batch_norm(config.dcgan)
  return config
