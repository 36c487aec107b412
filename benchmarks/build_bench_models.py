"""The benchmark's models: random-weight reference `gliner` checkpoints and their conversions.

* ``small``: the shape of gliner-biomed-small: a DeBERTa-v3-small-shaped backbone (hidden 768,
  6 layers, 12 heads, intermediate 3072, relative attention, 512 positions) with a vocabulary of
  deberta-v3's size, 128,100 entries. Its sentencepiece unigram tokenizer is trained locally on
  corpus text (the training text cannot support 128k real pieces): ``TRAINED_PIECES`` real
  pieces, then unused filler pieces up to 128,100 so that the embedding matrix (and the memory)
  has deberta-v3-small's shape. Span head hidden size 768.
* ``minilm``: the MiniLM-based model of the tests (real all-MiniLM-L6-v2 backbone, random heads,
  hidden 256).
* ``default``: the shipped default model (MiniLM-L6 + trained LoRA adapter and heads), its
  adapter merged, written as a reference `gliner` checkpoint (``reference``) so that the
  reference package can run the same trained weights. Ours reads a copy of the shipped package
  (``ours``) that differs only in its word splitter: the reference's ("whitespace"), since the
  reference package has no other, and identical predictions need identical words.

Built folders are cached under ``runs/bench/models`` (git-ignored).

    python benchmarks/build_bench_models.py [--root runs/bench/models]
"""

from __future__ import annotations

import argparse
import io
import json
import shutil
import sys
from pathlib import Path

import torch

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT / "tests"))  # the reference-model builder shared with the tests

from gliner_biomed.dataset_builders.sources import resolve_corpus_dir  # noqa: E402
from model_factory import build_converted_model, build_reference_model, pubtator_texts  # noqa: E402

DEFAULT_ROOT = REPO_ROOT / "runs" / "bench" / "models"
# Trained models are read at the threshold they are used with; random-weight heads get a selective one.
TRAINED_THRESHOLDS = {"default": 0.5}
DEBERTA_V3_VOCAB = 128_100
TRAINED_PIECES = 24_000  # the most the six training sets support is about 28k
TOKENIZER_TEXTS = ["NCBIdisease_Train", "BC5CDR_TrainDev", "BioRED_TrainDev", "GNormPlus_Train", "NLMgene_Train", "tmVar3_Train"]


def build_small_deberta_backbone(out_dir: Path, seed: int = 0) -> Path:
    import sentencepiece as spm
    from transformers import DebertaV2Config, DebertaV2Model, DebertaV2Tokenizer

    out_dir = Path(out_dir)
    if (out_dir / "config.json").is_file():
        return out_dir
    out_dir.mkdir(parents=True, exist_ok=True)
    corpora = resolve_corpus_dir("bc5cdr")  # the corpora folder holding the AIONER files (see datasets download)
    texts = [text for name in TOKENIZER_TEXTS for text in pubtator_texts(corpora / "pubtator" / f"{name}.PubTator")]
    model_file = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(texts), model_writer=model_file, vocab_size=TRAINED_PIECES, model_type="unigram",
        pad_id=0, unk_id=1, bos_id=2, eos_id=3, pad_piece="[PAD]", unk_piece="[UNK]", bos_piece="[CLS]",
        eos_piece="[SEP]", user_defined_symbols=["[MASK]"], minloglevel=2, num_threads=2,
    )  # fmt: skip
    processor = spm.SentencePieceProcessor(model_proto=model_file.getvalue())
    vocab = [(processor.id_to_piece(i), processor.get_score(i)) for i in range(processor.get_piece_size())]
    lowest = min(score for _, score in vocab)
    vocab += [(f"<unused{i}>", lowest - 100.0) for i in range(DEBERTA_V3_VOCAB - len(vocab))]
    tokenizer = DebertaV2Tokenizer(vocab=vocab, model_max_length=512)
    tokenizer.save_pretrained(out_dir)
    torch.manual_seed(seed)
    config = DebertaV2Config(
        vocab_size=len(tokenizer), hidden_size=768, num_hidden_layers=6, num_attention_heads=12,
        intermediate_size=3072, max_position_embeddings=512, relative_attention=True, position_buckets=256,
        pos_att_type=["p2c", "c2p"], position_biased_input=False, norm_rel_ebd="layer_norm", share_att_key=True,
        pad_token_id=0, hidden_act="gelu", layer_norm_eps=1e-7, type_vocab_size=0,
    )  # fmt: skip
    DebertaV2Model(config).save_pretrained(out_dir)
    return out_dir


