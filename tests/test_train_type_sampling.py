"""Training that learns meanings: prompts phrased from the type vocabulary on real examples of
several corpora, never a conflicting negative, mixed-corpus batches, determinism and resume."""

from __future__ import annotations

import dataclasses
import random
from collections import Counter, defaultdict

import pytest
import torch

from train_helpers import run_cli, tiny_encoder, tiny_train_config  # noqa: F401  (fixture)

CORPORA = ["tmvar3", "ncbi-disease", "bionlp13pc", "bionlp13cg", "gnormplus", "bionlp11id"]
pytestmark = pytest.mark.corpus(*CORPORA)


@pytest.fixture(scope="module")
def sources():
    from gliner_biomed.trainers.data import load_sources

    return load_sources([f"{corpus}:train#150" for corpus in CORPORA], "sentence", 128, seed=3, source_types=True)


@pytest.fixture(scope="module")
def vocabulary():
    from gliner_biomed.dataset_builders import load_type_vocabulary

    return load_type_vocabulary()


def sampler(**options):
    from gliner_biomed.trainers.type_sampling import TypeSampling, VocabularyPromptSampler

    return VocabularyPromptSampler(TypeSampling(**options))


def test_sources_carry_the_corpora_own_type_names(sources):
    from gliner_biomed.dataset_builders import load_label_map

    for spec, examples in sources:
        kept = {t for t, label in load_label_map(spec.corpus).items() if label is not None}
        seen = {label for example in examples for _, _, label in example["ner"]}
        assert seen and seen <= kept, spec.corpus
        assert all(example["corpus"] == spec.corpus for example in examples)


def test_no_prompt_ever_holds_a_conflicting_negative(sources, vocabulary):
    """Property over many seeded draws: every asked label is a training phrasing allowed by the
    corpus's policy; it labels exactly the gold mentions whose type it covers; where it labels
    none of a gold type's mentions it is not in that type's conflict table (unless the corpus
    itself tells the two apart: both are its own, meaning-classed types)."""
    draw = sampler(drop_type_prob=0.3, vocabulary_negatives=6)
    checked = Counter()
    for seed in range(40):
        rng = random.Random(seed)
        batch = [random.Random(seed * 7 + i).choice(examples) for i, (_, examples) in enumerate(sources)]
        rewritten, label_sets = draw(batch, rng)
        for original, example, labels in zip(batch, rewritten, label_sets):
            corpus = original["corpus"]
            policy = vocabulary.policy(corpus)
            own = {vocabulary.group_of_source(corpus, t) for t in _source_types(corpus)}
            askable = set(policy.exhaustive)
            golds = {label for _, _, label in original["ner"]}
            assert len(labels) == len(set(labels))
            for label in labels:
                group = vocabulary.group_of(label)
                assert vocabulary.contains_phrase(label), label  # never a held-out phrasing
                assert group in askable or askable & vocabulary.ancestors(group), (corpus, label)
                for gold in golds:
                    gold_group = vocabulary.group_of_source(corpus, gold)
                    covers = group == gold_group or group in vocabulary.ancestors(f"{corpus}:{gold}")
                    marked = {(s, e) for s, e, l in example["ner"] if l == label}
                    spans = {(s, e) for s, e, l in original["ner"] if l == gold}
                    if covers:
                        assert spans <= marked, (corpus, gold, label)
                        checked["positive"] += 1
                    else:
                        assert not spans & marked, (corpus, gold, label)
                        settled = group in own and gold_group in own and gold not in policy.role_types
                        assert not related(vocabulary, group, gold_group) or settled, (corpus, gold, label)
                        checked["negative"] += 1
            # nothing invented: every rewritten mention is a gold mention under a covering label
            for s, e, label in example["ner"]:
                assert any(s == gs and e == ge and vocabulary.compatible(label, f"{corpus}:{g}") for gs, ge, g in original["ner"])
    assert checked["positive"] > 100 and checked["negative"] > 300, checked


