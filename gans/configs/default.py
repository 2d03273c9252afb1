"""Default hyper-parameters: the TensorFlow DCGAN tutorial's DCGAN on MNIST.

Use with `train.py --config=gans/configs/default.py` and override any field with
`--config.FIELD=VALUE`; the plain flags of train.py (`--model`, `--dataset`, ...) override
the same fields. Fields left as `None` take the chosen model's original value (the TensorFlow DCGAN
tutorial's or the reference MLP GAN implementation's; see
`gans.core.families.gan.BACKBONE_DEFAULTS`), so `--model=mlp` alone gives the baseline MLP GAN; a
conditional model takes those of its `conditional.backbone`.

The config is data: the shared fields and the two backbones' sections. A family with settings of
its own (config.conditional, config.infogan, config.ppca) gets its section with its defaults from
its config file (`add_family_section`), where `--config.SECTION.FIELD` can override them; a
config without it (`--model=infogan` on this file) gets the defaults when the run's config is
resolved (`gans.run.config.resolve`).
"""
import ml_collections

placeholder = ml_collections.config_dict.placeholder


def get_config():
  config = ml_collections.ConfigDict()
  config.model = 'dcgan'
  config.dataset = 'mnist'
  # Folder with the IDX gzip files (`<data_dir>/<dataset>/`); None reads $GANS_DATA_DIR and
  # falls back to TensorFlow Datasets.
  config.data_dir = placeholder(str)
  config.loss = 'non_saturating'
  config.seed = 0

  config.num_epochs = 50
  # When set, train for this many steps in total instead of num_epochs.
  config.num_steps = placeholder(int)
  config.batch_size = placeholder(int)  # global, all devices
  config.latent_dim = 100

  add_optimisation(config)
  add_running(config)
  config.mlp = mlp_section()
  config.dcgan = dcgan_section()
  return config


def add_optimisation(config):
  """The optimisers, the loss's settings, the penalties and the EMA of G."""
  config.learning_rate = placeholder(float)
  config.b1 = 0.5
  config.b2 = 0.999
  # 'adam', or 'rmsprop' as PyTorch's: its squared-gradient average decays by b2 (PyTorch's
  # alpha), b1 is unused (gans/core/optimizers.py).
  config.optimizer = 'adam'
  # The discriminator's own optimiser, learning rate and betas (two time-scale update rule,
  # Heusel et al. 2017); each left as None is the shared value above, which G always takes.
  config.d_optimizer = placeholder(str)
  config.d_learning_rate = placeholder(float)
  config.d_b1 = placeholder(float)
  config.d_b2 = placeholder(float)
  # The learning rate of D's head layers alone (`dcgan.discriminator_head_width`: InfoGAN's Q
  # on D's features), with D's other settings; None: D's learning rate. Reimplementations of
  # InfoGAN train Q with G's optimiser, at G's rate.
  config.d_head_learning_rate = placeholder(float)
  config.n_critic = 1  # discriminator steps per generator step (5 is usual for wasserstein_gp)
  config.gradient_penalty_weight = 10.0  # used by wasserstein_gp only
  config.clip_value = 0.01  # c of wasserstein_clip: D's weights are kept in [-c, c]
  # A gradient penalty added to D's loss, with any loss: 'none', 'dragan' (Kodali et al. 2017:
  # (||grad D|| - 1)^2 near the real data) or 'r1' (Mescheder et al. 2018: 1/2 ||grad D||^2 at
  # the real data), weighted by penalty_weight (DRAGAN's lambda; R1's gamma).
  config.penalty = 'none'
  config.penalty_weight = 10.0
  # Spectral normalisation (Miyato et al. 2018) of every layer of D, on either backbone; its
  # power-iteration vectors live in D's 'batch_stats' and in the checkpoints.
  config.spectral_norm = False
  config.ema_decay = 0.0  # EMA of the generator's variables; 0 turns it off
  # With a warm-up, step t averages with decay min(ema_decay, (1 + t) / (10 + t)), as
  # TensorFlow's ExponentialMovingAverage with num_updates: the EMA forgets G's random
  # initialisation within a few hundred steps instead of ~1 / (1 - ema_decay).
  config.ema_warmup = False


