"""Orbax checkpoints of a run: the state pytree, the PRNG keys, and JSON metadata.

The metadata holds the step, the data-pipeline position and the config, so a workdir can be
checked against a new command before anything in it is touched.
"""
import os
from typing import Optional

import jax
import orbax.checkpoint as ocp

MAX_TO_KEEP = 3


def checkpoint_dir(workdir):
  return os.path.join(os.path.abspath(workdir), 'checkpoints')


class Checkpointer:
  """Saves {'state', 'keys'} with StandardSave and the metadata with JsonSave, last 3 kept."""

  def __init__(self, workdir, create=True):
    options = ocp.CheckpointManagerOptions(max_to_keep=MAX_TO_KEEP, create=create)
    self.manager = ocp.CheckpointManager(checkpoint_dir(workdir), options=options)

  def latest_step(self) -> Optional[int]:
    return self.manager.latest_step()

  def save(self, step, tree, meta):
    """Saves in the background; orbax finalises the step atomically once it is fully written."""
    self.manager.save(step, args=ocp.args.Composite(
        state=ocp.args.StandardSave(tree), meta=ocp.args.JsonSave(meta)))

  def restore(self, target, step=None):
    """(tree shaped like `target`, meta) of `step`, by default the latest."""
    step = self.latest_step() if step is None else step
    restored = self.manager.restore(step, args=ocp.args.Composite(
        state=ocp.args.StandardRestore(target), meta=ocp.args.JsonRestore()))
    return restored.state, restored.meta

  def read_meta(self, step=None):
    step = self.latest_step() if step is None else step
    return self.manager.restore(step, args=ocp.args.Composite(meta=ocp.args.JsonRestore())).meta

  def close(self):
    self.manager.wait_until_finished()
    self.manager.close()


def read_latest_meta(workdir) -> Optional[dict]:
  """The newest checkpoint's metadata, or None; creates nothing."""
  if not os.path.isdir(checkpoint_dir(workdir)):
    return None
  checkpointer = Checkpointer(workdir, create=False)
  try:
    return None if checkpointer.latest_step() is None else checkpointer.read_meta()
  finally:
    checkpointer.close()


def host_tree(tree):
  """Device arrays -> numpy, so the process that writes does not depend on the device layout."""
  return jax.device_get(tree)
