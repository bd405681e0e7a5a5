"""Incremental decoding with the key/value cache equals one full forward pass.

Everything runs in float32 in eval mode; "equal" is a max absolute difference below 1e-5 on the
logits of every real (non-padding) position.
"""

from __future__ import annotations

import pytest
import torch

TOL = 1e-5
EOS = 2


def decode_step_by_step(decoder, tokens, encoder_out, state, start, stop):
    """Logits of positions start..stop-1, fed one token at a time (the whole prefix each call)."""
    outs = []
    for t in range(start + 1, stop + 1):
        logits, _ = decoder(tokens[:, :t], encoder_out, state)
        assert logits.shape[1] == 1, "a filled cache must compute only the newest position"
        outs.append(logits)
    return torch.cat(outs, dim=1)


VARIANTS = {
    "post-norm": {},
    "pre-norm": dict(encoder_normalize_before=True, decoder_normalize_before=True),
    "learned-pos": dict(encoder_learned_pos=True, decoder_learned_pos=True),
    "pre-norm-learned-pos": dict(
        decoder_normalize_before=True, decoder_learned_pos=True, no_decoder_final_norm=True
    ),
    "layernorm-embedding-gelu": dict(layernorm_embedding=True, activation_fn="gelu"),
    "no-positions-output-dim": dict(no_token_positional_embeddings=True, decoder_output_dim=8),
    "shared-embeddings": dict(share_decoder_input_output_embed=True, no_scale_embedding=True),
}


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_encoder_decoder_step_by_step_equals_full(helpers, variant):
    gen = torch.Generator().manual_seed(0)
    model = helpers.build(helpers.tiny_config(**VARIANTS[variant])).eval()
    src = helpers.left_pad(helpers.random_tokens(gen, 3, 7, 40), [7, 4, 2])
    prev = helpers.random_tokens(gen, 3, 9, 48)
    prev[:, 0] = EOS
    with torch.no_grad():
        encoder_out = model.encoder(src, None)
        full, _ = model.decoder(prev, encoder_out)
        state: dict = {}
        inc = decode_step_by_step(model.decoder, prev, encoder_out, state, 0, prev.size(1))
    assert full.shape == inc.shape == (3, 9, 48)
    assert (full - inc).abs().max() < TOL


def test_prefix_in_chunks_equals_full(helpers):
    """A prefix fed several tokens at a time (empty cache, then after a filled cache) too."""
    gen = torch.Generator().manual_seed(1)
    model = helpers.build(helpers.tiny_config()).eval()
    src = helpers.random_tokens(gen, 2, 5, 40)
    prev = helpers.random_tokens(gen, 2, 8, 48)
    with torch.no_grad():
        encoder_out = model.encoder(src, None)
        full, _ = model.decoder(prev, encoder_out)
        state: dict = {}
        a, _ = model.decoder(prev[:, :3], encoder_out, state)
        b, _ = model.decoder(prev[:, :6], encoder_out, state)
        c = decode_step_by_step(model.decoder, prev, encoder_out, state, 6, 8)
    assert a.shape[1] == 3 and b.shape[1] == 3
    assert (full - torch.cat([a, b, c], dim=1)).abs().max() < TOL


@pytest.mark.parametrize(
    "new_order", [[2, 0, 1], [1, 1, 1, 0, 0, 0, 2, 2, 2], [2, 0]], ids=["perm", "beam", "shrink"]
)
def test_reorder_incremental_state(helpers, new_order):
    """After reorder_incremental_state / reorder_encoder_out, decoding continues exactly as a
    full forward pass on the reordered sources and prefixes (continued with new tokens)."""
    gen = torch.Generator().manual_seed(2)
    model = helpers.build(helpers.tiny_config()).eval()
    src = helpers.left_pad(helpers.random_tokens(gen, 3, 6, 40), [6, 3, 5])
    prev = helpers.random_tokens(gen, 3, 4, 48)
    prev[:, 0] = EOS
    order = torch.tensor(new_order)
    more = helpers.random_tokens(gen, len(new_order), 5, 48)
    with torch.no_grad():
        encoder_out = model.encoder(src, None)
        state: dict = {}
        decode_step_by_step(model.decoder, prev, encoder_out, state, 0, 4)
        model.decoder.reorder_incremental_state(state, order)
        encoder_out = model.encoder.reorder_encoder_out(encoder_out, order)
        continued = torch.cat([prev[order], more], dim=1)
        inc = decode_step_by_step(model.decoder, continued, encoder_out, state, 4, 9)
        full, _ = model(src[order], None, continued)
    assert (full[:, 4:] - inc).abs().max() < TOL