def related(vocabulary, group, gold_group):
    """The conflict table, from the file's own relations (independent of the sampler's judgement):
    same group, ancestor, descendant or declared overlap."""
    declared = {(g.name, o) for g in vocabulary.groups.values() for o in g.overlaps}
    return (group == gold_group or group in vocabulary.ancestors(gold_group) or gold_group in vocabulary.ancestors(group)
            or (group, gold_group) in declared or (gold_group, group) in declared)


def _source_types(corpus):
    from gliner_biomed.dataset_builders import load_label_map

    return list(load_label_map(corpus))


def test_ncbi_disease_never_takes_a_type_it_leaves_unannotated(sources):
    draw = sampler(vocabulary_negatives=10)
    [(_, examples)] = [(spec, examples) for spec, examples in sources if spec.corpus == "ncbi-disease"]
    asked = set()
    for seed, example in enumerate(examples):
        asked.update(draw([example], random.Random(seed))[1][0])
    from gliner_biomed.dataset_builders import load_type_vocabulary

    vocabulary = load_type_vocabulary()
    groups = {vocabulary.group_of(label) for label in asked}
    assert groups <= {"disease", "specific disease", "disease class", "cancer"}, groups
    assert {"disease", "specific disease", "disease class"} <= groups


def test_surface_forms_vary_and_fine_types_meet_coarse_names(sources, vocabulary):
    draw = sampler(drop_type_prob=0.0, vocabulary_negatives=0)
    phrasings = defaultdict(Counter)
    for spec, examples in sources:
        for seed, example in enumerate(examples[:120]):
            rewritten, _ = draw([example], random.Random(seed))
            for (_, _, gold), (_, _, label) in zip(example["ner"], rewritten[0]["ner"]):
                phrasings[f"{spec.corpus}:{gold}"][label] += 1
    assert len(phrasings["bionlp13pc:Simple_chemical"]) >= 4, phrasings["bionlp13pc:Simple_chemical"]
    groups = {vocabulary.group_of(label) for label in phrasings["tmvar3:ProteinMutation"]}
    assert groups == {"protein mutation", "sequence variant"}, groups  # fine and coarse names both used
    assert not any(vocabulary.group_of(label) == "protein" for label in phrasings["bionlp13pc:Gene_or_gene_product"])

    canonical = sampler(surface_form_sampling="canonical", drop_type_prob=0.0, vocabulary_negatives=0)
    rewritten, labels = canonical([sources[0][1][0]], random.Random(0))
    from gliner_biomed.dataset_builders import load_label_map

    assert set(labels[0]) == {load_label_map("tmvar3")[g] for _, _, g in sources[0][1][0]["ner"]}


def test_dropped_types_stay_unlabelled_and_prompts_are_capped(sources):
    [(_, examples)] = [(spec, examples) for spec, examples in sources if spec.corpus == "bionlp13cg"]
    rich = max(examples, key=lambda e: len({l for _, _, l in e["ner"]}))
    rewritten, labels = sampler(drop_type_prob=0.9, vocabulary_negatives=0)([rich], random.Random(1))
    assert 1 <= len(labels[0]) < len({l for _, _, l in rich["ner"]})
    _, capped = sampler(max_types=3, vocabulary_negatives=20)([rich], random.Random(2))
    assert len(capped[0]) == 3


def test_mixed_batches_hold_several_corpora_and_replay_exactly(sources):
    from gliner_biomed.trainers.data import BatchSchedule

    mixed = BatchSchedule(sources, batch_size=8, seed=11, mixed=True)
    drawn = [(n, b) for n, b in (next(it) for it in [mixed.batches()] for _ in range(12))]
    corpora_per_batch = [len({e["corpus"] for e in b}) for _, b in drawn]
    assert min(corpora_per_batch) >= 2 and max(corpora_per_batch) >= 4, corpora_per_batch
    first = [(n, [e["id"] for e in b]) for n, b in drawn]
    replay = BatchSchedule(sources, batch_size=8, seed=11, mixed=True).batches(start=7)
    assert [(n, [e["id"] for e in b]) for n, b in (next(replay) for _ in range(5))] == first[7:]
    single = BatchSchedule(sources, batch_size=8, seed=11)
    assert all(len({e["corpus"] for e in b}) == 1 for _, b in (next(it) for it in [single.batches()] for _ in range(12)))


