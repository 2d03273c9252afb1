"""The baseline GAN train steps in PyTorch, to time beside ours on the same machine.

  python benchmarks/torch_peer.py --model=dcgan --batch=256 --steps=20

PyTorch is not a requirement of this project: install it in the environment you time in
(`pip install torch`). `python -m gans.benchmarks.step` runs this script after its own timing when
torch is importable, with the same model, batch and steps, and prints the ratio.

The networks are the baseline architectures of `gans/configs/default.py`, written again in torch:
- mlp: G 100-256-512-1024-784 (LeakyReLU 0.2, tanh); D 784-1024-512-256-1 (LeakyReLU 0.2,
  dropout 0.3). Adam 2e-4, b1 0.5.
- dcgan: the TensorFlow DCGAN tutorial's G (dense to 7x7x256 without bias, batch norm and
  LeakyReLU 0.3 after it and after each transposed convolution but the last: 5x5 kernels to 128
  maps at stride 1, 64 at stride 2, 1 at stride 2, tanh) and D (5x5 convolutions of 64 and 128
  maps at stride 2, each followed by LeakyReLU 0.3 and dropout 0.3, then a dense logit).
  Adam 1e-4, b1 0.5.
One step is ours (gans/core/step.py): one D update on a real batch and a fresh fake batch with the
non-saturating loss, then one G update through the updated D. The real batch is fixed random
images, so no dataset is read. After `--warmup` untimed steps each of `--steps` steps is timed
alone; prints one JSON line with the median, min and max milliseconds per step.
"""
import argparse
import json
import os
import statistics
import time

import torch
from torch import nn

LATENT_DIM = 100


def mlp_networks():
  def stack(widths, activation_after, dropout):
    layers = []
    for i, (fan_in, fan_out) in enumerate(zip(widths[:-1], widths[1:])):
      layers.append(nn.Linear(fan_in, fan_out))
      if i < len(widths) - 2:
        layers.append(nn.LeakyReLU(0.2))
        if dropout:
          layers.append(nn.Dropout(dropout))
    layers.append(activation_after)
    return nn.Sequential(*layers)

  generator = stack([LATENT_DIM, 256, 512, 1024, 784], nn.Tanh(), dropout=0.0)
  discriminator = nn.Sequential(nn.Flatten(), stack([784, 1024, 512, 256, 1], nn.Identity(), 0.3))
  return generator, discriminator, 2e-4


class TutorialGenerator(nn.Module):
  """Dense to 7x7x256 maps, then transposed convolutions to 128, 64 and 1 maps (28x28)."""

  def __init__(self):
    super().__init__()
    self.dense = nn.Sequential(nn.Linear(LATENT_DIM, 7 * 7 * 256, bias=False),
                               nn.BatchNorm1d(7 * 7 * 256), nn.LeakyReLU(0.3))
    convs = []
    for fan_in, fan_out, stride in ((256, 128, 1), (128, 64, 2), (64, 1, 2)):
      # padding 2 and output_padding stride - 1: 'SAME' of a 5x5 kernel, as Keras's.
      convs.append(nn.ConvTranspose2d(fan_in, fan_out, 5, stride, padding=2,
                                      output_padding=stride - 1, bias=False))
      convs += [nn.BatchNorm2d(fan_out), nn.LeakyReLU(0.3)] if fan_out > 1 else [nn.Tanh()]
    self.convs = nn.Sequential(*convs)

  def forward(self, z):
    return self.convs(self.dense(z).view(-1, 256, 7, 7))


def dcgan_networks():
  discriminator = nn.Sequential(
      nn.Conv2d(1, 64, 5, 2, padding=2), nn.LeakyReLU(0.3), nn.Dropout(0.3),
      nn.Conv2d(64, 128, 5, 2, padding=2), nn.LeakyReLU(0.3), nn.Dropout(0.3),
      nn.Flatten(), nn.Linear(128 * 7 * 7, 1))
  return TutorialGenerator(), discriminator, 1e-4


NETWORKS = {'mlp': mlp_networks, 'dcgan': dcgan_networks}


def make_step(generator, discriminator, learning_rate, batch_size):
  g_optimizer = torch.optim.Adam(generator.parameters(), learning_rate, betas=(0.5, 0.999))
  d_optimizer = torch.optim.Adam(discriminator.parameters(), learning_rate, betas=(0.5, 0.999))
  loss = nn.BCEWithLogitsLoss()
  real = torch.rand(batch_size, 1, 28, 28) * 2 - 1
  ones, zeros = torch.ones(batch_size, 1), torch.zeros(batch_size, 1)

  def step():
    fake = generator(torch.randn(batch_size, LATENT_DIM)).view(batch_size, 1, 28, 28)
    d_optimizer.zero_grad()
    (loss(discriminator(real), ones) + loss(discriminator(fake.detach()), zeros)).backward()
    d_optimizer.step()
    g_optimizer.zero_grad()
    loss(discriminator(fake), ones).backward()
    g_optimizer.step()

  return step


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument('--model', choices=sorted(NETWORKS), default='dcgan')
  parser.add_argument('--batch', type=int, default=256)
  parser.add_argument('--steps', type=int, default=20)
  parser.add_argument('--warmup', type=int, default=2)
  args = parser.parse_args()
  torch.set_num_threads(os.cpu_count())
  torch.manual_seed(0)
  step = make_step(*NETWORKS[args.model](), args.batch)
  for _ in range(args.warmup):
    step()
  times = []
  for _ in range(args.steps):
    start = time.perf_counter()
    step()
    times.append((time.perf_counter() - start) * 1000)
  print(json.dumps({'peer': 'torch', 'torch': torch.__version__, 'model': args.model,
                    'batch': args.batch, 'threads': torch.get_num_threads(),
                    'ms_per_step': round(statistics.median(times), 2),
                    'ms_min': round(min(times), 2), 'ms_max': round(max(times), 2)}))


if __name__ == '__main__':
  main()