def test_cache_is_written_in_place_and_the_encoder_keys_follow_the_encoder_output(helpers):
    """As beam search uses it: each step writes into the self-attention buffers allocated
    before (no copy of the cache per step), and while the encoder output passed is the same
    tensor (every beam of a sentence has the same source) a reorder within the sentences' beams
    copies no encoder keys or values; decoding still equals a full forward pass."""
    gen = torch.Generator().manual_seed(5)
    model = helpers.build(helpers.tiny_config()).eval()
    beam = 3
    src = helpers.random_tokens(gen, 2, 5, 40).repeat_interleave(beam, dim=0)
    prev = helpers.random_tokens(gen, 2 * beam, 6, 48)
    prev[:, 0] = EOS
    with torch.no_grad():
        encoder_out = model.encoder(src, None)
        state: dict = {}
        decode_step_by_step(model.decoder, prev, encoder_out, state, 0, 2)
        caches = [v for v in state.values() if isinstance(v, dict)]
        buffers = [c["k"].data_ptr() for c in caches if "length" in c]
        encoder_keys = [c["k"].data_ptr() for c in caches if "source" in c]
        assert len(buffers) == len(encoder_keys) == 2  # 2 layers
        order = torch.tensor([2, 2, 0, 4, 3, 3])  # within each sentence's beams
        model.decoder.reorder_incremental_state(state, order)
        continued = torch.cat([prev[order, :2], prev[:, 2:]], dim=1)
        inc = decode_step_by_step(model.decoder, continued, encoder_out, state, 2, 6)
        caches = [v for v in state.values() if isinstance(v, dict)]
        assert [c["k"].data_ptr() for c in caches if "source" in c] == encoder_keys
        assert all(c["length"] == 6 for c in caches if "length" in c)
        assert len({c["k"].data_ptr() for c in caches if "length" in c} & set(buffers)) == 0
        full, _ = model(src, None, continued)
    assert (full[:, 2:] - inc).abs().max() < TOL


@pytest.mark.parametrize("normalize_before", [False, True])
def test_language_model_step_by_step_equals_full(helpers, normalize_before):
    gen = torch.Generator().manual_seed(3)
    model = helpers.build_lm(helpers.tiny_lm_config(decoder_normalize_before=normalize_before))
    model.eval()
    tokens = helpers.random_tokens(gen, 4, 10, 48)
    with torch.no_grad():
        full, _ = model(tokens)
        state: dict = {}
        inc = decode_step_by_step(model.decoder, tokens, None, state, 0, 10)
        # and after a beam-search style reorder
        order = torch.tensor([3, 3, 0, 1])
        model.decoder.reorder_incremental_state(state, order)
        more = helpers.random_tokens(gen, 4, 3, 48)
        continued = torch.cat([tokens[order], more], dim=1)
        inc2 = decode_step_by_step(model.decoder, continued, None, state, 10, 13)
        full2, _ = model(continued)
    assert (full - inc).abs().max() < TOL
    assert (full2[:, 10:] - inc2).abs().max() < TOL