def test_prompts_are_a_function_of_the_seed(sources):
    batch = [examples[0] for _, examples in sources]
    draw = sampler()
    assert draw(batch, random.Random("5/labels/3/0")) == draw(batch, random.Random("5/labels/3/0"))
    assert len({tuple(map(tuple, draw(batch, random.Random(seed))[1])) for seed in range(8)}) > 1


def test_bi_encoder_scores_a_type_only_where_the_example_may_be_asked_it(sources, tiny_encoder):
    """A bi-encoder batch shares one label set; across mixed corpora, label_mask keeps each
    example to the types its own policy allows (a BC2GM-style gene type is not scored on NCBI-disease)."""
    from gliner_biomed.trainers.collator import LabelSampling, SpanCollator
    from gliner_biomed.trainers.model_setup import ModelSpec, build_model

    model = build_model(ModelSpec(encoder=str(tiny_encoder), labels_encoder=str(tiny_encoder), hidden_size=32, max_width=6))
    draw = sampler(vocabulary_negatives=6)
    collator = SpanCollator(model, LabelSampling(), type_sampler=draw)
    batch = [examples[1] for _, examples in sources]
    inputs = collator(batch, random.Random(4))
    _, own_prompts = draw(batch, random.Random(4))
    shared = list(dict.fromkeys(label for labels in own_prompts for label in labels))
    assert inputs["label_mask"].shape == (len(batch), len(shared))
    mask = inputs["label_mask"].tolist()
    assert not all(all(row) for row in mask)  # mixed corpora: some type is not askable somewhere
    assert inputs["span_labels"].sum() > 0
    output = model(**inputs)
    assert torch.isfinite(output.loss)


def test_recipes_load_and_the_open_types_recipe_covers_its_corpora():
    from pathlib import Path

    from gliner_biomed.trainers.config import load_config
    from gliner_biomed.trainers.data import SourceSpec
    from gliner_biomed.trainers.type_sampling import VocabularyPromptSampler

    configs = Path(__file__).resolve().parents[1] / "configs"
    assert load_config(configs / "train_default.yaml", {"encoder": "enc"}).type_sampling() is None  # old behaviour kept
    for recipe in ("train_open_types.yaml", "train_open_types_bi.yaml", "train_open_types_propagated.yaml"):
        config = load_config(configs / recipe, {})
        assert config.init_model == "configs/init/corpus-types" and config.continue_adapter and config.lora, recipe
        assert (configs.parent / config.init_model / "gliner_biomed_adapter.json").is_file(), recipe  # the stage-1 package is in the repo
        assert config.mixed_corpus_batches and (config.embed_ent_token or config.labels_encoder), recipe
        draw = VocabularyPromptSampler(config.type_sampling())
        corpora = [SourceSpec.parse(text).corpus for text in config.data]
        assert all(draw.knows(corpus) for corpus in corpora if corpus != "synthetic"), recipe
        draw.check_corpora(corpora)
        assert "synthetic" in corpora and config.synthetic_source, recipe  # the mined open-type corpus
        assert config.synthetic_negatives is False, recipe  # mined = partial: none of its types is a negative
        assert not {"ncbi-disease", "biored", "chia"} & set(corpora)  # zero-shot and unseen-type corpora stay out
    # the propagation recipe is the shipped one plus its documented differences
    shipped, propagated = (dataclasses.asdict(load_config(configs / name, {})) for name in ("train_open_types.yaml", "train_open_types_propagated.yaml"))
    assert {key: propagated[key] for key in shipped if shipped[key] != propagated[key]} == {
        "synthetic_source": "runs/patterns-v2/propagated.jsonl", "near_contrast": True, "open_contrast_types": 4,
        "output_dir": "runs/train_open_types_propagated"}
    assert "synth propagate --mined runs/patterns-v2/grounded.jsonl" in (configs / "train_open_types_propagated.yaml").read_text()


