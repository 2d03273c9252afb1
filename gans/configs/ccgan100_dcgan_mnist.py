"""CC-GAN, 100 labels, on the DCGAN backbone on MNIST: results/ccgan100_dcgan_mnist.

Denton et al. (2016) in-paint with convolutional networks; ccgan100_mnist.py is the MLP version.
The backbone is the DCGAN recipe's (dcgan_tuned_mnist.py): the seed's D (64 -> 128 convolutions
with dropout), here with K = 10 class logits, and the narrower 128 -> 64 -> 32 generator, with
Adam at 2e-4. Batch 128 instead of the recipe's 64 halves the steps of an epoch on a CPU; the
labelled batch (32 of the 100 labelled images per step) and the 12-pixel hole are the defaults.
evaluate.py scores D as a classifier beside the same network trained on the 100 labelled images
alone.
"""
from gans.configs import default


def get_config():
  config = default.get_config()
  config.model = 'ccgan'
  config.dataset = 'mnist'
  config.conditional.backbone = 'dcgan'
  config.conditional.num_labelled = 100
  config.dcgan.generator_features = (128, 64, 32)
  config.batch_size = 128
  config.learning_rate = 2e-4
  config.num_epochs = 10
  return config
