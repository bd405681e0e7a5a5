"""fairseq's ``transformer`` and ``transformer_lm`` checkpoints in seqcore, and back.

Parameter names are fairseq's already, apart from the attention projections: fairseq keeps
``q_proj``, ``k_proj`` and ``v_proj`` apart, seqcore fuses them (``self_attn.in_proj`` holds q, k
and v; ``encoder_attn.kv_proj`` holds k and v). fairseq also keeps buffers that hold no model
state (``version``, the sinusoidal positions' ``_float_tensor``) and, in fairseq 0.12's encoder
layers, copies of the weights for its fast inference path, which it overwrites from the real ones
when it loads a checkpoint: they are dropped on import and written back on export.
"""

from __future__ import annotations

import argparse
import dataclasses
import re
from typing import Any

import torch

from seqcore.interop import (
    FairseqCheckpoint,
    FairseqImporter,
    flag,
    register_fairseq_importer,
)

StateDict = dict[str, torch.Tensor]

TRANSLATION_ARCHS = (
    "transformer",
    "transformer_tiny",
    "transformer_iwslt_de_en",
    "transformer_wmt_en_de",
    "transformer_vaswani_wmt_en_de_big",
    "transformer_vaswani_wmt_en_fr_big",
    "transformer_wmt_en_de_big",
    "transformer_wmt_en_de_big_t2t",
)
LM_ARCHS = (
    "transformer_lm",
    "transformer_lm_big",
    "transformer_lm_baevski_wiki103",
    "transformer_lm_wiki103",
    "transformer_lm_baevski_gbw",
    "transformer_lm_gbw",
    "transformer_lm_gpt",
    "transformer_lm_gpt2_tiny",
    "transformer_lm_gpt2_small",
    "transformer_lm_gpt2_medium",
    "transformer_lm_gpt2_big",
    "transformer_lm_gpt2_big_wide",
    "transformer_lm_gpt2_bigger",
    "transformer_lm_gpt3_small",
    "transformer_lm_gpt3_medium",
    "transformer_lm_gpt3_large",
    "transformer_lm_gpt3_xl",
    "transformer_lm_gpt3_2_7",
    "transformer_lm_gpt3_6_7",
    "transformer_lm_gpt3_13",
    "transformer_lm_gpt3_175",
)

# options of fairseq's transformers that seqcore's do not implement: name -> the value that
# means "off" (anything else changes the computation)
_OFF: dict[str, Any] = {
    "adaptive_softmax_cutoff": None,
    "adaptive_input": False,
    "tie_adaptive_weights": False,
    "cross_self_attention": False,
    "no_cross_attention": False,
    "character_embeddings": False,
    "encoder_layers_to_keep": None,
    "decoder_layers_to_keep": None,
    "scale_fc": False,
    "scale_attn": False,
    "scale_heads": False,
    "scale_resids": False,
    "base_layers": 0,
    "add_bos_token": False,
}
_ACTIVATIONS = ("relu", "gelu")

