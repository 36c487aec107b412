"""Prompt templates (versioned YAML data files in ``prompts/``) and their rendering into chat
messages, plus the one plain-text chat format used by both the distilled student's training and
its generation (so that the two can never drift apart)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Dict, List, Mapping, Optional, Sequence

import yaml
from ..errors import BadInputError

DEFAULT_PROMPT = "biomed_ner_v1"
_PLACEHOLDER = re.compile(r"\{(labels_block|output_schema|text)\}")
_REQUIRED_KEYS = ("version", "default_labels", "label_guidance", "output_schema", "system", "user")

Messages = List[Dict[str, str]]


class PromptError(BadInputError):
    """A prompt template that cannot be used, with the file at fault in the message."""


@dataclass(frozen=True)
class PromptTemplate:
    version: str
    default_labels: Sequence[str]
    label_guidance: Mapping[str, str]
    output_schema: Mapping
    system: str
    user: str
    source: str

    def render(self, text: str, labels: Optional[Sequence[str]] = None) -> Messages:
        """System + user messages for ``text`` asking for ``labels`` (default: the template's)."""
        labels = list(labels or self.default_labels)
        labels_block = "\n".join(
            f"- {label}: {self.label_guidance[label]}" if label in self.label_guidance else f"- {label}" for label in labels
        )
        values = {
            "labels_block": labels_block,
            "output_schema": json.dumps(self.output_schema, separators=(",", ":")),
            "text": text,
        }
        # One pass over the template: a text that itself contains "{text}" is not re-expanded.
        user = _PLACEHOLDER.sub(lambda match: values[match.group(1)], self.user)
        return [{"role": "system", "content": self.system.strip()}, {"role": "user", "content": user.rstrip()}]


def available_prompts() -> List[str]:
    folder = resources.files("gliner_biomed.synth").joinpath("prompts")
    return sorted(entry.name[: -len(".yaml")] for entry in folder.iterdir()
                  if entry.name.endswith(".yaml") and entry.name != "label_synonyms.yaml")


def load_prompt(name_or_path: str = DEFAULT_PROMPT) -> PromptTemplate:
    """A packaged template by name (``biomed_ner_v1``) or a template file by path."""
    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml") and path.exists():
        text, where = path.read_text(encoding="utf-8"), str(path)
    else:
        packaged = resources.files("gliner_biomed.synth").joinpath("prompts", f"{name_or_path}.yaml")
        if not packaged.is_file():
            raise PromptError(f"no prompt template {name_or_path!r}: not a file, and packaged ones are {available_prompts()}")
        text, where = packaged.read_text(encoding="utf-8"), f"gliner_biomed/synth/prompts/{name_or_path}.yaml"
    data = yaml.safe_load(text)
    if not isinstance(data, dict):
        raise PromptError(f"{where}: want a YAML mapping")
    missing = [key for key in _REQUIRED_KEYS if key not in data]
    if missing:
        raise PromptError(f"{where}: missing keys {missing}")
    if "{text}" not in data["user"]:
        raise PromptError(f"{where}: the user template has no {{text}} placeholder")
    return PromptTemplate(
        version=str(data["version"]),
        default_labels=tuple(data["default_labels"]),
        label_guidance=dict(data["label_guidance"]),
        output_schema=data["output_schema"],
        system=data["system"],
        user=data["user"],
        source=where,
    )


def plain_chat(messages: Messages, add_generation_prompt: bool = True) -> str:
    """Chat messages as one string for causal LMs whose tokenizer has no chat template (the
    tiny students built from a config). Models with a chat template use it instead
    (:func:`chat_prompt`)."""
    parts = [f"### {message['role'].capitalize()}:\n{message['content']}\n" for message in messages]
    if add_generation_prompt:
        parts.append("### Assistant:\n")
    return "".join(parts)


def chat_prompt(tokenizer, messages: Messages) -> str:
    """The generation prompt for ``messages``: the tokenizer's chat template where it has one,
    else :func:`plain_chat`. Training (distil) and generation (transformers backend) both call this."""
    if getattr(tokenizer, "chat_template", None):
        return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    return plain_chat(messages)
