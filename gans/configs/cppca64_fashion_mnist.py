"""Class-conditional PPCA, k = 64 per class, on Fashion-MNIST: results/cppca64_fashion_mnist.

One PPCA per class, sampled like a cGAN: the closed-form baseline of the conditional GANs. k = 64 is
the seed's "about 64 components", kept as on MNIST, though the component sweep
(results/ppca_sweep_fashion_mnist) finds samples still improving up to k = 256. A fit has no epochs,
batches or learning rate.
"""
from gans.configs import default


def get_config():
  config = default.get_config()
  config.model = 'ppca'
  config.dataset = 'fashion_mnist'
  config.ppca.components = 64
  config.ppca.class_conditional = True
  return config
