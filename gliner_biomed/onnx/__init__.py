"""GLiNER span models on ONNX Runtime: export of the span-logits graph (``export``), int8
dynamic quantization (``quantize``) and a runner that plugs into the PyTorch model's own
pre-processing, windowing and decoding (``runtime.OnnxGLiNER``)."""

from .export import ExportOptions, export_onnx
from .runtime import OnnxGLiNER

__all__ = ["ExportOptions", "export_onnx", "OnnxGLiNER"]
