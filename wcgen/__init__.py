"""wcgen: learning from bad data via worst-case generation, in JAX/Flax.

Importing `wcgen` gives the pure pieces (objectives, models, the game) and
the driver; the driver's heavy imports (tf.data, clu, orbax) load lazily.
"""

from wcgen import objectives
from wcgen.methods.worst_case import GameState, WorstCaseGame
from wcgen.methods.erm import ERM


def train_and_evaluate(config, workdir, allow_config_change=False):
  """See `wcgen.train.trainer.train_and_evaluate`."""
  from wcgen.train import trainer  # pylint: disable=g-import-not-at-top
  return trainer.train_and_evaluate(config, workdir, allow_config_change)


__all__ = ["objectives", "GameState", "WorstCaseGame", "ERM",
           "train_and_evaluate"]
