"""SN-GAN (Miyato et al. 2018): the seed DCGAN on MNIST with a spectrally normalised D and the
hinge loss, 10 epochs.

Everything else is dcgan_mnist.py's (the TensorFlow tutorial's DCGAN, Adam 1e-4, b1 0.5, batch
256, one D update per G update, 10 epochs, the Fréchet distance three times an epoch), so the
two runs differ only by what SN-GAN adds: every layer of D (both convolutions and the dense
output) divided by its largest singular value, estimated by one power iteration per step, and
the hinge loss, the objective with which the paper reports its best scores. Spectral
normalisation's selling point is that D needs no retuning, hence the seed's optimiser; D keeps
the seed's dropout, so the comparison isolates the two changes.
"""
from gans.configs import dcgan_mnist


def get_config():
  config = dcgan_mnist.get_config()
  config.spectral_norm = True
  config.loss = 'hinge'
  return config
