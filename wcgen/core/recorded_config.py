"""Configs as runs recorded them (config.json, results.json), read today.

Two migrations, so that a change of the config schema neither orphans
every finished run (a sweep would retrain it) nor breaks loading one:

* Runs recorded before the configs became trees (issue 13) hold one flat
  config (`method` a string, `eps`, `gen_width`, `optim.g_lr`, ...). Each
  old field is read as its field in today's tree (RENAMED; the one Adam
  beta pair G and D shared, `optim.gan_b1/b2`, becomes both players').
* Fields added after runs were recorded (FIELDS_ADDED_LATER) read as the
  value that gives the behaviour those runs had.

Anything else a recorded config lacks is a real difference.
"""

from typing import Any, Dict

from flax import traverse_util

# Flat field of the configs before issue 13 -> its field in the tree.
RENAMED: Dict[str, str] = {
    "method": "method.name",
    "eps": "method.eps",
    "divergence": "method.divergence",
    "gp_weight": "method.gp_weight",
    "n_critic": "method.n_critic",
    "label_sampling": "method.label_sampling",
    "fake_weight": "method.fake_weight",
    "real_weight": "method.real_weight",
    "critic_data": "method.critic_data",
    "transport_weight": "method.transport_weight",
    "gan_during_warmup": "method.gan_during_warmup",
    "critic_augment": "method.critic_augment",
    "control_noise_rms": "method.control_noise_rms",
    "reference_run": "method.reference_run",
    "fake_filter": "method.fake_filter",
    "fake_filter_threshold": "method.fake_filter_threshold",
    "warmup_steps": "method.warmup_steps",
    "mixup_alpha": "method.mixup_alpha",
    "generator": "model.generator.name",
    "gen_width": "model.generator.width",
    "latent_dim": "model.generator.latent_dim",
    "perturbation_bound": "model.generator.perturbation_bound",
    "critic": "model.critic.name",
    "critic_width": "model.critic.width",
    "classifier": "model.classifier.name",
    "dropout_rate": "model.classifier.dropout_rate",
    "use_batchnorm": "model.classifier.use_batchnorm",
    "compute_dtype": "model.compute_dtype",
    "classifier_loss": "loss.name",
    "cb_beta": "loss.cb_beta",
    "cb_kind": "loss.cb_kind",
    "focal_gamma": "loss.focal_gamma",
    "la_tau": "loss.la_tau",
    "ldam_max_margin": "loss.ldam_max_margin",
    "ldam_scale": "loss.ldam_scale",
    "drw_start_step": "loss.drw_start_step",
    "posthoc_tau": "loss.posthoc_tau",
    "augment": "data.augment.enabled",
    "augment_crop_pad": "data.augment.crop_pad",
    "augment_flip": "data.augment.flip",
    "augment_rotation_deg": "data.augment.rotation_deg",
    "batch_size": "schedule.batch_size",
    "num_train_steps": "schedule.num_train_steps",
    "log_every_steps": "schedule.log_every_steps",
    "eval_every_steps": "schedule.eval_every_steps",
    "checkpoint_every_steps": "schedule.checkpoint_every_steps",
    "max_checkpoints_to_keep": "schedule.max_checkpoints_to_keep",
    "eval_batch_size": "schedule.eval_batch_size",
    "max_skipped_updates": "schedule.max_skipped_updates",
    "evaluate_test": "schedule.evaluate_test",
    "samples_per_class": "schedule.samples_per_class",
    "optim.g_lr": "optim.generator.lr",
    "optim.d_lr": "optim.critic.lr",
    "optim.c_lr": "optim.classifier.lr",
    "optim.c_final_lr_fraction": "optim.classifier.final_lr_fraction",
    "optim.c_weight_decay": "optim.classifier.weight_decay",
}
_SHARED_ADAM_BETAS = {"optim.gan_b1": ("optim.generator.b1", "optim.critic.b1"),
                      "optim.gan_b2": ("optim.generator.b2", "optim.critic.b2")}

FIELDS_ADDED_LATER: Dict[str, Any] = {"method.gan_during_warmup": True,
                                      "method.critic_augment": False,
                                      "method.reference_run": "",
                                      "method.fake_filter": "none",
                                      "method.fake_filter_threshold": 0.5,
                                      "method.control_perturbation":
                                          "random",
                                      "method.control_attack_steps": 1,
                                      "schedule.fidelity_per_class": 0,
                                      "method.generator_fidelity_weight":
                                          0.0,
                                      "optim.generator.final_lr_fraction":
                                          1.0,
                                      "method.generator_ema_decay": 0.0,
                                      "method.perturbed_batch_norm": "own",
                                      "model.generator.max_residual_rms":
                                          0.0,
                                      "model.generator.residual_rms_mode":
                                          "cap",
                                      "method.control_radius_power": 0.0,
                                      "model.classifier.head": "linear",
                                      "method.translation.steps": 10,
                                      "method.translation.step_rms": 0.0036,
                                      "method.translation.start_rms":
                                          0.0028,
                                      "method.translation."
                                      "classifier_weight": 0.5,
                                      "method.translation.threshold": 0.9,
                                      "method.translation.beta": 0.999}


def _as_tree_fields(flat_fields: Dict[str, Any]) -> Dict[str, Any]:
  """A flat pre-tree record's {dotted field: value} in today's names."""
  if not isinstance(flat_fields.get("method"), str):
    return flat_fields  # already a tree
  renamed = {}
  for field, value in flat_fields.items():
    for new in _SHARED_ADAM_BETAS.get(field, (RENAMED.get(field, field),)):
      renamed[new] = value
  return renamed


def flat(recorded: Dict[str, Any]) -> Dict[str, Any]:
  """The recorded config as {dotted field: value} in today's tree, later
  fields filled."""
  return {**FIELDS_ADDED_LATER, **_as_tree_fields(
      traverse_util.flatten_dict(recorded, sep="."))}


def complete(recorded: Dict[str, Any]) -> Dict[str, Any]:
  """The recorded config (nested, today's tree) with the later fields
  filled in."""
  return traverse_util.unflatten_dict(flat(recorded), sep=".")
