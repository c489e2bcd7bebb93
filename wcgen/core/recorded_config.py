"""Configs as runs recorded them (config.json, results.json), read today.

Fields added to the configs after runs were recorded are listed here with
the value that gives the behaviour those runs had: a recorded config
without the field reads as holding that value (a schema migration), so
adding a field neither orphans every finished run nor breaks loading one.
Anything else a recorded config lacks is a real difference.
"""

from typing import Any, Dict

from flax import traverse_util

FIELDS_ADDED_LATER: Dict[str, Any] = {"gan_during_warmup": True,
                                      "critic_augment": False,
                                      "reference_run": "",
                                      "fake_filter": "none",
                                      "fake_filter_threshold": 0.5}


def flat(recorded: Dict[str, Any]) -> Dict[str, Any]:
  """The recorded config as {dotted field: value}, later fields filled."""
  return {**FIELDS_ADDED_LATER,
          **traverse_util.flatten_dict(recorded, sep=".")}


def complete(recorded: Dict[str, Any]) -> Dict[str, Any]:
  """The recorded config (nested) with the later fields filled in."""
  return traverse_util.unflatten_dict(flat(recorded), sep=".")
