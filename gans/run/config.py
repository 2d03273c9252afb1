"""Validation of a run's config: every bad value is refused with one line before anything runs.

`resolve` returns a copy with the backbone's seed values in the fields left as None, so the
rest of the code reads a complete config.
"""
import re

import jax
import ml_collections

from gans.core import data, families, metrics
from gans.core import losses, optimizers
from gans.core import parallel
from gans.core.errors import UsageError
from gans.core.families import infogan
from gans.core.models import dcgan, ppca

PARALLEL_MODES = ('auto',) + parallel.PARALLEL_MODES


def _choose(name, value, allowed):
  if value not in allowed:
    raise UsageError(f'unknown {name} {value!r}; allowed: {", ".join(allowed)}')


def _positive_int(name, value):
  if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
    raise UsageError(f'{name} must be a positive integer, got {value!r}')


def resolve(config: ml_collections.ConfigDict) -> ml_collections.ConfigDict:
  """A validated copy with the backbone's seed values in the fields left as None."""
  config = ml_collections.ConfigDict(config.to_dict())
  _choose('model', config.model, families.MODELS)
  _choose('dataset', config.dataset, data.DATASETS)
  _choose('loss', config.loss, losses.LOSSES)
  _choose('penalty', config.penalty, losses.PENALTIES)
  _choose('parallel mode', config.parallel, PARALLEL_MODES)
  _choose('dcgan.transposed_conv', config.dcgan.transposed_conv, dcgan.TRANSPOSED_CONVS)
  _choose('dcgan.conv_input_grad', config.dcgan.conv_input_grad, dcgan.CONV_INPUT_GRADS)
  _choose('conditional.backbone', config.conditional.backbone, families.BACKBONES)
  _choose('infogan.backbone', config.infogan.backbone, families.BACKBONES)
  for field in ('checkpoint_every_steps', 'log_every_steps', 'num_sample_images'):
    _positive_int(field, config[field])
  if families.uses_section(config, 'ppca'):
    return _resolve_ppca(config)
  for field, value in families.gan.BACKBONE_DEFAULTS[families.backbone(config)].items():
    if config[field] is None:
      config[field] = value
  for field in ('num_epochs', 'batch_size', 'latent_dim', 'steps_per_call', 'n_critic'):
    _positive_int(field, config[field])
  if config.num_steps is not None:
    _positive_int('num_steps', config.num_steps)
  if not isinstance(config.eval_every_steps, int) or config.eval_every_steps < 0:
    raise UsageError(f'eval_every_steps must be 0 (off) or a positive integer, got '
                     f'{config.eval_every_steps!r}')
  if config.eval_every_steps and not families.build(config).samples_from_noise:
    raise UsageError(f'eval_every_steps is for models that sample from noise; a {config.model} '
                     f'does not, and is scored by evaluate.py')
  if config.eval_every_steps and not (isinstance(config.eval_num_samples, int)
                                      and config.eval_num_samples >= metrics.MIN_SAMPLES):
    raise UsageError(f'eval_num_samples must be an integer >= {metrics.MIN_SAMPLES}, got '
                     f'{config.eval_num_samples!r}')
  _check_optimizers(config)
  if not (_is_number(config.clip_value) and config.clip_value > 0):
    raise UsageError(f'clip_value must be positive, got {config.clip_value!r}')
  if not isinstance(config.spectral_norm, bool):
    raise UsageError(f'spectral_norm must be true or false, got {config.spectral_norm!r}')
  for field in ('gradient_penalty_weight', 'penalty_weight'):
    if not (_is_number(config[field]) and config[field] >= 0):
      raise UsageError(f'{field} must be >= 0, got {config[field]!r}')
  if not 0 <= config.ema_decay < 1:
    raise UsageError(f'ema_decay must be in [0, 1), got {config.ema_decay!r}')
  if families.uses_section(config, 'conditional'):
    _check_conditional(config.conditional)
  if families.uses_section(config, 'infogan'):
    _check_infogan(config)
  allowed_losses = families.build(config).allowed_losses
  if allowed_losses and config.loss not in allowed_losses:
    raise UsageError(f'loss {config.loss!r} does not suit a {config.model}; allowed: '
                     f'{", ".join(allowed_losses)}')
  profile_steps(config)
  if config.checkpoint_every_steps % config.log_every_steps:
    raise UsageError(f'checkpoint_every_steps ({config.checkpoint_every_steps}) must be a multiple '
                     f'of log_every_steps ({config.log_every_steps}) so resumed logs are exact')
  return config


