"""The unconditional GAN (Goodfellow et al. 2014) on the MLP or DCGAN backbone, and the two
contracts every family follows.

A family is what differs between GANs, as data and small functions, in two classes of one file:
- `GAN`, what training needs, which the one shared step (`gans.core.step`) calls: the networks,
  the arrays a run keeps on the device, the random inputs drawn each step and how they are fed to
  G and D, what D's outputs mean, D's and G's extra loss terms, an auxiliary network trained
  beside them, and G's inputs when sampling;
- `GANSpec`, what the rest of the code asks about its runs: its config section, defaults and
  their checks, the fields of a run's identity, its title, its grid, its own evaluation report.
A new family subclasses both, overriding what differs, and names its spec in `Spec`; one line in
the registry (`gans.core.families`) makes it a model. The shared layers ask the registry and
never name a family.

The base class also carries the label machinery that the label families (cGAN, AC-GAN, E-cGAN,
class-conditional PPCA) switch on with `label_model`: G(z, y) with y drawn uniformly for fakes,
balanced labels when sampling, one grid row per class.
"""
from typing import NamedTuple, Optional

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from gans.core import optimizers
from gans.core.errors import check_choice
from gans.core.models import dcgan, mlp

BACKBONES = {'mlp': mlp, 'dcgan': dcgan}
# The original hyper-parameters of each backbone (the reference MLP GAN implementation's, the
# TensorFlow DCGAN tutorial's), for config fields left as None.
BACKBONE_DEFAULTS = {
    'mlp': {'learning_rate': 2e-4, 'batch_size': 128},
    'dcgan': {'learning_rate': 1e-4, 'batch_size': 256},
}
GRID_COLUMNS = 8


class Networks(NamedTuple):
  generator: nn.Module
  discriminator: Optional[nn.Module]  # None: fitted in closed form (PPCA)
  auxiliary: Optional[nn.Module] = None  # trained beside G and D by `update_auxiliary`


