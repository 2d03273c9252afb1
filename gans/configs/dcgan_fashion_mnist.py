"""The seed DCGAN on Fashion-MNIST for 10 epochs: results/first_version/dcgan_fashion_mnist.

The seed's settings (the TensorFlow tutorial's DCGAN; `model = 'dcgan'` brings learning rate 1e-4
and batch 256) for 10 epochs instead of the tutorial's 50, what a 2-core CPU allowed; the Fréchet
distance and classifier score are recorded three times an epoch for the curve in fid.png.
"""
from gans.configs import dcgan_mnist


def get_config():
  config = dcgan_mnist.get_config()  # the same experiment, on the other dataset
  config.dataset = 'fashion_mnist'
  return config
