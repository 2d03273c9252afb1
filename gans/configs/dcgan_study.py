"""The base recipe of the DCGAN recipe study (results/dcgan_study): a compact DCGAN like the
InfoGAN paper's MNIST networks, each study variant one or two fields away from it.

What differs from dcgan.py (the TensorFlow tutorial's DCGAN) and why:
- Generator maps 128 -> 64 with 4x4 kernels (dense to 7x7x128, two stride-2 transposed
  convolutions), D without dropout: about 13M multiply-adds per image and network instead of
  the tutorial generator's 82M, 2.7x faster for the whole step at batch 64 on a 2-core CPU
  (90 against 244 ms, gans.benchmarks.step).
- Batch norm in D after its second convolution, kernels drawn from N(0, 0.02) and LeakyReLU 0.2
  (Radford et al. 2016; Chen et al. 2016's InfoGAN networks).
- Adam 2e-4, b1 0.5, batch 64 (Radford et al. 2016).
- An EMA of G with decay 0.999 and a warm-up (`ema_warmup`), so the average forgets the random
  initialisation early and every variant is scored as G and as its EMA.

The study: `python -m gans.tools.sweep --config=gans/configs/dcgan_study.py ...`, its whole
command in results/dcgan_study/command.txt. The dataset is the config's argument, MNIST by
default: `--config=gans/configs/dcgan_study.py:fashion_mnist`.
"""
from gans.configs import default


def get_config(dataset='mnist'):
  config = default.get_config()
  config.model = 'dcgan'
  config.dataset = dataset
  config.num_steps = 3000
  config.batch_size = 64
  config.learning_rate = 2e-4
  set_base_networks(config.dcgan)
  config.ema_decay = 0.999
  config.ema_warmup = True
  return config


def set_base_networks(section):
  """The study base's networks in a config's dcgan section, for every family on this backbone."""
  section.generator_features = (128, 64)
  section.kernel_size = 4
  section.dropout_rate = 0.0
  section.negative_slope = 0.2
  section.discriminator_batch_norm = True
  section.init_stddev = 0.02
