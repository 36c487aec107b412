"""From texts and labels to model inputs and back: word splitting, label prompts, windows over
long texts, and the decoding of span scores into entities.

``GLiNERProcessor`` is the one place where this happens: the models' ``predict_entities`` /
``inference``, the ``pipeline()``, the ONNX runtime and the trainer's collator all call it. It
imports only torch (and transformers' tokenizers at load time), so it travels with every model
repository for ``trust_remote_code``.
"""

from __future__ import annotations

import json
import os
import re
import struct
from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple, Union

import torch

# -- words ----------------------------------------------------------------------------------
# The reference `gliner` package's "whitespace" splitter: runs of word characters joined by
# single hyphens/underscores, or any single non-space character.
WORD_PATTERN = re.compile(r"\w+(?:[-_]\w+)*|\S")
# Every run of word characters is a word, so hyphenated compounds split ("cocaine-induced" ->
# "cocaine", "-", "induced") and mentions inside them can be predicted.
ALPHANUMERIC_WORD_PATTERN = re.compile(r"\w+|\S")
WORD_PATTERNS = {"whitespace": WORD_PATTERN, "alphanumeric": ALPHANUMERIC_WORD_PATTERN}


class WordSplitter:
    """Splits a text into words with character offsets (end exclusive)."""

    def __init__(self, pattern: "re.Pattern[str]" = WORD_PATTERN):
        self.pattern = pattern

    @classmethod
    def of_type(cls, words_splitter_type: str) -> "WordSplitter":
        """The splitter named by a config's ``words_splitter_type``."""
        if words_splitter_type not in WORD_PATTERNS:
            raise ValueError(f"unknown words_splitter_type {words_splitter_type!r}; known: {sorted(WORD_PATTERNS)}")
        return cls(WORD_PATTERNS[words_splitter_type])

    def __call__(self, text: str) -> List[Tuple[str, int, int]]:
        return [(match.group(), match.start(), match.end()) for match in self.pattern.finditer(text)]


def split_words(text: str) -> List[Tuple[str, int, int]]:
    """``[(word, start, end), ...]`` for ``text`` with the models' splitter."""
    return WordSplitter()(text)


# -- labels and windows --------------------------------------------------------------------
Labels = Union[str, Sequence[str], Mapping[str, str]]

SENTENCE_END_WORDS = frozenset({".", "!", "?"})
# A tokenizer whose model_max_length is a placeholder (no limit recorded) reports ~1e30.
UNSET_MODEL_MAX_LENGTH = 10**9


# Longest piece of a user's string quoted in an error message.
QUOTE_LIMIT = 80


def quote(value: str, limit: int = QUOTE_LIMIT) -> str:
    """``repr`` of a user's string for an error message, shortened past ``limit`` characters."""
    if len(value) <= limit:
        return repr(value)
    return f"{value[:limit]!r}... ({len(value)} characters)"


def check_unicode(value: str, what: str) -> None:
    """Raises ``ValueError`` naming ``what`` when ``value`` holds a lone surrogate: what Python
    makes of bytes that are not UTF-8 (argv, stdin, files read with ``surrogateescape``), which
    no tokenizer accepts."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as error:
        raise ValueError(
            f"{what} is not valid Unicode: character {error.start} is a lone surrogate "
            f"({value[error.start]!r}; was the input decoded from bytes that are not UTF-8?): {quote(value)}"
        ) from None


def check_texts(texts: Sequence[str]) -> None:
    """Every text is a ``str`` of valid Unicode; the error names the first bad one's index."""
    if isinstance(texts, str):
        raise ValueError("texts must be a list of strings; use predict_entities() for a single text")
    for index, text in enumerate(texts):
        if not isinstance(text, str):
            raise ValueError(f"text {index} is a {type(text).__name__}, not a string")
        check_unicode(text, f"text {index}")


