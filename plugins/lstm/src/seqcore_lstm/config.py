"""Configs of the ``lstm`` and ``lstm_lm`` models, with fairseq's option names and defaults.

fairseq lets some options default to others (``--encoder-hidden-size`` to
``--encoder-embed-dim``, every ``--*-dropout-in/out`` to ``--dropout``). Here such a field is
``None`` until given, and ``__post_init__`` fills it from the option it follows, so a config
built from the dataclass alone means what fairseq's ``base_architecture`` would make of it.
Impossible combinations are rejected there too, naming the flag at fault.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from seqcore.errors import ConfigError


def flag(name: str) -> str:
    """The command-line flag of config field ``name``."""
    return "--" + name.replace("_", "-")


def check_dropout(cfg: object, *names: str) -> None:
    for name in names:
        p = getattr(cfg, name)
        if not 0.0 <= p <= 1.0:
            raise ConfigError(f"{flag(name)} {p} must be a probability between 0 and 1")


def check_positive(cfg: object, *names: str) -> None:
    for name in names:
        n = getattr(cfg, name)
        if n < 1:
            raise ConfigError(f"{flag(name)} {n} must be at least 1")


def check_output_embed_sharing(cfg: object, cause: str) -> None:
    """Tying the output projection to the input embedding needs their sizes to agree."""
    if cfg.decoder_out_embed_dim != cfg.decoder_embed_dim:
        raise ConfigError(
            f"{cause} requires --decoder-out-embed-dim {cfg.decoder_out_embed_dim} to match "
            f"--decoder-embed-dim {cfg.decoder_embed_dim} (the output projection reuses the "
            f"decoder's input embedding)"
        )


@dataclass
class LSTMConfig:
    """fairseq's ``lstm`` model: an LSTM encoder and an LSTM decoder with attention."""

    dropout: float = field(default=0.1, metadata={"help": "dropout probability"})
    encoder_embed_dim: int = field(default=512, metadata={"help": "encoder embedding dimension"})
    encoder_freeze_embed: bool = field(
        default=False, metadata={"help": "freeze encoder embeddings"}
    )
    encoder_hidden_size: int | None = field(
        default=None, metadata={"help": "encoder hidden size (default: --encoder-embed-dim)"}
    )
    encoder_layers: int = field(default=1, metadata={"help": "number of encoder layers"})
    encoder_bidirectional: bool = field(
        default=False, metadata={"help": "make all layers of encoder bidirectional"}
    )
    decoder_embed_dim: int = field(default=512, metadata={"help": "decoder embedding dimension"})
    decoder_freeze_embed: bool = field(
        default=False, metadata={"help": "freeze decoder embeddings"}
    )
    decoder_hidden_size: int | None = field(
        default=None, metadata={"help": "decoder hidden size (default: --decoder-embed-dim)"}
    )
    decoder_layers: int = field(default=1, metadata={"help": "number of decoder layers"})
    decoder_out_embed_dim: int = field(
        default=512, metadata={"help": "decoder output embedding dimension"}
    )
    decoder_attention: bool = field(
        default=True, metadata={"help": "attend over the encoder outputs in the decoder"}
    )
    share_decoder_input_output_embed: bool = field(
        default=False, metadata={"help": "share decoder input and output embeddings"}
    )
    share_all_embeddings: bool = field(
        default=False,
        metadata={
            "help": "share encoder, decoder and output embeddings "
            "(requires shared dictionary and embed dim)"
        },
    )
    encoder_dropout_in: float | None = field(
        default=None,
        metadata={"help": "dropout probability for encoder input embedding (default: --dropout)"},
    )
    encoder_dropout_out: float | None = field(
        default=None,
        metadata={"help": "dropout probability for encoder output (default: --dropout)"},
    )
    decoder_dropout_in: float | None = field(
        default=None,
        metadata={"help": "dropout probability for decoder input embedding (default: --dropout)"},
    )
    decoder_dropout_out: float | None = field(
        default=None,
        metadata={"help": "dropout probability for decoder output (default: --dropout)"},
    )
    max_source_positions: int = field(
        default=1024, metadata={"help": "max number of tokens in the source sequence"}
    )
    max_target_positions: int = field(
        default=1024, metadata={"help": "max number of tokens in the target sequence"}
    )

    def __post_init__(self) -> None:
        if self.encoder_hidden_size is None:
            self.encoder_hidden_size = self.encoder_embed_dim
        if self.decoder_hidden_size is None:
            self.decoder_hidden_size = self.decoder_embed_dim
        for name in (
            "encoder_dropout_in",
            "encoder_dropout_out",
            "decoder_dropout_in",
            "decoder_dropout_out",
        ):
            if getattr(self, name) is None:
                setattr(self, name, self.dropout)

        check_dropout(
            self,
            "dropout",
            "encoder_dropout_in",
            "encoder_dropout_out",
            "decoder_dropout_in",
            "decoder_dropout_out",
        )
        check_positive(
            self,
            "encoder_embed_dim",
            "encoder_hidden_size",
            "encoder_layers",
            "decoder_embed_dim",
            "decoder_hidden_size",
            "decoder_layers",
            "decoder_out_embed_dim",
        )
        if self.encoder_layers != self.decoder_layers:
            raise ConfigError(
                f"--encoder-layers {self.encoder_layers} must match --decoder-layers "
                f"{self.decoder_layers} (each decoder layer starts from the final state of the "
                f"encoder layer of the same depth)"
            )
        if self.share_all_embeddings:
            if self.encoder_embed_dim != self.decoder_embed_dim:
                raise ConfigError(
                    f"--share-all-embeddings requires --encoder-embed-dim "
                    f"{self.encoder_embed_dim} to match --decoder-embed-dim "
                    f"{self.decoder_embed_dim}"
                )
            check_output_embed_sharing(self, "--share-all-embeddings")
        if self.share_decoder_input_output_embed:
            check_output_embed_sharing(self, "--share-decoder-input-output-embed")


