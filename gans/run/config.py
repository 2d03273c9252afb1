"""Validation of a run's config: every bad value is refused with one line before anything runs.

`resolve` returns a copy with the backbone's original values (the TensorFlow DCGAN tutorial's or
the reference MLP GAN implementation's) in the fields left as None, so the rest of the code reads
a complete config.
"""
import re

import jax
import ml_collections

from gans.core import data, families, metrics
from gans.core import losses, optimizers
from gans.core import parallel
from gans.core.errors import UsageError, check_choice, check_integer, check_non_negative, is_number

PARALLEL_MODES = ('auto',) + parallel.PARALLEL_MODES


def resolve(config: ml_collections.ConfigDict) -> ml_collections.ConfigDict:
  """A validated copy with the backbone's original values in the fields left as None."""
  config = ml_collections.ConfigDict(config.to_dict())
  spec = families.spec(config.model)  # refuses an unknown model
  check_choice('dataset', config.dataset, data.DATASETS)
  check_choice('loss', config.loss, losses.LOSSES)
  check_choice('penalty', config.penalty, losses.PENALTIES)
  check_choice('parallel mode', config.parallel, PARALLEL_MODES)
  for field in ('checkpoint_every_steps', 'log_every_steps', 'num_sample_images'):
    check_integer(field, config[field])
  if spec.section:
    _merge_section_defaults(config, spec)
  spec.check_config(config)  # its own settings; a closed-form fit sets what it implies
  if families.family_class(config.model).closed_form:
    return config
  for field, value in families.gan.BACKBONE_DEFAULTS[spec.backbone_of(config)].items():
    if config[field] is None:
      config[field] = value
  for field in ('num_epochs', 'batch_size', 'latent_dim', 'steps_per_call', 'n_critic'):
    check_integer(field, config[field])
  if config.num_steps is not None:
    check_integer('num_steps', config.num_steps)
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
  if config.d_head_learning_rate is not None and not (
      spec.backbone_of(config) == 'dcgan' and config.dcgan.discriminator_head_width):
    raise UsageError(f'd_head_learning_rate={config.d_head_learning_rate} needs head layers in '
                     f'D: the dcgan backbone with dcgan.discriminator_head_width > 0')
  if not (is_number(config.clip_value) and config.clip_value > 0):
    raise UsageError(f'clip_value must be positive, got {config.clip_value!r}')
  for field in ('spectral_norm', 'ema_warmup'):
    if not isinstance(config[field], bool):
      raise UsageError(f'{field} must be true or false, got {config[field]!r}')
  for field in ('gradient_penalty_weight', 'penalty_weight'):
    check_non_negative(field, config[field])
  if not 0 <= config.ema_decay < 1:
    raise UsageError(f'ema_decay must be in [0, 1), got {config.ema_decay!r}')
  allowed_losses = spec.allowed_losses
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


def _merge_section_defaults(config, spec):
  """The family's section as the config gives it over the family's defaults, so that a config
  file needs to hold only the family's own section's fields it changes, or none; a field the
  family does not have is refused."""
  defaults = spec.section_defaults()
  given = config[spec.section].to_dict() if spec.section in config else {}
  unknown = sorted(set(given) - set(defaults))
  if unknown:
    raise UsageError(f'{spec.section}.{unknown[0]}: the {spec.section} section has no such '
                     f'field; it has {", ".join(defaults)}')
  config[spec.section] = ml_collections.ConfigDict({**defaults, **given})


def _check_optimizers(config):
  """The shared optimiser settings and D's own (None: the shared value)."""
  check_choice('optimizer', config.optimizer, optimizers.OPTIMIZERS)
  if config.d_optimizer is not None:
    check_choice('d_optimizer', config.d_optimizer, optimizers.OPTIMIZERS)
  for field in ('learning_rate', 'd_learning_rate', 'd_head_learning_rate'):
    value = config[field]
    if value is not None and not (is_number(value) and value > 0):
      raise UsageError(f'{field} must be positive, got {value!r}')
  for field in ('b1', 'b2', 'd_b1', 'd_b2'):
    value = config[field]
    if value is not None and not (is_number(value) and 0 <= value < 1):
      raise UsageError(f'{field} must be in [0, 1), got {value!r}')


def parallel_mode(config) -> str:
  """'auto' pmaps over the local devices when there are several, else jits on the one: on 8
  devices pmap measured faster than 'sharded' (docs/training.md, results/performance.md)."""
  if config.parallel == 'auto':
    return 'pmap' if jax.local_device_count() > 1 else 'jit'
  return config.parallel


def check_batch_split(config, mode):
  """The global batch (and any other batch of the family's) must split evenly over the
  devices."""
  shards = parallel.Placement.shard_count(mode)
  for name, size in families.build(config).batch_sizes():
    if size % shards:
      raise UsageError(f'{name} {size} is not divisible by the {shards} devices of a {mode} run; '
                       f'use a multiple of {shards}')