# the model section fairseq 0.12.2 writes for transformer_lm (its dataclass, with its defaults):
# fairseq merges a saved section into the dataclass, which refuses keys it does not know
_LM_SECTION: dict[str, Any] = {
    "_name": "transformer_lm",
    "activation_fn": "relu",
    "dropout": 0.1,
    "attention_dropout": 0.0,
    "activation_dropout": 0.0,
    "relu_dropout": 0.0,
    "decoder_embed_dim": 512,
    "decoder_output_dim": 512,
    "decoder_input_dim": 512,
    "decoder_ffn_embed_dim": 2048,
    "decoder_layers": 6,
    "decoder_attention_heads": 8,
    "decoder_normalize_before": False,
    "no_decoder_final_norm": False,
    "adaptive_softmax_cutoff": None,
    "adaptive_softmax_dropout": 0.0,
    "adaptive_softmax_factor": 4.0,
    "no_token_positional_embeddings": False,
    "share_decoder_input_output_embed": False,
    "character_embeddings": False,
    "character_filters": "[(1, 64), (2, 128), (3, 192), (4, 256), (5, 256), (6, 256), (7, 256)]",
    "character_embedding_dim": 4,
    "char_embedder_highway_layers": 2,
    "adaptive_input": False,
    "adaptive_input_factor": 4.0,
    "adaptive_input_cutoff": None,
    "tie_adaptive_weights": False,
    "tie_adaptive_proj": False,
    "decoder_learned_pos": False,
    "layernorm_embedding": False,
    "no_scale_embedding": False,
    "checkpoint_activations": False,
    "offload_activations": False,
    "decoder_layerdrop": 0.0,
    "decoder_layers_to_keep": None,
    "quant_noise_pq": 0.0,
    "quant_noise_pq_block_size": 8,
    "quant_noise_scalar": 0.0,
    "min_params_to_wrap": 100000000,
    "base_layers": 0,
    "base_sublayers": 1,
    "base_shuffle": 1,
    "scale_fc": False,
    "scale_attn": False,
    "scale_heads": False,
    "scale_resids": False,
    "decoder_xformers_att_config": None,
    "add_bos_token": False,
    "tokens_per_sample": 1024,
    "max_target_positions": None,
    "tpu": False,
}

# fairseq's buffers and fast-path copies that carry no model state of their own
_DROPPED = re.compile(
    r"(encoder|decoder)\.version"
    r"|(encoder|decoder)\.embed_positions\._float_tensor"
    r"|encoder\.layers\.\d+\.(in_proj|out_proj|fc1|fc2)_(weight|bias)"
)


def _is_lm(arch: str) -> bool:
    return arch.startswith("transformer_lm")


