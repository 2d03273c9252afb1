"""Class-conditional PPCA, k = 64 per class, on Fashion-MNIST.

The run: results/cppca64_fashion_mnist (the first version's:
results/first_version/cppca64_fashion_mnist). One PPCA per class, sampled like a cGAN: the
closed-form baseline of the conditional GANs. k = 64 is the seed's "about 64 components", kept as
on MNIST, though the component sweep (results/first_version/ppca_sweep_fashion_mnist) finds samples
still improving up to k = 256. A fit has no epochs, batches or learning rate.
"""
from gans.configs import cppca64_mnist


def get_config():
  config = cppca64_mnist.get_config()  # the same experiment, on the other dataset
  config.dataset = 'fashion_mnist'
  return config