def check_threshold(threshold: Any) -> float:
    """``threshold`` as a float in [0, 1): scores are probabilities compared strictly greater, so 1
    would keep nothing (the CLI refuses it too); anything else (None, a string, NaN) is an error
    naming it."""
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)):
        raise ValueError(f"threshold must be a number in [0, 1), got {threshold!r} ({type(threshold).__name__})")
    if not 0.0 <= threshold < 1.0:
        raise ValueError(f"threshold must be in [0, 1), got {threshold}")
    return float(threshold)


def normalize_labels(labels: Labels) -> Tuple[List[str], List[str]]:
    """Returns ``(prompts, names)``: what the model reads for each entity type, and what the
    predictions call it. ``{name: description}`` prompts with the description.

    Raises ``ValueError`` for an empty label set, a label that is not a non-empty string of
    valid Unicode, or duplicated descriptions; duplicated plain labels are merged (first
    occurrence wins).
    """
    if isinstance(labels, str):
        labels = [labels]
    if isinstance(labels, Mapping):
        names, prompts = list(labels.keys()), list(labels.values())
    elif isinstance(labels, Sequence):
        names = prompts = list(labels)
    else:
        raise ValueError(f"labels must be a list of strings or a {{name: description}} dict, got {type(labels).__name__}")
    if not names:
        raise ValueError("labels is empty: give at least one entity type, e.g. ['disease']")
    for what, values in (("label", names), ("label description", prompts)):
        for index, value in enumerate(values):
            if not isinstance(value, str):
                raise ValueError(f"every {what} must be a string, got {value!r} ({type(value).__name__})")
            if not value.strip():
                raise ValueError(f"{what}s must not be empty or whitespace, got {value!r}")
            check_unicode(value, f"{what} {index}")
    if isinstance(labels, Mapping):
        if len(set(prompts)) != len(prompts):
            raise ValueError("label descriptions must be unique within a label set")
        return prompts, names
    unique = list(dict.fromkeys(names))
    return unique, unique


@dataclass(frozen=True)
class Window:
    """Words ``[start, end)`` of a document read in one pass; the window reports spans that
    start in ``[own_start, own_end)`` so that overlapping windows never report a span twice."""

    start: int
    end: int
    own_start: int
    own_end: int


def plan_windows(
    words: Sequence[str],
    token_counts: Sequence[int],
    max_words: int,
    max_tokens: int,
    overlap: int,
) -> List[Window]:
    """Splits a document into overlapping windows of at most ``max_words`` words and
    ``max_tokens`` sub-tokens, ending on sentence boundaries where possible."""
    n = len(words)
    sentence_starts = [i + 1 for i, word in enumerate(words) if word in SENTENCE_END_WORDS]
    spans: List[Tuple[int, int]] = []
    start = 0
    while True:
        end, used = start, 0
        while end < n and end - start < max_words and used + token_counts[end] <= max_tokens:
            used += token_counts[end]
            end += 1
        if end == start:
            raise ValueError(
                f"word {start} ({words[start]!r}) needs {token_counts[start]} sub-tokens, more than the "
                f"{max_tokens} that fit in one pass with this label prompt; use fewer or shorter labels"
            )
        if end < n:
            midpoint = start + (end - start) // 2
            boundaries = [b for b in sentence_starts if midpoint < b <= end]
            if boundaries:
                end = boundaries[-1]
        spans.append((start, end))
        if end >= n:
            break
        next_start = end - overlap
        restarts = [b for b in sentence_starts if start < b <= next_start and next_start - b < overlap]
        if restarts:
            next_start = restarts[-1]
        start = max(next_start, start + 1)
    windows = []
    for i, (start, end) in enumerate(spans):
        own_start = 0 if i == 0 else (start + spans[i - 1][1]) // 2
        own_end = n if i == len(spans) - 1 else (spans[i + 1][0] + end) // 2
        windows.append(Window(start, end, own_start, own_end))
    return windows


