"""What a finished run's results.json holds: one schema, written by the
driver and read by the comparison, the sweeps and the table writer.

The file stays the flat JSON object it always was (every finished run of
the past reads as a `RunResults`); fields added later have defaults that
say "not recorded" (None), so older files still load.
"""

import dataclasses
import json
from typing import Any, Dict, List, Optional

from wcgen.errors import DataError


@dataclasses.dataclass(frozen=True)
class RunResults:
  """One run's scores and what produced them.

  Accuracies are fractions in [0, 1]. A split's fields are None when that
  split was not read: no validation split, or the test set held back
  (`schedule.evaluate_test=False`, as in every tuning sweep).
  """
  method: str
  dataset: str
  imbalance_factor: float
  seed: int
  steps: int
  batch_size: int
  train_class_counts: List[int]
  wall_time_sec_this_process: float
  config: Dict[str, Any]  # the resolved config, as a nested dict
  imbalance_factor_realised: Optional[float] = None
  resumed_from_step: int = 0
  devices: int = 1
  val_accuracy: Optional[float] = None
  val_balanced_accuracy: Optional[float] = None
  val_per_class_accuracy: Optional[List[float]] = None
  # {"many": ..., "medium": ..., "few": ...} by training images per class.
  val_shot_accuracy: Optional[Dict[str, Optional[float]]] = None
  test_accuracy: Optional[float] = None
  test_balanced_accuracy: Optional[float] = None
  test_per_class_accuracy: Optional[List[float]] = None
  test_shot_accuracy: Optional[Dict[str, Optional[float]]] = None
  # Accuracy on the distorted test set (Tables 2-3), and the distortion.
  test_distorted_accuracy: Optional[float] = None
  test_distortion: Optional[Dict[str, Any]] = None
  validation_images: int = 0
  evaluated_classifier: str = ""
  # The commit of the code that finished the run ("+dirty" when tracked
  # files differed from it; core.code_version); None if not recorded.
  code_version: Optional[str] = None
  # Seconds the whole run trained, every process that resumed it included
  # (trainer._WallTime); None when not recorded (older runs, or a resume
  # from a checkpoint saved before the record existed).
  wall_time_sec_total: Optional[float] = None

  def metric(self, name: str) -> Optional[float]:
    """A score by its field name (a table column's metric)."""
    if name not in _FIELDS:
      raise KeyError(f"results have no field {name!r}")
    return getattr(self, name)

  def to_json_dict(self) -> Dict[str, Any]:
    return dataclasses.asdict(self)

  @classmethod
  def from_json_dict(cls, fields: Dict[str, Any]) -> "RunResults":
    """From a results.json object; a field it lacks takes its default, one
    this schema does not know is dropped."""
    return cls(**{k: v for k, v in fields.items() if k in _FIELDS})


_FIELDS = frozenset(f.name for f in dataclasses.fields(RunResults))


def read(path: str) -> RunResults:
  """A results.json as RunResults; DataError naming the file when it is
  not one (unreadable, not JSON, or lacking a required field)."""
  try:
    with open(path) as f:
      fields = json.load(f)
    return RunResults.from_json_dict(fields)
  except (OSError, ValueError, TypeError, AttributeError) as e:
    raise DataError(f"{path} is not a readable results.json "
                    f"({type(e).__name__}: {e})") from None
