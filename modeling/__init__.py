"""GLiNER span models as transformers models.

This folder is copied into every saved model repository for ``trust_remote_code``, laid out as
the Hub's remote-code repositories are: ``configuration_gliner.py``, ``modeling_gliner.py``,
``processing_gliner.py``, ``pipeline_gliner.py``. Modules here import only torch, transformers
and each other (relative imports).
"""

from .configuration_gliner import GLiNERConfig, backbone_config_from_dict
from .modeling_gliner import (
    GLiNERBiEncoderModel,
    GLiNEROutput,
    GLiNERPreTrainedModel,
    GLiNERUniEncoderModel,
    PerTextDisentangledSelfAttention,
    SpanMarkerHead,
    focal_loss_with_logits,
    pool_words,
    set_per_text_attention,
)
from .pipeline_gliner import PIPELINE_TASK, GLiNERPipeline
from .processing_gliner import (
    LABELS_TOKENIZER_FOLDER,
    GLiNERProcessor,
    ScoredDocument,
    SpanDecoder,
    WordSplitter,
    check_threshold,
    normalize_labels,
    plan_windows,
    split_words,
)


def model_class_for(config: GLiNERConfig):
    """The model class of a config: bi-encoder when it has a labels encoder."""
    return GLiNERBiEncoderModel if config.is_bi_encoder else GLiNERUniEncoderModel


__all__ = [
    "GLiNERConfig",
    "GLiNEROutput",
    "GLiNERPipeline",
    "GLiNERPreTrainedModel",
    "GLiNERProcessor",
    "GLiNERUniEncoderModel",
    "GLiNERBiEncoderModel",
    "LABELS_TOKENIZER_FOLDER",
    "PIPELINE_TASK",
    "PerTextDisentangledSelfAttention",
    "ScoredDocument",
    "SpanDecoder",
    "SpanMarkerHead",
    "WordSplitter",
    "backbone_config_from_dict",
    "check_threshold",
    "focal_loss_with_logits",
    "model_class_for",
    "normalize_labels",
    "plan_windows",
    "pool_words",
    "set_per_text_attention",
    "split_words",
]
