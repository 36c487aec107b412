"""Distillation: LoRA fine-tuning of a small causal LM on the teacher's (text -> JSON) pairs, so
that the student can be the ``--backend transformers`` annotator of a large corpus.

The targets are the *grounded* teacher answers re-serialised in the prompt's schema (distinct
mentions in order of first appearance), not the raw answers: the student learns from the
cleaned output (no fences, no hallucinated mentions, canonical labels). The prompt is rendered
exactly as at annotation time (same template, same chat format, same tokenisation), and the loss
covers only the answer tokens."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from .grounding import GroundingConfig, ground_mentions
from .labels import LabelNormaliser
from .local_backend import STUDENT_INFO, encode_prompt
from .parsing import parse_llm_output
from .prompts import DEFAULT_PROMPT, Messages, chat_prompt, load_prompt
from ..atomic_files import atomic_folder
from ..io_records import InputError, iter_jsonl

IGNORE_INDEX = -100  # label id the loss skips (prompt and padding tokens)


@dataclass(frozen=True)
class DistilConfig:
    annotations: Path
    student: Path  # small causal LM folder to fine-tune
    out: Path  # adapter + tokenizer + synth_student.json (replaced atomically)
    prompt: str = DEFAULT_PROMPT
    max_steps: int = -1  # -1: train for `epochs`
    epochs: float = 1.0
    learning_rate: float = 2e-4
    batch_size: int = 4
    gradient_accumulation: int = 1
    max_length: int = 2048
    lora_r: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.05
    target_modules: Optional[Tuple[str, ...]] = None  # None: peft's default for the architecture
    seed: int = 0


def answer_json(entities: List[Dict]) -> str:
    """The answer the student learns: distinct (mention, label) in order of first appearance."""
    pairs = dict.fromkeys((e["mention"], e["label"]) for e in sorted(entities, key=lambda e: (e["start"], e["end"])))
    return json.dumps({"entities": [{"text": mention, "label": label} for mention, label in pairs]}, ensure_ascii=False)


def teacher_pairs(annotations: Path, prompt_name: str = DEFAULT_PROMPT) -> Tuple[List[Tuple[str, Messages, str]], Counter]:
    """``[(id, messages, answer), ...]`` from ``synth annotate`` output (grounded here with the
    defaults of ``synth ground``) or from ``synth ground`` output."""
    prompt = load_prompt(prompt_name)
    normaliser = LabelNormaliser.from_file()
    grounding = GroundingConfig()  # the defaults of `synth ground`
    pairs, counts = [], Counter()
    for record in iter_jsonl(annotations, {"id": str, "text": str}):
        labels = record.get("labels") or (record.get("annotator") or {}).get("labels") or list(prompt.default_labels)
        if "entities" in record:
            entities = record["entities"]
        elif "response" in record:
            parsed = parse_llm_output(record["response"])
            if parsed.status == "failed":
                counts["skipped_unparseable"] += 1
                continue
            allowed = {normaliser(label) for label in labels}
            entities = ground_mentions(record["text"], parsed.mentions, normaliser, grounding, allowed).entities
        else:
            raise InputError(f"{annotations}: record {record['id']!r} has neither 'entities' (ground output) nor 'response' (annotate output)")
        pairs.append((record["id"], prompt.render(record["text"], labels), answer_json(entities)))
        counts["pairs"] += 1
    return pairs, counts


def tokenise_pairs(tokenizer, pairs, max_length: int) -> Tuple[List[Dict], Counter]:
    """input_ids/labels per pair, loss on the answer (+ EOS) only; too long -> skipped, counted."""
    examples, counts = [], Counter()
    for _, messages, answer in pairs:
        prompt_ids = encode_prompt(tokenizer, chat_prompt(tokenizer, messages))
        answer_ids = tokenizer(answer, add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
        if len(prompt_ids) + len(answer_ids) > max_length:
            counts["skipped_too_long"] += 1
            continue
        examples.append({"input_ids": prompt_ids + answer_ids, "labels": [IGNORE_INDEX] * len(prompt_ids) + answer_ids})
    counts["examples"] = len(examples)
    return examples, counts


class _PadCollator:
    def __init__(self, pad_id: int):
        self.pad_id = pad_id

    def __call__(self, features: List[Dict]) -> Dict:
        import torch

        width = max(len(f["input_ids"]) for f in features)
        batch = {"input_ids": [], "attention_mask": [], "labels": []}
        for feature in features:
            padding = width - len(feature["input_ids"])
            batch["input_ids"].append(feature["input_ids"] + [self.pad_id] * padding)
            batch["attention_mask"].append([1] * len(feature["input_ids"]) + [0] * padding)
            batch["labels"].append(feature["labels"] + [IGNORE_INDEX] * padding)
        return {key: torch.tensor(value) for key, value in batch.items()}


def distil(config: DistilConfig) -> Dict:
    """Train, then write the adapter folder atomically; returns a JSON-ready summary."""
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer, Trainer, TrainingArguments

    pairs, counts = teacher_pairs(config.annotations, config.prompt)
    tokenizer = AutoTokenizer.from_pretrained(config.student)
    if tokenizer.eos_token_id is None:
        raise InputError(f"{config.student}: the student's tokenizer has no EOS token; the student could never stop generating")
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    examples, tokenised = tokenise_pairs(tokenizer, pairs, config.max_length)
    counts.update(tokenised)
    if not examples:
        raise InputError(f"{config.annotations}: no training pairs left ({dict(counts)})")
    model = AutoModelForCausalLM.from_pretrained(config.student)
    lora = LoraConfig(r=config.lora_r, lora_alpha=config.lora_alpha, lora_dropout=config.lora_dropout,
                      target_modules=list(config.target_modules) if config.target_modules else None, task_type="CAUSAL_LM")
    model = get_peft_model(model, lora)
    with atomic_folder(config.out, overwrite=True) as staging:
        arguments = TrainingArguments(
            output_dir=str(staging / "trainer"), per_device_train_batch_size=config.batch_size,
            gradient_accumulation_steps=config.gradient_accumulation, learning_rate=config.learning_rate,
            num_train_epochs=config.epochs, max_steps=config.max_steps, seed=config.seed, logging_steps=1,
            save_strategy="no", report_to=[], remove_unused_columns=False, disable_tqdm=False,
        )
        trainer = Trainer(model=model, args=arguments, train_dataset=examples, data_collator=_PadCollator(tokenizer.pad_token_id))
        result = trainer.train()
        shutil.rmtree(staging / "trainer", ignore_errors=True)
        model.save_pretrained(staging)  # the adapter only; adapter_config.json names the base model
        tokenizer.save_pretrained(staging)
        summary = {
            "student": str(config.student), "out": str(config.out), "prompt_version": load_prompt(config.prompt).version,
            "counts": dict(counts), "steps": result.global_step, "train_loss": result.training_loss,
            "losses": [entry["loss"] for entry in trainer.state.log_history if "loss" in entry],
            "config": {key: (str(value) if isinstance(value, Path) else value) for key, value in asdict(config).items()},
        }
        (staging / STUDENT_INFO).write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return summary