def test_bad_type_options_are_errors(tiny_encoder, tmp_path):
    with pytest.raises(ValueError, match="surface_form_sampling must be one of canonical, synonyms, hierarchy"):
        tiny_train_config(tiny_encoder, tmp_path, type_vocabulary="default", surface_form_sampling="random")
    with pytest.raises(ValueError, match=r"drop_type_prob must be in \[0, 1\)"):
        tiny_train_config(tiny_encoder, tmp_path, type_vocabulary="default", drop_type_prob=1.0)
    with pytest.raises(ValueError, match="mixed_corpus_batches needs type_vocabulary"):
        tiny_train_config(tiny_encoder, tmp_path, mixed_corpus_batches=True)
    completed = run_cli(["train", "--encoder", tiny_encoder, "--data", "tmvar3:train#5", "--type-vocabulary",
                         tmp_path / "missing.yaml", "--output-dir", tmp_path / "run"])
    assert completed.returncode == 2 and "missing.yaml does not exist" in completed.stderr, completed.stderr[-2000:]


def test_tiny_training_over_mixed_real_examples(tiny_encoder, tmp_path):
    """A few steps of the open-types recipe on a tiny model: mixed batches, vocabulary prompts,
    whole-phrase types; the loss is finite and falls on a fixed batch."""
    from gliner_biomed.trainers.loop import Trainer

    config = tiny_train_config(tiny_encoder, tmp_path / "run", data=["tmvar3:train#24", "bionlp13pc:train#24", "ncbi-disease:train#24"],
                               type_vocabulary="default", mixed_corpus_batches=True, embed_ent_token=True, max_steps=12,
                               batch_size=4, lr_encoder=2e-3, lr_heads=2e-3, warmup_ratio=0.0, save_every=12)
    trainer = Trainer(config)
    examples = [e for _, source in trainer.schedule.sources for e in source[:3]]
    model = trainer.unwrapped()

    def fixed_loss():
        model.eval()
        with torch.no_grad():
            loss = float(model(**trainer.collator(examples, random.Random(0))).loss)
        model.train()
        return loss

    before = fixed_loss()
    seen = set()
    for number, batch in (next(it) for it in [trainer.schedule.batches()] for _ in range(12)):
        seen.update(e["corpus"] for e in batch)
    assert seen == {"tmvar3", "bionlp13pc", "ncbi-disease"}
    result = trainer.train()
    after = fixed_loss()
    assert result["step"] == 12 and after == after and after < before, (before, after)
    assert (tmp_path / "run" / "final" / "model.safetensors").is_file()


@pytest.mark.slow
def test_resume_with_vocabulary_and_mixed_batches_equals_uninterrupted_run(tiny_encoder, tmp_path):
    from safetensors.torch import load_file

    args = ["train", "--encoder", tiny_encoder, "--data", "tmvar3:train#30", "ncbi-disease:train@2#30", "bionlp13pc:train#30",
            "--type-vocabulary", "default", "--mixed-corpus-batches", "--embed-ent-token", "true", "--max-steps", 5,
            "--batch-size", 3, "--hidden-size", 32, "--max-width", 6, "--save-every", 2, "--log-every", 1,
            "--threads", 1, "--seed", 5]
    whole, broken = tmp_path / "whole", tmp_path / "broken"
    assert run_cli(args + ["--output-dir", whole]).returncode == 0
    killed = run_cli(args + ["--output-dir", broken], env_extra={"GLINER_BIOMED_TRAIN_KILL_AT_STEP": "3"})
    assert killed.returncode != 0 and not (broken / "final").exists()
    resumed = run_cli(args + ["--output-dir", broken, "--resume"])
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    expected, got = (load_file(str(folder / "final" / "model.safetensors")) for folder in (whole, broken))
    assert all(torch.equal(expected[name], got[name]) for name in expected)


