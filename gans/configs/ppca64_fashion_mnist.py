"""PPCA with k = 64 components on Fashion-MNIST.

The run: results/ppca64_fashion_mnist (the first version's:
results/first_version/ppca64_fashion_mnist). The closed-form baseline of the unconditional GANs.
k = 64 is the seed's "about 64 components", kept as on MNIST, though the component sweep
(results/first_version/ppca_sweep_fashion_mnist) finds samples still improving up to k = 256. A
fit has no epochs, batches or learning rate.
"""
from gans.configs import ppca64_mnist


def get_config():
  config = ppca64_mnist.get_config()  # the same experiment, on the other dataset
  config.dataset = 'fashion_mnist'
  return config