def build_small(root: Path) -> tuple[Path, Path]:
    from gliner_biomed.convert import convert_checkpoint

    root = Path(root) / "small-uni"
    converted = root / "converted"
    reference = build_reference_model(build_small_deberta_backbone(root / "backbone"), "uni", root / "reference", 768)
    if not (converted / "config.json").is_file():
        convert_checkpoint(reference, converted)
    return converted, reference


def build_minilm(root: Path) -> tuple[Path, Path]:
    root = Path(root) / "minilm-uni"
    converted = build_converted_model(root, "uni", "minilm")
    return converted, root / "reference"


def build_default(root: Path, package_dir: Path | None = None) -> tuple[Path, Path]:
    """(a copy of the shipped default model (or of the adapter package ``package_dir``, uni- or
    bi-encoder) read with the reference's word splitter, a reference-format checkpoint of the same
    weights)."""
    from gliner import GLiNER, GLiNERConfig

    from gliner_biomed.assembled_cache import package_key
    from gliner_biomed.convert import KEY_PREFIXES
    from gliner_biomed.models import DEFAULT_MODEL_DIR, load_model

    from model_factory import minilm_dir

    package_dir = Path(package_dir or DEFAULT_MODEL_DIR)
    name = "default" if package_dir == Path(DEFAULT_MODEL_DIR) else package_dir.name
    reference = Path(root) / name / "reference"
    ours_dir = Path(root) / name / "ours"
    # built from this exact default model? (the cache must not outlive a retrained default)
    # all its files (config and tokenizer too, not only the weights), as the assembled-model cache keys it
    digest = package_key(package_dir)
    stamp = reference / "built_from_default_model.sha256"
    if (reference / "gliner_config.json").is_file() and (not stamp.is_file() or stamp.read_text().strip() != digest):
        shutil.rmtree(reference)
        shutil.rmtree(ours_dir, ignore_errors=True)
    if not (ours_dir / "config.json").is_file():
        shutil.copytree(package_dir, ours_dir, ignore=shutil.ignore_patterns("__pycache__"))
        config_file = ours_dir / "config.json"
        config_file.write_text(json.dumps({**json.loads(config_file.read_text()), "words_splitter_type": "whitespace"}, indent=2) + "\n")
    if not (reference / "gliner_config.json").is_file():
        ours = load_model(str(ours_dir))  # the LoRA adapter merged into the encoder
        cfg = ours.config
        config = GLiNERConfig(
            model_name=str(minilm_dir()), labels_encoder=str(minilm_dir()) if cfg.is_bi_encoder else None, hidden_size=cfg.hidden_size, max_width=cfg.max_width, max_len=cfg.max_len,
            dropout=cfg.dropout, max_types=cfg.max_types, num_rnn_layers=cfg.num_rnn_layers,
            embed_ent_token=cfg.embed_ent_token, ent_token=cfg.ent_token, sep_token=cfg.sep_token,
            span_mode=cfg.span_mode, subtoken_pooling=cfg.subtoken_pooling,
        )  # fmt: skip
        model = GLiNER.from_config(config)
        to_reference = [(new, old) for old, new in KEY_PREFIXES]
        state = {}
        for key, value in ours.state_dict().items():
            prefix = next((new, old) for new, old in to_reference if key.startswith(new))
            state[prefix[1] + key[len(prefix[0]):]] = value
        # The reference adds its own extra token ([FLERT]) before the prompt markers, so the
        # marker rows move to the reference tokenizer's ids; the unused row stays as it was.
        key = "token_rep_layer.bert_layer.model.embeddings.word_embeddings.weight"
        theirs = model.model.state_dict()[key].clone()
        ours_tokenizer, their_tokenizer = ours.processor.tokenizer, model.data_processor.transformer_tokenizer
        base_rows = len(ours_tokenizer) - len(ours_tokenizer.get_added_vocab())
        theirs[:base_rows] = state[key][:base_rows]
        for token, index in ours_tokenizer.get_added_vocab().items():
            theirs[their_tokenizer.convert_tokens_to_ids(token)] = state[key][index]
        state[key] = theirs
        model.model.load_state_dict(state, strict=True)
        model.save_pretrained(reference)
        stamp.write_text(digest + "\n")
    return ours_dir, reference


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", type=Path, default=DEFAULT_ROOT, help="cache folder of the built models")
    parser.add_argument("--package", type=Path, action="append", default=[],
                        help="also build the pair of this trained adapter package (e.g. a second shipped model); repeatable")
    args = parser.parse_args(argv)
    for name, build in (("small", build_small), ("minilm", build_minilm), ("default", build_default)):
        converted, reference = build(args.root)
        print(f"{name}: ours={converted} reference={reference}")
    for package in args.package:
        converted, reference = build_default(args.root, package)
        print(f"{package.name}: ours={converted} reference={reference}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
