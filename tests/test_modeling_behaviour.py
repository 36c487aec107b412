"""Behaviour beyond the reference: windows over long texts (no silent truncation), input
validation, large label sets, label-order independence, the zero-sub-token word fix,
save/load round trips and loading in a process that has only torch + transformers."""

from __future__ import annotations

import json
import random
import subprocess
import sys

import pytest

from model_factory import NCBI_TEST, PARITY_LABELS, build_converted_model, clean_python, pubtator_texts, selective_threshold

from gliner_biomed.models import load_model
from gliner_biomed.modeling import normalize_labels, plan_windows


@pytest.fixture(scope="module")
def uni_dir(tmp_path_factory):
    return build_converted_model(tmp_path_factory.mktemp("uni"), "uni", "minilm")


@pytest.fixture(scope="module")
def bi_dir(tmp_path_factory):
    return build_converted_model(tmp_path_factory.mktemp("bi"), "bi", "minilm")


@pytest.fixture(scope="module")
def uni(uni_dir):
    return load_model(str(uni_dir))


@pytest.fixture(scope="module")
def bi(bi_dir):
    return load_model(str(bi_dir))


@pytest.fixture(scope="module")
def abstracts():
    return pubtator_texts(NCBI_TEST)


def assert_offsets(text, entities):
    for entity in entities:
        assert text[entity["start"] : entity["end"]] == entity["text"]


# -- windows ------------------------------------------------------------------------------


def test_plan_windows_cover_every_word_once_and_respect_limits():
    words = (["word"] * 9 + ["."]) * 100  # 1,000 words, sentences of 10
    counts = [1 + (i % 3) for i in range(len(words))]
    windows = plan_windows(words, counts, max_words=120, max_tokens=200, overlap=24)
    assert windows[0].own_start == 0 and windows[-1].own_end == len(words)
    for window, following in zip(windows, windows[1:]):
        assert window.own_end == following.own_start  # owned regions tile the document
        assert following.start < window.end  # consecutive windows overlap
        # a span of up to 12 words starting in the owned region lies inside the window
        assert window.own_end - 1 + 11 < window.end
    for window in windows:
        assert window.end - window.start <= 120
        assert sum(counts[window.start : window.end]) <= 200
        assert window.start <= window.own_start < window.own_end <= window.end
    # windows end on sentence boundaries where possible
    assert all(words[w.end - 1] == "." for w in windows[:-1])


def test_long_document_is_windowed_not_truncated(uni, abstracts):
    text = " ".join(abstracts[:25])
    words = uni.processor.split_words(text)
    assert len(words) > 5 * uni.config.max_len
    # random heads shift scores from abstract to abstract: pick a threshold that each of five
    # abstracts spread over the document passes (the windows below find entities)
    threshold = min(selective_threshold(uni, [a], PARITY_LABELS, keep=0.01) for a in abstracts[:25:5])
    scored = uni.score_documents([text], PARITY_LABELS, threshold=threshold)[0]
    entities = scored.entities(threshold)
    assert_offsets(text, entities)
    word_starts = {start: index for index, (_, start, _) in enumerate(words)}
    assert max(word_starts[e["start"]] for e in entities) > 4 * uni.config.max_len
    assert len({(e["start"], e["end"], e["label"]) for e in entities}) == len(entities)

    # Every window's owned candidates are exactly what the model finds reading that window alone.
    processor = uni.processor
    tokens = [word for word, _, _ in words]
    windows = plan_windows(
        tokens,
        [max(c, 1) for c in processor.word_token_counts(tokens)],
        uni.config.max_len,
        processor.max_sequence_tokens - processor.prompt_token_count(PARITY_LABELS),
        uni.config.window_overlap,
    )
    assert len(windows) >= 6
    for window in windows[1:4]:
        piece = text[words[window.start][1] : words[window.end - 1][2]]
        alone = uni.score_documents([piece], PARITY_LABELS, threshold=threshold)[0]
        expected = {
            (c.start + window.start, c.end + window.start, c.label)
            for c in alone.candidates
            if window.own_start <= c.start + window.start < window.own_end and abs(c.score - threshold) > 1e-5
        }
        found = {
            (c.start, c.end, c.label)
            for c in scored.candidates
            if window.own_start <= c.start < window.own_end and abs(c.score - threshold) > 1e-5
        }
        assert found == expected