def test_contrast_types_are_disjoint_unannotated_and_judged_only_on_gold_mentions(sources, vocabulary):
    """Contrast types: never a type the example's gold mentions could have (no conflict-table
    phrase), never a type its corpus annotates (those are ordinary negatives); the loss mask keeps
    their column only on the example's gold mentions, where the target is 0."""
    from gliner_biomed.trainers.collator import known_target_mask, span_label_tensor

    chemical_groups = vocabulary.contrast_groups("bionlp13pc", ["Simple_chemical"])
    assert "gene or gene product" not in chemical_groups  # BioNLP13PC annotates gene products: askable
    disease_groups = vocabulary.contrast_groups("ncbi-disease", ["SpecificDisease"])
    assert {"chemical", "gene or gene product", "cell line"} <= set(disease_groups)
    assert not {"disease", "drug", "adverse event"} & set(disease_groups)  # own, held-out only, descendant
    draw = sampler(drop_type_prob=0.0, vocabulary_negatives=2, contrast_types=4)
    seen = 0
    for seed in range(30):
        batch = [random.Random(seed * 5 + i).choice(examples) for i, (_, examples) in enumerate(sources)]
        rewritten, label_sets = draw(batch, random.Random(seed))
        targets = span_label_tensor(rewritten, label_sets, 12)
        mask = known_target_mask(rewritten, label_sets, targets)
        for row, (original, example, labels) in enumerate(zip(batch, rewritten, label_sets)):
            golds = {label for _, _, label in original["ner"]}
            allowed = set(vocabulary.contrast_groups(original["corpus"], golds))
            for phrase in example["contrast_labels"]:
                seen += 1
                assert vocabulary.group_of(phrase) in allowed, (original["corpus"], phrase)
                assert all(phrase not in vocabulary.conflicts(vocabulary.group_of_source(original["corpus"], g)) for g in golds)
                column = labels.index(phrase)
                assert mask[row, ..., column].sum() == len({(s, e) for s, e, _ in original["ner"] if e - s < 12})
                assert targets[row, ..., column].sum() == 0 and not any(label == phrase for *_, label in example["ner"])
            for column, label in enumerate(labels):
                if label not in example["contrast_labels"]:
                    assert mask[row, ..., column].all()
    assert seen > 50


def test_paired_examples_judge_each_label_by_each_part_own_annotation(sources, vocabulary):
    """A joined pair is one text (first part's words, then the second's) asked the union of both
    prompts. On each part a label is: judged everywhere where that part's corpus may ask it (its
    gold mentions of covered types are positives, every other span a negative); judged only on the
    part's gold mentions (all negative) where it is disjoint from all of them; unknown otherwise."""
    from gliner_biomed.trainers.collator import known_target_mask, span_label_tensor

    by_corpus = {spec.corpus: examples for spec, examples in sources}
    draw = sampler(drop_type_prob=0.0, vocabulary_negatives=3, contrast_types=2, pair_examples=1.0)
    checked = Counter()
    for seed in range(30):
        rng = random.Random(seed)
        disease = rng.choice([e for e in by_corpus["ncbi-disease"] if e["ner"]])
        gene = rng.choice([e for e in by_corpus["gnormplus"] if e["ner"]])
        rewritten, label_sets = draw([disease, gene], random.Random(seed))
        assert len(rewritten) == 1, "two examples of different corpora, pair_examples=1: one joined example"
        joined, labels = rewritten[0], label_sets[0]
        assert joined["tokenized_text"] == disease["tokenized_text"] + gene["tokenized_text"]
        targets = span_label_tensor(rewritten, label_sets, 12)
        mask = known_target_mask(rewritten, label_sets, targets)
        offset = len(disease["tokenized_text"])
        parts = [(disease, 0), (gene, offset)]
        for column, phrase in enumerate(labels):
            group = vocabulary.group_of(phrase)
            for part, start in parts:
                end = start + len(part["tokenized_text"])
                golds = {label for _, _, label in part["ner"]}
                judged = vocabulary.label_judgements(part["corpus"], golds)
                region_mask = mask[0, start:end, :, column]
                if group in judged:
                    assert region_mask.all(), (part["corpus"], phrase)
                    expected = {(s + start, e + start) for s, e, g in part["ner"] if g in judged[group] and e - s < 12}
                    got = {(int(s), int(s + w)) for s, w in torch.nonzero(targets[0, start:end, :, column]).tolist() for s in [s + start]}
                    assert got == expected, (part["corpus"], phrase)
                    checked["judged"] += 1
                else:
                    golden = {(s + start, e + start) for s, e, _ in part["ner"] if e - s < 12}
                    known = {(s + start, s + start + w) for s, w in torch.nonzero(region_mask).tolist()}
                    disjoint = group in vocabulary.contrast_groups(part["corpus"], golds)
                    assert known == (golden if disjoint else set()), (part["corpus"], phrase)
                    assert targets[0, start:end, :, column].sum() == 0
                    checked["disjoint" if disjoint else "unknown"] += 1
    # Gene types asked over disease text (and disease types over gene text) are judged on gold mentions only.
    assert checked["judged"] > 30 and checked["disjoint"] > 30, checked


