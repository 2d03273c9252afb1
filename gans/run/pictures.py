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


def read_metrics(path: str, key: str = 'd_loss'):
  """The lines of a metrics.jsonl that hold `key` (default: the training lines), in order."""
  if not os.path.exists(path):
    return []
  with open(path) as f:
    rows = [json.loads(line) for line in f if line.strip()]
  return [r for r in rows if key in r]


CURVES = [  # (file, metrics, their labels, y axis); a file is drawn when its run logs its metrics
    ('losses.png', ('d_loss', 'g_loss'), ('D loss', 'G loss'), 'loss'),
    ('dx_dgz.png', ('d_real', 'd_fake'), ('D(x)', 'D(G(z))'), 'discriminator output'),
    # AC-GAN's four terms; CC-GAN's D has no class term on fakes and G none at all.
    ('loss_terms.png', ('d_adv_loss', 'd_class_loss', 'g_adv_loss', 'g_class_loss'),
     ('D real/fake', 'D class', 'G real/fake', 'G class'), 'loss'),
    ('encoder_losses.png', ('encoder_z_loss', 'encoder_label_loss'),
     ('E_z: mean squared error of z', 'E_y: cross-entropy of y'), 'loss'),
]


def save_curves(rows, workdir: str):
  """losses.png, dx_dgz.png and, when logged, loss_terms.png / encoder_losses.png by step."""
  if not rows:
    return
  steps = [r['step'] for r in rows]
  for filename, keys, labels, ylabel in CURVES:
    present = [(key, label) for key, label in zip(keys, labels) if key in rows[0]]
    if not present:
      continue
    fig, ax = plt.subplots(figsize=(7, 4))
    for key, label in present:
      ax.plot(steps, [r[key] for r in rows], label=label)
    ax.set_xlabel('step')
    ax.set_ylabel(ylabel)
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(os.path.join(workdir, filename), dpi=100)
    plt.close(fig)


def refresh_run_pictures(workdir: str):
  """Rebuilds progress.gif from samples/*.png and the curves (and fid.png) from metrics.jsonl."""
  save_gif(sorted(glob.glob(os.path.join(workdir, 'samples', '*.png'))),
           os.path.join(workdir, 'progress.gif'))
  metrics_path = os.path.join(workdir, 'metrics.jsonl')
  save_curves(read_metrics(metrics_path), workdir)
  save_metric_curve(read_metrics(metrics_path, 'eval_fid'), 'eval_fid',
                    'Fréchet distance (evaluator features)', os.path.join(workdir, 'fid.png'))


def save_class_histogram(sample_counts, real_counts, path):
  """Predicted-class counts of the samples beside those of the real reference."""
  classes = np.arange(len(sample_counts))
  fig, ax = plt.subplots(figsize=(max(6, 0.25 * len(classes)), 3.5))
  ax.bar(classes - 0.2, real_counts, 0.4, label='real (train)')
  ax.bar(classes + 0.2, sample_counts, 0.4, label='samples')
  ax.set_xlabel('predicted class')
  ax.set_ylabel('count')
  ax.legend()
  fig.tight_layout()
  fig.savefig(path, dpi=100)
  plt.close(fig)


def save_confusion_matrix(confusion, path):
  """Rows: the class asked for; columns: the evaluator's prediction; row-normalised colours."""
  confusion = np.asarray(confusion, np.float64)
  rates = confusion / np.maximum(confusion.sum(1, keepdims=True), 1)
  n = len(confusion)
  fig, ax = plt.subplots(figsize=(max(4, 0.45 * n), max(4, 0.45 * n)))
  ax.imshow(rates, cmap='Blues', vmin=0, vmax=1)
  if n <= 20:
    for i in range(n):
      for j in range(n):
        ax.text(j, i, int(confusion[i, j]), ha='center', va='center', fontsize=7,
                color='white' if rates[i, j] > 0.5 else 'black')
  ax.set_xlabel('predicted class')
  ax.set_ylabel('conditioning class')
  fig.tight_layout()
  fig.savefig(path, dpi=100)
  plt.close(fig)


def save_nearest_neighbour_figure(sample_distances, real_distances, images, train_images, path,
                                  num_pairs=8):
  """Distance histograms (samples vs unseen real images) and the closest sample/train pairs."""
  fig, (hist, pairs) = plt.subplots(1, 2, figsize=(10, 3.5), width_ratios=(1.2, 1))
  bins = np.linspace(0, max(sample_distances.max(), real_distances.max()), 40)
  hist.hist(real_distances, bins, alpha=0.6, label='real test images')
  hist.hist(sample_distances, bins, alpha=0.6, label='samples')
  hist.set_xlabel('L2 distance to the nearest train image (pixels in [0, 255])')
  hist.legend()
  closest = np.argsort(sample_distances)[:num_pairs]
  flat_train = train_images.reshape(len(train_images), -1).astype(np.float32)
  queries = images[closest].reshape(len(closest), -1).astype(np.float32)
  squared = (queries ** 2).sum(1)[:, None] - 2 * queries @ flat_train.T + (flat_train ** 2).sum(1)
  neighbours = train_images[squared.argmin(1)]
  pairs.imshow(image_grid(np.concatenate([images[closest], neighbours]), columns=len(closest)),
               cmap='gray')
  pairs.set_title('closest samples (top) and their nearest train images')
  pairs.axis('off')
  fig.tight_layout()
  fig.savefig(path, dpi=100)
  plt.close(fig)


def save_metric_curve(rows, key, label, path):
  """One evaluation metric recorded during training against the step."""
  rows = [r for r in rows if key in r]
  if not rows:
    return
  fig, ax = plt.subplots(figsize=(7, 4))
  ax.plot([r['step'] for r in rows], [r[key] for r in rows], marker='o')
  ax.set_xlabel('step')
  ax.set_ylabel(label)
  ax.grid(alpha=0.3)
  fig.tight_layout()
  fig.savefig(path, dpi=100)
  plt.close(fig)
