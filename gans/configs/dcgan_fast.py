"""The fast DCGAN on MNIST for 10 epochs, the best recipe of the DCGAN recipe study:
results/dcgan_fast_mnist.

The study's base (dcgan_study.py: generator maps 128 -> 64 with 4x4 kernels, D without dropout,
kernels from N(0, 0.02), LeakyReLU 0.2, Adam 2e-4 with b1 0.5 at batch 64, an EMA of G with
decay 0.999 and a warm-up) with the variant that scored best at 3,000 steps in
results/dcgan_study, the InfoGAN paper's MNIST networks:
- a batch-normalised dense layer of 1024 units before G's dense layer to the 7x7 maps and after
  D's convolutions, and ReLU in G (its appendix and reference code);
- batch norm in D that normalises the real and the fake images apart
  (`dcgan.discriminator_batch_norm_halves`), as the reference code's D, called on each alone.
At 3,000 steps the two seeds scored FD 24 and 43 (their EMAs 14 and 23), where the same networks
without the dense layers stood near 200: the dense layers cost 2.4x the compute per step and cut
the distance about tenfold.
The Fréchet distance of 10,000 samples, as many as evaluate.py scores, is recorded every half
epoch (469 of the 937 steps), so that the results page can give the training time at which it
first came within 10x and 4x the real reference.

The dataset is the config's argument, MNIST by default:
`--config=gans/configs/dcgan_fast.py:fashion_mnist`."""
from gans.configs import dcgan_study


def get_config(dataset='mnist'):
  config = dcgan_study.get_config(dataset)
  config.num_steps = None
  config.num_epochs = 10
  set_fast_networks(config.dcgan)
  config.eval_every_steps = 469  # half of the 937 steps of an epoch at batch 64
  config.eval_num_samples = 10000
  return config


TRAINING_FIELDS = ('batch_size', 'learning_rate', 'ema_decay', 'ema_warmup', 'num_epochs')
EVALUATION_FIELDS = ('eval_every_steps', 'eval_num_samples')


def use_fast_recipe(config, dataset, fields=TRAINING_FIELDS):
  """Puts the fast DCGAN's networks and the named fields of its config (by default its
  optimiser, batch, EMA and length) into another family's config, so that a family on this
  backbone (acgan_dcgan.py, ccgan100_dcgan.py) trains by the recipe the study found."""
  set_fast_networks(config.dcgan)
  fast = get_config(dataset)
  for field in fields:
    config[field] = fast[field]


def train_on_fast_recipe(config, section):
  """A family whose `section` chooses its backbone (`conditional`, `bigan`) moved to the DCGAN
  backbone and trained by the fast recipe, its evaluations every half epoch included."""
  config[section].backbone = 'dcgan'
  use_fast_recipe(config, config.dataset, TRAINING_FIELDS + EVALUATION_FIELDS)


def set_fast_networks(section):
  """The fast DCGAN's networks in a config's dcgan section: those the other families on this
  backbone train with (infogan_dcgan.py, sngan.py, acgan_dcgan.py)."""
  dcgan_study.set_base_networks(section)
  section.discriminator_features = (64, 128)
  section.generator_dense_widths = (1024,)
  section.generator_negative_slope = 0.0  # ReLU
  section.discriminator_dense_widths = (1024,)
  section.discriminator_batch_norm_halves = True


def drop_discriminator_batch_norm(section):
  """The fast networks' D without batch norm, for a D whose regulariser is per sample: WGAN-GP's
  penalty on each sample's gradient (with layer norm in its place), or spectral normalisation
  (SN-GAN). Batch norm makes a sample's output, hence its gradient, depend on the rest of its
  batch, which is why Gulrajani et al. (2017) leave it out of their critics."""
  section.discriminator_batch_norm = False
  section.discriminator_batch_norm_halves = False
