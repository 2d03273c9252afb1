"""Which kernels XLA:CPU runs convolutions with, chosen by measurement (results/performance.md).

jaxlib 0.10.2's XLA:CPU hands matmuls, convolutions and reductions to YNNPACK by default
(`individual_dot,individual_convolution,reduce`: the same optimised program as no flag). On the
2-core x86-64 CPU of results/performance.md, XLA's own (Eigen) convolutions make the DCGAN train
step about 1.25x faster than YNNPACK's, while YNNPACK's matmuls keep the MLP GAN's step about
1.25x faster than Eigen's; so YNNPACK keeps everything but the convolutions.
"""
import os

import jaxlib

FLAG = '--xla_cpu_experimental_ynn_fusion_type'
CHOICE = 'individual_dot,reduce'
# XLA aborts on a flag it does not know, and experimental flags come and go: only the jaxlib
# versions this choice was measured with get it.
MEASURED_JAXLIB = ('0.10.2',)


def choose_kernels():
  """Adds the choice to XLA_FLAGS unless the user set the flag there, or jaxlib is unmeasured.

  Call before JAX starts its CPU backend (the first computation or device query); later calls
  change nothing. Only XLA:CPU reads the flag: programs on a GPU or TPU are the same either way.
  """
  flags = os.environ.get('XLA_FLAGS', '')
  if FLAG in flags or jaxlib.__version__ not in MEASURED_JAXLIB:
    return
  os.environ['XLA_FLAGS'] = f'{flags} {FLAG}={CHOICE}'.strip()