@dataclass
class LSTMLanguageModelConfig:
    """fairseq's ``lstm_lm`` model: an LSTM decoder alone, without attention."""

    dropout: float = field(default=0.1, metadata={"help": "dropout probability"})
    decoder_embed_dim: int = field(default=512, metadata={"help": "decoder embedding dimension"})
    decoder_hidden_size: int | None = field(
        default=None, metadata={"help": "decoder hidden size (default: --decoder-embed-dim)"}
    )
    decoder_layers: int = field(default=1, metadata={"help": "number of decoder layers"})
    decoder_out_embed_dim: int = field(
        default=512, metadata={"help": "decoder output embedding dimension"}
    )
    decoder_attention: bool = field(
        default=False,
        metadata={"help": "not supported: a language model has no encoder to attend to"},
    )
    residuals: bool = field(
        default=False, metadata={"help": "applying residuals between LSTM layers"}
    )
    decoder_dropout_in: float | None = field(
        default=None,
        metadata={"help": "dropout probability for decoder input embedding (default: --dropout)"},
    )
    decoder_dropout_out: float | None = field(
        default=None,
        metadata={"help": "dropout probability for decoder output (default: --dropout)"},
    )
    share_decoder_input_output_embed: bool = field(
        default=False, metadata={"help": "share decoder input and output embeddings"}
    )
    max_target_positions: int = field(
        default=1024, metadata={"help": "max number of tokens in the target sequence"}
    )

    def __post_init__(self) -> None:
        if self.decoder_hidden_size is None:
            self.decoder_hidden_size = self.decoder_embed_dim
        for name in ("decoder_dropout_in", "decoder_dropout_out"):
            if getattr(self, name) is None:
                setattr(self, name, self.dropout)

        check_dropout(self, "dropout", "decoder_dropout_in", "decoder_dropout_out")
        check_positive(
            self,
            "decoder_embed_dim",
            "decoder_hidden_size",
            "decoder_layers",
            "decoder_out_embed_dim",
        )
        if self.decoder_attention:
            raise ConfigError(
                "--decoder-attention is not supported by lstm_lm: a language model has no "
                "encoder to attend to"
            )
        if self.share_decoder_input_output_embed:
            check_output_embed_sharing(self, "--share-decoder-input-output-embed")