def test_language_model_left_padded_prefixes(helpers):
    """Left-padded prefixes (padding before real tokens, so the padding mask matters): real
    positions agree between full and incremental passes, and with each row decoded alone."""
    gen = torch.Generator().manual_seed(4)
    model = helpers.build_lm(helpers.tiny_lm_config()).eval()
    lengths = [8, 5, 2]
    tokens = helpers.left_pad(helpers.random_tokens(gen, 3, 8, 48), lengths)
    real = tokens.ne(1)
    with torch.no_grad():
        full, _ = model(tokens)
        state: dict = {}
        inc = decode_step_by_step(model.decoder, tokens, None, state, 0, 8)
        alone = [model(tokens[i : i + 1, 8 - n :])[0][0] for i, n in enumerate(lengths)]
    assert (full - inc)[real].abs().max() < TOL
    for i, n in enumerate(lengths):
        assert (full[i, 8 - n :] - alone[i]).abs().max() < TOL


def test_source_padding_does_not_change_the_translation(helpers):
    """A sentence decoded alone equals the same sentence left-padded in a batch."""
    gen = torch.Generator().manual_seed(5)
    model = helpers.build(helpers.tiny_config()).eval()
    src = helpers.left_pad(helpers.random_tokens(gen, 2, 7, 40), [7, 3])
    prev = helpers.random_tokens(gen, 2, 5, 48)
    with torch.no_grad():
        batched, _ = model(src, None, prev)
        alone, _ = model(src[1:, 4:], None, prev[1:])
    assert (batched[1] - alone[0]).abs().max() < TOL


def test_target_padding_does_not_change_real_positions(helpers):
    """Right-padded targets (as batches have them) decode their real positions exactly as each
    target alone: causal attention never lets a real position see the padding after it."""
    gen = torch.Generator().manual_seed(6)
    model = helpers.build(helpers.tiny_config()).eval()
    src = helpers.random_tokens(gen, 3, 5, 40)
    prev = helpers.random_tokens(gen, 3, 6, 48)
    lengths = [6, 2, 4]
    for i, n in enumerate(lengths):
        prev[i, n:] = 1
    with torch.no_grad():
        batched, _ = model(src, None, prev)
        for i, n in enumerate(lengths):
            alone, _ = model(src[i : i + 1], None, prev[i : i + 1, :n])
            assert (batched[i, :n] - alone[0]).abs().max() < TOL


@pytest.mark.parametrize("rows", [1, 5, 10, 11, 40])
def test_output_projection_of_few_and_many_rows(helpers, rows):
    """The output projection (taken as ``weight @ x^T`` for up to 10 rows, the steps of one
    sentence's beams) against the float64 product, and its log-softmax laid out as the search
    views it (rows x V, contiguous)."""
    model = helpers.build(helpers.tiny_config()).eval()
    features = torch.randn(rows, 1, model.decoder.output_projection.in_features)
    with torch.no_grad():
        logits = model.decoder.output_layer(features)
    weight = model.decoder.output_projection.weight.double()
    expected = (features.double() @ weight.t()).float()
    assert logits.shape == expected.shape
    assert (logits - expected).abs().max() < TOL
    lprobs = torch.log_softmax(logits, dim=-1)[:, -1, :]
    assert lprobs.is_contiguous()


def encoder_caches(state: dict) -> list[dict]:
    return [v for v in state.values() if isinstance(v, dict) and "source" in v]


