"""fairseq's ``lstm`` and ``lstm_lm`` checkpoints in seqcore, and back.

The modules carry fairseq's names (``encoder.lstm``, ``decoder.layers.N``,
``decoder.attention.input_proj``, ...), so the weights map one to one; what needs care is the
options: fairseq keeps ``--decoder-attention`` as a string (``"1"``/``"0"``) and sizes the
adaptive softmax only when the criterion is ``adaptive_loss``.
"""

from __future__ import annotations

import argparse
import dataclasses
from typing import Any

import torch

from seqcore.interop import FairseqCheckpoint, FairseqImporter, register_fairseq_importer

StateDict = dict[str, torch.Tensor]

LSTM_ARCHS = ("lstm", "lstm_wiseman_iwslt_de_en", "lstm_luong_wmt_en_de")
LM_ARCHS = ("lstm_lm",)


def _as_bool(value: Any) -> bool:
    """fairseq's ``eval_bool`` of an option kept as a string (``"1"``, ``"True"``, ``"0"``)."""
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes")
    return bool(value)


@register_fairseq_importer
class LSTMImporter(FairseqImporter):
    fairseq_archs = LSTM_ARCHS + LM_ARCHS
    seqcore_models = ("lstm", "lstm_lm")

    def seqcore_arch(self, ckpt: FairseqCheckpoint) -> str:
        return "lstm_lm" if ckpt.arch in LM_ARCHS else "lstm"

    def model_values(self, ckpt: FairseqCheckpoint) -> dict[str, Any]:
        values = dict(ckpt.model_options)
        values["decoder_attention"] = _as_bool(values.get("decoder_attention", "1"))
        if ckpt.arch in LM_ARCHS and values.get("max_target_positions") is None:
            values["max_target_positions"] = ckpt.option("tokens_per_sample") or 1024
        return values

    def unsupported(self, ckpt: FairseqCheckpoint) -> list[str]:
        cutoff = ckpt.model_options.get("adaptive_softmax_cutoff")
        if cutoff and ckpt.criterion == "adaptive_loss":
            return [f"--adaptive-softmax-cutoff {cutoff} (with --criterion adaptive_loss)"]
        return []

    def import_weights(self, state_dict: StateDict, model_cfg: Any) -> StateDict:
        return dict(state_dict)

    def fairseq_model_options(self, model_name: str, arch: str, model_cfg: Any) -> Any:
        """The flat ``argparse.Namespace`` fairseq 0.12 keeps for its legacy models (its
        architecture function fills in what is not there)."""
        options = {k: v for k, v in dataclasses.asdict(model_cfg).items() if not k.startswith("_")}
        options["decoder_attention"] = "1" if options.get("decoder_attention") else "0"
        options.update(
            {
                "_name": arch,
                "arch": arch,
                "criterion": "cross_entropy",  # fairseq's lstm reads it (adaptive softmax)
                "adaptive_softmax_cutoff": "10000,50000,200000",  # fairseq's default; unused
                "encoder_embed_path": None,
                "decoder_embed_path": None,
            }
        )
        if model_name == "lstm_lm":
            options["tokens_per_sample"] = model_cfg.max_target_positions
        return argparse.Namespace(**options)

    def export_weights(self, state_dict: StateDict, model_cfg: Any) -> StateDict:
        return dict(state_dict)
