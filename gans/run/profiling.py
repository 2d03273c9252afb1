"""A profiler trace of a chosen range of training steps."""
import os

import jax
from absl import logging


class StepTrace:
  """A jax.profiler trace of steps A+1..B (config.profile_steps 'A:B') in <workdir>/profile/.

  Calls end at A and at B, so the trace holds exactly those steps.
  """

  def __init__(self, steps, workdir):
    """steps: (A, B), or None for no trace."""
    self.steps = steps
    self.folder = os.path.join(workdir, 'profile')
    self.tracing = False

  def steps_to_boundary(self, step):
    ahead = [b - step for b in (self.steps or ()) if b > step]
    return min(ahead) if ahead else float('inf')

  def before(self, step):
    if self.steps and step == self.steps[0]:
      jax.profiler.start_trace(self.folder)
      self.tracing = True
      logging.info('Tracing steps %d to %d into %s', step + 1, self.steps[1], self.folder)

  def after(self, step, state):
    if self.tracing and step >= self.steps[1]:
      jax.block_until_ready(state)
      self.stop()

  def stop(self):
    if self.tracing:
      jax.profiler.stop_trace()
      self.tracing = False
