"""CC-GAN, 100 labels, on the DCGAN backbone on MNIST: results/ccgan100_dcgan_mnist.

Denton et al. (2016) in-paint with convolutional networks; ccgan100.py, the MLP version,
gives the rest (100 labelled images, the 12-pixel hole). The backbone is the DCGAN recipe's
(dcgan_tuned.py): the TensorFlow tutorial's D (64 -> 128 convolutions with dropout), here with
K = 10 class logits, and the narrower 128 -> 64 -> 32 generator, with Adam at 2e-4. Batch 128
instead of the recipe's 64 halves the steps of an epoch on a CPU; the labelled batch (32 of the 100
labelled images per step) is the default. evaluate.py scores D as a classifier beside the same
network trained on the 100 labelled images alone: at epoch 10, 0.8111 against 0.7464 test accuracy
(the MLP backbone's 25-epoch run made by the first release of this code: 0.6603 against 0.7714).

The dataset is the config's argument, MNIST by default:
`--config=gans/configs/ccgan100_dcgan.py:fashion_mnist`."""
from gans.configs import ccgan100


def get_config(dataset='mnist'):
  config = ccgan100.get_config(dataset)
  config.conditional.backbone = 'dcgan'
  config.dcgan.generator_features = (128, 64, 32)
  config.batch_size = 128
  config.learning_rate = 2e-4
  config.num_epochs = 10
  return config
