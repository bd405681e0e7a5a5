"""Components written the way fairseq's legacy (argparse) code is, with seqcore's imports: options
declared by ``add_args(parser)``, built from an ``argparse.Namespace``. A --user-dir module of
the porting tests; between them they use every kind of argument seqcore translates."""

import argparse
import math

import torch
import torch.nn.functional as F
from torch import nn

from seqcore import utils
from seqcore.criterions import Criterion as LegacyFairseqCriterion
from seqcore.criterions import register_criterion
from seqcore.models import Decoder as FairseqIncrementalDecoder
from seqcore.models import Encoder as FairseqEncoder
from seqcore.models import EncoderDecoderModel as FairseqEncoderDecoderModel
from seqcore.models import register_model, register_model_architecture
from seqcore.tasks import register_task
from seqcore.tasks.translation import TranslationTask


@register_criterion("legacy_smoothed_cross_entropy")
class LegacySmoothedCrossEntropy(LegacyFairseqCriterion):
    """Cross-entropy with uniform label smoothing, its options declared fairseq 0.9's way."""

    @staticmethod
    def add_args(parser):
        parser.add_argument(
            "--smoothing",
            type=float,
            default=0.0,
            metavar="EPS",
            help="probability mass spread over the vocabulary (%(default)s: none)",
        )
        parser.add_argument(
            "--per-sentence",
            action="store_true",
            help="divide the gradient by sentences rather than tokens",
        )
        parser.add_argument(
            "--ignore-eos",
            action=argparse.BooleanOptionalAction,
            default=False,
            help="leave the end of sentence out of the loss",
        )
        parser.add_argument(
            "--report", nargs="?", const="all", default="loss", help="what to log (%(const)s alone)"
        )

    def __init__(self, args, task):
        super().__init__(args, task)
        self.eps = args.smoothing

    def forward(self, model, sample, reduce=True):
        net_output = model(**sample["net_input"])
        lprobs = model.get_normalized_probs(net_output, log_probs=True)
        lprobs = lprobs.view(-1, lprobs.size(-1))
        target = sample["target"].view(-1)
        keep = target.ne(self.padding_idx)
        if self.args.ignore_eos:
            keep &= target.ne(self.task.target_dictionary.eos())
        nll_loss = -lprobs.gather(1, target[:, None]).squeeze(1)[keep].sum()
        smooth_loss = -lprobs[keep].mean(dim=-1).sum()
        loss = (1.0 - self.eps) * nll_loss + self.eps * smooth_loss
        sample_size = sample["nsentences"] if self.args.per_sentence else sample["ntokens"]
        return (
            loss,
            sample_size,
            {
                "loss": loss.item(),
                "nll_loss": nll_loss.item(),
                "ntokens": sample["ntokens"],
                "nsentences": sample["nsentences"],
                "sample_size": sample_size,
            },
        )

    @staticmethod
    def reduce_metrics(logging_outputs):
        # fairseq logs these with metrics.log_scalar; seqcore's reduce_metrics returns them
        def total(key):
            return sum(log.get(key, 0) for log in logging_outputs)

        ntokens, sample_size = total("ntokens"), total("sample_size")
        nll_loss = total("nll_loss") / max(ntokens, 1) / math.log(2)
        return {
            "loss": total("loss") / max(sample_size, 1) / math.log(2),
            "nll_loss": nll_loss,
            "ppl": 2**nll_loss,
            "ntokens": ntokens,
            "nsentences": total("nsentences"),
            "sample_size": sample_size,
        }


@register_task("legacy_translation")
class LegacyTranslationTask(TranslationTask):
    """The translation task with fairseq 0.9's argparse options (booleans given as text)."""

    @staticmethod
    def add_args(parser):
        parser.add_argument("data", help="colon separated path to data directories list")
        parser.add_argument(
            "-s", "--source-lang", default=None, metavar="SRC", help="source language"
        )
        parser.add_argument(
            "-t", "--target-lang", default=None, metavar="TARGET", help="target language"
        )
        parser.add_argument(
            "--left-pad-source",
            default="True",
            type=str,
            metavar="BOOL",
            help="pad the source on the left",
        )
        parser.add_argument(
            "--left-pad-target",
            default="False",
            type=str,
            metavar="BOOL",
            help="pad the target on the left",
        )
        parser.add_argument(
            "--max-source-positions",
            default=1024,
            type=int,
            metavar="N",
            help="max number of tokens in the source sequence",
        )
        parser.add_argument(
            "--max-target-positions",
            default=1024,
            type=int,
            metavar="N",
            help="max number of tokens in the target sequence",
        )
        parser.add_argument(
            "--upsample-primary", default=1, type=int, help="amount to upsample primary dataset"
        )
        parser.add_argument(
            "--truncate-source",
            action="store_true",
            default=False,
            help="truncate source to max-source-positions",
        )
        parser.add_argument(
            "--dataset-impl",
            choices=["mmap", "raw"],
            default="mmap",
            help="output dataset implementation",
        )

    @classmethod
    def setup_task(cls, args, **kwargs):
        args.left_pad_source = utils.eval_bool(args.left_pad_source)
        args.left_pad_target = utils.eval_bool(args.left_pad_target)
        if args.dataset_impl != "mmap":
            raise ValueError("this task reads binarized (mmap) data only")
        return super().setup_task(args, **kwargs)