@dataclass
class WindowTask:
    """One forward pass worth of work: a window of a document with a chunk of its labels."""

    document: int
    window: Window
    label_chunk: int



# -- decoding --------------------------------------------------------------------------------
def as_float32(value: float) -> float:
    """``value`` rounded to float32, the precision in which scores are compared to thresholds."""
    return struct.unpack("f", struct.pack("f", value))[0]


@dataclass(frozen=True)
class SpanCandidate:
    """A span (word indices, end inclusive) scored above the threshold for one label."""

    start: int
    end: int
    label: str
    score: float
    label_index: int = 0


class SpanDecoder:
    """Greedy decoding of scored spans, with the reference's semantics.

    * a span/label is a candidate when ``sigmoid(logit) > threshold`` (strictly greater);
    * candidates are taken by decreasing score; one is kept unless it clashes with a kept one;
    * ``flat_ner=True``: spans clash when they share any word; ``flat_ner=False``: they clash
      when they overlap without one containing the other (nesting allowed);
    * the same span with another label clashes unless ``multi_label=True``.

    Equal scores (float32 sigmoids of close logits can be exactly equal) are ordered by start
    word, then width, then the label's position in the label list, as in the reference.
    """

    def __init__(self, max_width: int):
        self.max_width = max_width

    def candidates(
        self,
        logits: torch.Tensor,
        num_words: int,
        label_names: Sequence[str],
        threshold: float,
        word_offset: int = 0,
        min_start: int = 0,
        max_start: int | None = None,
        label_offset: int = 0,
    ) -> List[SpanCandidate]:
        """
        Args:
            logits: `(num_words_padded, max_width, num_labels)` scores of one text (window).
            num_words: real words in the window; spans past it are ignored.
            label_names: name of each label column.
            threshold: probability threshold (strict).
            word_offset: added to word indices (position of the window in its document).
            min_start, max_start: keep only spans whose start (window-relative) lies in
                ``[min_start, max_start)``: the part of a window that owns its spans.
            label_offset: position of the first label column in the whole label list (when a
                large label set is read in several passes).
        """
        probs = torch.sigmoid(logits.float())
        starts, widths, labels = torch.nonzero(probs > threshold, as_tuple=True)
        ends = starts + widths
        keep = (ends < num_words) & (starts >= min_start)
        if max_start is not None:
            keep &= starts < max_start
        starts, widths, labels, ends = starts[keep], widths[keep], labels[keep], ends[keep]
        scores = probs[starts, widths, labels].tolist()
        return [
            SpanCandidate(start + word_offset, end + word_offset, label_names[label], score, label + label_offset)
            for start, end, label, score in zip(starts.tolist(), ends.tolist(), labels.tolist(), scores)
        ]

    @staticmethod
    def _clash(a: SpanCandidate, b: SpanCandidate, flat_ner: bool, multi_label: bool) -> bool:
        if a.start == b.start and a.end == b.end:
            return not multi_label
        disjoint = a.start > b.end or b.start > a.end
        if flat_ner:
            return not disjoint
        nested = (a.start <= b.start and a.end >= b.end) or (b.start <= a.start and b.end >= a.end)
        return not (disjoint or nested)

    def select(self, candidates: List[SpanCandidate], flat_ner: bool, multi_label: bool) -> List[SpanCandidate]:
        """Greedy selection; the result is sorted by start word (stable for equal starts)."""
        ranked = sorted(candidates, key=lambda c: (-c.score, c.start, c.end, c.label_index))
        kept: List[SpanCandidate] = []
        # Only overlapping spans can clash, and a kept span overlapping [start, end] starts at most
        # `reach` words before it: each candidate is checked against those alone, not against every
        # kept span (quadratic in a long document's entities).
        kept_by_start: Dict[int, List[SpanCandidate]] = {}
        reach = max((c.end - c.start for c in candidates), default=0)
        for candidate in ranked:
            nearby = (
                other
                for start in range(candidate.start - reach, candidate.end + 1)
                for other in kept_by_start.get(start, ())
            )
            if not any(self._clash(candidate, other, flat_ner, multi_label) for other in nearby):
                kept.append(candidate)
                kept_by_start.setdefault(candidate.start, []).append(candidate)
        kept.sort(key=lambda c: c.start)
        return kept


