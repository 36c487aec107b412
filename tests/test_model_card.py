"""The model card rendered from a real evaluation (results.json written by `gliner-biomed
evaluate` on real corpora) and a real few-shot curve: every number comes from those files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from model_factory import build_converted_model

from gliner_biomed.cli import main
from gliner_biomed.evaluation.report import percent
from gliner_biomed.publishing.model_card import CardError, ModelCardOptions, render_model_card


@pytest.fixture(scope="session")
def card_model(tmp_path_factory) -> Path:
    return build_converted_model(tmp_path_factory.getbasetemp() / "publishing_minilm_uni", "uni", "minilm")


@pytest.fixture(scope="module")
def results_file(card_model, tmp_path_factory, corpora_dir) -> Path:
    out = tmp_path_factory.mktemp("evaluation")
    assert main(["evaluate", "--model", str(card_model), "--suite", "smoke", "--max-documents", "2", "--out", str(out)]) == 0
    return out / "results.json"


@pytest.fixture(scope="module")
def curve_dir(card_model, tmp_path_factory) -> Path:
    from gliner_biomed.trainers.adapt import CurveConfig, few_shot_curve

    out = tmp_path_factory.mktemp("curve")
    few_shot_curve(CurveConfig(model=str(card_model), corpora=["ncbi-disease"], shots=[0, 1], seeds=[0], steps=1,
                               batch_size=2, eval_max_documents=2, out=str(out), threads=1))
    return out


@pytest.mark.corpus("ncbi-disease", "biored")
def test_card_from_real_results(card_model, results_file, curve_dir, tmp_path):
    results = json.loads(results_file.read_text())
    curve = json.loads((curve_dir / "few_shot_curve.json").read_text())
    rendered = render_model_card(card_model, ModelCardOptions(repo_id="org/gliner-biomed-test", results=[str(results_file)],
                                                              few_shot_curve=str(curve_dir)))
    text = rendered.card.content
    rendered.card.save(tmp_path / "README.md")
    print(text)  # for review: pytest -s
    # Metadata parses and says what the model is.
    assert rendered.card.data.license == "apache-2.0" and rendered.card.data.library_name == "transformers"
    assert "custom_code" in rendered.card.data.tags and "uni-encoder" in rendered.card.data.tags
    # Every evaluation row is in the table, with the numbers of results.json.
    for row in results["datasets"]:
        scores = row["scores"]
        cells = f"| {row['name']} | {row['split']} | {row['num_documents']} of {row['num_documents_total']} | " \
                f"{percent(scores['micro_precision'])} | {percent(scores['micro_recall'])} | {percent(scores['micro_f1'])} |"
        assert cells in text
    assert f"| {percent(results['average']['micro_f1'])} |" in text
    assert f"### Suite `{results['suite']['name']}`" in text
    # Architecture facts come from the folder.
    assert "`GLiNERUniEncoderModel`" in text and "sentence-transformers/all-MiniLM-L6-v2" in text and "6 layers" in text
    from safetensors.torch import load_file

    parameters = sum(t.numel() for t in load_file(str(card_model / "model.safetensors")).values())
    assert f"({parameters:,})" in text
    # The few-shot curve: image shipped beside the card, points in the table.
    assert rendered.extra_files == {"few_shot_curve.png": curve_dir / "few_shot_curve.png"}
    assert "![Few-shot curve](few_shot_curve.png)" in text
    point = curve["curves"]["ncbi-disease"][1]
    assert f"{100 * point['mean_f1']:.2f} ± {100 * point['std_f1']:.2f}" in text
    # How to load, license, citation.
    assert 'AutoModel.from_pretrained("org/gliner-biomed-test", trust_remote_code=True)' in text
    assert "eprint        = {2504.00676}" in text
    assert "No training record was found" in text  # a converted model has none


def test_card_reads_the_training_record_of_a_trained_model(card_model, tmp_path):
    import shutil

    folder = shutil.copytree(card_model, tmp_path / "trained")
    record = {"training": {"step": 600, "validation": {"bc5cdr/validation": 0.4246}},
              "config": {"data": ["bc5cdr:train@6", "bc2gm:train@1"], "lora": True, "lora_r": 16, "lora_alpha": 32, "level": "sentence",
                         "max_words": 128, "max_types": 25, "corpus_negatives": True, "lr_encoder": 5e-4, "lr_heads": 5e-4}}
    (folder / "training_info.json").write_text(json.dumps(record))  # the format trainers.packaging writes
    text = render_model_card(folder).card.content
    assert "600 steps, LoRA on the encoder (r=16, alpha=32)" in text
    assert '"bc5cdr:train@6", "bc2gm:train@1"' in text and "bc5cdr/validation = 0.4246" in text


def test_card_of_an_open_types_package_says_how_it_was_trained(card_model, tmp_path):
    """A package trained on with the type vocabulary over its init model's adapter (the shipped
    default): the card names the adapter's real rank (from encoder_adapter/, not the unused
    lora_r of the config), the vocabulary prompts, pairs, the loss weighting and the time."""
    import shutil

    folder = shutil.copytree(card_model, tmp_path / "open_types")
    (folder / "encoder_adapter").mkdir()
    (folder / "encoder_adapter" / "adapter_config.json").write_text(json.dumps({"r": 32, "lora_alpha": 64}))
    record = {"training": {"step": 1000, "seconds": 2221.3, "hardware": "a 2-core CPU"},
              "config": {"init_model": "configs/init/corpus-types", "continue_adapter": True, "lora": True, "lora_r": 16,
                         "lora_alpha": 32, "type_vocabulary": "default", "contrast_types": 4, "mixed_corpus_batches": True,
                         "pair_examples": 0.5, "corpus_negatives": True, "focal_alpha": 0.75, "data": ["bc5cdr:train@6"]}}
    (folder / "training_info.json").write_text(json.dumps(record))
    text = render_model_card(folder).card.content
    assert "the initial model's LoRA adapter on the encoder, trained on (r=32, alpha=64)" in text and "r=16" not in text
    assert "type vocabulary" in text and "50% of the examples paired with a sentence of another corpus" in text
    assert "with corpus negatives" not in text and "positives 0.75 / negatives 0.25" in text
    assert "37 minutes on a 2-core CPU" in text and "`corpus-types`" in text


def test_bad_results_file_is_named(card_model, tmp_path):
    bad = tmp_path / "results.json"
    bad.write_text(json.dumps({"suite": {"name": "x"}}))
    with pytest.raises(CardError, match=f"{bad}: no 'datasets'"):
        render_model_card(card_model, ModelCardOptions(results=[str(bad)]))


@pytest.mark.corpus("ncbi-disease", "bc5cdr")
def test_card_metadata_is_what_the_hub_reads(card_model, results_file, tmp_path):
    """The YAML header as the Hub parses it (huggingface_hub's card classes): model-index with the
    strict and relaxed micro-F1 of every evaluated dataset, the base model by Hub id, the pipeline tag."""
    from huggingface_hub import ModelCard

    results = json.loads(results_file.read_text())
    rendered = render_model_card(card_model, ModelCardOptions(repo_id="org/gliner-biomed-test", results=[str(results_file)],
                                                              datasets=("org/ncbi-disease",)))
    rendered.card.save(tmp_path / "README.md")
    parsed = ModelCard.load(tmp_path / "README.md")
    assert parsed.data.base_model == "sentence-transformers/all-MiniLM-L6-v2"
    assert parsed.data.pipeline_tag == "token-classification" and parsed.data.model_name == "gliner-biomed-test"
    found = {(r.dataset_name, r.dataset_split, r.metric_config): r for r in parsed.data.eval_results}
    assert len(found) == 3 * len(results["datasets"]) == len(parsed.data.eval_results)
    for row in results["datasets"]:
        strict = found[(row["name"], row["split"], "strict")]
        assert strict.task_type == "token-classification" and strict.metric_type == "f1"
        assert strict.metric_value == row["scores"]["micro_f1"] and strict.dataset_config == row["level"]
        assert strict.dataset_type == ("org/ncbi-disease" if row["corpus"] == "ncbi-disease" else row["corpus"])
        for scheme in ("exact_boundary", "partial_overlap"):
            assert found[(row["name"], row["split"], scheme)].metric_value == row["scores"][scheme]["micro_f1"]
        # --max-documents 2: the entry says it is a sub-sample
        assert strict.dataset_args == {"num_documents": 2, "num_documents_total": row["num_documents_total"]}
    header = (tmp_path / "README.md").read_text().split("---")[1]
    assert "model-index:" in header and "/work/" not in header


def test_card_without_results_has_no_model_index(card_model):
    card = render_model_card(card_model, ModelCardOptions(repo_id="org/m"))
    assert card.card.data.eval_results is None and "model-index" not in card.card.content.split("---")[1]
    assert card.card.data.base_model == "sentence-transformers/all-MiniLM-L6-v2"


@pytest.mark.corpus("ncbi-disease", "bc5cdr")
def test_two_evaluations_of_one_corpus_stay_apart_in_the_model_index(card_model, results_file, tmp_path):
    """The unseen-types suite scores NCBI-disease again with its type asked as "ailment": on the Hub
    that row must be an entry of its own (the Hub groups results by dataset type, config and split),
    not a second "Strict micro-F1" under the plain NCBI-disease."""
    from huggingface_hub import ModelCard

    results = json.loads(results_file.read_text())
    plain = next(row for row in results["datasets"] if row["corpus"] == "ncbi-disease")
    paraphrased = json.loads(json.dumps(plain))
    paraphrased.update(name="ncbi-disease-paraphrased", label_prompts={"disease": "ailment"})
    for scores in (paraphrased["scores"], paraphrased["scores"]["exact_boundary"], paraphrased["scores"]["partial_overlap"]):
        scores["micro_f1"] = scores["micro_f1"] / 2  # a different value, to see which entry holds which
    results["datasets"].append(paraphrased)
    both = tmp_path / "results.json"
    both.write_text(json.dumps(results))
    render_model_card(card_model, ModelCardOptions(repo_id="org/gliner-biomed-test", results=[str(both)])).card.save(tmp_path / "README.md")
    parsed = ModelCard.load(tmp_path / "README.md").data.eval_results
    strict = {r.dataset_name: r for r in parsed if r.metric_config == "strict"}
    assert len([r for r in parsed if r.metric_config == "strict"]) == len(results["datasets"])
    assert strict["ncbi-disease"].metric_value == plain["scores"]["micro_f1"] and strict["ncbi-disease"].dataset_config == plain["level"]
    entry = strict["ncbi-disease-paraphrased"]
    assert entry.metric_value == paraphrased["scores"]["micro_f1"] and entry.dataset_type == "ncbi-disease"
    assert entry.dataset_config == f"{plain['level']}/ncbi-disease-paraphrased"
    assert entry.dataset_args["label_prompts"] == {"disease": "ailment"}
