"""Distillation and the local transformers annotator, with a tiny causal LM built here from a
config (random weights, byte-level BPE tokenizer trained on the recorded prompts). These tests
check the mechanics -- a LoRA training step runs and changes the adapter, the adapter saves and
loads, generation gets exactly the annotation prompt -- not the quality of the student, which
random weights cannot have."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch

from gliner_biomed.synth.annotate import AnnotateConfig, annotate
from gliner_biomed.synth.cli import main as synth_main
from gliner_biomed.synth.distil import IGNORE_INDEX, answer_json, teacher_pairs, tokenise_pairs
from gliner_biomed.synth.local_backend import LocalGenerationConfig, TransformersBackend
from gliner_biomed.synth.prompts import load_prompt, plain_chat
from gliner_biomed.io_records import InputError
from gliner_biomed.synth.replay_server import load_recordings

RECORDINGS = Path(__file__).resolve().parent / "data" / "synth" / "recorded_completions.jsonl"
LABELS = ["gene", "disease", "chemical"]


@pytest.fixture(scope="module")
def recordings():
    return load_recordings(RECORDINGS)[:6]


@pytest.fixture(scope="module")
def tiny_lm(tmp_path_factory, recordings) -> Path:
    """GPT-2 shaped, 2 layers of width 32, random weights; tokenizer trained on the prompts."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

    prompt = load_prompt()
    corpus = [m["content"] for r in recordings for m in prompt.render(r["text"])] + [r["script"][-1]["content"] for r in recordings]
    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    bpe.train_from_iterator(corpus, trainers.BpeTrainer(vocab_size=1500, special_tokens=["<|endoftext|>"],
                                                         initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=bpe, eos_token="<|endoftext|>")
    folder = tmp_path_factory.mktemp("tiny_lm")
    tokenizer.save_pretrained(folder)
    torch.manual_seed(0)
    config = GPT2Config(vocab_size=len(tokenizer), n_positions=4096, n_embd=32, n_layer=2, n_head=2,
                        bos_token_id=tokenizer.eos_token_id, eos_token_id=tokenizer.eos_token_id)
    GPT2LMHeadModel(config).save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def annotations(tmp_path_factory, recordings) -> Path:
    """`synth annotate` output records built from the recorded teacher answers."""
    path = tmp_path_factory.mktemp("distil") / "ann.jsonl"
    with path.open("w", encoding="utf-8") as handle:
        for r in recordings:
            answer = r["script"][-1]
            handle.write(json.dumps({"id": r["id"], "text": r["text"], "labels": LABELS, "response": answer["content"],
                                     "finish_reason": answer["finish_reason"]}) + "\n")
    return path


@pytest.fixture(scope="module")
def student(tmp_path_factory, tiny_lm, annotations) -> Path:
    """Two LoRA steps through the CLI, as a user would run them."""
    out = tmp_path_factory.mktemp("student") / "student"
    code = synth_main(["synth", "distil", "--annotations", str(annotations), "--student", str(tiny_lm), "--out", str(out),
                       "--max-steps", "2", "--batch-size", "2", "--max-length", "4096", "--lora-r", "4"])
    assert code == 0
    return out


def test_training_pairs_mask_the_prompt_and_target_the_grounded_answer(tiny_lm, annotations, recordings):
    from transformers import AutoTokenizer

    pairs, counts = teacher_pairs(annotations)
    assert counts["pairs"] == len(recordings) and [p[0] for p in pairs] == [r["id"] for r in recordings]
    identifier, messages, answer = pairs[0]
    assert messages == load_prompt().render(recordings[0]["text"], LABELS)
    entities = json.loads(answer)["entities"]
    assert entities and all(e["label"] in LABELS and e["text"] in recordings[0]["text"] for e in entities)
    assert len({(e["text"], e["label"]) for e in entities}) == len(entities)  # distinct pairs

    tokenizer = AutoTokenizer.from_pretrained(tiny_lm)
    examples, counts = tokenise_pairs(tokenizer, pairs, max_length=4096)
    labels, ids = examples[0]["labels"], examples[0]["input_ids"]
    prompt_length = labels.count(IGNORE_INDEX)
    assert tokenizer.decode(ids[:prompt_length]) == plain_chat(messages)
    assert labels[prompt_length:] == ids[prompt_length:] and ids[-1] == tokenizer.eos_token_id
    assert tokenizer.decode(ids[prompt_length:-1]) == answer
    _, counts = tokenise_pairs(tokenizer, pairs, max_length=300)
    assert counts["skipped_too_long"] == len(pairs) and counts["examples"] == 0


def test_answer_json_is_the_prompt_schema():
    entities = [{"start": 10, "end": 15, "label": "gene", "mention": "SCN5A"}, {"start": 0, "end": 5, "label": "gene", "mention": "SCN5A"},
                {"start": 20, "end": 24, "label": "disease", "mention": "LQTS"}]
    assert json.loads(answer_json(entities)) == {"entities": [{"text": "SCN5A", "label": "gene"}, {"text": "LQTS", "label": "disease"}]}


def test_distil_trains_and_saves_an_adapter(student):
    info = json.loads((student / "synth_student.json").read_text())
    assert info["steps"] == 2 and info["counts"]["examples"] == 6
    assert len(info["losses"]) == 2 and all(math.isfinite(loss) for loss in info["losses"])
    from safetensors.torch import load_file

    weights = load_file(student / "adapter_model.safetensors")
    lora_b = [tensor for name, tensor in weights.items() if "lora_B" in name]
    assert lora_b and any(tensor.abs().sum() > 0 for tensor in lora_b)  # B starts at zero: the steps moved it
    assert not (student.parent / "trainer").exists() and not list(student.parent.glob(".student.*"))  # no staging left


def test_student_loads_and_generates_from_the_annotation_prompt(student, recordings, monkeypatch):
    from peft import PeftModel
    from safetensors.torch import load_file

    backend = TransformersBackend(student, LocalGenerationConfig(max_new_tokens=5), device="cpu")
    assert isinstance(backend.causal_lm, PeftModel)
    saved = load_file(student / "adapter_model.safetensors")
    loaded = {name: tensor for name, tensor in backend.causal_lm.state_dict().items() if "lora_" in name}
    assert len(loaded) == len(saved)
    for name, tensor in saved.items():  # peft drops the adapter name when saving
        match = [value for key, value in loaded.items() if key.replace(".default", "") == name]
        assert len(match) == 1 and torch.equal(match[0], tensor)

    captured = []
    real_generate = backend.causal_lm.generate

    def spy(**kwargs):
        captured.append(kwargs)
        return real_generate(**kwargs)

    monkeypatch.setattr(backend.causal_lm, "generate", spy)
    prompt = load_prompt()
    batch = [prompt.render(recordings[0]["text"], LABELS), prompt.render(recordings[1]["text"][:300], LABELS)]
    completions = backend.complete_batch(batch)
    (call,) = captured
    assert call["max_new_tokens"] == 5 and call["do_sample"] is False
    for row, mask, messages in zip(call["input_ids"], call["attention_mask"], batch):
        kept = row[mask.bool()].tolist()
        assert mask.tolist() == sorted(mask.tolist())  # left padding: the prompt ends where generation starts
        assert backend.tokenizer.decode(kept) == plain_chat(messages)
    assert [c.usage["completion_tokens"] for c in completions] == [5, 5] and all(c.finish_reason == "length" for c in completions)


def test_student_is_the_transformers_annotator(tmp_path, student, recordings):
    texts = tmp_path / "texts.jsonl"
    texts.write_text("".join(json.dumps({"id": r["id"], "text": r["text"][:400]}) + "\n" for r in recordings[:3]), encoding="utf-8")
    out = tmp_path / "student_ann.jsonl"
    command = ["synth", "annotate", "--backend", "transformers", "--model", str(student), "--input", str(texts),
               "--out", str(out), "--max-tokens", "4", "--batch-size", "2", "--device", "cpu", "--no-progress"]
    assert synth_main(command) == 0
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["id"] for r in records] == [r["id"] for r in recordings[:3]]
    assert all(r["model"].startswith("student@") and r["usage"]["completion_tokens"] <= 4 for r in records)
    out.unlink()  # re-run: all from the request cache, nothing generated
    backend = TransformersBackend(student, LocalGenerationConfig(max_new_tokens=4), device="cpu")
    backend.complete_batch = None  # would fail if called
    stats = annotate(AnnotateConfig(texts, out, progress=False), backend)
    assert stats.from_cache == 3 and stats.completed == 0