@pytest.mark.slow  # test_long_document_is_windowed_not_truncated proves the windows in the default run
def test_entities_past_word_384_of_a_pubtator_set(bi, abstracts):
    text = " ".join(abstracts)  # the whole NCBI-disease test set as one text
    threshold = min(selective_threshold(bi, [a], PARITY_LABELS, keep=0.01) for a in abstracts[-5:])
    entities = bi.predict_entities(text, PARITY_LABELS, threshold=threshold)
    assert_offsets(text, entities)
    assert entities[-1]["start"] > len(text) * 0.9  # found up to the end of a ~25,000-word text


# -- inputs -------------------------------------------------------------------------------


def test_empty_texts_and_bad_labels(uni):
    assert uni.inference(["", "   \n\t", "Cystic fibrosis"], ["disease"], threshold=0.99)[:2] == [[], []]
    assert uni.predict_entities("", ["disease"]) == []
    for labels in ([], {}, [""], ["disease", 3], [None], "  "):
        with pytest.raises(ValueError):
            uni.predict_entities("BRCA1 mutations cause breast cancer.", labels)
    with pytest.raises(ValueError, match="threshold"):
        uni.predict_entities("text", ["disease"], threshold=1.5)
    with pytest.raises(ValueError, match="list of strings"):
        uni.inference("a single string", ["disease"])
    with pytest.raises(ValueError, match="text 1"):
        uni.inference(["ok", None], ["disease"])


def test_label_descriptions_prompt_the_model_and_name_the_output(bi, abstracts):
    described = {"disease": "disease or syndrome", "gene": "gene or gene product"}
    prompts, names = normalize_labels(described)
    assert prompts == ["disease or syndrome", "gene or gene product"] and names == ["disease", "gene"]
    threshold = selective_threshold(bi, abstracts[:2], prompts)
    by_description = bi.inference(abstracts[:3], described, threshold=threshold)
    by_prompt = bi.inference(abstracts[:3], prompts, threshold=threshold)
    rename = dict(zip(prompts, names))
    assert by_description == [[{**e, "label": rename[e["label"]]} for e in doc] for doc in by_prompt]


def test_batched_inference_keeps_input_order(uni, abstracts):
    texts = abstracts[:6]
    threshold = selective_threshold(uni, texts[:2], PARITY_LABELS)
    batched = uni.inference(texts, PARITY_LABELS, batch_size=4, threshold=threshold)
    single = [uni.predict_entities(text, PARITY_LABELS, threshold=threshold) for text in texts]
    assert [[(e["start"], e["end"], e["label"]) for e in doc] for doc in batched] == [
        [(e["start"], e["end"], e["label"]) for e in doc] for doc in single
    ]


