"""Model checks: what training, checkpoints and beam search rely on a model to do.

:func:`check_model` builds the model behind an architecture on a tiny task and checks, in order:
the forward returns ``(logits, extra)`` of shape ``(batch, length, vocabulary)`` in floating
point; every parameter gets a gradient (unless ``may_skip_parameters()``); ``state_dict``
round-trips into a fresh model; and incremental decoding gives the full forward's scores at every
step, also after ``reorder_encoder_out`` / ``reorder_incremental_state`` as beam search calls them.
"""

from __future__ import annotations

import copy
from typing import Any

import torch

from seqcore.config import make_config
from seqcore.config.fields import Component
from seqcore.config.resolve import apply_architecture, model_entry_for_arch
from seqcore.loader import load_plugins
from seqcore.models import EncoderDecoderModel, LanguageModel, build_model
from seqcore.registry import ARCHITECTURES
from seqcore.testing.components import entry
from seqcore.testing.contract import ContractError
from seqcore.testing.tiny import TinyTask, lm_batch, translation_batch

TOLERANCE = 1e-4


def build_tiny_model(
    arch: str, overrides: dict[str, Any] | None = None, seed: int = 0, task: Any = None
) -> Any:
    """The model of architecture ``arch`` on ``task`` (default: the tiny task), ``overrides``
    given as flags would be (the architecture fills the rest, then the dataclass defaults)."""
    arch_entry = entry(ARCHITECTURES, arch)
    model_entry = model_entry_for_arch(arch)
    component = Component("model", model_entry.name, model_entry.config_class, model_entry.origin)
    values = apply_architecture(arch_entry, component, dict(overrides or {}))
    cfg = make_config(model_entry.config_class, arch, values)
    torch.manual_seed(seed)
    return build_model(cfg, task if task is not None else TinyTask())


def _name(arch: str) -> str:
    return f"model architecture {arch!r}"


def _close(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a.float() - b.float()).abs().max()) if a.numel() else 0.0


def check_forward(arch: str, model: Any, batch: dict[str, Any]) -> torch.Tensor:
    out = model(**batch["net_input"])
    if not (isinstance(out, tuple) and len(out) == 2):
        raise ContractError(
            _name(arch),
            "forward returns (logits, extra)",
            f"it returned {type(out).__name__}",
            "return a pair from the decoder's forward: the scores and a dict (or None)",
        )
    logits = out[0]
    vocab = len(model.decoder.dictionary)
    expected = (*batch["target"].shape, vocab)
    if not isinstance(logits, torch.Tensor) or tuple(logits.shape) != expected:
        shape = tuple(logits.shape) if isinstance(logits, torch.Tensor) else type(logits).__name__
        raise ContractError(
            _name(arch),
            "logits have shape (batch, target length, len(target dictionary))",
            f"expected {expected}, got {shape}",
            "project the decoder's output onto the target dictionary at every position",
        )
    if not logits.is_floating_point():
        raise ContractError(
            _name(arch),
            "logits are floating point",
            f"got {logits.dtype}",
            "return unnormalised float scores",
        )
    return logits


def check_gradients(arch: str, model: Any, batch: dict[str, Any]) -> None:
    model.train()
    model.zero_grad()
    logits = model(**batch["net_input"])[0]
    lprobs = torch.log_softmax(logits.float(), dim=-1)
    lprobs.gather(-1, batch["target"].unsqueeze(-1)).sum().neg().backward()
    if model.may_skip_parameters():
        return
    missing = [n for n, p in model.named_parameters() if p.requires_grad and p.grad is None]
    if missing:
        raise ContractError(
            _name(arch),
            "every parameter gets a gradient in a training forward",
            f"no gradient for {', '.join(missing)}",
            "use the parameter in forward, remove it, or return True from may_skip_parameters() "
            "if it is skipped on purpose (distributed training then searches for unused ones)",
        )


def check_state_dict(arch: str, model: Any, overrides: dict[str, Any] | None, batch: dict) -> None:
    state = copy.deepcopy(model.state_dict())
    other = build_tiny_model(arch, overrides, seed=1)
    try:
        other.load_state_dict(state)
    except RuntimeError as e:
        raise ContractError(
            _name(arch),
            "state_dict loads into a freshly built model",
            str(e).splitlines()[0],
            "build the same modules for the same config, whatever the seed",
        ) from None
    model.eval()
    other.eval()
    with torch.no_grad():
        diff = _close(model(**batch["net_input"])[0], other(**batch["net_input"])[0])
    if diff > TOLERANCE:
        raise ContractError(
            _name(arch),
            "a model loaded from another's state_dict computes the same scores",
            f"scores differ by {diff:.3g}",
            "keep every tensor the forward reads in parameters or persistent buffers",
        )


def _decode(decoder: Any, prev: torch.Tensor, encoder_out: Any, state: dict, t: int) -> Any:
    logits = decoder(prev[:, : t + 1], encoder_out=encoder_out, incremental_state=state)[0]
    return logits[:, -1]


