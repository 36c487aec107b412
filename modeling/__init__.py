"""GLiNER span models as transformers models.

This folder is copied into every converted model repository for ``trust_remote_code``:
modules here import only torch, transformers and each other (relative imports).
"""

from .configuration_gliner import GLiNERConfig
from .modeling_gliner_base import GLiNEROutput, GLiNERPreTrainedModel
from .modeling_gliner_bi_encoder import GLiNERBiEncoderModel
from .modeling_gliner_uni_encoder import GLiNERUniEncoderModel


def model_class_for(config: GLiNERConfig):
    """The model class of a config: bi-encoder when it has a labels encoder."""
    return GLiNERBiEncoderModel if config.is_bi_encoder else GLiNERUniEncoderModel


__all__ = [
    "GLiNERConfig",
    "GLiNEROutput",
    "GLiNERPreTrainedModel",
    "GLiNERUniEncoderModel",
    "GLiNERBiEncoderModel",
    "model_class_for",
]