class GANSpec:
  """What the rest of the code asks about a family apart from training: its config section and
  the checks of its values, a run's identity, its title and grid on the results pages, its own
  evaluation report and that report's table. Class-level members answer about a config before
  any family is built; a spec bound to a built family (`family.spec`) draws its grid and report.
  """
  section = None  # the config section of the family's own settings, if it has one
  backbone_in_section = False  # True: config[section]['backbone'] names the backbone
  allowed_losses = None  # the config.loss values the family can train with; None: all
  # Epochs whose sample grids the original work showed, kept on the results pages by name.
  published_grid_epochs = {'dcgan': (1, 10, 50)}  # the TensorFlow DCGAN tutorial
  # The file (<report_stem>.json) of the family's own evaluation report, if it has one; such a
  # spec defines `report(networks, state, context)` (a gans.evaluation.reports.ReportContext
  # hands it data, the evaluator and a folder for figures) and `describe_report(report)`, the
  # report in one sentence for the results pages; `report_figures`: (file, caption) of the
  # figures its report writes, shown under the run on the results pages.
  report_stem = None
  report_figures = ()
  # Its reports' table across runs on the results pages, as data: {'title', 'intro', 'columns':
  # [(label, dotted field of the report, decimals or None)], 'footer' (formatted with the first
  # report's fields), 'run_columns' (add epochs and seconds per epoch)}; families whose tables
  # have one title share it. None: no table.
  report_table = None

  def __init__(self, family):
    self.family = family

  # ---- what a config says about the family (configs may be plain dicts: item access)
  @classmethod
  def section_defaults(cls) -> dict:
    """The default values of config[cls.section]."""
    return {}

  @classmethod
  def backbone_of(cls, config) -> Optional[str]:
    """The backbone network, whose config section sets the widths: the section's `backbone`
    field, else the model's own name (mlp, dcgan)."""
    return config[cls.section]['backbone'] if cls.backbone_in_section else config['model']

  @classmethod
  def check_config(cls, config):
    """Refuses a bad value of the family's settings with one UsageError; may fill fields the
    settings imply."""
    backbone = cls.backbone_of(config)
    check_choice(f'{cls.section}.backbone' if cls.backbone_in_section else 'backbone', backbone,
                 BACKBONES)
    BACKBONES[backbone].check_section(config[backbone])

  @classmethod
  def identity(cls, config) -> dict:
    """What a workdir keeps for life beside the shared fields: its architecture (how it computes
    may change), the family's section and its optimisers' kinds, which shape the states."""
    backbone = cls.backbone_of(config)
    ident = {'architecture': {k: v for k, v in config[backbone].items()
                              if k not in BACKBONES[backbone].FORMULATION_FIELDS}}
    if cls.section:
      ident[cls.section] = config[cls.section].to_dict()
    ident['optimizers'] = {'generator': config['optimizer'],
                           'discriminator': optimizers.discriminator_kind(config)}
    return ident

  @classmethod
  def title(cls, config) -> str:
    """The model's name on the results pages."""
    return {'mlp': 'MLP GAN', 'dcgan': 'DCGAN'}[config['model']]

  @classmethod
  def reference_grid_epochs(cls, config) -> tuple:
    return cls.published_grid_epochs.get(config['model'], ())

  # ---- the per-epoch grid of a built family
  def grid_inputs(self, z, images):
    """(G's inputs for the per-epoch grid, its columns): 8 columns of fixed noise; a label model
    has a row per class with the same noise down each column."""
    del images
    family = self.family
    if not family.label_model:
      return z, GRID_COLUMNS
    columns = max(1, len(z) // family.num_classes)
    labels = np.repeat(np.arange(family.num_classes, dtype=np.int32), columns)
    return {'z': jnp.tile(z[:columns], (family.num_classes, 1)), 'label': labels}, columns

  def grid_rows(self, generated, inputs, images):
    """The grid's images, row after row, float in [-1, 1]."""
    del inputs, images
    return generated


class GAN:
  """G(z) against D(x) with one real/fake logit, on the backbone the model names (mlp, dcgan):
  what the shared step (`gans.core.step`), the trainer and sampling need of a family. What else
  the code asks about it is its `Spec`."""
  Spec = GANSpec  # bound to each built family as `family.spec`
  # Class-conditional: G takes the dataset's class label, real batches carry labels, and the
  # samples' labels are classes, so their conditional accuracy means something. (InfoGAN's
  # categorical code is exported like labels, `sample_labels`, but is none of these.)
  label_model = False
  samples_from_noise = True  # False: G needs more than noise (CC-GAN in-paints given images)
  closed_form = False  # True: fitted once by the training layer instead of trained by steps

  def batch_sizes(self) -> list:
    """(name, size) of each batch that must split evenly over the devices."""
    return [('batch_size', self.config.batch_size)]

  def __init__(self, config, backbone: str, num_classes: int):
    self.config, self.backbone, self.num_classes = config, backbone, num_classes
    self.latent_dim = config.latent_dim
    self.spec = self.Spec(self)

  # ---- networks
  def discriminator_outputs(self) -> int:
    return 1

  def discriminator_normalises_batch(self) -> bool:
    """Whether D's output for an image depends on the rest of its batch (batch norm in D)."""
    return BACKBONES[self.backbone].discriminator_normalises_batch(self.config)

  def networks(self, axis_name=None) -> Networks:
    """`axis_name`: the pmap axis over which G's BatchNorm averages its batch statistics."""
    generator, discriminator = BACKBONES[self.backbone].build(
        self.config, axis_name, discriminator_outputs=self.discriminator_outputs())
    return Networks(generator, discriminator)

  # ---- data kept on the device
  def train_data(self, images, labels, key) -> dict:
    """{'images': per-image arrays the step's batches are gathered from, 'pool': other arrays
    `extra_batch` draws from}. `key` is the run's own for choosing data (CC-GAN's subset)."""
    del key
    per_image = {'image': images, 'label': labels} if self.label_model else {'image': images}
    return {'images': per_image, 'pool': {}}

  def extra_batch(self, pool, key) -> dict:
    """Arrays added to every step's batch, drawn for the global batch from `pool`."""
    del pool, key
    return {}

  # ---- inputs of a step
  def draw(self, key, num) -> dict:
    """The random inputs of `num` fakes (the global batch): noise, and fake labels.

    The key is split only when labels need one of their own: on XLA:CPU every key derivation is
    a small loop of its own, and one more made the baseline MLP GAN's step 10 % slower.
    """
    if not self.label_model:
      return {'z': jax.random.normal(key, (num, self.latent_dim))}
    z_key, label_key = jax.random.split(key)
    return {'z': jax.random.normal(z_key, (num, self.latent_dim)),
            'label': jax.random.randint(label_key, (num,), 0, self.num_classes)}

  def generator_input(self, draws, batch):
    del batch
    return {'z': draws['z'], 'label': draws['label']} if self.label_model else draws['z']

  def fake_images(self, generated, draws, batch):
    """G's side of the step, through which G's loss is differentiated: what D sees as fake (G's
    output, or G's pixels in the real context: CC-GAN), with anything else G's parameters make
    (BiGAN: E(x) as well)."""
    del draws, batch
    return generated

  def condition(self, inputs):
    """What D is told beside an image of a batch or of draws: None, or its label (cGAN)."""
    del inputs
    return None

  def discriminator_pairs(self, fake, batch, draws):
    """((real images, their condition), (fake images, their condition)): what D judges, with
    `fake` as `fake_images` returned it. A condition is data here (labels); a BiGAN's real
    condition is E(x), made on G's side."""
    return (batch['image'], self.condition(batch)), (fake, self.condition(draws))

  def discriminator_input(self, images, condition):
    del condition
    return images

  def heads(self, outputs) -> dict:
    """D's raw outputs as {'adv': real/fake logits (B,)[, 'class': class logits (B, K)]}."""
    return {'adv': outputs}

  # ---- extra loss terms: (value added to the loss, metrics to log)
  def discriminator_terms(self, real_heads, fake_heads, batch, draws, discriminate):
    """`discriminate(images, condition) -> heads` runs D in training mode on other images."""
    del real_heads, fake_heads, batch, draws, discriminate
    return 0.0, {}

  def generator_terms(self, fake_heads, draws, real_heads):
    """`real_heads()` runs D in training mode on the real pairs, for a family whose real
    condition depends on G's parameters (BiGAN); D runs on them only when called."""
    del fake_heads, draws, real_heads
    return 0.0, {}

  # ---- auxiliary network
  def update_auxiliary(self, module, state, fake, draws, mean):
    """A step of the auxiliary network on this step's fakes; (state, metrics). `mean` averages
    over devices."""
    del module, fake, draws, mean
    return state, {}

  # ---- sampling
  def balanced_labels(self, start, num) -> np.ndarray:
    """Labels start, start + 1, ... modulo K: every class equally often."""
    return ((start + np.arange(num)) % self.num_classes).astype(np.int32)

  def sample_labels(self, start, num):
    """The `labels` written beside samples numbered from `start` (export, scoring): a label
    model's classes, cycling; None for a model whose samples carry none."""
    return self.balanced_labels(start, num) if self.label_model else None

  def noise_inputs(self, z, start=0):
    """G's input for noise z, the samples numbered from `start` (labels cycle through classes)."""
    if self.label_model:
      return {'z': z, 'label': self.balanced_labels(start, len(z))}
    return z