def profile_steps(config):
  """(A, B) of config.profile_steps 'A:B' (0 <= A < B), or None when it is empty."""
  text = config.profile_steps
  if not text:
    return None
  match = re.fullmatch(r'(\d+):(\d+)', str(text))
  if not match or int(match.group(1)) >= int(match.group(2)):
    raise UsageError(f'profile_steps must be A:B with integers 0 <= A < B (a trace of steps A+1 to '
                     f'B), got {text!r}')
  return int(match.group(1)), int(match.group(2))


def _check_optimizers(config):
  """The shared optimiser settings and D's own (None: the shared value)."""
  _choose('optimizer', config.optimizer, optimizers.OPTIMIZERS)
  if config.d_optimizer is not None:
    _choose('d_optimizer', config.d_optimizer, optimizers.OPTIMIZERS)
  for field in ('learning_rate', 'd_learning_rate'):
    value = config[field]
    if value is not None and not (_is_number(value) and value > 0):
      raise UsageError(f'{field} must be positive, got {value!r}')
  for field in ('b1', 'b2', 'd_b1', 'd_b2'):
    value = config[field]
    if value is not None and not (_is_number(value) and 0 <= value < 1):
      raise UsageError(f'{field} must be in [0, 1), got {value!r}')


def _is_number(value):
  return isinstance(value, (int, float)) and not isinstance(value, bool)


def _resolve_ppca(config):
  """PPCA has no steps, batches or optimiser; its noise (z, eps) sets latent_dim."""
  k = config.ppca.components
  if not isinstance(k, int) or not 0 < k < ppca.DIM:
    raise UsageError(f'ppca.components must be an integer in [1, {ppca.DIM - 1}], got {k!r}')
  if not isinstance(config.ppca.class_conditional, bool):
    raise UsageError(f'ppca.class_conditional must be true or false, got '
                     f'{config.ppca.class_conditional!r}')
  if config.eval_every_steps:
    raise UsageError('eval_every_steps: a ppca is fitted in one closed-form step; score it with '
                     'evaluate.py')
  config.latent_dim = k + ppca.DIM
  return config


def _check_conditional(c):
  side = data.IMAGE_SHAPE[0]
  if not isinstance(c.hole_size, int) or not 0 < c.hole_size < side:
    raise UsageError(f'conditional.hole_size must be an integer in [1, {side - 1}], got '
                     f'{c.hole_size!r}')
  for field in ('num_labelled', 'labelled_batch_size'):
    _positive_int(f'conditional.{field}', c[field])
  if not c.class_loss_weight >= 0:
    raise UsageError(f'conditional.class_loss_weight must be >= 0, got {c.class_loss_weight!r}')


def _check_infogan(config):
  c = config.infogan
  for field, low, high in (('categories', 2, infogan.MAX_CATEGORIES),
                           ('continuous', 0, infogan.MAX_CONTINUOUS)):
    value = c[field]
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
      raise UsageError(f'infogan.{field} must be an integer in [{low}, {high}], got {value!r}')
  if c.continuous >= config.latent_dim:
    raise UsageError(f'infogan.continuous ({c.continuous}) must be smaller than latent_dim '
                     f'({config.latent_dim}): the continuous codes are the first entries of z, '
                     f'the rest is the noise')
  for field in ('categorical_weight', 'continuous_weight'):
    if not (_is_number(c[field]) and c[field] >= 0):
      raise UsageError(f'infogan.{field} must be >= 0, got {c[field]!r}')


def parallel_mode(config) -> str:
  """'auto' pmaps over the local devices when there are several, else jits on the one: on 8
  devices pmap measured faster than 'sharded' (docs/training.md, results/performance.md)."""
  if config.parallel == 'auto':
    return 'pmap' if jax.local_device_count() > 1 else 'jit'
  return config.parallel


def check_batch_split(config, mode):
  """The global batch (and CC-GAN's labelled batch) must split evenly over the devices."""
  shards = parallel.Placement.shard_count(mode)
  sizes = [('batch_size', config.batch_size)]
  if families.uses_section(config, 'conditional'):
    sizes.append(('conditional.labelled_batch_size', config.conditional.labelled_batch_size))
  for name, size in sizes:
    if size % shards:
      raise UsageError(f'{name} {size} is not divisible by the {shards} devices of a {mode} run; '
                       f'use a multiple of {shards}')
