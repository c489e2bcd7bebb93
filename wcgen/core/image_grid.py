"""Sample grids: one row per class, saved as PNG."""

import io

# No matplotlib.use(): imsave and Figure need no pyplot backend, and
# forcing one would stop notebooks from showing figures inline.
import matplotlib.image
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
