"""SN-GAN (Miyato et al. 2018): the TensorFlow DCGAN tutorial's DCGAN on MNIST with a spectrally
normalised D and the hinge loss, 10 epochs.

Everything else is dcgan.py's (the TensorFlow tutorial's DCGAN, Adam 1e-4, b1 0.5, batch
256, one D update per G update, 10 epochs, the Fréchet distance three times an epoch), so the
two runs differ only by what SN-GAN adds: every layer of D (both convolutions and the dense
output) divided by its largest singular value, estimated by one power iteration per step, and
the hinge loss, the objective with which the paper reports its best scores. Spectral
normalisation's selling point is that D needs no retuning, hence the tutorial's optimiser; D keeps
the tutorial's dropout, so the comparison isolates the two changes.

The dataset is the config's argument, MNIST by default:
`--config=gans/configs/sngan.py:fashion_mnist`.

On Fashion-MNIST (`:fashion_mnist`): the same settings.
"""
from gans.configs import dcgan


def get_config(dataset='mnist'):
  config = dcgan.get_config(dataset)
  config.spectral_norm = True
  config.loss = 'hinge'
  return config
