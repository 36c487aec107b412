"""The GLiNER objective: focal loss on hand-computed cases, the collator's label construction
against the reference gliner package's, label-set sampling, and example cutting."""

from __future__ import annotations

import math
import random

import pytest
import torch

from gliner_biomed.modeling import focal_loss_with_logits
from gliner_biomed.trainers.collator import LabelSampling, sample_label_sets, span_label_tensor
from gliner_biomed.trainers.data import BatchSchedule, SourceSpec, cut_example, few_shot_sample


def sigmoid(x):
    return 1 / (1 + math.exp(-x))


def test_focal_loss_hand_computed():
    logits = torch.tensor([2.0, -1.0, 0.5])
    targets = torch.tensor([1.0, 0.0, 0.0])
    mask = torch.tensor([1.0, 1.0, 0.0])  # the third cell does not count
    # Plain BCE: -log(sigmoid(2)) - log(1 - sigmoid(-1)).
    bce = -math.log(sigmoid(2.0)) - math.log(1 - sigmoid(-1.0))
    assert float(focal_loss_with_logits(logits, targets, mask)) == pytest.approx(bce, rel=1e-6)
    # Focal, gamma=2, alpha=0.75: positives weighted 0.75 * (1-p)^2, negatives 0.25 * p^2.
    p_pos, p_neg = sigmoid(2.0), sigmoid(-1.0)
    focal = 0.75 * (1 - p_pos) ** 2 * -math.log(p_pos) + 0.25 * p_neg**2 * -math.log(1 - p_neg)
    assert float(focal_loss_with_logits(logits, targets, mask, alpha=0.75, gamma=2.0)) == pytest.approx(focal, rel=1e-6)
    # alpha < 0 disables the weighting, gamma alone still focuses.
    gamma_only = (1 - p_pos) ** 2 * -math.log(p_pos) + p_neg**2 * -math.log(1 - p_neg)
    assert float(focal_loss_with_logits(logits, targets, mask, alpha=-1, gamma=2.0)) == pytest.approx(gamma_only, rel=1e-6)


EXAMPLES = [
    {"tokenized_text": ["Aspirin", "induced", "gastric", "ulcer", "."], "ner": [[0, 0, "chemical"], [2, 3, "disease"]],
     "corpus_types": ["chemical", "disease"]},
    {"tokenized_text": ["BRCA1", "mutations", "in", "breast", "cancer", "patients", "and", "mice"],
     "ner": [[0, 0, "gene"], [3, 4, "disease"], [7, 7, "species"], [0, 1, "sequence variant"]],
     "corpus_types": ["gene", "disease", "species", "sequence variant", "cell line"]},
    {"tokenized_text": ["No", "entities", "here"], "ner": [], "corpus_types": ["chemical", "disease"]},
]


def test_span_labels_hand_computed():
    labels = [["disease", "chemical"], ["gene"], ["chemical"]]
    targets = span_label_tensor(EXAMPLES, labels, max_width=3)
    assert targets.shape == (3, 8, 3, 2)
    ones = sorted(tuple(index) for index in torch.nonzero(targets).tolist())
    # (row, start, width, label): chemical Aspirin, disease "gastric ulcer" (start 2, width 1), gene BRCA1.
    # "breast cancer" (disease) and the others have no prompt in row 1; row 2 has no entities.
    assert ones == [(0, 0, 0, 1), (0, 2, 1, 0), (1, 0, 0, 0)]


def test_span_labels_match_reference_gliner_collator():
    """For the same batch and label sets, our (B, W, K, C) targets flattened to (B, W*K, C) equal the
    reference UniEncoderSpanProcessor.create_labels."""
    from gliner.config import GLiNERConfig as ReferenceConfig
    from gliner.data_processing import UniEncoderSpanProcessor
    from gliner.data_processing.tokenizer import WordsSplitter
    from transformers import AutoTokenizer

    from model_factory import minilm_dir

    max_width = 4
    config = ReferenceConfig(model_name=str(minilm_dir()), max_width=max_width, max_len=384)
    processor = UniEncoderSpanProcessor(config, AutoTokenizer.from_pretrained(str(minilm_dir())), WordsSplitter("whitespace"))
    rng = random.Random(3)
    label_sets = sample_label_sets(EXAMPLES, LabelSampling(max_neg_type_ratio=2), rng)
    class_to_ids = [{label: i for i, label in enumerate(labels, start=1)} for labels in label_sets]
    batch_list = [{"tokenized_text": e["tokenized_text"], "ner": [tuple(x) for x in e["ner"]]} for e in EXAMPLES]
    batch = processor.collate_raw_batch(batch_list, class_to_ids=class_to_ids,
                                        id_to_classes=[{v: k for k, v in m.items()} for m in class_to_ids])
    reference = processor.create_labels(batch)
    ours = span_label_tensor(EXAMPLES, label_sets, max_width)
    assert ours.flatten(1, 2).shape == reference.shape
    assert torch.equal(ours.flatten(1, 2), reference)
    assert reference.sum() > 0