def check_incremental(arch: str, model: Any, batch: dict[str, Any]) -> None:
    """Step-by-step decoding equals the full forward; halfway, the batch is reordered (rows
    swapped and one repeated) as beam search reorders hypotheses, and must stay equal. Positions
    after a row's end (padding) are not compared: beam search never decodes them."""
    model.eval()
    net_input = batch["net_input"]
    encdec = isinstance(model, EncoderDecoderModel)
    prev = net_input["prev_output_tokens"] if encdec else net_input["src_tokens"]
    bsz, length = prev.shape
    new_order = torch.tensor([bsz - 1, *range(bsz - 1)])
    new_order[-1] = new_order[0]  # a repeated row, as when two beams continue one hypothesis
    switch = length // 2
    with torch.no_grad():
        full = model(**net_input)[0]
        reordered_input = {k: v.index_select(0, new_order) for k, v in net_input.items()}
        full_reordered = model(**reordered_input)[0]
        encoder_out = (
            model.encoder(net_input["src_tokens"], net_input["src_lengths"]) if encdec else None
        )
        state: dict = {}
        for t in range(length):
            if t == switch:
                model.decoder.reorder_incremental_state(state, new_order)
                if encdec:
                    encoder_out = model.encoder.reorder_encoder_out(encoder_out, new_order)
                prev = prev.index_select(0, new_order)
            step = _decode(model.decoder, prev, encoder_out, state, t)
            expected = (full if t < switch else full_reordered)[:, t]
            # rows whose prefix has reached padding are finished: beam search never feeds them
            live = prev[:, t].ne(model.decoder.dictionary.pad())
            diff = _close(step[live], expected[live])
            if diff > TOLERANCE:
                after = t >= switch
                raise ContractError(
                    _name(arch),
                    "incremental decoding gives the full forward's scores at every step"
                    + (" after the batch is reordered" if after else ""),
                    f"step {t} differs by {diff:.3g}",
                    (
                        "reorder every cached tensor along the batch in "
                        "reorder_incremental_state (and the encoder output in "
                        "reorder_encoder_out) with index_select(0, new_order)"
                        if after
                        else "with incremental_state, compute only the newest position from "
                        "the cache and make it equal to the full forward's (same masks, "
                        "positions and layers)"
                    ),
                )


LONGEST_CHECKED = 2048  # longer limits are not exercised (too slow for a unit test)


def _limit(value: Any) -> int | None:
    return int(value) if isinstance(value, (int, float)) and value <= LONGEST_CHECKED else None


def check_max_positions(arch: str, model: Any) -> None:
    """The model accepts inputs as long as its ``max_positions()`` says (where that is at most
    :data:`LONGEST_CHECKED`): the batcher lets such examples through."""
    limits = model.max_positions()
    encdec = isinstance(model, EncoderDecoderModel)
    src, tgt = (
        (limits if isinstance(limits, tuple) else (None, limits)) if encdec else (None, limits)
    )
    src, tgt = _limit(src), _limit(tgt)
    if src is None and tgt is None:
        return
    d = model.decoder.dictionary
    token = d.nspecial  # the first real symbol
    tgt_len, src_len = tgt or 8, src or 8
    prev = torch.full((1, tgt_len), token, dtype=torch.long)
    if encdec:
        src_tokens = torch.full((1, src_len), token, dtype=torch.long)
        net_input = {
            "src_tokens": src_tokens,
            "src_lengths": torch.tensor([src_len]),
            "prev_output_tokens": prev,
        }
    else:
        net_input = {"src_tokens": prev, "src_lengths": torch.tensor([tgt_len])}
    model.eval()
    try:
        with torch.no_grad():
            logits = model(**net_input)[0]
    except (IndexError, RuntimeError) as e:
        raise ContractError(
            _name(arch),
            "the model accepts inputs as long as max_positions() allows",
            f"source {src_len}, target {tgt_len} tokens: {type(e).__name__}: "
            f"{str(e).splitlines()[0]}",
            "size position embeddings (and any fixed-length buffer) for max_positions, "
            "padding offset included, or return a smaller max_positions()",
        ) from None
    if logits.shape[1] != tgt_len:
        raise ContractError(
            _name(arch),
            "the model scores every position up to max_positions()",
            f"{tgt_len} target tokens gave {logits.shape[1]} positions",
            "do not truncate the decoder's input",
        )


def check_model(arch: str, overrides: dict[str, Any] | None = None) -> None:
    """Every model check on the model of architecture ``arch`` (``overrides``: config values to
    keep it tiny, as flags would set them). Raises :class:`ContractError` on the first broken
    contract."""
    model = build_tiny_model(arch, overrides)
    if not isinstance(model, (EncoderDecoderModel, LanguageModel)):
        raise ContractError(
            _name(arch),
            "build_model returns an EncoderDecoderModel or a LanguageModel",
            f"got {type(model).__name__}",
            "subclass seqcore.models.EncoderDecoderModel or seqcore.models.LanguageModel",
        )
    task = TinyTask()
    batch = translation_batch(task) if isinstance(model, EncoderDecoderModel) else lm_batch(task)
    model.eval()
    with torch.no_grad():
        check_forward(arch, model, batch)
    check_gradients(arch, model, batch)
    check_state_dict(arch, model, overrides, batch)
    check_incremental(arch, model, batch)
    check_max_positions(arch, model)


def check_model_architectures(model: str, overrides: dict[str, Any] | None = None) -> list[str]:
    """:func:`check_model` for every architecture registered for ``model``; their names."""
    load_plugins()
    archs = sorted(n for n in ARCHITECTURES if ARCHITECTURES.get(n).extra.get("model") == model)
    for arch in archs:
        check_model(arch, overrides)
    return archs
