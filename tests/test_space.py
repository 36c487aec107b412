"""The demo Space for real: launched on 127.0.0.1 with a converted (random-weight) model, called
through its HTTP API with gradio_client, and driven in Debian's headless chromium with Playwright."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from model_factory import build_converted_model

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-extensions", "--no-first-run"]
MODEL_NAME = "random-minilm-uni"
# Random heads score many spans: this threshold gives a few highlights per abstract.
THRESHOLD = 0.3
MAX_CHARACTERS = 20_000


@pytest.fixture(scope="session")
def space_model(tmp_path_factory) -> Path:
    return build_converted_model(tmp_path_factory.getbasetemp() / "publishing_minilm_uni", "uni", "minilm")


@pytest.fixture(scope="module")
def space_app():
    from gliner_biomed.publishing.cli import load_space_app

    return load_space_app()


@pytest.fixture(scope="module")
def examples():
    """The Space's example rows, from abstracts of the committed NCBI-disease (tests/data/corpora),
    so that the Space is tested in any clone; the published Space's three corpora are tested below."""
    from gliner_biomed.publishing.space_examples import corpus_examples

    return corpus_examples([("ncbi-disease", "test", 0), ("ncbi-disease", "test", 1)])


@pytest.mark.corpus("ncbi-disease", "bc5cdr", "biored")
def test_app_without_examples_json_reads_an_abstract_of_three_corpora(space_app):
    loaded = space_app.load_examples()
    assert [example["source"] for example in loaded] == ["ncbi-disease/test", "bc5cdr/test", "biored/test"]
    assert all(example["text"] and example["labels"] for example in loaded)


@pytest.fixture(scope="module")
def running_space(space_app, space_model, examples):
    registry = space_app.ModelRegistry({MODEL_NAME: str(space_model)})
    demo = space_app.build_demo(registry, examples, max_characters=MAX_CHARACTERS)
    demo.queue().launch(server_name="127.0.0.1", server_port=None, prevent_thread_lock=True, quiet=True,
                        **space_app.launch_kwargs())
    try:
        yield demo.local_url.rstrip("/")
    finally:
        demo.close()


@pytest.fixture(scope="module")
def client(running_space):
    from gradio_client import Client

    return Client(running_space, verbose=False, download_files=True)


def space_app_default_labels():
    from gliner_biomed.publishing.cli import load_space_app

    app = load_space_app()
    return app.PRESETS[app.DEFAULT_PRESET]


def call(client, text, labels, threshold=THRESHOLD, nested=False, multi_label=False, model=MODEL_NAME):
    return client.predict(text, labels, threshold, nested, multi_label, model, api_name="/predict")


def test_gradio_client_predicts_real_entities(client, space_app, examples, space_model):
    example = {**examples[0], "labels": space_app.PRESETS["BioRED (6 types)"]}  # six entity types on a real abstract
    highlighted, table, json_path, status = call(client, example["text"], example["labels"])
    result = json.loads(Path(json_path).read_text(encoding="utf-8"))
    entities = result["entities"]
    assert entities, "no entity at this threshold: the test cannot check highlights"
    for entity in entities:
        assert example["text"][entity["start"] : entity["end"]] == entity["text"]
        assert entity["label"] in example["labels"] and entity["score"] > THRESHOLD
    # The same entities as the model called directly (the app adds nothing, drops nothing).
    from gliner_biomed.models import load_model

    direct = load_model(str(space_model)).predict_entities(example["text"], example["labels"], threshold=THRESHOLD)
    assert [(e["start"], e["end"], e["label"]) for e in direct] == [(e["start"], e["end"], e["label"]) for e in entities]
    assert [row[:4] for row in table["data"]] == [[e["start"], e["end"], e["text"], e["label"]] for e in entities]
    assert table["headers"] == ["start", "end", "mention", "label", "score"]
    # The client hands HighlightedText back as [{token, class_or_confidence}] pieces covering the text.
    assert "".join(piece["token"] for piece in highlighted) == example["text"]
    drawn = [piece for piece in highlighted if piece["class_or_confidence"]]
    assert [(p["token"], p["class_or_confidence"]) for p in drawn] == [(e["text"], e["label"]) for e in entities]  # flat: all drawn
    assert f"{len(entities)} entities" in status and "predicted in" in status
    assert result["threshold"] == THRESHOLD and result["flat_ner"] is True and result["text"] == example["text"]


