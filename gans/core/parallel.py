"""How the step runs: jitted on one device ('jit'), pmapped over the local devices ('pmap'), or
jitted over a 1-D device mesh with the batch sharded and the state replicated ('sharded').
`Placement` puts the state, the training data and the epoch order where each mode wants them and
compiles the K-step call of `gans.core.step.make_run` for it.
"""
import jax
import numpy as np
from flax import jax_utils
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from gans.core.step import make_run

AXIS = 'batch'  # the pmap axis and the mesh axis the batch is split over
PARALLEL_MODES = ('jit', 'pmap', 'sharded')


class Placement:
  """Where the state, the training data and the epoch order live in each parallel mode, and the
  compiled K-step call.

  jit: one device. pmap: a copy of everything on each local device (leading device axis), the
  batch split over them by `axis_index`. sharded: a 1-D mesh over all devices (of all
  processes); state and data replicated, each step's indices, hence its batch, split over the
  mesh by jit's partitioner.
  """

  def __init__(self, mode: str):
    if mode not in PARALLEL_MODES:
      raise ValueError(f'unknown parallel mode {mode!r}; allowed: {", ".join(PARALLEL_MODES)}')
    self.mode = mode
    self.num_shards = self.shard_count(mode)
    if mode == 'sharded':
      self.mesh = Mesh(np.asarray(jax.devices()), (AXIS,))
      self.replicated = NamedSharding(self.mesh, PartitionSpec())
      self.by_batch = NamedSharding(self.mesh, PartitionSpec(None, AXIS))

  @staticmethod
  def shard_count(mode) -> int:
    """How many parts each global batch is split into."""
    return 1 if mode == 'jit' else jax.device_count()

  def _global(self, tree, sharding):
    """Host arrays -> global arrays of `sharding`; every process passes the same values."""
    return jax.tree.map(lambda x: jax.make_array_from_callback(
        np.shape(x), sharding, lambda index: np.asarray(x)[index]), tree)

  def put(self, tree):
    """The state or the training data, placed for the step."""
    if self.mode == 'pmap':
      return jax_utils.replicate(tree)
    if self.mode == 'sharded':
      return self._global(tree, self.replicated)
    return jax.device_put(tree)

  def put_order(self, order):
    if self.mode == 'pmap':
      return jax_utils.replicate(order)
    if self.mode == 'sharded':
      return self._global(np.asarray(order), self.by_batch)
    return jax.device_put(order)

  def host(self, tree):
    """One copy of a placed tree, as numpy (state for checkpoints and pictures, metrics)."""
    return jax.device_get(self.one_copy(tree))

  def one_copy(self, tree):
    """One device's copy of a placed tree, left on the device (for sampling during training)."""
    if self.mode == 'pmap':
      return jax.tree.map(lambda x: x[0], tree)
    if self.mode == 'sharded':
      return jax.tree.map(lambda x: x.addressable_data(0), tree)
    return tree

  def compile(self, config, family, num_steps: int):
    """The jitted or pmapped K-step call; the state argument is donated."""
    unroll = jax.default_backend() == 'cpu'
    if self.mode == 'pmap':
      run = make_run(config, family, num_steps, unroll, AXIS)
      return jax.pmap(run, axis_name=AXIS, in_axes=(0, 0, 0, None), donate_argnums=(0,))
    run = make_run(config, family, num_steps, unroll)
    if self.mode == 'sharded':
      return jax.jit(run, out_shardings=(self.replicated, self.replicated), donate_argnums=(0,))
    return jax.jit(run, donate_argnums=(0,))