def test_pairing_keeps_same_corpus_and_long_examples_apart(sources):
    by_corpus = {spec.corpus: examples for spec, examples in sources}
    first, second = by_corpus["tmvar3"][:2]
    rewritten, _ = sampler(pair_examples=1.0)([first, second], random.Random(0))
    assert len(rewritten) == 2 and not any(example.get("loss_regions") for example in rewritten)
    long_one = dict(by_corpus["gnormplus"][0], tokenized_text=["word"] * 120, ner=[[0, 0, "Gene"]])
    rewritten, _ = sampler(pair_examples=1.0)([first, long_one], random.Random(0))
    assert len(rewritten) == 2, "a pair of more than pair_max_words (128) words is not made"


def _mined(words, mentions):
    """A mined (``synthetic``) example: words and [start, end, type] as `synth ground` leaves them."""
    return {"id": " ".join(words[:3]), "corpus": "synthetic", "corpus_types": [], "tokenized_text": words,
            "ner": [list(mention) for mention in mentions]}


MINED = [
    # "cytokines such as IL-6 and TNF-alpha"; "VEGF, a growth factor" (a type the vocabulary does not know)
    _mined("Cytokines such as IL-6 and TNF-alpha , and VEGF , a growth factor , activate STAT3 .".split(),
           [[3, 3, "cytokine"], [5, 5, "cytokine"], [8, 8, "growth factor"]]),
    _mined("The transcription factor HNF4alpha binds the promoter in HeLa cells .".split(), [[3, 3, "transcription factor"]]),
    # a mined type resolved by its head words: "human leukemic cell line" is a cell line
    _mined("Cell lines such as HL-60 and K562 were treated .".split(), [[4, 4, "cell line"], [6, 6, "human leukemic cell line"]]),
]


def test_open_contrast_judges_mined_mentions_by_the_vocabulary_and_near_misses_first(vocabulary):
    """A mined example takes contrast types disjoint from every type of its mentions that the
    vocabulary resolves; such a column is known only on those mentions (all negative), unknown on
    the rest of the text and on mentions of unresolved types (VEGF's 'growth factor' might be a
    cytokine). With near_contrast, siblings come first: a cytokine is contrasted with a
    transcription factor, a cell line with a cell type. A held-out phrasing is used only when the
    open corpus itself shows it (add_open_types)."""
    from gliner_biomed.trainers.collator import known_target_mask, span_label_tensor

    draw = sampler(open_contrast_types=2, near_contrast=True)
    first = Counter()
    for seed in range(40):
        rewritten, label_sets = draw(MINED, random.Random(seed))
        targets = span_label_tensor(rewritten, label_sets, 12)
        mask = known_target_mask(rewritten, label_sets, targets)
        for row, (original, example, labels) in enumerate(zip(MINED, rewritten, label_sets)):
            resolved = {(s, e) for s, e, label in original["ner"] if vocabulary.group_of_head(label)}
            groups = {vocabulary.group_of_head(label) for *_, label in original["ner"]} - {None}
            contrast = [region[0] for region in example["loss_regions"]]
            assert example["ner"] == original["ner"] and len(contrast) <= 2
            for column, phrase in enumerate(labels):
                if phrase not in contrast:
                    assert mask is None or mask[row, ..., column].all(), phrase  # own types: judged everywhere
                    continue
                assert vocabulary.group_of_head(phrase) in vocabulary.excluding_groups(groups)
                assert {(s, s + w) for s, w in torch.nonzero(mask[row, ..., column]).tolist()} == resolved
                assert targets[row, ..., column].sum() == 0
                first[(original["ner"][0][2], vocabulary.group_of_head(phrase))] += 1
            assert not any(phrase in vocabulary.held_out_phrases() for phrase in contrast)  # nothing registered yet
    assert first[("cell line", "cell type")] >= 15  # the sibling, in most draws of 1-2 contrast types
    assert first[("cytokine", "transcription factor")] == 0  # held out, and no open corpus showed it
    draw.add_open_types(["transcription factor", "cytokine", "growth factor"])
    near = Counter(region[0] for seed in range(40) for example in draw(MINED, random.Random(seed))[0] for region in example["loss_regions"]
                   if example["id"].startswith("Cytokines"))
    assert near["transcription factor"] >= 10 and "cytokine" not in near, near
    uniform = sampler(open_contrast_types=2)
    uniform.add_open_types(["transcription factor", "cytokine"])
    spread = Counter(region[0] for seed in range(40) for example in uniform(MINED, random.Random(seed))[0] for region in example["loss_regions"])
    assert len(spread) > len(near), "uniform draws range over the whole vocabulary"


