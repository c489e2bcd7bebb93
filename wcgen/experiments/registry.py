"""Which config file serves each dataset, and what each budget means.

`reproduce.py --budget=` picks one of BUDGET_ARGS: `smoke` (each config's
`:tiny` variant: a few steps of tiny models, for tests), `cpu` (the
configs' defaults, minutes per run on 2 cores, the main job's), `long`
(the `:long` variant: 4x `cpu`, the budget of the validation sweeps,
where ERM is 8.7 points nearer convergence; up to ~46 min a game run on 2
cores), `paper` (the `:paper` variant: our guess at a GPU-scale budget).
"""

import importlib

import ml_collections

# The config file of each dataset (a module of the `configs` package);
# datasets without one are reported as unavailable in a table instead of
# failing the sweep.
CONFIG_FILES = {"mnist": "mnist_wgan", "fashion_mnist": "fmnist_wgan",
                "cifar10": "cifar_wgan", "svhn_cropped": "svhn_wgan"}
BUDGET_ARGS = {"smoke": "tiny", "cpu": "", "long": "long", "paper": "paper"}
# Table 4's samples per set. FID is biased upwards at small N, so only the
# paper budget's 10,000 matches the paper's protocol.
GENERATION_SAMPLES = {"smoke": 64, "cpu": 2000, "long": 2000,
                      "paper": 10000}


def base_config(dataset: str, budget: str) -> ml_collections.ConfigDict:
  """The dataset's config file at the budget; LookupError if none."""
  name = CONFIG_FILES.get(dataset)
  if name is None:
    raise LookupError(f"wcgen has no config for dataset {dataset!r}")
  try:
    module = importlib.import_module(f"configs.{name}")
  except ModuleNotFoundError as e:
    raise LookupError(f"configs/{name}.py does not exist yet") from e
  return module.get_config(BUDGET_ARGS[budget])
