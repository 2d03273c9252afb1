"""The calls of fused steps that train a run, as the training loop and the population issue them.

A call runs up to K = steps_per_call steps in one dispatch. It ends early where the host must see
the state at an exact step: the run's end, the epoch's end (the next epoch reads another image
order) and the boundaries of periodic actions (checkpoints, a profiler trace, a population's
callbacks). Every boundary is a function of the step, so a resumed run issues the calls an
uninterrupted one does. The programs are compiled and the epoch orders made ahead of the calls
that need them, so that a run's training time leaves both out.
"""
import contextlib
import time

from absl import logging


def next_multiple(step, every):
  """The first multiple of `every` after `step`."""
  return (step // every + 1) * every


class FusedCalls:
  """How many steps the call at a step takes, the epoch order it reads and its compiled program.

  build(count) -> the jitted (or pmapped) call of `count` steps, lowered and compiled here with
  the call's own arguments. make_order(epoch) -> that epoch's image order, placed as the
  call wants it.
  """

  def __init__(self, what, build, make_order, steps_per_call, steps_per_epoch, total_steps,
               every=(), at=()):
    """every: intervals whose multiples end calls (0: none); at: steps that end calls."""
    self.what, self.build, self.make_order = what, build, make_order
    self.steps_per_call, self.steps_per_epoch = steps_per_call, steps_per_epoch
    self.total_steps, self.every, self.at = total_steps, [e for e in every if e], list(at)
    self.programs, self.compile_seconds = {}, 0.0
    self.epoch, self.order, self.ahead = None, None, None  # ahead: (epoch, its order)

  def count(self, step) -> int:
    """min(steps_per_call, steps left, to the epoch's end, to the next boundary)."""
    ends = [step + self.steps_per_call, self.total_steps, next_multiple(step, self.steps_per_epoch)]
    ends += [next_multiple(step, every) for every in self.every]
    ends += [end for end in self.at if end > step]
    return min(ends) - step

  def order_at(self, step):
    """The order of `step`'s epoch; on entering an epoch, the next one's is dispatched ahead, so
    that it is ready (made on the device while this epoch trains) when that epoch starts."""
    epoch = step // self.steps_per_epoch
    if epoch != self.epoch:
      ready = self.ahead is not None and self.ahead[0] == epoch
      self.epoch, self.order = epoch, self.ahead[1] if ready else self.make_order(epoch)
      following = epoch + 1
      self.ahead = ((following, self.make_order(following))
                    if following * self.steps_per_epoch < self.total_steps else None)
    return self.order

  def program(self, count, *args, paused=contextlib.nullcontext):
    """The compiled call of `count` steps for these arguments, compiled on its first use inside
    `paused()` (a clock that leaves it out). A first compile can take a minute; it is logged
    before and after, so that a run does not sit silent through it."""
    if count not in self.programs:
      first = 'first call, ' if not self.programs else ''
      logging.info('compiling the %s (%s%d step(s) per call)...', self.what, first, count)
      with paused():
        started = time.perf_counter()
        self.programs[count] = self.build(count).lower(*args).compile()
        seconds = time.perf_counter() - started
      self.compile_seconds += seconds
      logging.info('compiled the %s of %d step(s) in %.1f s', self.what, count, seconds)
    return self.programs[count]