def test_beams_of_a_sentence_attend_to_one_row_of_encoder_keys(helpers):
    """As beam search runs it: a first step of one row per sentence, the rows expanded to the
    beams (encoder output reordered the same way), reorders within the sentences' beams, then
    a sentence leaving. The encoder keys and values keep one row per sentence (the beams
    attend to it as a group: `beam` times less to read) and decoding equals a full forward
    pass on the rows as they end up."""
    gen = torch.Generator().manual_seed(7)
    model = helpers.build(helpers.tiny_config()).eval()
    beam = 3
    src = helpers.left_pad(helpers.random_tokens(gen, 3, 6, 40), [6, 3, 5])
    prev = helpers.random_tokens(gen, 9, 6, 48)
    prev[:, 0] = EOS
    with torch.no_grad():
        encoder_out = model.encoder(src, None)
        state: dict = {}
        rows = torch.arange(3)
        decode_step_by_step(model.decoder, prev[::beam], encoder_out, state, 0, 1)
        expand = torch.arange(3).repeat_interleave(beam)
        model.decoder.reorder_incremental_state(state, expand)
        encoder_out = model.encoder.reorder_encoder_out(encoder_out, expand)
        rows = rows[expand]
        inc = [decode_step_by_step(model.decoder, prev, encoder_out, state, 1, 3)]
        assert [c["k"].size(0) for c in encoder_caches(state)] == [3, 3]
        assert all(c["group"] == beam for c in encoder_caches(state))
        within = torch.tensor([1, 1, 0, 5, 3, 4, 8, 6, 6])  # beams move inside their sentence
        model.decoder.reorder_incremental_state(state, within)
        prev = torch.cat([prev[within, :3], prev[:, 3:]], dim=1)
        rows = rows[within]
        inc.append(decode_step_by_step(model.decoder, prev, encoder_out, state, 3, 4))
        leave = torch.tensor([0, 1, 2, 6, 7, 8])  # the second sentence is done
        model.decoder.reorder_incremental_state(state, leave)
        encoder_out = model.encoder.reorder_encoder_out(encoder_out, leave)
        prev, rows = prev[leave], rows[leave]
        last = decode_step_by_step(model.decoder, prev, encoder_out, state, 4, 6)
        assert [c["k"].size(0) for c in encoder_caches(state)] == [2, 2]
        full, _ = model(src[rows], None, prev)
    assert (full[:, 4:] - last).abs().max() < TOL
    assert (full[:, 3:4] - inc[1][leave]).abs().max() < TOL


def two_sentences_two_steps_in(helpers, seed: int):
    """A model, 2 sources, 3 target prefixes of 4 tokens, and the state after decoding the first
    2 prefixes' first 2 positions."""
    gen = torch.Generator().manual_seed(seed)
    model = helpers.build(helpers.tiny_config()).eval()
    src = helpers.random_tokens(gen, 2, 5, 40)
    prev = helpers.random_tokens(gen, 3, 4, 48)
    with torch.no_grad():
        encoder_out = model.encoder(src, None)
        state: dict = {}
        decode_step_by_step(model.decoder, prev[:2], encoder_out, state, 0, 2)
    return model, src, prev, encoder_out, state


def test_encoder_rows_in_no_groups_are_taken_one_by_one(helpers):
    """An order that does not repeat rows in runs (one row twice, apart) keeps one row of
    encoder keys per decoder row."""
    model, src, prev, encoder_out, state = two_sentences_two_steps_in(helpers, seed=8)
    with torch.no_grad():
        order = torch.tensor([0, 1, 0])
        model.decoder.reorder_incremental_state(state, order)
        encoder_out = model.encoder.reorder_encoder_out(encoder_out, order)
        continued = torch.cat([prev[order, :2], prev[:, 2:]], dim=1)
        inc = decode_step_by_step(model.decoder, continued, encoder_out, state, 2, 4)
        assert [(c["k"].size(0), c["group"]) for c in encoder_caches(state)] == [(3, 1)] * 2
        full, _ = model(src[order], None, continued)
    assert (full[:, 2:] - inc).abs().max() < TOL


def test_decoder_rows_must_match_the_encoder_rows(helpers):
    """Rows reordered in the cache but not in the encoder output: a ValueError that says to
    reorder the encoder output, not a shape error from inside attention."""
    model, _, prev, encoder_out, state = two_sentences_two_steps_in(helpers, seed=9)
    with torch.no_grad():
        model.decoder.reorder_incremental_state(state, torch.tensor([0, 1, 1]))
        with pytest.raises(ValueError, match="reorder the encoder output"):
            model.decoder(prev, encoder_out, state)
