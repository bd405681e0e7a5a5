"""The task sections of a fairseq 0.12 ``cfg``, with fairseq's defaults (facts read from the
checkpoints fairseq 0.12.2 writes). fairseq merges a saved task section into its task's
dataclass, which refuses keys it does not know; an exported checkpoint holds exactly these."""

from __future__ import annotations

from typing import Any

TASK_SECTIONS: dict[str, dict[str, Any]] = {
    "translation": {
        "_name": "translation",
        "data": None,
        "source_lang": None,
        "target_lang": None,
        "load_alignments": False,
        "left_pad_source": True,
        "left_pad_target": False,
        "max_source_positions": 1024,
        "max_target_positions": 1024,
        "upsample_primary": -1,
        "truncate_source": False,
        "num_batch_buckets": 0,
        "train_subset": "train",
        "dataset_impl": None,
        "required_seq_len_multiple": 1,
        "eval_bleu": False,
        "eval_bleu_args": "{}",
        "eval_bleu_detok": "space",
        "eval_bleu_detok_args": "{}",
        "eval_tokenized_bleu": False,
        "eval_bleu_remove_bpe": None,
        "eval_bleu_print_samples": False,
    },
    "language_modeling": {
        "_name": "language_modeling",
        "data": None,
        "sample_break_mode": "none",
        "tokens_per_sample": 1024,
        "output_dictionary_size": -1,
        "self_target": False,
        "future_target": False,
        "past_target": False,
        "add_bos_token": False,
        "max_target_positions": None,
        "shorten_method": "none",
        "shorten_data_split_list": "",
        "pad_to_fixed_length": False,
        "pad_to_fixed_bsz": False,
        "seed": 1,
        "batch_size": None,
        "batch_size_valid": None,
        "dataset_impl": None,
        "data_buffer_size": 10,
        "tpu": False,
        "use_plasma_view": False,
        "plasma_path": "/tmp/plasma",
    },
}


def task_section(task: str, values: dict[str, Any]) -> dict[str, Any]:
    """fairseq's section for ``task``: its defaults, with the entries of ``values`` it has."""
    section = dict(TASK_SECTIONS.get(task, {"_name": task}))
    section.update({k: v for k, v in values.items() if k in section and k != "_name"})
    return section
