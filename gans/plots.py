"""The pictures of a run: sample grids, the progress GIF, and loss / D-output curves."""
import glob
import json
import os

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402


def image_grid(images: np.ndarray, columns: int = 8, pad: int = 2) -> np.ndarray:
  """uint8 (N, H, W[, 1]) -> one uint8 (rows*(H+pad)+pad, columns*(W+pad)+pad) mosaic."""
  images = images.reshape(images.shape[:3])
  n, h, w = images.shape
  rows = -(-n // columns)
  grid = np.zeros((rows * (h + pad) + pad, columns * (w + pad) + pad), np.uint8)
  for i, img in enumerate(images):
    r, c = divmod(i, columns)
    grid[pad + r * (h + pad):pad + r * (h + pad) + h, pad + c * (w + pad):pad + c * (w + pad) + w] = img
  return grid


def save_grid(images: np.ndarray, path: str, title: str = '', scale: int = 3, columns: int = 8):
  """Writes the grid of uint8 images as a PNG, enlarged `scale` times, with an optional caption."""
  grid = image_grid(images, columns)
  img = Image.fromarray(grid).resize((grid.shape[1] * scale, grid.shape[0] * scale),
                                     Image.NEAREST)
  if title:
    from PIL import ImageDraw
    canvas = Image.new('L', (img.width, img.height + 14), 255)
    canvas.paste(img, (0, 14))
    ImageDraw.Draw(canvas).text((2, 1), title, fill=0)
    img = canvas
  img.save(path)


def save_gif(frame_paths, path: str, ms_per_frame: int = 400):
  frames = [Image.open(p).convert('L') for p in frame_paths]
  if frames:
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=ms_per_frame, loop=0)


def read_metrics(path: str):
  """The training lines of a metrics.jsonl (those with losses), in order."""
  if not os.path.exists(path):
    return []
  with open(path) as f:
    rows = [json.loads(line) for line in f if line.strip()]
  return [r for r in rows if 'd_loss' in r]


def save_curves(rows, workdir: str):
  """losses.png (D and G loss) and dx_dgz.png (mean D(x) and D(G(z))) against the step."""
  if not rows:
    return
  steps = [r['step'] for r in rows]
  for filename, keys, labels, ylabel in [
      ('losses.png', ('d_loss', 'g_loss'), ('D loss', 'G loss'), 'loss'),
      ('dx_dgz.png', ('d_real', 'd_fake'), ('D(x)', 'D(G(z))'), 'discriminator output')]:
    fig, ax = plt.subplots(figsize=(7, 4))
    for key, label in zip(keys, labels):
      ax.plot(steps, [r[key] for r in rows], label=label)
    ax.set_xlabel('step')
    ax.set_ylabel(ylabel)
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(os.path.join(workdir, filename), dpi=100)
    plt.close(fig)


def refresh_run_pictures(workdir: str):
  """Rebuilds progress.gif from samples/*.png and the curves from metrics.jsonl."""
  save_gif(sorted(glob.glob(os.path.join(workdir, 'samples', '*.png'))),
           os.path.join(workdir, 'progress.gif'))
  save_curves(read_metrics(os.path.join(workdir, 'metrics.jsonl')), workdir)