def test_distil_refuses_when_nothing_fits(tmp_path, tiny_lm, annotations):
    from gliner_biomed.synth.distil import DistilConfig, distil

    with pytest.raises(InputError, match="no training pairs left"):
        distil(DistilConfig(annotations, tiny_lm, tmp_path / "s", max_steps=1, max_length=100))
    assert not (tmp_path / "s").exists()


@pytest.mark.slow  # two worker processes, each importing torch: ~15 s on 2 cores
def test_launcher_workers_split_the_input_and_merge(tmp_path, student, recordings):
    """torchrun (what `accelerate launch --multi_gpu` runs underneath) starts two local-backend
    workers; each takes its shard from RANK/WORLD_SIZE, and the merge holds every text once."""
    import shutil
    import subprocess
    import sys

    from gliner_biomed.sharding import list_shard_files, merge_outputs, shard_of

    texts = tmp_path / "texts.jsonl"
    ids = [f"doc-{index}" for index in range(8)]
    texts.write_text("".join(json.dumps({"id": i, "text": r["text"][:200]}) + "\n" for i, r in zip(ids, recordings + recordings)),
                     encoding="utf-8")
    assert {shard_of(i, 2) for i in ids} == {0, 1}  # both workers have work
    torchrun = shutil.which("torchrun", path=str(Path(sys.executable).parent))
    out = tmp_path / "ann.jsonl"
    command = [torchrun, "--nproc_per_node", "2", "-m", "gliner_biomed.synth.cli", "synth", "annotate", "--backend", "transformers",
               "--model", str(student), "--input", str(texts), "--out", str(out), "--max-tokens", "2", "--shard-index", "auto",
               "--device", "cpu", "--no-progress"]
    completed = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stderr[-2000:]
    shards = list_shard_files(out)
    assert [path.name for path in shards] == ["ann.shard-00000-of-00002.jsonl", "ann.shard-00001-of-00002.jsonl"]
    for index, path in enumerate(shards):
        shard_ids = [json.loads(line)["id"] for line in path.read_text().splitlines()]
        assert shard_ids and all(shard_of(i, 2) == index for i in shard_ids)
    counts = merge_outputs(shards, tmp_path / "merged.jsonl")
    assert counts["records"] == len(ids) and counts["duplicates_dropped"] == 0
