"""The cache of assembled adapter packages: the first load assembles and caches, later loads read
the cached plain folder with identical predictions; a corrupt cache is rebuilt, a changed package
gets its own entry, GLINER_BIOMED_NO_CACHE=1 bypasses it, an unwritable cache costs speed only."""

from __future__ import annotations

import pytest
import torch

from train_helpers import tiny_encoder  # noqa: F401  (fixture)

from gliner_biomed import assembled_cache
from gliner_biomed.models import load_model
from gliner_biomed.trainers import packaging
from gliner_biomed.trainers.model_setup import LoraSpec, ModelSpec, add_lora, build_model, has_lora

TEXT = "Naloxone reverses the antihypertensive effect of clonidine in hereditary breast cancer with BRCA1 ."
LABELS = ["chemical", "disease", "gene"]


@pytest.fixture(scope="module")
def package(tiny_encoder, tmp_path_factory):
    torch.manual_seed(0)
    model = build_model(ModelSpec(encoder=str(tiny_encoder), hidden_size=32, max_width=6))
    add_lora(model, LoraSpec(r=4, alpha=8))
    with torch.no_grad():  # a trained-looking adapter (LoRA B starts at zero)
        for name, parameter in model.named_parameters():
            if parameter.requires_grad and name.startswith("text_encoder."):
                parameter.normal_(0, 0.2)
    return packaging.save_model_folder(model, tmp_path_factory.mktemp("package") / "package", base={"encoder": str(tiny_encoder)})


@pytest.fixture()
def cache_home(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.delenv(assembled_cache.CACHE_DIR_ENV, raising=False)  # the HF_HOME default is what is tested
    monkeypatch.delenv(assembled_cache.NO_CACHE_ENV, raising=False)
    return tmp_path / "hf" / "gliner-biomed" / "assembled"


def predictions(model):
    # a threshold low enough that the tiny random heads give entities to compare, scores included
    return model.predict_entities(TEXT, LABELS, threshold=0.0, flat_ner=False, multi_label=True)


def no_assembly(*args, **kwargs):
    raise AssertionError("assembled again although a verified cache exists")


def test_second_load_reads_the_cache_with_identical_predictions(package, cache_home, monkeypatch):
    assembled = load_model(str(package))
    (folder,) = list(cache_home.iterdir())
    assert folder.name == assembled_cache.package_key(package)
    assert (folder / assembled_cache.MANIFEST_FILE).is_file() and (folder / "model.safetensors").is_file()
    monkeypatch.setattr(packaging, "load_adapter_package", no_assembly)
    cached = load_model(str(package))
    assert not has_lora(cached)
    expected = predictions(assembled)
    assert expected and predictions(cached) == expected
    for (name, tensor), (cached_name, cached_tensor) in zip(assembled.state_dict().items(), cached.state_dict().items()):
        assert name == cached_name and torch.equal(tensor, cached_tensor), name


def test_corrupt_cache_is_rebuilt(package, cache_home, caplog):
    expected = predictions(load_model(str(package)))
    weights = assembled_cache.cached_folder(package) / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[-100] ^= 0xFF  # one flipped byte inside the tensors: still a readable file, wrong weights
    weights.write_bytes(bytes(data))
    assert assembled_cache.cached_folder(package) is None
    assert "does not match its manifest" in caplog.text
    assert predictions(load_model(str(package))) == expected
    assert assembled_cache.cached_folder(package) is not None


def test_missing_manifest_is_not_trusted(package, cache_home):
    load_model(str(package))
    folder = assembled_cache.cached_folder(package)
    (folder / assembled_cache.MANIFEST_FILE).unlink()
    assert assembled_cache.cached_folder(package) is None


def test_changed_package_gets_its_own_entry(package, cache_home, tmp_path):
    import shutil

    changed = tmp_path / "changed"
    shutil.copytree(package, changed)
    heads = packaging.load_file(str(changed / packaging.HEADS_FILE))
    first = sorted(heads)[0]
    heads[first] = heads[first] + 1
    packaging.save_file(heads, str(changed / packaging.HEADS_FILE))
    assert assembled_cache.package_key(changed) != assembled_cache.package_key(package)
    original, modified = load_model(str(package)), load_model(str(changed))
    assert len(list(cache_home.iterdir())) == 2
    assert predictions(original) != predictions(modified)


def test_cache_dir_environment_variable_moves_it(package, tmp_path, monkeypatch):
    monkeypatch.setenv(assembled_cache.CACHE_DIR_ENV, str(tmp_path / "elsewhere"))
    monkeypatch.delenv(assembled_cache.NO_CACHE_ENV, raising=False)
    load_model(str(package))
    assert assembled_cache.cached_folder(package).parent == tmp_path / "elsewhere" / "assembled"


def test_no_cache_environment_variable_bypasses_it(package, cache_home, monkeypatch):
    monkeypatch.setenv(assembled_cache.NO_CACHE_ENV, "1")
    load_model(str(package))
    assert not cache_home.exists()


def test_unwritable_cache_warns_and_still_loads(package, tmp_path, monkeypatch, caplog):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder would go\n")
    monkeypatch.setenv(assembled_cache.CACHE_DIR_ENV, str(blocker))
    monkeypatch.delenv(assembled_cache.NO_CACHE_ENV, raising=False)
    assert predictions(load_model(str(package)))
    assert "could not cache the assembled model" in caplog.text
