"""The configs of ``transformer`` and ``transformer_lm``, with fairseq's field names and defaults.

Every field becomes a command-line flag (``encoder_embed_dim`` -> ``--encoder-embed-dim``), so the
names are fairseq's and impossible values are refused here, when the config is made, with a
:class:`~seqcore.errors.ConfigError` naming the flag. Checks that need the task (dictionaries)
happen when the model is built.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from seqcore.errors import ConfigError

ActivationFn = Literal["relu", "gelu"]


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def check_positive(cfg: object, *names: str) -> None:
    for name in names:
        value = getattr(cfg, name)
        if value <= 0:
            raise ConfigError(f"{_flag(name)} {value} must be positive")


def check_non_negative(cfg: object, *names: str) -> None:
    for name in names:
        value = getattr(cfg, name)
        if value < 0:
            raise ConfigError(f"{_flag(name)} {value} must not be negative")


def check_probability(cfg: object, *names: str) -> None:
    """Dropout rates: a probability of dropping, so 1 (drop everything) is refused too."""
    for name in names:
        value = getattr(cfg, name)
        if not 0.0 <= value < 1.0:
            raise ConfigError(f"{_flag(name)} {value} must be in [0, 1)")


def check_heads(cfg: object, side: str) -> None:
    dim = getattr(cfg, f"{side}_embed_dim")
    heads = getattr(cfg, f"{side}_attention_heads")
    if dim % heads != 0:
        raise ConfigError(
            f"--{side}-embed-dim {dim} must be divisible by --{side}-attention-heads {heads}"
        )


def check_output_dim(cfg: DecoderConfig) -> None:
    """A shared output projection is the embedding matrix, so it needs the embedding's width
    (``--decoder-input-dim`` where the model has one)."""
    input_dim = getattr(cfg, "decoder_input_dim", None) or cfg.decoder_embed_dim
    if cfg.share_decoder_input_output_embed and cfg.decoder_output_dim != input_dim:
        flag = "--decoder-input-dim" if hasattr(cfg, "decoder_input_dim") else "--decoder-embed-dim"
        raise ConfigError(
            f"--share-decoder-input-output-embed requires --decoder-output-dim "
            f"({cfg.decoder_output_dim}) to equal {flag} ({input_dim})"
        )


@dataclass
class EncoderConfig:
    """The encoder's fields of ``transformer`` (first, as in fairseq's help)."""

    encoder_embed_dim: int = field(default=512, metadata={"help": "encoder embedding dimension"})
    encoder_ffn_embed_dim: int = field(
        default=2048, metadata={"help": "encoder embedding dimension for FFN"}
    )
    encoder_layers: int = field(default=6, metadata={"help": "num encoder layers"})
    encoder_attention_heads: int = field(
        default=8, metadata={"help": "num encoder attention heads"}
    )
    encoder_normalize_before: bool = field(
        default=False, metadata={"help": "apply layernorm before each encoder block"}
    )
    encoder_learned_pos: bool = field(
        default=False, metadata={"help": "use learned positional embeddings in the encoder"}
    )
    encoder_layerdrop: float = field(
        default=0.0, metadata={"help": "LayerDrop probability for encoder"}
    )

    def __post_init__(self) -> None:
        check_positive(
            self, "encoder_embed_dim", "encoder_ffn_embed_dim", "encoder_attention_heads"
        )
        check_non_negative(self, "encoder_layers")
        check_heads(self, "encoder")
        check_probability(self, "encoder_layerdrop")


@dataclass
class DecoderConfig:
    """What ``transformer`` and ``transformer_lm`` share: the decoder, dropout, embeddings."""

    decoder_embed_dim: int = field(default=512, metadata={"help": "decoder embedding dimension"})
    decoder_ffn_embed_dim: int = field(
        default=2048, metadata={"help": "decoder embedding dimension for FFN"}
    )
    decoder_layers: int = field(default=6, metadata={"help": "num decoder layers"})
    decoder_attention_heads: int = field(
        default=8, metadata={"help": "num decoder attention heads"}
    )
    # False as in fairseq's dataclasses; every transformer_lm architecture turns it on.
    decoder_normalize_before: bool = field(
        default=False, metadata={"help": "apply layernorm before each decoder block"}
    )
    decoder_learned_pos: bool = field(
        default=False, metadata={"help": "use learned positional embeddings in the decoder"}
    )
    decoder_output_dim: int | None = field(
        default=None,
        metadata={
            "help": "decoder output dimension (extra linear layer if different from "
            "--decoder-embed-dim; default: --decoder-embed-dim)"
        },
    )
    no_decoder_final_norm: bool = field(
        default=False,
        metadata={"help": "don't add an extra layernorm after the last decoder block"},
    )
    decoder_layerdrop: float = field(
        default=0.0, metadata={"help": "LayerDrop probability for decoder"}
    )
    dropout: float = field(default=0.1, metadata={"help": "dropout probability"})
    attention_dropout: float = field(
        default=0.0, metadata={"help": "dropout probability for attention weights"}
    )
    activation_dropout: float = field(
        default=0.0, metadata={"help": "dropout probability after activation in FFN"}
    )
    activation_fn: ActivationFn = field(
        default="relu", metadata={"help": "activation function to use"}
    )
    share_decoder_input_output_embed: bool = field(
        default=False, metadata={"help": "share decoder input and output embeddings"}
    )
    no_scale_embedding: bool = field(
        default=False, metadata={"help": "if set, don't scale embeddings by sqrt(dim)"}
    )
    layernorm_embedding: bool = field(
        default=False, metadata={"help": "add layernorm to embedding"}
    )
    no_token_positional_embeddings: bool = field(
        default=False,
        metadata={"help": "if set, disables positional embeddings (outside self attention)"},
    )
    max_target_positions: int = field(
        default=1024, metadata={"help": "max number of tokens in the target sequence"}
    )
    checkpoint_activations: bool = field(
        default=False,
        metadata={
            "help": "recompute each layer's activations in the backward pass instead of "
            "keeping them: less memory for about a third more compute"
        },
    )

    def __post_init__(self) -> None:
        if self.decoder_output_dim is None:
            self.decoder_output_dim = self.decoder_embed_dim
        check_positive(
            self,
            "decoder_embed_dim",
            "decoder_ffn_embed_dim",
            "decoder_attention_heads",
            "decoder_output_dim",
            "max_target_positions",
        )
        check_non_negative(self, "decoder_layers")
        check_heads(self, "decoder")
        check_probability(
            self, "dropout", "attention_dropout", "activation_dropout", "decoder_layerdrop"
        )
        check_output_dim(self)


@dataclass
class TransformerConfig(DecoderConfig, EncoderConfig):
    """Config of the ``transformer`` encoder-decoder (fairseq's ``TransformerModel``): the
    encoder's fields, the decoder's, and what joins the two. The decoder's dimensions default
    to the encoder's, as in fairseq."""

    decoder_embed_dim: int | None = field(  # type: ignore[assignment]
        default=None,
        metadata={"help": "decoder embedding dimension (default: --encoder-embed-dim)"},
    )
    decoder_ffn_embed_dim: int | None = field(  # type: ignore[assignment]
        default=None,
        metadata={"help": "decoder embedding dimension for FFN (default: --encoder-ffn-embed-dim)"},
    )
    share_all_embeddings: bool = field(
        default=False,
        metadata={
            "help": "share encoder, decoder and output embeddings "
            "(requires shared dictionary and embed dim)"
        },
    )
    max_source_positions: int = field(
        default=1024, metadata={"help": "max number of tokens in the source sequence"}
    )

    def __post_init__(self) -> None:
        if self.decoder_embed_dim is None:
            self.decoder_embed_dim = self.encoder_embed_dim
        if self.decoder_ffn_embed_dim is None:
            self.decoder_ffn_embed_dim = self.encoder_ffn_embed_dim
        EncoderConfig.__post_init__(self)
        DecoderConfig.__post_init__(self)
        check_positive(self, "max_source_positions")
        if self.share_all_embeddings:
            if self.encoder_embed_dim != self.decoder_embed_dim:
                raise ConfigError(
                    f"--share-all-embeddings requires --encoder-embed-dim "
                    f"({self.encoder_embed_dim}) to match --decoder-embed-dim "
                    f"({self.decoder_embed_dim})"
                )
            if self.decoder_output_dim != self.decoder_embed_dim:
                raise ConfigError(
                    f"--share-all-embeddings requires --decoder-output-dim "
                    f"({self.decoder_output_dim}) to equal --decoder-embed-dim "
                    f"({self.decoder_embed_dim})"
                )


@dataclass
class TransformerLanguageModelConfig(DecoderConfig):
    """Config of ``transformer_lm`` (fairseq's ``TransformerLanguageModel``): a decoder alone."""

    decoder_input_dim: int | None = field(
        default=None,
        metadata={
            "help": "decoder input dimension: the width of the token embeddings (an extra "
            "linear layer to --decoder-embed-dim if different; default: --decoder-embed-dim)"
        },
    )

    def __post_init__(self) -> None:
        if self.decoder_input_dim is None:
            self.decoder_input_dim = self.decoder_embed_dim
        check_positive(self, "decoder_input_dim")
        DecoderConfig.__post_init__(self)
