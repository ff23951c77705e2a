"""Deployment: ONNX and ``.pt2`` export, quantization, prediction and benchmarks."""
