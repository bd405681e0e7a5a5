"""Preprocessing: text -> dictionaries and binarized datasets, as fairseq-preprocess.

:func:`run_preprocess` writes fairseq-preprocess's files: ``dict.<lang>.txt`` and
``<split>.<src>-<tgt>.<lang>.bin``/``.idx`` (``dict.txt`` and ``<split>.bin``/``.idx`` for
``--only-source`` without a language). Dictionaries are built from the train split only.
Everything is checked first and written into a hidden staging folder inside ``destdir``, then
moved into place at the end: a failed run leaves ``destdir`` as it found it.
``seqcore preprocess`` is this function with its flags derived from :class:`PreprocessOptions`.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

from seqcore.data import binarize, sentencepiece_bpe, text_lines
from seqcore.data.binarize import BinarizeStats
from seqcore.data.dictionary import Dictionary
from seqcore.errors import ConfigError, DataError
from seqcore.safe_files import (
    is_write_failure,
    make_folder,
    os_error_in,
    output_error,
    remove_leftovers,
    remove_quietly,
    staging_prefix,
)


def _option(default: Any, help: str, short: str | None = None) -> Any:
    metadata: dict[str, Any] = {"help": help}
    if short:
        metadata["short"] = short
    return field(default=default, metadata=metadata)


@dataclass
class PreprocessOptions:
    """The flags of ``seqcore preprocess`` (fairseq-preprocess's names and defaults)."""

    source_lang: str | None = _option(None, "source language", short="-s")
    target_lang: str | None = _option(None, "target language", short="-t")
    trainpref: str | None = _option(None, "train file prefix (also used to build dictionaries)")
    validpref: str | None = _option(
        None, "comma-separated valid file prefixes (valid, valid1, ...)"
    )
    testpref: str | None = _option(None, "comma-separated test file prefixes (test, test1, ...)")
    destdir: str = _option("data-bin", "destination dir")
    srcdict: str | None = _option(None, "reuse given source dictionary")
    tgtdict: str | None = _option(None, "reuse given target dictionary")
    joined_dictionary: bool = _option(False, "one dictionary for both languages")
    only_source: bool = _option(False, "only process the source language")
    workers: int = _option(1, "number of parallel workers")
    dict_only: bool = _option(False, "only build the dictionaries")
    padding_factor: int = _option(8, "pad dictionary size to be a multiple of N")
    thresholdsrc: int = _option(0, "map source words appearing fewer than N times to <unk>")
    thresholdtgt: int = _option(0, "map target words appearing fewer than N times to <unk>")
    nwordssrc: int = _option(-1, "number of source words to retain (-1: all)")
    nwordstgt: int = _option(-1, "number of target words to retain (-1: all)")
    bpe: Literal["sentencepiece"] | None = _option(
        None, "train a subword model on the train text and segment all splits with it"
    )
    bpe_vocab_size: int = _option(8000, "vocabulary size of the --bpe model")


@dataclass
class _Split:
    name: str  # train, valid, valid1, ..., test, ...
    prefix: str  # the input prefix, e.g. data/valid
    flag: str  # the flag it came from, for messages


@dataclass
class PreprocessResult:
    """What a run wrote: each side's dictionary (key: the language, ``None`` for monolingual
    text without one) and what binarizing each split of each side did (empty with
    ``dict_only``)."""

    dictionaries: dict[str | None, Dictionary]
    splits: dict[tuple[str, str | None], BinarizeStats] = field(default_factory=dict)


def run_preprocess(
    opts: PreprocessOptions, echo: Callable[[str], None] = print
) -> PreprocessResult:
    """Check ``opts`` and the inputs, then build the dictionaries and binarize every split into
    ``opts.destdir``; ``echo`` receives the summary lines ``seqcore preprocess`` prints.

    Raises :class:`~seqcore.errors.ConfigError` for contradictory options,
    :class:`~seqcore.errors.DataError` for unreadable or malformed input and
    :class:`~seqcore.errors.OutputError` naming ``--destdir`` for a refused write; whatever
    fails, ``destdir`` is left as it was found.
    """
    _check_options(opts)
    src, tgt = opts.source_lang, opts.target_lang
    langs = [src] if opts.only_source else [src, tgt]
    splits = _splits(opts)
    inputs = {(s.name, lang): _input_path(s.prefix, lang) for s in splits for lang in langs}
    for s in splits:
        for lang in langs:
            _check_readable(inputs[s.name, lang], s.flag)
        if not opts.only_source:
            _check_same_lines(inputs[s.name, src], inputs[s.name, tgt])
    _check_no_old_dicts(opts, langs)

    created = not os.path.isdir(opts.destdir)
    staging = _make_staging(opts.destdir)
    try:
        if opts.bpe == "sentencepiece":
            inputs = _apply_sentencepiece(opts, splits, langs, inputs, staging)
        result = PreprocessResult(_dictionaries(opts, langs, inputs))
        for lang in langs:
            result.dictionaries[lang].save(os.path.join(staging, _dict_name(lang)))
        if not opts.dict_only:
            for lang in langs:
                dictionary = result.dictionaries[lang]
                echo(f"[{_label(lang)}] Dictionary: {len(dictionary)} types")
                for s in splits:
                    stats = _binarize_split(
                        opts, s, lang, inputs[s.name, lang], dictionary, staging, echo
                    )
                    result.splits[s.name, lang] = stats
        _publish(staging, opts.destdir)
    except BaseException as e:
        remove_quietly(staging)
        if created:
            with contextlib.suppress(OSError):
                os.rmdir(opts.destdir)  # only when empty
        if _is_output_failure(e, staging):
            raise output_error(opts.destdir, e, "preprocessed data to --destdir") from None
        raise
    echo(f"Wrote preprocessed data to {opts.destdir}")
    return result


# -- checks ----------------------------------------------------------------------------------
def _check_options(opts: PreprocessOptions) -> None:
    if opts.workers < 1:
        raise ConfigError(f"--workers {opts.workers} must be at least 1")
    if not opts.only_source and not (opts.source_lang and opts.target_lang):
        raise ConfigError("--source-lang and --target-lang are required (or use --only-source)")
    if opts.joined_dictionary and opts.only_source:
        raise ConfigError("--joined-dictionary needs a target language; drop --only-source")
    if opts.joined_dictionary and opts.srcdict and opts.tgtdict:
        raise ConfigError("--joined-dictionary takes --srcdict or --tgtdict, not both")
    if not opts.trainpref:
        if not opts.srcdict and not (opts.joined_dictionary and opts.tgtdict):
            raise ConfigError("--trainpref is required to build the dictionary (or give --srcdict)")
        if not opts.only_source and not opts.tgtdict and not opts.joined_dictionary:
            raise ConfigError(
                "--trainpref is required to build the target dictionary (or give --tgtdict)"
            )
    if opts.bpe is not None:
        if opts.bpe != "sentencepiece":
            raise ConfigError(f"--bpe {opts.bpe!r} is not supported (choose sentencepiece)")
        if opts.bpe_vocab_size < 1:
            raise ConfigError(f"--bpe-vocab-size {opts.bpe_vocab_size} must be positive")
        if not opts.trainpref:
            raise ConfigError("--bpe sentencepiece trains on the --trainpref text: give it")
        sentencepiece_bpe.import_sentencepiece()


def _splits(opts: PreprocessOptions) -> list[_Split]:
    splits = [_Split("train", opts.trainpref, "--trainpref")] if opts.trainpref else []
    for flag, base, value in (("--validpref", "valid", opts.validpref),
                              ("--testpref", "test", opts.testpref)):  # fmt: skip
        for k, prefix in enumerate((value or "").split(",") if value else []):
            splits.append(_Split(f"{base}{k}" if k else base, prefix, flag))
    return splits


def _check_readable(path: str, flag: str) -> None:
    if not os.path.isfile(path):
        reason = "is a directory" if os.path.isdir(path) else "no such file"
        raise DataError(f"{flag}: cannot read {path}: {reason}")
    try:
        with open(path, "rb") as f:
            f.read(1)
    except OSError as e:
        raise DataError(f"{flag}: cannot read {path}: {e.strerror or e}") from None


def _check_same_lines(src_path: str, tgt_path: str) -> None:
    n_src, n_tgt = text_lines.count_lines(src_path), text_lines.count_lines(tgt_path)
    if n_src != n_tgt:
        raise DataError(f"{src_path} has {n_src} lines but {tgt_path} has {n_tgt}")


def _check_no_old_dicts(opts: PreprocessOptions, langs: list[str | None]) -> None:
    given = {opts.source_lang: opts.srcdict}
    if not opts.only_source:
        given[opts.target_lang] = opts.tgtdict
    for lang in langs:
        existing = os.path.join(opts.destdir, _dict_name(lang))
        if not given.get(lang) and os.path.exists(existing):
            flag = "--srcdict" if lang == opts.source_lang else "--tgtdict"
            raise ConfigError(
                f"{existing} already exists: reuse it with {flag} {existing} or choose "
                "another --destdir"
            )


# -- steps -----------------------------------------------------------------------------------
def _apply_sentencepiece(
    opts: PreprocessOptions,
    splits: list[_Split],
    langs: list[str | None],
    inputs: dict[tuple[str, str | None], str],
    staging: str,
) -> dict[tuple[str, str | None], str]:
    """Train one model on the raw train text of all sides; segment every input with it."""
    train_files = sorted({inputs["train", lang] for lang in langs})
    for path in train_files:
        text_lines.check_utf8(path)
    prefix = os.path.join(staging, sentencepiece_bpe.MODEL_NAME)
    sentencepiece_bpe.train(train_files, prefix, opts.bpe_vocab_size, num_threads=opts.workers)
    segmented_dir = tempfile.mkdtemp(prefix=".segmented-", dir=staging)
    segmented = {}
    for s in splits:
        for lang in langs:
            out = os.path.join(segmented_dir, _input_path(s.name, lang))
            sentencepiece_bpe.encode_file(prefix + ".model", inputs[s.name, lang], out)
            segmented[s.name, lang] = out
    return segmented


def _dictionaries(
    opts: PreprocessOptions, langs: list[str | None], inputs: dict[tuple[str, str | None], str]
) -> dict[str | None, Dictionary]:
    src = opts.source_lang

    def build(paths: list[str], threshold: int, nwords: int, side: str) -> Dictionary:
        counts: Counter[str] = Counter()
        for path in paths:
            with _progress(path, f"[{side}] counting") as progress:
                counts.update(binarize.count_file_tokens(path, opts.workers, progress))
        return Dictionary.from_counts(counts, threshold, nwords, opts.padding_factor)

    if opts.joined_dictionary:
        given = opts.srcdict or opts.tgtdict
        if given:
            joined = Dictionary.load(given)
        else:
            paths = sorted({inputs["train", lang] for lang in langs})
            joined = build(paths, opts.thresholdsrc, opts.nwordssrc, "joined")
        return {lang: joined for lang in langs}
    dicts = {}
    if opts.srcdict:
        dicts[src] = Dictionary.load(opts.srcdict)
    else:
        dicts[src] = build([inputs["train", src]], opts.thresholdsrc, opts.nwordssrc, str(src))
    if not opts.only_source:
        tgt = opts.target_lang
        if opts.tgtdict:
            dicts[tgt] = Dictionary.load(opts.tgtdict)
        else:
            dicts[tgt] = build([inputs["train", tgt]], opts.thresholdtgt, opts.nwordstgt, tgt)
    return dicts


def _binarize_split(
    opts: PreprocessOptions,
    split: _Split,
    lang: str | None,
    path: str,
    dictionary: Dictionary,
    staging: str,
    echo: Callable[[str], None],
) -> BinarizeStats:
    prefix = os.path.join(staging, _dataset_prefix(opts, split.name, lang))
    with _progress(path, f"[{_label(lang)}] {split.name}") as progress:
        stats = binarize.binarize_file(
            path,
            dictionary,
            prefix + ".bin",
            prefix + ".idx",
            workers=opts.workers,
            allow_empty_lines=opts.only_source,
            progress=progress,
        )
    shown = _input_path(split.prefix, lang)  # the user's file, also when it was segmented
    echo(
        f"[{_label(lang)}] {shown}: {stats.nseq} sents, {stats.ntok} tokens, "
        f"{stats.replaced_percent:.3}% replaced by {dictionary.unk_word}"
    )
    return stats


def _make_staging(destdir: str) -> str:
    """A hidden folder inside ``destdir`` (created if needed) that collects the outputs; named
    after this process, so that the next run can remove it if this one is killed."""
    if os.path.exists(destdir) and not os.path.isdir(destdir):
        raise ConfigError(f"--destdir {destdir} exists and is not a directory")
    make_folder(destdir, "--destdir")
    remove_leftovers(destdir)
    try:
        return tempfile.mkdtemp(prefix=staging_prefix(), dir=destdir)
    except OSError as e:
        raise output_error(destdir, e, "preprocessed data to --destdir") from None


def _is_output_failure(e: BaseException, staging: str) -> bool:
    """Whether ``e`` is the file system refusing a write into the staging folder (a read
    failure of an input names its file, outside the staging folder)."""
    if not is_write_failure(e):
        return False
    os_error = os_error_in(e)
    name = getattr(os_error, "filename", None)
    return name is None or os.path.abspath(str(name)).startswith(os.path.abspath(staging))


def _publish(staging: str, destdir: str) -> None:
    """Move the finished files from the staging folder into ``destdir``."""
    for name in sorted(os.listdir(staging)):
        path = os.path.join(staging, name)
        if os.path.isfile(path):
            os.replace(path, os.path.join(destdir, name))
    remove_quietly(staging)


@contextmanager
def _progress(path: str, desc: str) -> Iterator[Callable[[int], None] | None]:
    """A tqdm bar over the bytes of ``path`` on stderr, only when stderr is a terminal."""
    if not sys.stderr.isatty():
        yield None
        return
    from tqdm import tqdm

    with tqdm(
        total=os.path.getsize(path), desc=desc, unit="B", unit_scale=True, leave=False
    ) as bar:
        yield bar.update


# -- names -----------------------------------------------------------------------------------
def _input_path(prefix: str, lang: str | None) -> str:
    return f"{prefix}.{lang}" if lang else prefix


def _label(lang: str | None) -> str:
    """How the log names a side: its language, or "text" for monolingual data without one."""
    return lang if lang else "text"


def _dict_name(lang: str | None) -> str:
    return f"dict.{lang}.txt" if lang else "dict.txt"


def _dataset_prefix(opts: PreprocessOptions, split: str, lang: str | None) -> str:
    """fairseq's names: ``<split>.<src>-<tgt>.<lang>``, or ``<split>`` for bare monolingual data.

    With ``--only-source -s de`` and no target that is ``train.de-None.de``, as in fairseq.
    """
    if lang is not None:
        return f"{split}.{opts.source_lang}-{opts.target_lang}.{lang}"
    if opts.only_source:
        return split
    return f"{split}.{opts.source_lang}-{opts.target_lang}"
