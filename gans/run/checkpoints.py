"""A run's persistent state: orbax checkpoints (state pytree, JSON metadata) and the
lock that keeps one writer per workdir.

The metadata holds the step, the data-pipeline position, the config and a checksum of the saved
arrays, so a workdir can be checked against a new command before anything in it is touched, and a
checkpoint damaged on disk (truncated, corrupted, half-deleted) is recognised and skipped rather
than resumed from.
"""
import errno
import fcntl
import hashlib
import os
import shutil
import socket
import time
from typing import Optional

import jax
import numpy as np
import orbax.checkpoint as ocp
from absl import logging

from gans.core.errors import StorageError, UsageError

MAX_TO_KEEP = 3
DAMAGED_DIR = 'damaged_checkpoints'


def checkpoint_dir(workdir):
  return os.path.join(os.path.abspath(workdir), 'checkpoints')


def tree_checksum(tree) -> str:
  """sha256 over every leaf in tree order: arrays by dtype, shape and bytes, scalars by value
  (a step counter may come back as a python int where a numpy int32 was saved)."""
  digest = hashlib.sha256()
  for leaf in jax.tree.leaves(tree):
    leaf = np.asarray(leaf)
    if leaf.ndim == 0:
      digest.update(repr(leaf.item()).encode())
    else:
      digest.update(f'{leaf.dtype.str}{leaf.shape}'.encode())
      digest.update(np.ascontiguousarray(leaf).tobytes())
  return digest.hexdigest()


class DamagedCheckpointError(Exception):
  pass


class Checkpointer:
  """Saves {'state'} with StandardSave and the metadata with JsonSave, last 3 kept."""

  def __init__(self, workdir, create=True):
    self.workdir = workdir
    options = ocp.CheckpointManagerOptions(max_to_keep=MAX_TO_KEEP, create=create)
    self.manager = ocp.CheckpointManager(checkpoint_dir(workdir), options=options)

  def all_steps(self):
    return sorted(self.manager.all_steps())

  def save(self, step, tree, meta):
    """Saves in the background; orbax finalises the step atomically once it is fully written.

    A failure of this save or of the previous background one raises StorageError; the
    checkpoints already finalised stay as they were.
    """
    meta = dict(meta, checksum=tree_checksum(tree))
    try:
      self.manager.save(step, args=ocp.args.Composite(
          state=ocp.args.StandardSave(tree), meta=ocp.args.JsonSave(meta)))
    except Exception as e:  # orbax re-raises background failures here, in various types
      raise self._storage_error(step, e) from e

  def _storage_error(self, step, error):
    intact = [s for s in self.all_steps() if s < step]
    return StorageError(f'could not write the checkpoint of step {step} to '
                        f'{checkpoint_dir(self.workdir)}: {error}; the checkpoints of steps '
                        f'{intact or "none"} are intact')

  def restore(self, target, step):
    """(tree shaped like `target`, meta) of `step`; DamagedCheckpointError if it is unreadable."""
    try:
      restored = self.manager.restore(step, args=ocp.args.Composite(
          state=ocp.args.StandardRestore(target), meta=ocp.args.JsonRestore()))
      tree, meta = restored.state, restored.meta
    except Exception as e:  # orbax and tensorstore raise many types for damaged files
      raise DamagedCheckpointError(f'{type(e).__name__}: {e}'.splitlines()[0]) from e
    if not isinstance(meta, dict) or meta.get('step') != step:
      raise DamagedCheckpointError(f'metadata missing or not of step {step}')
    if 'checksum' in meta and tree_checksum(tree) != meta['checksum']:
      raise DamagedCheckpointError('arrays do not match the checksum saved with them')
    return tree, meta

  def restore_latest_intact(self, target):
    """(tree, meta, damaged steps) of the newest checkpoint that restores and checks out.

    Newer, damaged checkpoints are skipped with a warning naming the step; (None, None, damaged)
    when no checkpoint is intact.
    """
    damaged = []
    for step in reversed(self.all_steps()):
      try:
        tree, meta = self.restore(target, step)
        return tree, meta, damaged
      except DamagedCheckpointError as e:
        logging.warning('Skipping the damaged checkpoint of step %d in %s: %s', step,
                        checkpoint_dir(self.workdir), e)
        damaged.append(step)
    return None, None, damaged

  def read_meta(self, step):
    return self.manager.restore(step, args=ocp.args.Composite(meta=ocp.args.JsonRestore())).meta

  def quarantine(self, steps):
    """Moves damaged step folders to <workdir>/damaged_checkpoints/, so their steps can be
    saved again; nothing is deleted."""
    if not steps:
      return
    target = os.path.join(os.path.abspath(self.workdir), DAMAGED_DIR)
    os.makedirs(target, exist_ok=True)
    for step in steps:
      destination = os.path.join(target, f'{step}-{time.strftime("%Y%m%d-%H%M%S")}-{os.getpid()}')
      shutil.move(os.path.join(checkpoint_dir(self.workdir), str(step)), destination)
      logging.warning('Moved the damaged checkpoint of step %d to %s', step, destination)
    self.manager.reload()

  def close(self):
    try:
      self.manager.wait_until_finished()
    except Exception as e:
      raise self._storage_error(self.manager.latest_step(), e) from e
    finally:
      self.manager.close()