def test_large_label_sets_are_split_across_passes(uni, abstracts):
    labels = [f"entity type number {i}" for i in range(60)]
    chunks = uni.processor.label_chunks(labels)
    assert len(chunks) >= 3 and sum(chunks, []) == labels
    assert all(len(chunk) <= uni.config.max_types for chunk in chunks)
    # every chunk leaves most of the sequence to the text
    assert all(uni.processor.prompt_token_count(c) <= uni.processor.max_sequence_tokens // 2 for c in chunks)
    text = abstracts[0]
    scored = uni.score_documents([text], labels, threshold=0.0)[0]
    assert {c.label for c in scored.candidates} == set(labels)  # every label was scored
    # a label's scores are those of the pass it was read in
    second = chunks[1]
    alone = uni.score_documents([text], second, threshold=0.0)[0]
    expected = {(c.start, c.end, c.label): c.score for c in alone.candidates}
    found = {(c.start, c.end, c.label): c.score for c in scored.candidates if c.label in second}
    assert found.keys() == expected.keys()
    assert max(abs(found[k] - expected[k]) for k in found) < 1e-5


def test_bi_encoder_label_order_does_not_change_entities(bi, abstracts):
    labels = ["disease", "chemical", "gene", "species", "cell line", "variant"]
    threshold = selective_threshold(bi, abstracts[:2], labels)
    shuffled = labels[:]
    random.Random(0).shuffle(shuffled)
    first = bi.score_documents(abstracts[:10], labels, threshold=threshold)
    second = bi.score_documents(abstracts[:10], shuffled, threshold=threshold)
    for flat_ner in (True, False):
        key = lambda docs: [sorted((e["start"], e["end"], e["label"]) for e in d.entities(threshold, flat_ner)) for d in docs]  # noqa: E731
        assert key(first) == key(second)
        assert sum(map(len, key(first))) > 0


def test_words_without_sub_tokens_keep_later_words_in_place(uni):
    """The reference numbers words by counting the ones that produced sub-tokens, so a word the
    tokenizer drops (here a zero-width space) shifts every later word onto its neighbour's
    representation. We read such a word as [UNK] and keep every word at its own position."""
    from gliner import GLiNER  # noqa: F401  (reference installed: compare its word mask)
    from gliner.data_processing.utils import prepare_word_mask

    text = "Mutations in BRCA1 \u200b cause hereditary breast cancer ."
    words = [w for w, _, _ in uni.processor.split_words(text)]
    assert "\u200b" in words
    counts = uni.processor.word_token_counts(words)
    assert counts[words.index("\u200b")] == 0
    readable = uni.processor.readable_words(words, counts)
    inputs = uni.processor.encode_texts([readable], [PARITY_LABELS])
    represented = sorted(int(i) for i in inputs["word_index"][0] if i > 0)
    assert represented == list(range(1, len(words) + 1))
    # the reference's mask for the same words loses one word and shifts the rest
    prompt = uni.processor.prompt_words(PARITY_LABELS)
    encoding = uni.tokenizer([prompt + words], is_split_into_words=True)
    reference_mask = prepare_word_mask([words], encoding, skip_first_words=[len(prompt)])[0]
    assert max(reference_mask) == len(words) - 1
    entities = uni.predict_entities(text, PARITY_LABELS, threshold=0.0)
    assert_offsets(text, entities)


# -- saving and loading ---------------------------------------------------------------------


def test_save_pretrained_round_trip(uni_dir, tmp_path, abstracts):
    from transformers import AutoModel

    model = AutoModel.from_pretrained(str(uni_dir), trust_remote_code=True)
    threshold = selective_threshold(model, abstracts[:2], PARITY_LABELS)
    before = model.inference(abstracts[:3], PARITY_LABELS, threshold=threshold)
    model.save_pretrained(tmp_path / "again")
    files = {path.name for path in (tmp_path / "again").iterdir()}
    assert {"config.json", "model.safetensors", "tokenizer.json", "modeling_gliner.py", "configuration_gliner.py"} <= files
    config = json.loads((tmp_path / "again" / "config.json").read_text())
    assert config["auto_map"]["AutoModel"].endswith("GLiNERUniEncoderModel")
    again = AutoModel.from_pretrained(str(tmp_path / "again"), trust_remote_code=True)
    assert again.inference(abstracts[:3], PARITY_LABELS, threshold=threshold) == before


ISOLATED_CLIENT = r"""
import importlib.abc, json, sys
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("gliner_biomed", "gliner"):
            raise ImportError(f"{name} must not be needed by the remote code")
sys.meta_path.insert(0, Block())
from transformers import AutoModel
model = AutoModel.from_pretrained(sys.argv[1], trust_remote_code=True)
texts = json.loads(sys.argv[2]); labels = json.loads(sys.argv[3]); threshold = float(sys.argv[4])
print(json.dumps(model.inference(texts, labels, threshold=threshold)))
"""


def run_isolated(python, model_dir, texts, labels, threshold, tmp_path):
    env = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf"), "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [str(python), "-c", ISOLATED_CLIENT, str(model_dir), json.dumps(texts), json.dumps(labels), str(threshold)],
        capture_output=True, text=True, cwd=tmp_path, env=env, timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


# The default run reloads both kinds where only torch and transformers are installed (.venv-tf5):
# tests/test_huggingface.py::test_every_saved_model_is_a_complete_repo[converted-bi-5.16.1] and
# [remote-code-5.16.1].
@pytest.mark.slow
@pytest.mark.parametrize("kind", ["uni", "bi"])
def test_fresh_process_with_only_torch_and_transformers(kind, uni_dir, bi_dir, uni, bi, abstracts, tmp_path):
    model_dir, model = (uni_dir, uni) if kind == "uni" else (bi_dir, bi)
    threshold = selective_threshold(model, abstracts[:2], PARITY_LABELS)
    expected = model.inference(abstracts[:3], PARITY_LABELS, threshold=threshold)
    got = run_isolated(sys.executable, model_dir, abstracts[:3], PARITY_LABELS, threshold, tmp_path)
    assert [[(e["start"], e["end"], e["label"]) for e in d] for d in got] == [
        [(e["start"], e["end"], e["label"]) for e in d] for d in expected
    ]


OLDEST_TRANSFORMERS = "4.57.6"  # the newest 4.x line; the README states the supported range


@pytest.fixture(scope="module")
def transformers_4_python():
    """torch and transformers 4.57 only (.venv-tf4, built by .ci/run: never installed by a test,
    which would need the network and race with the other pytest-xdist worker)."""
    return clean_python(OLDEST_TRANSFORMERS)


@pytest.mark.parametrize("backbone,kind", [("tiny-deberta", "uni"), ("minilm", "bi")])
def test_remote_code_on_transformers_4(backbone, kind, transformers_4_python, tmp_path_factory, abstracts, tmp_path):
    model_dir = build_converted_model(tmp_path_factory.mktemp(f"tf4-{backbone}-{kind}"), kind, backbone)
    model = load_model(str(model_dir))
    threshold = selective_threshold(model, abstracts[1:3], PARITY_LABELS)
    expected = model.inference(abstracts[:3], PARITY_LABELS, threshold=threshold)
    assert sum(map(len, expected)) > 0
    got = run_isolated(transformers_4_python, model_dir, abstracts[:3], PARITY_LABELS, threshold, tmp_path)
    assert [[(e["start"], e["end"], e["label"]) for e in d] for d in got] == [
        [(e["start"], e["end"], e["label"]) for e in d] for d in expected
    ]
    for mine, theirs in zip(sum(got, []), sum(expected, [])):
        assert abs(mine["score"] - theirs["score"]) <= 1e-5


PUSH_AND_PULL = r"""
import json, sys
from transformers import AutoModel
model = AutoModel.from_pretrained(sys.argv[1], trust_remote_code=True)
texts, labels, threshold = json.loads(sys.argv[2]), json.loads(sys.argv[3]), float(sys.argv[4])
before = model.inference(texts, labels, threshold=threshold)
model.push_to_hub("biomed-org/gliner-test", commit_message="upload converted model")
pulled = AutoModel.from_pretrained("biomed-org/gliner-test", trust_remote_code=True)
after = pulled.inference(texts, labels, threshold=threshold)
print(json.dumps({"same": before == after, "entities": sum(map(len, before))}))
"""


@pytest.mark.parametrize("kind", ["uni", pytest.param("bi", marks=pytest.mark.slow)])  # pushing is the same for both
def test_push_to_hub_round_trip(kind, uni_dir, bi_dir, uni, bi, abstracts):
    from fake_hub import FakeHub, run_client

    model_dir, model = (uni_dir, uni) if kind == "uni" else (bi_dir, bi)
    threshold = selective_threshold(model, abstracts[:2], PARITY_LABELS)
    with FakeHub() as hub:
        code = PUSH_AND_PULL.replace("sys.argv[1]", repr(str(model_dir))).replace(
            "sys.argv[2]", repr(json.dumps(abstracts[:2]))
        ).replace("sys.argv[3]", repr(json.dumps(PARITY_LABELS))).replace("sys.argv[4]", repr(str(threshold)))
        result = run_client(code, hub)
        summary = json.loads(result.stdout.strip().splitlines()[-1])
        assert summary == {"same": True, "entities": summary["entities"]} and summary["entities"] > 0
        files = set(hub.list_files("biomed-org/gliner-test"))
        expected = {"config.json", "model.safetensors", "tokenizer.json", "configuration_gliner.py", "modeling_gliner.py", "processing_gliner.py", "pipeline_gliner.py"}
        if kind == "bi":
            expected |= {"labels_tokenizer/tokenizer.json"}
        assert expected <= files
        assert hub.unhandled == []