@register_fairseq_importer
class TransformerImporter(FairseqImporter):
    """fairseq's ``transformer`` / ``transformer_lm`` <-> seqcore's, with every named
    architecture (the saved options are complete, so the seqcore architecture only names it)."""

    fairseq_archs = TRANSLATION_ARCHS + LM_ARCHS
    seqcore_models = ("transformer", "transformer_lm")

    # -- fairseq -> seqcore --------------------------------------------------------------------
    def seqcore_arch(self, ckpt: FairseqCheckpoint) -> str:
        return "transformer_lm" if _is_lm(ckpt.arch) else "transformer"

    def model_values(self, ckpt: FairseqCheckpoint) -> dict[str, Any]:
        values = dict(ckpt.model_options)
        if not values.get("activation_dropout") and values.get("relu_dropout"):
            values["activation_dropout"] = values["relu_dropout"]  # fairseq's older name
        values["decoder_output_dim"] = values.get("decoder_output_dim") or values.get(
            "decoder_embed_dim"
        )
        if _is_lm(ckpt.arch):
            values["decoder_input_dim"] = values.get("decoder_input_dim") or values.get(
                "decoder_embed_dim"
            )
            if values.get("max_target_positions") is None:  # fairseq: --tokens-per-sample
                values["max_target_positions"] = ckpt.option("tokens_per_sample") or 1024
        for key in ("encoder_layerdrop", "decoder_layerdrop"):
            values[key] = float(values.get(key) or 0.0)
        return values

    def unsupported(self, ckpt: FairseqCheckpoint) -> list[str]:
        problems = []
        for name, off in _OFF.items():
            value = ckpt.model_options.get(name, off)
            if name == "adaptive_softmax_cutoff" and not _is_lm(ckpt.arch):
                value = value if ckpt.criterion == "adaptive_loss" else None
            if value not in (off, None) and not (off is False and value in (0, "")):
                problems.append(f"{flag(name)} {value}")
        activation = ckpt.model_options.get("activation_fn", "relu")
        if activation not in _ACTIVATIONS:
            problems.append(f"--activation-fn {activation}")
        return problems

    def import_weights(self, state_dict: StateDict, model_cfg: Any) -> StateDict:
        weights = {k: v for k, v in state_dict.items() if not _DROPPED.fullmatch(k)}
        if "decoder.embed_out" in weights:  # fairseq before output_projection
            weights["decoder.output_projection.weight"] = weights.pop("decoder.embed_out")
        if "decoder.output_projection.weight" not in weights:  # shared: the embedding itself
            weights["decoder.output_projection.weight"] = weights["decoder.embed_tokens.weight"]
        fused = {}
        for key in list(weights):
            m = re.fullmatch(r"(.*\.(self_attn|encoder_attn))\.q_proj\.(weight|bias)", key)
            if not m:
                continue
            prefix, kind, param = m.groups()
            q, k, v = (weights.pop(f"{prefix}.{p}_proj.{param}") for p in "qkv")
            if kind == "self_attn":
                fused[f"{prefix}.in_proj.{param}"] = torch.cat([q, k, v])
            else:
                fused[f"{prefix}.q_proj.{param}"] = q
                fused[f"{prefix}.kv_proj.{param}"] = torch.cat([k, v])
        weights.update(fused)
        return weights

    # -- seqcore -> fairseq --------------------------------------------------------------------
    def fairseq_model_options(self, model_name: str, arch: str, model_cfg: Any) -> Any:
        """``transformer``: the flat ``argparse.Namespace`` fairseq 0.12 keeps for its legacy
        models (its architecture function fills in what is not there); ``transformer_lm``:
        the dict of fairseq's dataclass, with exactly its keys."""
        ours = {k: v for k, v in dataclasses.asdict(model_cfg).items() if not k.startswith("_")}
        if model_name == "transformer_lm":
            section = dict(_LM_SECTION, _name=arch)
            section.update({k: v for k, v in ours.items() if k in section})
            section["tokens_per_sample"] = model_cfg.max_target_positions
            return section
        options = {**_OFF, **ours, "_name": arch, "arch": arch}
        options.update(encoder_embed_path=None, decoder_embed_path=None)  # weights are saved
        options.update(decoder_input_dim=model_cfg.decoder_embed_dim, relu_dropout=0.0)
        return argparse.Namespace(**options)

    def export_weights(self, state_dict: StateDict, model_cfg: Any) -> StateDict:
        out: StateDict = {}
        sinusoidal = {
            side: not getattr(model_cfg, f"{side}_learned_pos", False)
            and not model_cfg.no_token_positional_embeddings
            for side in ("encoder", "decoder")
        }
        version = torch.tensor([3.0])
        for side in ("encoder", "decoder"):
            if any(k.startswith(side + ".") for k in state_dict):
                out[f"{side}.version"] = version.clone()
        for key, value in state_dict.items():
            m = re.fullmatch(r"(.*)\.self_attn\.in_proj\.(weight|bias)", key)
            n = re.fullmatch(r"(.*)\.encoder_attn\.kv_proj\.(weight|bias)", key)
            if m:
                layer, param = m.groups()
                for name, part in zip("qkv", value.chunk(3)):
                    out[f"{layer}.self_attn.{name}_proj.{param}"] = part.clone()
            elif n:
                layer, param = n.groups()
                for name, part in zip("kv", value.chunk(2)):
                    out[f"{layer}.encoder_attn.{name}_proj.{param}"] = part.clone()
            else:
                out[key] = value
            if key.endswith(".embed_tokens.weight"):
                side = key.split(".")[0]
                if sinusoidal[side]:
                    out[f"{side}.embed_positions._float_tensor"] = torch.tensor([1.0])
        # fairseq 0.12's encoder layers: copies for the fast path (it overwrites them on load)
        for key in list(out):
            m = re.fullmatch(r"(encoder\.layers\.\d+)\.self_attn\.q_proj\.(weight|bias)", key)
            if not m:
                continue
            layer, param = m.groups()
            out[f"{layer}.in_proj_{param}"] = torch.cat(
                [out[f"{layer}.self_attn.{p}_proj.{param}"] for p in "qkv"]
            )
            out[f"{layer}.out_proj_{param}"] = out[f"{layer}.self_attn.out_proj.{param}"]
            out[f"{layer}.fc1_{param}"] = out[f"{layer}.fc1.{param}"]
            out[f"{layer}.fc2_{param}"] = out[f"{layer}.fc2.{param}"]
        return out