class BagEncoder(FairseqEncoder):
    """The source as the pooled embeddings of its tokens."""

    def __init__(self, args, dictionary):
        super().__init__(dictionary)
        self.pooling = args.pooling
        self.embed = nn.Embedding(len(dictionary), args.embed_dim, padding_idx=dictionary.pad())

    def forward(self, src_tokens, src_lengths):
        x = self.embed(src_tokens)
        pad = src_tokens.eq(self.dictionary.pad()).unsqueeze(-1)
        if self.pooling == "max":
            pooled = x.masked_fill(pad, float("-inf")).max(dim=1).values
        else:
            pooled = x.masked_fill(pad, 0.0).sum(dim=1) / src_lengths[:, None].type_as(x)
        return {"pooled": pooled}


class BagDecoder(FairseqIncrementalDecoder):
    """Each next token from the previous one and the pooled source, through hidden layers."""

    def __init__(self, args, dictionary):
        super().__init__(dictionary)
        self.embed = nn.Embedding(len(dictionary), args.embed_dim, padding_idx=dictionary.pad())
        self.dropout = nn.Dropout(args.dropout)
        sizes = [2 * args.embed_dim, *args.hidden_sizes]
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes, sizes[1:]))
        self.out = nn.Linear(sizes[-1], len(dictionary), bias=args.bias)

    def forward(self, prev_output_tokens, encoder_out, incremental_state=None):
        if incremental_state is not None:  # each position depends on its own token only
            prev_output_tokens = prev_output_tokens[:, -1:]
        x = self.embed(prev_output_tokens)
        pooled = encoder_out["pooled"].unsqueeze(1).expand_as(x)
        x = torch.cat([x, pooled], dim=-1)
        for layer in self.layers:
            x = self.dropout(F.relu(layer(x)))
        return self.out(x), None


@register_model("legacy_bag")
class LegacyBagModel(FairseqEncoderDecoderModel):
    @staticmethod
    def add_args(parser):
        parser.add_argument("--embed-dim", type=int, metavar="N", help="embedding size")
        parser.add_argument(
            "--hidden-sizes",
            type=int,
            nargs="+",
            metavar="N",
            help="sizes of the decoder's hidden layers",
        )
        parser.add_argument(
            "--pooling", choices=["mean", "max"], help="how the source embeddings are pooled"
        )
        parser.add_argument(
            "--no-bias", dest="bias", action="store_false", help="no bias in the output projection"
        )
        parser.add_argument(
            "--share-embeddings",
            action="store_true",
            help="one embedding table for the source and the target",
        )
        parser.add_argument(
            "--unused-dim", type=int, metavar="N", help="an option no architecture fills"
        )

    @classmethod
    def build_model(cls, args, task):
        base_bag(args)  # as fairseq's models do: older checkpoints get the newer options
        encoder = BagEncoder(args, task.source_dictionary)
        decoder = BagDecoder(args, task.target_dictionary)
        if args.share_embeddings:
            decoder.embed = encoder.embed
        model = cls(encoder, decoder)
        model.args = args  # what the tests look at
        return model


@register_model_architecture("legacy_bag", "legacy_bag_base")
def base_bag(args):
    args.embed_dim = getattr(args, "embed_dim", 16)
    args.hidden_sizes = getattr(args, "hidden_sizes", [24])
    args.pooling = getattr(args, "pooling", "mean")
    args.share_embeddings = getattr(args, "share_embeddings", True)
    args.bias = getattr(args, "bias", True)
    args.dropout = getattr(args, "dropout", 0.1)  # not an option: add_args does not declare it


@register_model_architecture("legacy_bag", "legacy_bag_tiny")
def tiny_bag(args):
    args.embed_dim = getattr(args, "embed_dim", 8)
    base_bag(args)
