"""CC-GAN, 100 labels, on MNIST for 25 epochs: results/first_version/ccgan100_mnist.

100 labelled train images (10 per class): the semi-supervised setting where labels are scarce. Its
discriminator, as a classifier, is compared with the same network trained on those labelled images
alone. The 12-pixel hole, the MLP backbone and its original settings (the baseline MLP GAN's) are
the defaults; 25 epochs like the rest of the conditional family.

The dataset is the config's argument, MNIST by default:
`--config=gans/configs/ccgan100.py:fashion_mnist`.

On Fashion-MNIST (`:fashion_mnist`): results/first_version/ccgan100_fashion_mnist.
"""
from gans.configs import default
from gans.core.families import ccgan as family


def get_config(dataset='mnist'):
  config = default.add_family_section(default.get_config(), family.CCGANSpec)
  config.model = 'ccgan'
  config.dataset = dataset
  config.conditional.num_labelled = 100
  config.num_epochs = 25
  return config
