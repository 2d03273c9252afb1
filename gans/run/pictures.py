"""The pictures of a run: sample grids, the progress GIF, and loss / D-output curves."""
import glob
import os

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402


GRID_SCALE = 3  # save_grid's enlargement of a grid PNG
CAPTION_HEIGHT = 14  # the strip above a titled grid, in pixels at any scale
GIF_FRAMES = 25
GIF_BYTES = 10**6


def image_grid(images: np.ndarray, columns: int = 8, pad: int = 2) -> np.ndarray:
  """uint8 (N, H, W[, 1]) -> one uint8 (rows*(H+pad)+pad, columns*(W+pad)+pad) mosaic."""
  images = images.reshape(images.shape[:3])
  n, h, w = images.shape
  rows = -(-n // columns)
  grid = np.zeros((rows * (h + pad) + pad, columns * (w + pad) + pad), np.uint8)
  for i, img in enumerate(images):
    r, c = divmod(i, columns)
    top, left = pad + r * (h + pad), pad + c * (w + pad)
    grid[top:top + h, left:left + w] = img
  return grid


def save_grid(images: np.ndarray, path: str, title: str = '', scale: int = GRID_SCALE,
              columns: int = 8):
  """Writes the grid of uint8 images as a PNG, enlarged `scale` times, with an optional caption."""
  grid = image_grid(images, columns)
  img = Image.fromarray(grid).resize((grid.shape[1] * scale, grid.shape[0] * scale),
                                     Image.NEAREST)
  if title:
    from PIL import ImageDraw
    canvas = Image.new('L', (img.width, img.height + CAPTION_HEIGHT), 255)
    canvas.paste(img, (0, CAPTION_HEIGHT))
    ImageDraw.Draw(canvas).text((2, 1), title, fill=0)
    img = canvas
  img.save(path)


def evenly_spaced(count: int, most: int) -> list:
  """The indices of at most `most` of `count` items, evenly spaced, the first and the last kept."""
  return sorted({round(i) for i in np.linspace(0, count - 1, min(most, count))})


def unscaled(frame, scale: int = GRID_SCALE, caption: int = CAPTION_HEIGHT):
  """A titled grid PNG as save_grid writes it at scale 1: the grid shrunk `scale` times (exact,
  each pixel was a scale x scale block) under its caption strip, cut to the grid's width."""
  grid = frame.crop((0, caption, frame.width, frame.height))
  grid = grid.resize((grid.width // scale, grid.height // scale), Image.NEAREST)
  canvas = Image.new('L', (grid.width, grid.height + caption), 255)
  canvas.paste(frame.crop((0, 0, grid.width, caption)), (0, 0))
  canvas.paste(grid, (0, caption))
  return canvas


def save_gif(frame_paths, path: str, ms_per_frame: int = 400, most: int = GIF_FRAMES,
             max_bytes: int = GIF_BYTES):
  """An animation of the grid PNGs written by save_grid (titled, at GRID_SCALE), kept under
  `max_bytes` so that results/ stays light to clone and a README page shows its GIFs at once.
  The frames are at scale 1 (one GIF pixel per image pixel: a ninth of the pixels of the PNGs)
  and at most `most` of them, evenly spaced over the run, its first and last epoch always kept:
  25 frames, 10 s at 400 ms a frame, still show the samples form, where every epoch of a
  100-epoch run at scale 3 made an 8 MB GIF that told no more. Grids that compress worse
  (Fashion-MNIST's 8x8 grid: 50 KB a frame) or hold more images (InfoGAN's 30 rows: 80 KB) keep
  fewer frames, as many as fit in `max_bytes`."""
  frame_paths = list(frame_paths)
  while frame_paths:
    frames = [unscaled(Image.open(frame_paths[i]).convert('L'))
              for i in evenly_spaced(len(frame_paths), most)]
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=ms_per_frame, loop=0)
    size = os.path.getsize(path)
    if size <= max_bytes or len(frames) <= 2:
      return
    most = max(2, len(frames) * max_bytes // size)


# (file, metrics, their labels, y axis, extra: the file is drawn when the run logs one of the
# metrics that are not its first two, or when there are just two); losses are the sum of their
# terms, so loss_terms.png is drawn only for runs with terms beside the adversarial ones.
CURVES = [
    ('losses.png', ('d_loss', 'g_loss'), ('D loss', 'G loss'), 'loss'),
    ('dx_dgz.png', ('d_real', 'd_fake'), ('D(x)', 'D(G(z))'), 'discriminator output'),
    ('loss_terms.png', ('d_adv_loss', 'g_adv_loss', 'd_class_loss', 'g_class_loss',
                        'd_gradient_penalty', 'd_dragan_penalty', 'd_r1_penalty',
                        'd_info_categorical_loss', 'g_info_categorical_loss',
                        'd_info_continuous_loss', 'g_info_continuous_loss'),
     ('D real/fake', 'G real/fake', 'D class', 'G class', 'D gradient penalty',
      'D DRAGAN penalty', 'D R1 penalty', 'D categorical code (Q)', 'G categorical code (Q)',
      'D continuous codes (Q)', 'G continuous codes (Q)'), 'loss'),
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
    wanted = keys[2:] or keys
    if not any(key in rows[0] for key in wanted):
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


def save_run_curves(rows, workdir: str):
  """The curves (and fid.png) of a run from its metrics rows, kept in memory by the writer so
  that an epoch's pictures cost the same at epoch 1 and epoch 200."""
  save_curves([r for r in rows if 'd_loss' in r], workdir)
  save_metric_curve(rows, {'eval_fid': 'G', 'eval_fid_ema': 'EMA of G'},
                    'Fréchet distance (evaluator features)', os.path.join(workdir, 'fid.png'))


def save_progress_gif(workdir: str):
  """progress.gif from samples/*.png; written once when a run stops, not every epoch."""
  save_gif(sorted(glob.glob(os.path.join(workdir, 'samples', '*.png'))),
           os.path.join(workdir, 'progress.gif'))


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


def save_nearest_neighbour_figure(sample_distances, real_distances, images, nearest_train, path,
                                  num_pairs=8):
  """Distance histograms (samples vs unseen real images) and the closest sample/train pairs.
  images[i]'s nearest train image is nearest_train[i], at sample_distances[i]."""
  fig, (hist, pairs) = plt.subplots(1, 2, figsize=(10, 3.5), width_ratios=(1.2, 1))
  bins = np.linspace(0, max(sample_distances.max(), real_distances.max()), 40)
  hist.hist(real_distances, bins, alpha=0.6, label='real test images')
  hist.hist(sample_distances, bins, alpha=0.6, label='samples')
  hist.set_xlabel('L2 distance to the nearest train image (pixels in [0, 255])')
  hist.legend()
  closest = np.argsort(sample_distances)[:num_pairs]
  neighbours = nearest_train[closest]
  pairs.imshow(image_grid(np.concatenate([images[closest], neighbours]), columns=len(closest)),
               cmap='gray')
  pairs.set_title('closest samples (top) and their nearest train images')
  pairs.axis('off')
  fig.tight_layout()
  fig.savefig(path, dpi=100)
  plt.close(fig)


def save_metric_curve(rows, keys, label, path):
  """Evaluation metrics recorded during training against the step, one line for each of `keys`
  ({metrics field: legend}) that the rows hold; nothing when they hold none. The y axis is
  logarithmic: a Fréchet distance falls from hundreds to a few, and the last factor of ten, where
  runs differ, would be a flat line on a linear axis."""
  curves = [(legend, [(r['step'], r[key]) for r in rows if key in r])
            for key, legend in keys.items()]
  curves = [(legend, points) for legend, points in curves if points]
  if not curves:
    return
  fig, ax = plt.subplots(figsize=(7, 4))
  for legend, points in curves:
    ax.plot(*zip(*points), marker='o', label=legend)
  ax.set_xlabel('step')
  ax.set_ylabel(label)
  ax.set_yscale('log')
  ax.legend()
  ax.grid(alpha=0.3)
  fig.tight_layout()
  fig.savefig(path, dpi=100)
  plt.close(fig)


LINE_STYLES = (('-', 'o'), ('--', 's'), (':', '^'))


def line_style(index):
  """The colour, line style and marker of line `index`: the ten colours of matplotlib's cycle,
  then again with the next style, so that a study of more than ten variants tells them apart."""
  colours = plt.rcParams['axes.prop_cycle'].by_key()['color']
  linestyle, marker = LINE_STYLES[(index // len(colours)) % len(LINE_STYLES)]
  return {'color': colours[index % len(colours)], 'linestyle': linestyle, 'marker': marker}


def save_labelled_curves(curves, xlabel, ylabel, path):
  """One line per label of `curves` {label: (xs, ys)}, on a log y axis (distances that fall by
  orders of magnitude), with the legend beside the axes."""
  fig, ax = plt.subplots(figsize=(10, 4.5))
  for index, (label, (xs, ys)) in enumerate(curves.items()):
    ax.plot(xs, ys, label=label, **line_style(index))
  ax.set_xlabel(xlabel)
  ax.set_ylabel(ylabel)
  ax.set_yscale('log')
  ax.grid(alpha=0.3)
  ax.legend(loc='center left', bbox_to_anchor=(1.01, 0.5), fontsize='small')
  fig.tight_layout()
  fig.savefig(path, dpi=100)
  plt.close(fig)


class Grid:
  """The fixed inputs of a run's per-epoch sample grid, as its family lays it out."""

  def __init__(self, family, fixed_z, images):
    self.family, self.images = family, images
    self.inputs, self.columns = family.spec.grid_inputs(fixed_z, images)

  def images_of(self, sample) -> np.ndarray:
    """uint8 images of the grid; `sample(inputs) -> float images` runs the generator."""
    rows = self.family.spec.grid_rows(np.asarray(sample(self.inputs)), self.inputs, self.images)
    return np.clip(np.round((np.asarray(rows, np.float32) + 1.0) * 127.5), 0, 255).astype(np.uint8)

  def save(self, sample, workdir, step, steps_per_epoch) -> str:
    """Writes samples/step_XXXXXXX.png; returns its path."""
    path = os.path.join(workdir, 'samples', f'step_{step:07d}.png')
    save_grid(self.images_of(sample), path,
              title=f'epoch {step / steps_per_epoch:.2f}, step {step}', columns=self.columns)
    return path
