"""SN-GAN (Miyato et al. 2018) on MNIST: the fast DCGAN with a spectrally normalised D and the
hinge loss, 10 epochs.

Everything else is dcgan_fast.py's (the InfoGAN paper's MNIST networks, batch 64, an EMA of G,
the Fréchet distance of 10,000 samples every half epoch), so the two runs differ only by what
SN-GAN changes:
- every layer of D (both convolutions, the dense layer of 1024 and the output) divided by its
  largest singular value, estimated by one power iteration per step, in place of D's batch norm
  (the paper's discriminators have none);
- the hinge loss, the objective with which the paper reports its best scores;
- the paper's Adam settings for its DCGAN-like networks: learning rate 2e-4, b1 0.5, b2 0.999, one
  D update per G update (its setting C, Radford et al.'s, and the authors' command for their
  SN-DCGAN in pfnet-research/chainer-gan-lib), which are dcgan_fast.py's already.
Spectral normalisation's selling point is that D needs no retuning, hence nothing else changed.
At 10 epochs (results/sngan_mnist) its EMA scores FD 8.6, the fast DCGAN's 5.4, and on
Fashion-MNIST (results/sngan_fashion_mnist) 8.9 against 2.9: on these networks batch norm by
halves serves D better than SN.

The dataset is the config's argument, MNIST by default:
`--config=gans/configs/sngan.py:fashion_mnist`.
"""
from gans.configs import dcgan_fast


def get_config(dataset='mnist'):
  config = dcgan_fast.get_config(dataset)
  config.spectral_norm = True
  dcgan_fast.drop_discriminator_batch_norm(config.dcgan)
  config.loss = 'hinge'
  config.learning_rate = 2e-4
  config.b1 = 0.5
  config.b2 = 0.999
  config.n_critic = 1
  return config