@pytest.mark.slow  # the Space hands the text to predict_entities, whose windowing test_modeling_behaviour proves
def test_long_text_is_windowed_not_truncated(client, examples, space_model):
    from gliner_biomed.models import load_model
    from gliner_biomed.modeling import split_words

    model = load_model(str(space_model))
    text = " ".join(example["text"] for example in examples) * 4  # two abstracts, 2,060 words
    words = split_words(text)
    assert len(words) > 2 * model.config.max_len and len(text) <= MAX_CHARACTERS
    _, _, json_path, status = call(client, text, ["disease", "chemical", "gene"], nested=True, multi_label=True)
    entities = json.loads(Path(json_path).read_text(encoding="utf-8"))["entities"]
    first_window_end = words[model.config.max_len - 1][2]
    assert any(entity["start"] >= first_window_end for entity in entities), "nothing found after the first window"
    assert all(text[e["start"] : e["end"]] == e["text"] for e in entities)
    assert "predicted in" in status


@pytest.mark.parametrize(
    "text, labels, message",
    [
        ("   ", ["disease"], "The text is empty"),
        ("Aspirin causes Reye syndrome.", [], "Enter at least one entity type"),
        ("x" * (MAX_CHARACTERS + 1), ["disease"], f"accepts at most {MAX_CHARACTERS:,}"),
    ],
    ids=["empty-text", "no-labels", "too-long"],
)
def test_bad_input_gives_a_clear_message(client, text, labels, message):
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError) as error:
        call(client, text, labels)
    assert message in str(error.value) and "Traceback" not in str(error.value)


@pytest.mark.parametrize(
    "text, labels, message",
    [("caf\udce9 fibrosis", ["disease"], "text 0 is not valid Unicode"), ("Cystic fibrosis.", ["dis\udce9ase"], "label 0 is not valid Unicode")],
    ids=["text", "label"],
)
def test_lone_surrogates_get_a_one_line_message(space_app, space_model, text, labels, message):
    """A lone surrogate (what non-UTF-8 bytes become in Python) in the text or a label: one line, no
    traceback. gradio_client refuses to encode one, so the handler is called directly."""
    import gradio as gr

    predictor = space_app.Predictor(space_app.ModelRegistry({MODEL_NAME: str(space_model)}))
    with pytest.raises(gr.Error) as error:
        predictor.predict(text, labels, THRESHOLD, False, False, MODEL_NAME)
    assert message in str(error.value) and "\n" not in str(error.value) and "Traceback" not in str(error.value)


def test_labels_accept_chips_and_commas(space_app):
    assert space_app.parse_labels(["disease, chemical", "gene", "disease", "  cell   line "]) == ["disease", "chemical", "gene", "cell line"]
    with pytest.raises(space_app.InputError, match="at most 25"):
        space_app.parse_labels([f"type {i}" for i in range(26)])


@pytest.mark.skipif(not CHROMIUM.is_file(), reason="Debian chromium is not installed at /usr/bin/chromium (apt-get install -y chromium)")
def test_browser_highlights_entities_and_shows_errors(running_space, examples, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    example = examples[0]  # NCBI-disease
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1400})
            page.goto(running_space, wait_until="domcontentloaded", timeout=60_000)
            # An empty text: a clear message in the page, no stack trace.
            page.locator("#submit").click()
            toast = page.get_by_text("The text is empty")
            expect(toast.first).to_be_visible(timeout=30_000)
            assert "Traceback" not in page.content()
            page.locator("#input-text textarea").fill(example["text"])
            threshold = page.locator("#threshold input[type=number]")
            threshold.fill(str(THRESHOLD))
            threshold.press("Enter")
            page.locator("#submit").click()
            expect(page.locator("#status")).to_contain_text("predicted in", timeout=60_000)
            # Highlighted mentions are coloured tokens; their entity types are in the legend.
            mentions = page.locator("#highlighted .token.highlighted .text")
            expect(mentions.first).to_be_visible(timeout=30_000)
            highlighted_texts = mentions.all_inner_texts()
            labels = set(page.locator("#highlighted .legend-item").all_inner_texts())
            screenshot = tmp_path / "space.png"
            page.screenshot(path=str(screenshot), full_page=True)
        finally:
            browser.close()
    assert labels and labels <= set(space_app_default_labels())
    assert highlighted_texts and all(mention.strip() in example["text"] for mention in highlighted_texts)
    assert screenshot.stat().st_size > 10_000
    if os.environ.get("GLINER_BIOMED_SPACE_SCREENSHOT"):  # keep a copy for review (not part of the Space repo)
        shutil.copyfile(screenshot, os.environ["GLINER_BIOMED_SPACE_SCREENSHOT"])
