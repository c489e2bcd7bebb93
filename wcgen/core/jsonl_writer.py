"""metrics.jsonl: the training metrics as one JSON object per row.

Its own module because clu's writer interface imports TensorFlow, which
wcgen.core.files (atomic writes, the workdir lock) must not need.
"""

import json
import os

from absl import logging
from clu import metric_writers

from wcgen.core import files
from wcgen.errors import storage_error


class JsonlWriter(metric_writers.MetricWriter):
  """A clu MetricWriter that appends one JSON object per `write_scalars`
  call, {"step": step, **scalars}: the file tables and tests read.

  On resume the rows after the restored step are dropped, so the file of a
  resumed run equals that of an uninterrupted one. Lines that are not JSON
  objects (a torn write, bytes appended by something else) are moved to
  `<path>.bad` with a warning that counts them: never silently dropped,
  never blocking the resume. Writers other than scalars are no-ops: images
  and histograms go to TensorBoard.
  """

  def __init__(self, path: str, resume_step: int = 0):
    self.path = path
    if os.path.exists(path):
      rows, bad = files.parse_jsonl(path)
      if bad:
        logging.warning("%s: %d line(s) that are not JSON rows moved to %s",
                        path, len(bad), path + ".bad")
        with open(path + ".bad", "a") as f:
          f.writelines(line if line.endswith("\n") else line + "\n"
                       for line in bad)
      kept = [r for r in rows if r.get("step", 0) <= resume_step]
      files.atomic_write_bytes(path, "".join(
          json.dumps(r, sort_keys=True) + "\n" for r in kept).encode())

  def write_scalars(self, step: int, scalars) -> None:
    row = {"step": int(step), **{k: float(v) for k, v in scalars.items()}}
    try:
      with open(self.path, "a") as f:
        f.write(json.dumps(row, sort_keys=True) + "\n")
    except OSError as e:
      raise storage_error("a metrics row", self.path, e) from None

  def write_summaries(self, step, values, metadata=None):
    pass

  def write_images(self, step, images):
    pass

  def write_videos(self, step, videos):
    pass

  def write_audios(self, step, audios, *, sample_rate):
    pass

  def write_texts(self, step, texts):
    pass

  def write_histograms(self, step, arrays, num_buckets=None):
    pass

  def write_hparams(self, hparams):
    pass

  def flush(self):
    pass

  def close(self):
    pass
