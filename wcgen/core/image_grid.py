"""Sample grids: one row per class, saved as PNG (labelled with the class
names, for people) and as raw pixels (for TensorBoard)."""

import io
from typing import Sequence

# No matplotlib.use(): imsave and Figure need no pyplot backend, and
# forcing one would stop notebooks from showing figures inline.
import matplotlib.image
from matplotlib.backends import backend_agg
from matplotlib import figure
import numpy as np

from wcgen.core import files


def make_grid(images: np.ndarray, rows: int, pad: int = 1) -> np.ndarray:
  """Tiles images [N, H, W, C] in [-1, 1] into uint8 [rows*(H+p), ..., C].

  Image i goes to row i // (N / rows), so images ordered by class give one
  row per class.
  """
  images = np.asarray(images, np.float32)
  n, h, w, c = images.shape
  if n % rows:
    raise ValueError(f"{n} images do not fill {rows} rows")
  cols = n // rows
  pixels = np.clip(np.rint((images + 1.0) * 127.5), 0, 255).astype(np.uint8)
  grid = np.full((rows * (h + pad) + pad, cols * (w + pad) + pad, c), 255,
                 np.uint8)
  for i in range(n):
    r, col = divmod(i, cols)
    top, left = pad + r * (h + pad), pad + col * (w + pad)
    grid[top:top + h, left:left + w] = pixels[i]
  return grid


def save_png(path: str, grid: np.ndarray) -> None:
  """Writes a uint8 grid [H, W, C] (C = 1 or 3) as PNG, atomically."""
  buf = io.BytesIO()
  if grid.shape[-1] == 1:
    matplotlib.image.imsave(buf, grid[..., 0], cmap="gray", vmin=0, vmax=255,
                            format="png")
  else:
    matplotlib.image.imsave(buf, grid, format="png")
  files.atomic_write_bytes(path, buf.getvalue())


# How many times the labelled PNG enlarges the grid's pixels.
PNG_SCALE = 3


def save_labelled_png(path: str, grid: np.ndarray, row_labels: Sequence[str],
                      pad: int = 1, scale: int = PNG_SCALE) -> None:
  """Writes `grid` (from make_grid with len(row_labels) rows) as PNG with
  each row's label (a class name) written left of it, atomically; pixels
  are enlarged `scale` times so that the images stay legible beside text."""
  rows = len(row_labels)
  height, width = grid.shape[:2]
  row_height = (height - pad) / rows
  dpi = 100
  label_width = 0.075 * max(len(l) for l in row_labels) + 0.2  # inches
  fig = figure.Figure(figsize=(width * scale / dpi + label_width,
                               height * scale / dpi), dpi=dpi)
  backend_agg.FigureCanvasAgg(fig)
  ax = fig.add_axes((label_width / fig.get_figwidth(), 0,
                     1 - label_width / fig.get_figwidth(), 1))
  pixels = grid[..., 0] if grid.shape[-1] == 1 else grid
  ax.imshow(pixels, cmap="gray" if grid.shape[-1] == 1 else None, vmin=0,
            vmax=255, interpolation="nearest")
  ax.set_xticks([])
  ax.set_yticks([pad / 2 + row_height * (r + 0.5) for r in range(rows)],
                list(row_labels), fontsize=7)
  ax.tick_params(length=0)
  for spine in ax.spines.values():
    spine.set_visible(False)
  files.atomic_write_figure(fig, path, dpi=dpi, tight=False)
