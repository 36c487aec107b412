"""Lenient parsing of LLM annotation output, which is untrusted: code fences, prose before or
after the JSON, ``<think>`` blocks of reasoning models, truncated output
(``finish_reason == "length"``), several accepted shapes.

Accepted shapes (the prompt asks for the first):
- ``{"entities": [{"text": ..., "label": ...}, ...]}`` (also ``mention``/``span``/``name`` for the
  text, ``type``/``entity_type``/``category`` for the label, optional ``start``/``end`` offsets or
  an ``occurrence`` index, 0-based, of the mention among its matches in the text);
- a bare list of such objects;
- ``{"label": ["mention", ...], ...}`` (a mapping of labels to mention lists).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, List, Optional, Tuple

# Reasoning models (served by vLLM and others) may put their deliberation before the answer.
_THINKING = re.compile(r"<think>.*?(?:</think>|\Z)", re.DOTALL)
_FENCE = re.compile(r"```[a-zA-Z0-9_-]*[ \t]*\n?(.*?)(?:```|\Z)", re.DOTALL)
_TEXT_KEYS = ("text", "mention", "span", "name", "entity")
_LABEL_KEYS = ("label", "type", "entity_type", "category", "entity_label")
_MAX_REPAIR_CUTS = 200  # candidate truncation points tried from the end of a broken output


@dataclass(frozen=True)
class RawMention:
    """One mention as the LLM returned it, not yet checked against the text."""

    mention: str
    label: str
    start: Optional[int] = None
    end: Optional[int] = None
    occurrence: Optional[int] = None


@dataclass
class ParsedOutput:
    mentions: List[RawMention] = field(default_factory=list)
    # how the JSON was found: "json", "fenced", "embedded" (prose around it), "repaired" (truncated), "failed"
    status: str = "failed"
    malformed_items: int = 0  # list items that were not usable mention objects
    error: Optional[str] = None


def _closing_for(prefix: str) -> Optional[str]:
    """The brackets that close ``prefix`` (a JSON text cut after a complete value), or None when
    the cut falls inside a string."""
    stack: List[str] = []
    in_string = escaped = False
    for char in prefix:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            stack.append("]" if char == "[" else "}")
        elif char in "]}":
            if not stack:
                return None
            stack.pop()
    if in_string:
        return None
    return "".join(reversed(stack))


def _repair_truncated(candidate: str) -> Optional[Any]:
    """The longest prefix of ``candidate`` that ends after a complete ``}``/``]`` and parses once
    its open brackets are closed: a truncated entity list keeps all its complete items."""
    cuts = [index + 1 for index, char in enumerate(candidate) if char in "}]"]
    for cut in reversed(cuts[-_MAX_REPAIR_CUTS:]):
        prefix = candidate[:cut]
        closing = _closing_for(prefix)
        if closing is None:
            continue
        try:
            return json.loads(prefix + closing)
        except json.JSONDecodeError:
            continue
    return None


def _decode(content: str) -> Tuple[Optional[Any], str]:
    """(value, status) for the first JSON object or array in ``content``."""
    stripped = _THINKING.sub("", content).strip()
    try:
        return json.loads(stripped), "json"
    except json.JSONDecodeError:
        pass
    fenced = _FENCE.search(stripped)
    status = "fenced" if fenced else "embedded"
    body = fenced.group(1) if fenced else stripped
    starts = [index for index in (body.find("{"), body.find("[")) if index >= 0]
    if not starts:
        return None, "failed"
    body = body[min(starts):]
    try:
        value, _ = json.JSONDecoder().raw_decode(body)  # ignores prose after the JSON
        return value, status
    except json.JSONDecodeError:
        pass
    repaired = _repair_truncated(body)
    return (repaired, "repaired") if repaired is not None else (None, "failed")


def _first(item: dict, keys: Tuple[str, ...]) -> Any:
    for key in keys:
        if key in item:
            return item[key]
    return None


def _optional_int(value: Any) -> Optional[int]:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _mentions_from(value: Any, parsed: ParsedOutput) -> None:
    if isinstance(value, dict) and "entities" in value:
        value = value["entities"]
    elif isinstance(value, dict):  # {"label": ["mention", ...]}
        for label, mentions in value.items():
            for mention in mentions if isinstance(mentions, list) else [mentions]:
                if isinstance(mention, str) and mention.strip():
                    parsed.mentions.append(RawMention(mention, str(label)))
                else:
                    parsed.malformed_items += 1
        return
    if not isinstance(value, list):
        parsed.status, parsed.error = "failed", f"JSON is a {type(value).__name__}, not an entity list"
        return
    for item in value:
        if not isinstance(item, dict):
            parsed.malformed_items += 1
            continue
        mention, label = _first(item, _TEXT_KEYS), _first(item, _LABEL_KEYS)
        if not isinstance(mention, str) or not mention.strip() or not isinstance(label, str) or not label.strip():
            parsed.malformed_items += 1
            continue
        parsed.mentions.append(
            RawMention(mention, label, _optional_int(item.get("start")), _optional_int(item.get("end")),
                       _optional_int(item.get("occurrence")))
        )


def parse_llm_output(content: Optional[str]) -> ParsedOutput:
    """The mentions in one LLM answer; never raises on bad content (status ``failed`` instead)."""
    parsed = ParsedOutput()
    if not content or not content.strip():
        parsed.error = "empty output"
        return parsed
    value, parsed.status = _decode(content)
    if value is None:
        parsed.error = "no parseable JSON object or array"
        return parsed
    _mentions_from(value, parsed)
    return parsed
