"""Class-conditional PPCA, k = 64 per class, on MNIST.

The run: results/cppca64_mnist (the first version's: results/first_version/cppca64_mnist). One PPCA
per class, sampled like a cGAN: the closed-form baseline of the conditional GANs. k = 64 is the
seed's "about 64 components", where the component sweep (results/first_version/ppca_sweep_mnist)
finds sample quality levelling off. A fit has no epochs, batches or learning rate.
"""
from gans.configs import ppca64_mnist


def get_config():
  config = ppca64_mnist.get_config()
  config.ppca.class_conditional = True  # the same k, one PPCA per class
  return config