def test_open_phrase_choice_by_frequency_prefers_the_plain_phrasing():
    """A cytokine's contrast `transcription factor` group has only open phrasings (held out of
    the vocabulary's training phrasings); by frequency, the one the open corpus uses most wins."""
    shown = ["transcription factor"] * 40 + ["mitogen inducible transcription factor", "box transcription factor"]
    picks = {}
    for choice in ("uniform", "frequency"):
        draw = sampler(open_contrast_types=1, near_contrast=True, open_phrase_choice=choice)
        draw.add_open_types(shown + ["cytokine"])
        picks[choice] = Counter(region[0] for seed in range(60) for example in draw(MINED[:1], random.Random(seed))[0]
                                for region in example["loss_regions"])
    assert picks["frequency"]["transcription factor"] >= 10 * max(1, picks["frequency"]["box transcription factor"])
    assert picks["uniform"]["box transcription factor"] + picks["uniform"]["mitogen inducible transcription factor"] \
        > picks["uniform"]["transcription factor"]  # two of the three phrasings
    with pytest.raises(ValueError, match="open_phrase_choice must be one of uniform, frequency"):
        sampler(open_phrase_choice="popular")


def test_open_overlaps_unknown_keeps_only_disjoint_mentions_as_negatives(vocabulary):
    """A mined sentence asks its own types, each judged on every span. With open_overlaps_unknown,
    another mention is a negative of an own type only when the vocabulary says the two are
    disjoint: STAT3 (a transcription factor) is unknown for `protein`, p53 (a protein) for
    `transcription factor`, VEGF (a type the vocabulary does not know) for both; HeLa (a cell
    line) stays a negative of both, and STAT3 and p53 of `cell line`."""
    from gliner_biomed.trainers.collator import known_target_mask, span_label_tensor

    example = _mined("The transcription factor STAT3 , the protein p53 , VEGF , a growth factor , and HeLa , a cell line .".split(),
                     [[3, 3, "transcription factor"], [7, 7, "protein"], [9, 9, "growth factor"], [15, 15, "cell line"]])
    for unknown in (False, True):
        rewritten, label_sets = sampler(open_overlaps_unknown=unknown)([example], random.Random(0))
        labels = label_sets[0]
        targets = span_label_tensor(rewritten, label_sets, 12)
        mask = known_target_mask(rewritten, label_sets, targets)
        if not unknown:
            assert mask is None and rewritten[0]["unknown_spans"] == []
            continue
        column = {label: labels.index(label) for label in labels}
        known = lambda word, label: bool(mask[0, word, 0, column[label]])  # noqa: E731 (one-word spans)
        assert sorted(labels) == ["cell line", "growth factor", "protein", "transcription factor"]
        assert not known(3, "protein") and not known(7, "transcription factor")
        assert not known(9, "protein") and not known(9, "transcription factor") and not known(3, "growth factor")
        assert known(15, "protein") and known(15, "transcription factor") and known(3, "cell line") and known(7, "cell line")
        assert known(1, "protein") and known(3, "transcription factor") and targets[0, 3, 0, column["transcription factor"]] == 1
        assert int((~mask).sum()) == len(rewritten[0]["unknown_spans"]) == 2 + 2 + 3 + 1  # growth factor: the other three; cell line: VEGF


