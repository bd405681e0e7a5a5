"""Models from checkpoints: the configuration rebuilt with the components installed here, a
component that is not installed named with where it came from, and weights that do not fit the
model named with the file and the likely cause."""

import copy as copying

import pytest
import torch

from seqcore.checkpoint_utils import (
    INFERENCE_ROLES,
    check_weights_fit,
    checkpoint_config,
    load_model_ensemble,
    load_weights,
)
from seqcore.errors import CheckpointError


def test_the_configuration_is_rebuilt_as_it_was_resolved(trained):
    path, state, cfg, _, _ = trained
    rebuilt = checkpoint_config(state, str(path))
    assert rebuilt.selections == cfg.selections
    for role in ("task", "model", "criterion", "optimizer", "lr_scheduler"):
        assert rebuilt.configs[role] == cfg.configs[role], role
    assert rebuilt.model.encoder_embed_dim == 8 and rebuilt.model.dropout == 0.25
    assert rebuilt.origins == cfg.origins
    # the trainer's own options come back as plain values
    assert rebuilt.dataset.max_tokens == 64
    assert rebuilt.checkpoint.save_dir == cfg.checkpoint.save_dir


def test_model_overrides_replace_saved_values_and_an_unknown_one_names_the_file(trained):
    path, state, _, _, _ = trained
    rebuilt = checkpoint_config(state, str(path), overrides={"dropout": 0.0})
    assert rebuilt.model.dropout == 0.0
    assert state["cfg"]["configs"]["model"]["dropout"] == 0.25  # the state is not changed
    with pytest.raises(CheckpointError) as e:
        checkpoint_config(state, str(path), overrides={"no_such_option": 1})
    assert str(e.value) == (
        f"--model-overrides: no_such_option is not an option of the model in {path}"
    )


def test_a_component_that_is_not_installed_is_named_with_where_it_came_from(trained):
    path, state, _, _, _ = trained
    changed = copying.deepcopy(state)
    changed["cfg"]["selections"]["arch"] = "gone_arch"
    changed["cfg"]["origins"]["model"] = {
        "kind": "distribution",
        "name": "seqcore-plugin-gone",
        "version": "1.0",
        "module": "seqcore_gone",
    }
    with pytest.raises(CheckpointError) as e:
        checkpoint_config(changed, "gone.pt")
    assert str(e.value) == (
        "gone.pt needs model architecture 'gone_arch' from seqcore-plugin-gone 1.0 (module "
        "seqcore_gone), which is not installed here; pip install 'seqcore-plugin-gone==1.0'"
    )


def test_inference_does_not_look_up_the_training_components(trained):
    """A checkpoint trained with an optimizer that is not installed here still gives its model
    (the inference commands pass INFERENCE_ROLES)."""
    path, state, _, _, _ = trained
    changed = copying.deepcopy(state)
    changed["cfg"]["selections"]["optimizer"] = "gone_optimizer"
    rebuilt = checkpoint_config(changed, str(path), roles=INFERENCE_ROLES)
    assert "optimizer" not in rebuilt.configs and rebuilt.model.encoder_embed_dim == 8
    with pytest.raises(CheckpointError, match="needs optimizer 'gone_optimizer' from "):
        checkpoint_config(changed, str(path))


def test_a_checkpoint_without_a_configuration_is_malformed(trained):
    path, state, _, _, _ = trained
    changed = {k: v for k, v in state.items() if k != "cfg"}
    with pytest.raises(CheckpointError) as e:
        checkpoint_config(changed, "bare.pt")
    assert str(e.value) == (
        "bare.pt is malformed: it has no configuration ('cfg') to rebuild its model from"
    )


def test_a_saved_value_of_the_wrong_type_names_the_file_and_the_option(trained):
    path, state, _, _, _ = trained
    changed = copying.deepcopy(state)
    changed["cfg"]["configs"]["model"]["encoder_layers"] = "many"
    with pytest.raises(CheckpointError, match=r"^odd\.pt: model option encoder_layers: "):
        checkpoint_config(changed, "odd.pt")


def test_an_ensemble_is_built_from_the_checkpoints_alone(trained, copy):
    path, state, _, task, model = trained
    other = {**state, "model": {k: v + 1 for k, v in state["model"].items()}}
    models, cfg, loaded_task = load_model_ensemble([str(path), str(copy(other))])
    assert len(models) == 2 and not any(m.training for m in models)
    assert cfg.selections["arch"] == "transformer"
    assert len(loaded_task.source_dictionary) == len(task.source_dictionary)
    for loaded, weights in zip(models, [state["model"], other["model"]], strict=True):
        for key, tensor in loaded.state_dict().items():
            assert torch.equal(tensor, weights[key]), key


def test_weights_of_another_model_name_the_missing_and_unexpected_entries():
    model = torch.nn.Linear(3, 2)
    with pytest.raises(CheckpointError) as e:
        check_weights_fit(model, {"weight": torch.zeros(2, 3), "scale": torch.ones(1)}, "x.pt")
    assert str(e.value) == (
        "x.pt does not fit the model built here: missing ['bias'], unexpected ['scale'] "
        "(is it a checkpoint of another model or architecture?)"
    )


def test_weights_of_another_shape_are_a_one_line_error():
    # checkpoints without dictionary fingerprints still fail clearly, on the shapes
    model = torch.nn.Embedding(10, 4)
    before = model.weight.detach().clone()
    with pytest.raises(CheckpointError) as info:
        load_weights(model, {"weight": torch.zeros(12, 4)}, "old.pt")
    assert str(info.value) == (
        "old.pt does not fit the model built here: weight has shape (12, 4) in the checkpoint "
        "but (10, 4) here (are the data folder's dictionaries the ones it was trained with?)"
    )
    assert torch.equal(model.weight, before)  # nothing of it was loaded
