"""R1 (Mescheder et al. 2018) on the fast DCGAN's networks, 10 epochs; MNIST by default, run on
Fashion-MNIST with `--config=gans/configs/r1_dcgan.py:fashion_mnist`.

dcgan_fast.py with the R1 penalty, gamma/2 E||grad_x D(x)||^2 on the real batch, as r1.py adds
it to the MLP GAN, with gamma 10, the reference code's default. D loses its batch norm
(`dcgan_fast.drop_discriminator_batch_norm`), since the penalty is on each sample's gradient;
everything else (non-saturating loss, Adam 2e-4, b1 0.5, batch 64, EMA of G) is the fast DCGAN's.
Its cells of the loss study (3,000 generator steps, gamma 1 and 10, both seeds):
results/loss_study_mnist.
"""
from gans.configs import dcgan_fast


def get_config(dataset='mnist'):
  config = dcgan_fast.get_config(dataset)
  config.penalty = 'r1'
  config.penalty_weight = 10.0  # gamma
  dcgan_fast.drop_discriminator_batch_norm(config.dcgan)
  return config