def test_label_sets_positives_negatives_shuffle_and_cap():
    sampling = LabelSampling(max_neg_type_ratio=3, corpus_negatives=True, shuffle=True, max_types=25)
    for seed in range(20):
        sets = sample_label_sets(EXAMPLES, sampling, random.Random(seed))
        for example, labels in zip(EXAMPLES, sets):
            own = {label for _, _, label in example["ner"]}
            assert own <= set(labels)
            assert set(example["corpus_types"]) <= set(labels)  # the corpus's types are true negatives
            assert len(labels) == len(set(labels))
    assert sample_label_sets(EXAMPLES, sampling, random.Random(1)) == sample_label_sets(EXAMPLES, sampling, random.Random(1))
    orders = {tuple(sample_label_sets(EXAMPLES, sampling, random.Random(seed))[1]) for seed in range(10)}
    assert len(orders) > 1  # shuffled label order
    capped = sample_label_sets(EXAMPLES, LabelSampling(max_types=2), random.Random(0))
    assert all(len(labels) <= 2 for labels in capped)
    in_batch_only = sample_label_sets(EXAMPLES, LabelSampling(max_neg_type_ratio=5, corpus_negatives=False), random.Random(0))
    batch_types = {label for e in EXAMPLES for _, _, label in e["ner"]}
    assert all(set(labels) <= batch_types for labels in in_batch_only)
    assert in_batch_only[2] == []  # no entities: ratio x 0 in-batch negatives
    no_negatives = sample_label_sets(EXAMPLES, LabelSampling(max_neg_type_ratio=0, corpus_negatives=False, shuffle=False), random.Random(0))
    assert no_negatives[1] == ["gene", "disease", "species", "sequence variant"]


def test_cut_example_never_splits_an_entity():
    example = {"id": "x", "tokenized_text": [f"w{i}" for i in range(10)], "ner": [[2, 4, "a"], [5, 5, "b"], [8, 9, "c"]]}
    pieces = cut_example(example, 4)
    assert [len(p["tokenized_text"]) for p in pieces] == [2, 4, 4]  # the first cut moves back before "w2 w3 w4"
    rebuilt = []
    offset = 0
    for piece in pieces:
        rebuilt += [[s + offset, e + offset, label] for s, e, label in piece["ner"]]
        offset += len(piece["tokenized_text"])
    assert rebuilt == example["ner"]
    with pytest.raises(ValueError, match="longer than max_words"):
        cut_example({"id": "y", "tokenized_text": ["a"] * 6, "ner": [[0, 5, "a"]]}, 4)


def test_source_spec_parsing_and_errors():
    assert SourceSpec.parse("bc5cdr") == SourceSpec("bc5cdr", "train", 1.0, None)
    assert SourceSpec.parse("craft:validation@0.5#200") == SourceSpec("craft", "validation", 0.5, 200)
    for bad in ("bc5cdr@x", "bc5cdr@0", "@2", "bc5cdr#0"):
        with pytest.raises(ValueError, match="bad data source"):
            SourceSpec.parse(bad)


def test_batch_schedule_replays_from_any_batch():
    sources = [(SourceSpec("a", weight=3), [{"id": f"a{i}"} for i in range(7)]), (SourceSpec("b"), [{"id": f"b{i}"} for i in range(5)])]
    schedule = BatchSchedule(sources, batch_size=3, seed=1)
    stream = schedule.batches()
    full = [[e["id"] for e in next(stream)[1]] for _ in range(12)]
    resumed = schedule.batches(start=5)
    assert [[e["id"] for e in next(resumed)[1]] for _ in range(7)] == full[5:]
    drawn = [i for batch in full for i in batch]
    assert {i[0] for i in drawn} == {"a", "b"}
    # each source is read as shuffled epochs: the first 7 draws from "a" are a permutation of it
    assert sorted([i for i in drawn if i[0] == "a"][:7]) == sorted(f"a{i}" for i in range(7))


def test_few_shot_sample_covers_every_type():
    examples = [{"ner": [[0, 0, t]]} for t in ["x"] * 10 + ["y"] * 3] + [{"ner": []}] * 5
    chosen = few_shot_sample(examples, 2, seed=0)
    counts = {t: sum(any(l == t for _, _, l in e["ner"]) for e in chosen) for t in "xy"}
    assert counts == {"x": 2, "y": 2}
    assert few_shot_sample(examples, 0, seed=0) == []
    assert few_shot_sample(examples, 2, seed=0) == chosen


def test_span_loss_mask_removes_exactly_the_masked_cells_from_the_loss(tmp_path):
    """A contrast type's column counts only where the mask is true (its example's gold mentions)."""
    from gliner_biomed.trainers.collator import SpanCollator
    from gliner_biomed.trainers.model_setup import ModelSpec, build_model
    from model_factory import build_tiny_deberta

    torch.manual_seed(0)
    model = build_model(ModelSpec(encoder=str(build_tiny_deberta(tmp_path / "enc")), hidden_size=32, max_width=4)).eval()
    examples = [{"tokenized_text": "Tamoxifen and BRCA1 were studied .".split(), "ner": [[0, 0, "chemical"]],
                 "contrast_labels": ["gene"]}]
    batch = SpanCollator(model, LabelSampling())(examples, random.Random(0), label_sets=[["chemical", "gene"]])
    mask = batch.pop("span_loss_mask")
    assert mask[0, :, :, 0].all() and mask[0, :, :, 1].sum() == 1 and mask[0, 0, 0, 1]
    with torch.no_grad():
        full = model(**batch).loss
        masked = model(**batch, span_loss_mask=mask).loss
        cells = torch.nn.functional.binary_cross_entropy_with_logits(model(**batch).logits, batch["span_labels"], reduction="none")
    spans = model(**batch).span_mask[0]
    dropped = (cells[0, :, :, 1] * spans * (~mask[0, :, :, 1])).sum()
    assert masked < full and torch.isclose(full - masked, dropped, rtol=1e-4)
