"""SN-GAN: the seed DCGAN with a spectrally normalised D and the hinge loss, on Fashion-MNIST
for 10 epochs.

The settings of sngan_mnist.py on the other dataset, so it compares with dcgan_fashion_mnist.py.
"""
from gans.configs import sngan_mnist


def get_config():
  config = sngan_mnist.get_config()  # the same experiment, on the other dataset
  config.dataset = 'fashion_mnist'
  return config
