"""CC-GAN, 1000 labels, on MNIST for 25 epochs: results/first_version/ccgan1000_mnist.

1000 labelled train images (100 per class), ten times those of ccgan100_mnist, to see how the semi-
supervised gain changes with more labels. Its discriminator, as a classifier, is compared with the
same network trained on those labelled images alone. The 12-pixel hole, the MLP backbone and its
original settings (the baseline MLP GAN's) are the defaults; 25 epochs like the rest of the
conditional family.

The dataset is the config's argument, MNIST by default:
`--config=gans/configs/ccgan1000.py:fashion_mnist`.

On Fashion-MNIST (`:fashion_mnist`): results/first_version/ccgan1000_fashion_mnist.
"""
from gans.configs import ccgan100


def get_config(dataset='mnist'):
  config = ccgan100.get_config(dataset)
  config.conditional.num_labelled = 1000  # the same experiment with ten times the labels
  return config