def test_open_head_phrasing_asks_a_mined_type_by_its_head_when_training_shows_it(vocabulary):
    """With open_head_phrasing, a mined type longer than its head is asked by the head instead
    ("human leukemic cell line" -> "cell line", merged with the sentence's own "cell line";
    "gram negative bacterium" -> "bacterium" once the open corpus shows "bacterium"), every mention
    kept as a positive; a head that training never shows ("drug": held out for the unseen-type
    suite, absent from the open corpus) is never asked; off by default."""
    example = _mined("Cell lines such as HL-60 and K562 , and Escherichia coli , a gram negative bacterium , and imatinib , an anticancer drug .".split(),
                     [[4, 4, "cell line"], [6, 6, "human leukemic cell line"], [9, 10, "gram negative bacterium"], [18, 18, "anticancer drug"]])
    assert sampler()([example], random.Random(0))[0][0]["ner"] == example["ner"]
    draw = sampler(open_head_phrasing=1.0)
    rewritten, label_sets = draw([example], random.Random(0))
    assert rewritten[0]["ner"] == [[4, 4, "cell line"], [6, 6, "cell line"], [9, 10, "gram negative bacterium"], [18, 18, "anticancer drug"]]
    assert sorted(label_sets[0]) == ["anticancer drug", "cell line", "gram negative bacterium"]
    draw.add_open_types(["bacterium", "gram negative bacterium"])
    rewritten, label_sets = draw([example], random.Random(0))
    assert [label for *_, label in rewritten[0]["ner"]] == ["cell line", "cell line", "bacterium", "anticancer drug"]
    assert "drug" not in label_sets[0] and not vocabulary.contains_phrase("drug")
    halves = Counter(tuple(label for *_, label in draw([example], random.Random(seed))[0][0]["ner"])[1:3]
                     for seed in range(60) for draw in [sampler(open_head_phrasing=0.5)])
    assert set(halves) == {("cell line", "gram negative bacterium"), ("human leukemic cell line", "gram negative bacterium")}
    assert min(halves.values()) >= 15
    with pytest.raises(ValueError, match=r"open_head_phrasing must be in \[0, 1\]"):
        sampler(open_head_phrasing=1.5)


def test_near_contrast_takes_the_sibling_type_first_for_corpus_examples(vocabulary):
    draw = sampler(contrast_types=4, near_contrast=True)
    for corpus, source_type, sibling in [("tmvar3", "CellLine", "cell type"), ("craft", "CL", "cell line")]:
        candidates = vocabulary.contrast_groups(corpus, [source_type])
        assert sibling in candidates
        for seed in range(5):
            assert draw._pick_contrast(candidates, [vocabulary.group_of_source(corpus, source_type)], 1, random.Random(seed)) == [sibling]


def test_open_contrast_needs_the_vocabulary(tiny_encoder, tmp_path):
    with pytest.raises(ValueError, match="open_contrast_types needs type_vocabulary"):
        tiny_train_config(tiny_encoder, tmp_path, open_contrast_types=2)
    with pytest.raises(ValueError, match="open_overlaps_unknown needs type_vocabulary"):
        tiny_train_config(tiny_encoder, tmp_path, open_overlaps_unknown=True)
    with pytest.raises(ValueError, match="open_head_phrasing needs type_vocabulary"):
        tiny_train_config(tiny_encoder, tmp_path, open_head_phrasing=0.5)
    with pytest.raises(ValueError, match="open_contrast_types must be >= 0"):
        sampler(open_contrast_types=-1)
    with pytest.raises(KeyError, match="growth factor"):
        load_vocabulary().excluding_groups(["cytokine", "growth factor"])


def load_vocabulary():
    from gliner_biomed.dataset_builders import load_type_vocabulary

    return load_type_vocabulary()