def read_latest_meta(workdir) -> Optional[dict]:
  """The metadata of the newest checkpoint whose metadata reads, or None; creates nothing."""
  if not os.path.isdir(checkpoint_dir(workdir)):
    return None
  checkpointer = Checkpointer(workdir, create=False)
  try:
    for step in reversed(checkpointer.all_steps()):
      try:
        meta = checkpointer.read_meta(step)
      except Exception:  # damaged: restore_latest_intact names it when it matters
        continue
      if isinstance(meta, dict) and meta.get('step') == step:
        return meta
    return None
  finally:
    checkpointer.close()


def read_latest_state(workdir):
  """(step, {'state'} tree as saved) of the newest checkpoint, with no target needed."""
  checkpointer = Checkpointer(workdir, create=False)
  try:
    step = checkpointer.all_steps()[-1]
    restored = checkpointer.manager.restore(step, args=ocp.args.Composite(
        state=ocp.args.StandardRestore()))
  finally:
    checkpointer.close()
  return step, restored.state


def read_steps(workdir):
  """The finalised checkpoint steps on disk, read without orbax (orbax's temporaries are named
  '<step>.orbax-checkpoint-tmp-*')."""
  try:
    names = os.listdir(checkpoint_dir(workdir))
  except OSError:
    return []
  return sorted(int(n) for n in names if n.isdigit())


def host_tree(tree):
  """Device arrays -> numpy, so the process that writes does not depend on the device layout."""
  return jax.device_get(tree)


def check_workdir_writable(workdir):
  """Refuses, before anything is written, a workdir that is a file or cannot be created or
  written."""
  path = os.path.abspath(workdir)
  if os.path.exists(path) and not os.path.isdir(path):
    raise UsageError(f'workdir {workdir!r} exists and is not a directory')
  existing = path
  while not os.path.exists(existing):
    existing = os.path.dirname(existing)
  if not os.path.isdir(existing):
    raise UsageError(f'workdir {workdir!r} cannot be created: {existing} is a file')
  if not os.access(existing, os.W_OK | os.X_OK):
    raise UsageError(f'workdir {workdir!r} is not writable ({existing} denies writing)')


class WorkdirLock:
  """An exclusive flock on <workdir>/lock, so two runs never write one workdir.

  The kernel drops a flock when its process dies, however it dies, so a lock file left by a
  killed run is free to take: the pid written in it only names the previous owner.
  """

  def __init__(self, workdir):
    self.path = os.path.join(os.path.abspath(workdir), 'lock')
    self.fd = None

  def __enter__(self):
    os.makedirs(os.path.dirname(self.path), exist_ok=True)
    fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
      fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as e:
      owner = os.pread(fd, 200, 0).decode(errors='replace').strip() or 'another process'
      os.close(fd)
      if e.errno in (errno.EWOULDBLOCK, errno.EACCES):
        raise UsageError(f'workdir {os.path.dirname(self.path)!r} is in use by {owner}; wait '
                         f'for it to finish or use another --workdir') from None
      raise
    previous = os.pread(fd, 200, 0).decode(errors='replace').strip()
    if previous:
      logging.warning('Took over the lock of %s, which has ended without releasing it',
                      previous)
    os.ftruncate(fd, 0)
    os.pwrite(fd, f'pid {os.getpid()} on {socket.gethostname()}\n'.encode(), 0)
    self.fd = fd
    return self

  def __exit__(self, *exc):
    os.ftruncate(self.fd, 0)  # a clean exit leaves no owner to report
    os.close(self.fd)  # closing releases the flock
    self.fd = None