def add_running(config):
  """How a run is executed and what it records: parallelism, checkpoints, logs, evaluation."""

  # 'jit' (one device), 'pmap' (over the local devices), 'sharded' (jit over a mesh of all
  # devices, the batch split over it); 'auto' is 'pmap' when there are several, else 'jit'
  # (chosen by measurement: docs/training.md).
  config.parallel = 'auto'
  config.steps_per_call = 1  # steps fused into one dispatch (lax.scan; unrolled on CPU)
  config.checkpoint_every_steps = 1000
  config.log_every_steps = 50
  config.num_sample_images = 64  # fixed-noise grid saved every epoch
  # 'A:B': a jax.profiler trace of steps A+1..B in <workdir>/profile/ (TensorBoard, Perfetto).
  config.profile_steps = ''
  # Every this many steps (0: never), the Fréchet distance and classifier score of
  # eval_num_samples samples in the evaluator classifier's features go to metrics.jsonl / fid.png,
  # of G and, with ema_decay, of its EMA.
  config.eval_every_steps = 0
  config.eval_num_samples = 2000
  # Cache of evaluator classifiers; None reads $GANS_CLASSIFIER_DIR, else ~/.cache/gans.
  config.classifier_dir = placeholder(str)


def mlp_section():
  """The MLP backbone: the reference MLP GAN implementation's widths."""
  mlp = ml_collections.ConfigDict()
  mlp.generator_widths = (256, 512, 1024)
  mlp.discriminator_widths = (1024, 512, 256)
  mlp.negative_slope = 0.2
  mlp.dropout_rate = 0.3
  return mlp


def dcgan_section():
  """The DCGAN backbone: the TensorFlow tutorial's networks, and the options of the recipes."""
  dcgan = ml_collections.ConfigDict()
  # Dense to features[0] maps of 7x7, then one ConvTranspose per later entry and one to the
  # image; the last two are stride 2 (7 -> 14 -> 28), earlier ones stride 1.
  dcgan.generator_features = (256, 128, 64)
  dcgan.discriminator_features = (64, 128)  # stride-2 convolutions
  # Batch-normalised dense layers of these widths before G's dense layer to the 7x7 maps and
  # after D's convolutions: InfoGAN's MNIST networks have one of 1024 in each.
  dcgan.generator_dense_widths = ()
  dcgan.discriminator_dense_widths = ()
  # A batch-normalised hidden layer of this width of D's outputs after the first alone, on its
  # last features: InfoGAN's reference code gives Q one of 128. 0: none.
  dcgan.discriminator_head_width = 0
  dcgan.kernel_size = 5
  dcgan.negative_slope = 0.3
  # G's own LeakyReLU slope (0: ReLU, as the DCGAN paper's and InfoGAN's generators); None: the
  # same as D's, as the TensorFlow tutorial has it.
  dcgan.generator_negative_slope = placeholder(float)
  dcgan.dropout_rate = 0.3
  # BatchNorm after each of D's convolutions but the first (the DCGAN paper, InfoGAN's networks).
  dcgan.discriminator_batch_norm = False
  # With it, the real and the fake images normalised apart, each by their own batch statistics
  # (GAN hacks: "different mini-batches for real and fake"); else together.
  dcgan.discriminator_batch_norm_halves = False
  # Layer norm in those places instead, each image over its own features: the normalisation a
  # per-sample gradient penalty allows (Gulrajani et al. 2017); not with batch norm.
  dcgan.discriminator_layer_norm = False
  # Every kernel drawn from N(0, init_stddev) (the DCGAN paper: 0.02); None: Flax's LeCun normal.
  dcgan.init_stddev = placeholder(float)
  # How the generator computes its transposed convolutions, same parameters either way: 'plain'
  # (nn.ConvTranspose) or 'subpixel' (one stride-1 convolution per output phase, interleaved),
  # 2.8x faster for the whole train step on a 2-core CPU (results/performance.md).
  dcgan.transposed_conv = 'subpixel'
  # How the discriminator's stride-2 convolutions compute the gradient with respect to their
  # input, same function either way: 'plain' (autodiff: a convolution of the stride-dilated
  # cotangent) or 'subpixel' (the transposed convolution by phases, as for the generator),
  # 1.15x faster for the whole train step on a 2-core CPU (results/performance.md).
  dcgan.conv_input_grad = 'subpixel'

  return dcgan


def add_family_section(config, spec):
  """`config` with the family's own section (`spec`, a gans.core.families.gan.GANSpec) at its
  defaults, for the family's config files to set and the command line to override."""
  config[spec.section] = ml_collections.ConfigDict(spec.section_defaults())
  return config