PROCESSOR_CONFIG_FILE = "processor_config.json"
LABELS_TOKENIZER_FOLDER = "labels_tokenizer"
# The model config's fields that decide how texts become inputs and scores become entities.
PROCESSOR_CONFIG_KEYS = (
    "words_splitter_type", "subtoken_pooling", "ent_token", "sep_token", "max_len", "window_overlap",
    "max_types", "max_width",
)


class GLiNERProcessor:
    """Everything between strings and the model: checks the input, splits words, tokenizes
    words and label prompts into model inputs (``encode_texts`` / ``encode_labels``), plans
    windows over long texts and label chunks, runs a model over them (``score_documents``) and
    decodes span scores into entities (``ScoredDocument.entities``).

    ``config`` is the model's ``GLiNERConfig`` (what the processor reads of it is listed in
    ``processor_config.json`` when saved); ``tokenizer`` reads the text (and the uni-encoder's
    prompt), ``labels_tokenizer`` the bi-encoder's labels."""

    def __init__(self, config, tokenizer, labels_tokenizer=None):
        if tokenizer is None or (config.is_bi_encoder and labels_tokenizer is None):
            raise ValueError("a GLiNERProcessor needs the text tokenizer (and, for a bi-encoder, the labels tokenizer)")
        self.config = config
        self.tokenizer = tokenizer
        self.labels_tokenizer = labels_tokenizer
        self.split_words = WordSplitter.of_type(getattr(config, "words_splitter_type", "whitespace"))

    # -- loading and saving ---------------------------------------------------------------
    @staticmethod
    def load_tokenizers(config, pretrained_model_name_or_path, **hub_kwargs):
        """``(tokenizer, labels_tokenizer)`` saved in a model folder (``labels_tokenizer`` is None
        for a uni-encoder)."""
        from transformers import AutoTokenizer

        # The folder's config.json names this (custom) model type; the tokenizer classes are
        # standard ones, but AutoTokenizer asks before reading a remote-code config. Handing it
        # the model's config spares it that read (a folder without auto_map, like an adapter
        # package, would otherwise be read as a generic config, with a warning).
        hub_kwargs = dict(hub_kwargs, trust_remote_code=True)
        tokenizer = AutoTokenizer.from_pretrained(pretrained_model_name_or_path, config=config, **hub_kwargs)
        labels_tokenizer = None
        if config.is_bi_encoder:
            subfolder = hub_kwargs.pop("subfolder", "")
            subfolder = f"{subfolder}/{LABELS_TOKENIZER_FOLDER}" if subfolder else LABELS_TOKENIZER_FOLDER
            labels_tokenizer = AutoTokenizer.from_pretrained(pretrained_model_name_or_path, subfolder=subfolder, **hub_kwargs)
        return tokenizer, labels_tokenizer

    @classmethod
    def from_pretrained(cls, pretrained_model_name_or_path, config=None, **hub_kwargs) -> "GLiNERProcessor":
        """The processor of a saved model: its config (``config.json``) and tokenizers."""
        if config is None:
            from .configuration_gliner import GLiNERConfig

            config = GLiNERConfig.from_pretrained(pretrained_model_name_or_path, **hub_kwargs)
        return cls(config, *cls.load_tokenizers(config, pretrained_model_name_or_path, **hub_kwargs))

    def to_dict(self) -> Dict[str, Any]:
        """What the processor reads of the model config, for ``processor_config.json``."""
        settings = {key: getattr(self.config, key) for key in PROCESSOR_CONFIG_KEYS}
        return {"processor_class": type(self).__name__, "bi_encoder": self.config.is_bi_encoder, **settings}

    def save_pretrained(self, save_directory) -> None:
        """Writes the tokenizers (the labels tokenizer in ``labels_tokenizer/``) and
        ``processor_config.json``."""
        os.makedirs(save_directory, exist_ok=True)
        self.tokenizer.save_pretrained(save_directory)
        if self.labels_tokenizer is not None:
            self.labels_tokenizer.save_pretrained(os.path.join(save_directory, LABELS_TOKENIZER_FOLDER))
        with open(os.path.join(save_directory, PROCESSOR_CONFIG_FILE), "w", encoding="utf-8") as handle:
            json.dump(self.to_dict(), handle, indent=2, sort_keys=True)
            handle.write("\n")

    # -- limits ---------------------------------------------------------------------------
    @property
    def max_sequence_tokens(self) -> int:
        limits = [getattr(self.config.encoder_config, "max_position_embeddings", None)]
        model_max = getattr(self.tokenizer, "model_max_length", None)
        if model_max is not None and model_max < UNSET_MODEL_MAX_LENGTH:
            limits.append(model_max)
        limits = [limit for limit in limits if limit]
        if not limits:
            raise ValueError("cannot tell the encoder's maximum sequence length from its config or tokenizer")
        return min(limits) - self.tokenizer.num_special_tokens_to_add(pair=False)

    # -- words ----------------------------------------------------------------------------
    def word_token_counts(self, words: Sequence[str]) -> List[int]:
        """Sub-tokens of each word as the tokenizer splits words (no special tokens)."""
        if not words:
            return []
        encoding = self.tokenizer(list(words), is_split_into_words=True, add_special_tokens=False, verbose=False)
        counts = [0] * len(words)
        for word_id in encoding.word_ids():
            if word_id is not None:
                counts[word_id] += 1
        return counts

    def readable_words(self, words: Sequence[str], counts: Sequence[int]) -> List[str]:
        """Words the tokenizer drops entirely (e.g. zero-width characters) are read as the
        unknown token, so that every word has a representation and later words keep their
        positions (the reference shifts every following word by one instead)."""
        unk = self.tokenizer.unk_token
        if unk is None:
            return list(words)
        return [word if count > 0 else unk for word, count in zip(words, counts)]

    # -- prompts --------------------------------------------------------------------------
    def prompt_words(self, prompts: Sequence[str]) -> List[str]:
        words: List[str] = []
        for prompt in prompts:
            words += [self.config.ent_token, prompt]
        return words + [self.config.sep_token]

    def prompt_token_count(self, prompts: Sequence[str]) -> int:
        return sum(self.word_token_counts(self.prompt_words(prompts)))

    def label_chunks(self, prompts: Sequence[str]) -> List[List[str]]:
        """Uni-encoder: splits a large label set into passes of at most ``max_types`` labels whose
        prompt leaves at least half of the sequence for text. Bi-encoder: one chunk."""
        prompts = list(prompts)
        if self.config.is_bi_encoder:
            return [prompts]
        budget = self.max_sequence_tokens // 2
        chunks: List[List[str]] = [[]]
        for prompt in prompts:
            candidate = chunks[-1] + [prompt]
            if chunks[-1] and (
                len(candidate) > self.config.max_types or self.prompt_token_count(candidate) > budget
            ):
                chunks.append([prompt])
            else:
                chunks[-1] = candidate
        for chunk in chunks:
            if self.prompt_token_count(chunk) > budget:
                raise ValueError(
                    f"the label {quote(chunk[0])} alone needs more than {budget} sub-tokens; use a shorter label"
                )
        return chunks

    # -- batches --------------------------------------------------------------------------
    def encode_texts(
        self, word_lists: Sequence[Sequence[str]], prompts: Optional[Sequence[Sequence[str]]] = None
    ) -> Dict[str, torch.Tensor]:
        """
        Args:
            word_lists: words of each sequence (already made readable).
            prompts: uni-encoder only: the label prompts of each sequence.
        Returns:
            input_ids, attention_mask: `(batch, seq_len)`.
            word_index: `(batch, seq_len)`, for the sub-token representing each text word that
                word's index + 1, else 0.
            word_lengths: `(batch,)` words per sequence.
        """
        prompt_words = [self.prompt_words(p) for p in prompts] if prompts is not None else [[] for _ in word_lists]
        inputs = [list(p) + list(w) for p, w in zip(prompt_words, word_lists)]
        encoding = self.tokenizer(inputs, is_split_into_words=True, padding="longest", return_tensors="pt")
        word_index = torch.zeros_like(encoding["input_ids"])
        last = self.config.subtoken_pooling == "last"
        for row, num_prompt_words in enumerate(len(p) for p in prompt_words):
            word_ids = encoding.word_ids(row)
            for position, word_id in enumerate(word_ids):
                if word_id is None or word_id < num_prompt_words:
                    continue
                neighbour = position + 1 if last else position - 1
                neighbour_id = word_ids[neighbour] if 0 <= neighbour < len(word_ids) else None
                if neighbour_id != word_id:
                    word_index[row, position] = word_id - num_prompt_words + 1
        return {
            "input_ids": encoding["input_ids"],
            "attention_mask": encoding["attention_mask"],
            "word_index": word_index,
            "word_lengths": torch.tensor([len(w) for w in word_lists], dtype=torch.long),
        }

    def encode_labels(self, prompts: Sequence[str]) -> Dict[str, torch.Tensor]:
        """Bi-encoder: `labels_input_ids`, `labels_attention_mask` of shape `(num_labels, len)`."""
        encoding = self.labels_tokenizer(list(prompts), padding="longest", return_tensors="pt")
        return {"labels_input_ids": encoding["input_ids"], "labels_attention_mask": encoding["attention_mask"]}

    # -- prediction -----------------------------------------------------------------------
    def predict(
        self,
        model,
        texts: Sequence[str],
        labels: Labels,
        batch_size: int = 8,
        threshold: float = 0.5,
        flat_ner: bool = True,
        multi_label: bool = False,
        progress: bool = False,
        sort_by_length: bool = True,
    ) -> List[List[Dict[str, Any]]]:
        """Entities ``{start, end, text, label, score}`` of each text, in input order (see
        ``score_documents`` for ``model`` and the batching)."""
        scored = self.score_documents(
            model, texts, labels, batch_size=batch_size, threshold=threshold, progress=progress, sort_by_length=sort_by_length
        )
        return [document.entities(threshold, flat_ner, multi_label) for document in scored]

    def score_documents(
        self,
        model,
        texts: Sequence[str],
        labels: Labels,
        batch_size: int = 8,
        threshold: float = 0.5,
        progress: bool = False,
        sort_by_length: bool = True,
    ) -> List["ScoredDocument"]:
        """Runs ``model`` once over every window of every text and keeps every span/label scoring
        above ``threshold``, so that several decodings (flat or nested, single or multi-label,
        any higher threshold) can be drawn from one forward pass (``ScoredDocument.entities``).

        ``model`` is anything called like the GLiNER models' forward (``model(**inputs).logits``)
        with ``device`` and, for a bi-encoder, ``embed_labels(prompts)``: the PyTorch models and
        the ONNX runtime. Texts longer than ``config.max_len`` words (or the encoder's sub-token
        limit) are read in overlapping windows, never truncated; uni-encoder label sets larger
        than ``config.max_types`` in several passes. ``sort_by_length`` batches windows of
        similar length together (less padding, faster); False keeps input order, batch for
        batch as the reference package does."""
        check_texts(texts)
        threshold = check_threshold(threshold)
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be an integer >= 1, got {batch_size!r}")
        prompts, names = normalize_labels(labels)
        name_of = dict(zip(prompts, names))
        chunks = self.label_chunks(prompts)
        chunk_offsets = [sum(len(chunk) for chunk in chunks[:index]) for index in range(len(chunks))]
        decoder = SpanDecoder(self.config.max_width)

        documents: List[ScoredDocument] = []
        readable: List[List[str]] = []
        tasks: List[WindowTask] = []
        for doc_index, text in enumerate(texts):
            words = self.split_words(text)
            tokens = [word for word, _, _ in words]
            counts = self.word_token_counts(tokens)
            documents.append(ScoredDocument(text, words, [], decoder))
            readable.append(self.readable_words(tokens, counts))
            if not words:
                continue
            for chunk_index, chunk in enumerate(chunks):
                prompt_tokens = 0 if self.config.is_bi_encoder else self.prompt_token_count(chunk)
                windows = plan_windows(
                    tokens,
                    [max(count, 1) for count in counts],
                    max_words=self.config.max_len,
                    max_tokens=self.max_sequence_tokens - prompt_tokens,
                    overlap=self.config.window_overlap,
                )
                tasks.extend(WindowTask(doc_index, window, chunk_index) for window in windows)

        batches = []
        for chunk_index in range(len(chunks)):
            chunk_tasks = [task for task in tasks if task.label_chunk == chunk_index]
            if sort_by_length:  # longest first: each batch holds windows of similar length
                chunk_tasks.sort(key=lambda task: task.window.start - task.window.end)
            batches += [chunk_tasks[start : start + batch_size] for start in range(0, len(chunk_tasks), batch_size)]
        if progress:
            from tqdm.auto import tqdm

            batches = tqdm(batches, desc="predicting", unit="batch")
        label_cache: Dict[int, torch.Tensor] = {}
        model.eval()
        with torch.inference_mode():
            for batch in batches:
                chunk_index = batch[0].label_chunk
                chunk = chunks[chunk_index]
                word_lists = [readable[task.document][task.window.start : task.window.end] for task in batch]
                inputs = self.encode_texts(word_lists, None if self.config.is_bi_encoder else [chunk] * len(batch))
                if self.config.is_bi_encoder:
                    if chunk_index not in label_cache:
                        label_cache[chunk_index] = model.embed_labels(chunk)
                    inputs["label_embeddings"] = label_cache[chunk_index]
                inputs = {key: value.to(model.device) for key, value in inputs.items()}
                logits = model(**inputs).logits.cpu()
                label_names = [name_of[prompt] for prompt in chunk]
                for row, task in enumerate(batch):
                    window = task.window
                    documents[task.document].candidates.extend(
                        decoder.candidates(
                            logits[row],
                            window.end - window.start,
                            label_names,
                            threshold,
                            word_offset=window.start,
                            min_start=window.own_start - window.start,
                            max_start=window.own_end - window.start,
                            label_offset=chunk_offsets[chunk_index],
                        )
                    )
        return documents


@dataclass
class ScoredDocument:
    """A text, its words ``(word, start_char, end_char)`` and its span candidates."""

    text: str
    words: List[tuple]
    candidates: List[SpanCandidate]
    decoder: SpanDecoder

    def entities(self, threshold: float, flat_ner: bool = True, multi_label: bool = False) -> List[Dict[str, Any]]:
        """Decoded entities ``{start, end, text, label, score}`` (character offsets)."""
        threshold = as_float32(check_threshold(threshold))
        kept = [candidate for candidate in self.candidates if candidate.score > threshold]
        entities = []
        for span in self.decoder.select(kept, flat_ner=flat_ner, multi_label=multi_label):
            start, end = self.words[span.start][1], self.words[span.end][2]
            entities.append(
                {"start": start, "end": end, "text": self.text[start:end], "label": span.label, "score": span.score}
            )
        return entities
