"""What every GLiNER span model shares: weights layout of the heads, loading and saving with
tokenizers, and the prediction API (``predict_entities`` / ``inference``)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence

import torch
from torch import nn
from transformers import AutoTokenizer, PreTrainedModel
from transformers.utils import ModelOutput

from .attention_deberta_v2 import set_per_text_attention
from .configuration_gliner import GLiNERConfig
from .decoding_gliner import SpanCandidate, SpanDecoder, as_float32
from .layers_gliner import ProjectionMLP, SpanMarkerHead, WordBiLSTM, enumerate_spans, focal_loss_with_logits, pool_words
from .processing_gliner import GLiNERProcessor, Labels, WindowTask, normalize_labels, plan_windows

LABELS_TOKENIZER_FOLDER = "labels_tokenizer"
HUB_KWARGS = ("cache_dir", "revision", "token", "local_files_only", "subfolder", "force_download", "proxies")


@dataclass
class GLiNEROutput(ModelOutput):
    """
    Args:
        loss: scalar, when `span_labels` were given.
        logits: `(batch, num_words, max_width, num_labels)` span-label scores (before sigmoid).
        span_mask: `(batch, num_words, max_width)`, true for spans inside their text.
    """

    loss: Optional[torch.FloatTensor] = None
    logits: Optional[torch.FloatTensor] = None
    span_mask: Optional[torch.BoolTensor] = None


class GLiNERPreTrainedModel(PreTrainedModel):
    """Base of the GLiNER span models. Subclasses build ``text_encoder`` (and the labels
    encoder) and implement ``encode`` → ``(words, word_mask, label_embeddings)``."""

    config_class = GLiNERConfig
    base_model_prefix = "gliner"
    main_input_name = "input_ids"
    _tied_weights_keys: Dict[str, str] = {}

    def _init_heads(self, config: GLiNERConfig, encoder_hidden_size: int) -> None:
        self.text_projection = (
            nn.Linear(encoder_hidden_size, config.hidden_size) if encoder_hidden_size != config.hidden_size else None
        )
        self.word_lstm = WordBiLSTM(config.hidden_size, config.num_rnn_layers) if config.num_rnn_layers > 0 else None
        self.span_head = SpanMarkerHead(config.hidden_size, config.max_width, config.dropout)
        self.label_projection = ProjectionMLP(config.hidden_size, config.dropout)
        self.tokenizer = None
        self.labels_tokenizer = None

    def set_per_text_attention(self, enabled: bool) -> None:
        """Switches the DeBERTa-v2 backbones' per-text attention (``config.per_text_attention``)
        on or off; the weights are untouched."""
        self.config.per_text_attention = enabled
        set_per_text_attention(self, enabled)

    def _init_weights(self, module: nn.Module) -> None:
        # Heads keep PyTorch's default initialisation (as the reference does); backbones are
        # initialised by their own classes or loaded from checkpoints.
        pass

    # -- shared forward pieces ------------------------------------------------------------
    def encode_text(self, input_ids: torch.LongTensor, attention_mask: torch.LongTensor) -> torch.Tensor:
        """`(batch, seq_len)` sub-tokens -> `(batch, seq_len, hidden)` projected states."""
        states = self.text_encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        if self.text_projection is not None:
            states = self.text_projection(states)
        return states

    def encode_words(
        self, states: torch.Tensor, word_index: torch.LongTensor, word_lengths: torch.LongTensor
    ) -> torch.Tensor:
        """`(batch, seq_len, hidden)` states -> `(batch, max_words, hidden)` contextual words."""
        num_words = int(word_lengths.max())
        words = pool_words(states, word_index, num_words)
        if self.word_lstm is not None:
            word_mask = torch.arange(num_words, device=states.device)[None, :] < word_lengths[:, None]
            words = self.word_lstm(words, word_mask)
        return words

    def score_spans(
        self,
        words: torch.Tensor,
        word_lengths: torch.Tensor,
        label_embeddings: torch.Tensor,
        span_labels: Optional[torch.Tensor] = None,
        label_mask: Optional[torch.Tensor] = None,
        focal_alpha: float = -1.0,
        focal_gamma: float = 0.0,
    ) -> GLiNEROutput:
        """
        Args:
            words: `(batch, num_words, hidden)` contextual word representations.
            word_lengths: `(batch,)`.
            label_embeddings: `(batch, num_labels, hidden)` before `label_projection`.
            span_labels: `(batch, num_words, max_width, num_labels)` 0/1 targets (training).
            label_mask: `(batch, num_labels)`, true for real labels (training).
        """
        span_mask = enumerate_spans(word_lengths, words.shape[1], self.config.max_width)
        logits = self.span_head(words, self.label_projection(label_embeddings), fused=self.config.fused_span_scoring)
        loss = None
        if span_labels is not None:
            cell_mask = span_mask[..., None].to(logits.dtype)
            if label_mask is not None:
                cell_mask = cell_mask * label_mask[:, None, None, :].to(logits.dtype)
            loss = focal_loss_with_logits(logits, span_labels.to(logits.dtype), cell_mask, focal_alpha, focal_gamma)
        return GLiNEROutput(loss=loss, logits=logits, span_mask=span_mask)

    # -- tokenizers -----------------------------------------------------------------------
    @classmethod
    def from_pretrained(cls, pretrained_model_name_or_path, *model_args, **kwargs):
        model = super().from_pretrained(pretrained_model_name_or_path, *model_args, **kwargs)
        hub_kwargs = {key: kwargs[key] for key in HUB_KWARGS if key in kwargs}
        model.load_tokenizers(pretrained_model_name_or_path, **hub_kwargs)
        return model

    def load_tokenizers(self, pretrained_model_name_or_path, **hub_kwargs) -> None:
        """Loads the text tokenizer (and, for bi-encoders, the labels tokenizer) saved with the model."""
        # The folder's config.json names this (custom) model type; the tokenizer classes are
        # standard ones, but AutoTokenizer asks before reading a remote-code config. Handing it the
        # model's config spares it that read (a folder without auto_map, like an adapter package,
        # would otherwise be read as a generic config, with a warning).
        hub_kwargs["trust_remote_code"] = True
        self.tokenizer = AutoTokenizer.from_pretrained(pretrained_model_name_or_path, config=self.config, **hub_kwargs)
        if self.config.is_bi_encoder:
            subfolder = hub_kwargs.pop("subfolder", "")
            subfolder = f"{subfolder}/{LABELS_TOKENIZER_FOLDER}" if subfolder else LABELS_TOKENIZER_FOLDER
            self.labels_tokenizer = AutoTokenizer.from_pretrained(
                pretrained_model_name_or_path, subfolder=subfolder, **hub_kwargs
            )

    def save_pretrained(self, save_directory, *args, **kwargs):
        super().save_pretrained(save_directory, *args, **kwargs)
        if self.tokenizer is not None:
            self.tokenizer.save_pretrained(save_directory)
        if self.labels_tokenizer is not None:
            self.labels_tokenizer.save_pretrained(os.path.join(save_directory, LABELS_TOKENIZER_FOLDER))

    @property
    def processor(self) -> GLiNERProcessor:
        if self.tokenizer is None or (self.config.is_bi_encoder and self.labels_tokenizer is None):
            raise RuntimeError(
                "this model has no tokenizer attached: load it with from_pretrained(...) or call "
                "model.load_tokenizers(path)"
            )
        cached = getattr(self, "_processor", None)
        if cached is None or cached.tokenizer is not self.tokenizer or cached.labels_tokenizer is not self.labels_tokenizer:
            cached = GLiNERProcessor(self.config, self.tokenizer, self.labels_tokenizer)
            self._processor = cached
        return cached

    # -- prediction -----------------------------------------------------------------------
    def predict_entities(
        self,
        text: str,
        labels: Labels,
        threshold: float = 0.5,
        flat_ner: bool = True,
        multi_label: bool = False,
    ) -> List[Dict[str, Any]]:
        """Entities in one text: ``[{start, end, text, label, score}]`` with character offsets
        (end exclusive), sorted by start."""
        return self.inference([text], labels, threshold=threshold, flat_ner=flat_ner, multi_label=multi_label)[0]

    def inference(
        self,
        texts: Sequence[str],
        labels: Labels,
        batch_size: int = 8,
        threshold: float = 0.5,
        flat_ner: bool = True,
        multi_label: bool = False,
        progress: bool = False,
        sort_by_length: bool = True,
    ) -> List[List[Dict[str, Any]]]:
        """Entities of many texts, one list per text in input order.

        Texts longer than ``config.max_len`` words (or the encoder's sub-token limit) are read in
        overlapping windows and merged, never truncated. Empty or whitespace-only texts give
        ``[]``. Uni-encoder label sets larger than ``config.max_types`` are read in several
        passes.
        """
        scored = self.score_documents(
            texts, labels, batch_size=batch_size, threshold=threshold, progress=progress, sort_by_length=sort_by_length
        )
        return [document.entities(threshold, flat_ner, multi_label) for document in scored]

    @torch.inference_mode()
    def score_documents(
        self,
        texts: Sequence[str],
        labels: Labels,
        batch_size: int = 8,
        threshold: float = 0.5,
        progress: bool = False,
        sort_by_length: bool = True,
    ) -> List["ScoredDocument"]:
        """Runs the model once and keeps every span/label scoring above ``threshold``, so that
        several decodings (flat or nested, single or multi-label, any higher threshold) can be
        drawn from one forward pass (``ScoredDocument.entities``).

        ``sort_by_length`` batches windows of similar length together (less padding, faster);
        False keeps input order, batch for batch as the reference package does."""
        if isinstance(texts, str):
            raise ValueError("texts must be a list of strings; use predict_entities() for a single text")
        for index, text in enumerate(texts):
            if not isinstance(text, str):
                raise ValueError(f"text {index} is a {type(text).__name__}, not a string")
        if not 0.0 <= threshold <= 1.0:
            raise ValueError(f"threshold must be in [0, 1], got {threshold}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        prompts, names = normalize_labels(labels)
        name_of = dict(zip(prompts, names))
        processor = self.processor
        chunks = processor.label_chunks(prompts)
        chunk_offsets = [sum(len(chunk) for chunk in chunks[:index]) for index in range(len(chunks))]
        decoder = SpanDecoder(self.config.max_width)
        self.eval()

        documents: List[ScoredDocument] = []
        readable: List[List[str]] = []
        tasks: List[WindowTask] = []
        for doc_index, text in enumerate(texts):
            words = processor.split_words(text)
            tokens = [word for word, _, _ in words]
            counts = processor.word_token_counts(tokens)
            documents.append(ScoredDocument(text, words, [], decoder))
            readable.append(processor.readable_words(tokens, counts))
            if not words:
                continue
            for chunk_index, chunk in enumerate(chunks):
                prompt_tokens = 0 if self.config.is_bi_encoder else processor.prompt_token_count(chunk)
                windows = plan_windows(
                    tokens,
                    [max(count, 1) for count in counts],
                    max_words=self.config.max_len,
                    max_tokens=processor.max_sequence_tokens - prompt_tokens,
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
        for batch in batches:
            chunk_index = batch[0].label_chunk
            chunk = chunks[chunk_index]
            word_lists = [readable[task.document][task.window.start : task.window.end] for task in batch]
            inputs = processor.encode_texts(word_lists, None if self.config.is_bi_encoder else [chunk] * len(batch))
            if self.config.is_bi_encoder:
                if chunk_index not in label_cache:
                    label_cache[chunk_index] = self.embed_labels(chunk)
                inputs["label_embeddings"] = label_cache[chunk_index]
            inputs = {key: value.to(self.device) for key, value in inputs.items()}
            logits = self(**inputs).logits.cpu()
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
        threshold = as_float32(threshold)
        kept = [candidate for candidate in self.candidates if candidate.score > threshold]
        entities = []
        for span in self.decoder.select(kept, flat_ner=flat_ner, multi_label=multi_label):
            start, end = self.words[span.start][1], self.words[span.end][2]
            entities.append(
                {"start": start, "end": end, "text": self.text[start:end], "label": span.label, "score": span.score}
            )
        return entities
