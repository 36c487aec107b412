"""int8 dynamic quantization of exported graphs with ONNX Runtime: weights of MatMul/Gemm (and
the LSTM) stored as int8, activations quantized on the fly. Predictions may change; the
benchmark measures by how much (F1 against the fp32 model), it never assumes they do not."""

from __future__ import annotations

from pathlib import Path

from .export import INT8_SUFFIX


def quantize_int8(graph: Path) -> Path:
    """Writes ``name.int8.onnx`` beside ``name.onnx``; returns its path."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    graph = Path(graph)
    target = graph.with_name(graph.name.replace(".onnx", f"{INT8_SUFFIX}.onnx"))
    # Signed int8 weights; per-tensor scales keep the graph runnable by every CPU kernel.
    quantize_dynamic(str(graph), str(target), weight_type=QuantType.QInt8)
    return target
