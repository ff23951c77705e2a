"""INT8 and FP16 models for CPU deployment, through ``onnxruntime.quantization``, with a report.

:func:`quantize` takes a zoo model (or a name, a saved model folder, or an ``.onnx``
file written by :func:`cnnzoo.export.to_onnx`) and writes:

- ``method="int8-static"``: a QDQ model (``quant_pre_process`` first; unsigned 8-bit
  activations, signed 8-bit weights) calibrated on real images — ``MinMax`` by default,
  ``Percentile``/``Entropy`` on request or as a fallback;
- ``method="int8-dynamic"``: weights in 8 bits, activations quantized at run time
  (no calibration);
- ``method="fp16"``: weights and compute in half precision, inputs and outputs kept
  in float32 (``onnxruntime.transformers.float16``).

``per_channel="auto"`` quantizes convolution and linear weights per output channel,
except depthwise convolutions on CPUs without VNNI, which stay per tensor (the
saturating u8s8 kernels of non-VNNI x86 CPUs are what collapses per-channel
MobileNetV3 there, onnxruntime#11415); weights use a reduced 7-bit range on such
CPUs, as onnxruntime recommends.

The :class:`QuantReport` gives size, onnxruntime latency at batch 1 and N and
accuracy (or top-1 agreement with the FP32 model) before and after; a segmenter's
metric is the mIoU on labelled masks (``eval_data="digits"``: the digits ink masks),
with a default gate of 1 point, or else pixel-level top-1 agreement with FP32. With
``max_accuracy_drop`` set, a model that loses more is not returned: cnnzoo falls back
in turn to percentile calibration, per-tensor weights, keeping the first convolution,
the last linear layer and depthwise convolutions in float, and keeping the nodes
around the worst-quantized tensors in float — each attempt is listed in the report —
and raises :class:`AccuracyDropError` if none is good enough. Nothing is written to
``output`` unless a model is accepted.

The steps live in their own modules: :mod:`~cnnzoo.deploy.quantization.plan` (which
attempts, in which order, for this graph and CPU), :mod:`~cnnzoo.deploy.quantization.calibrate`
(calibration and evaluation data), :mod:`~cnnzoo.deploy.quantization.run` (the verb) and
:mod:`~cnnzoo.deploy.quantization.report` (what it reports). Latency is measured by
:mod:`cnnzoo.deploy.timing`, as ``cnnzoo bench`` measures it.
"""

from __future__ import annotations

from cnnzoo.data.images import IMAGE_SUFFIXES, as_data, digits_split, image_files, load_images
from cnnzoo.deploy.quantization.plan import CALIBRATE_METHODS, METHODS, cpu_has_vnni
from cnnzoo.deploy.quantization.report import QuantAttempt, QuantReport, QuantResult
from cnnzoo.deploy.quantization.run import quantize
from cnnzoo.deploy.runtime import QUANT_METADATA_KEY
from cnnzoo.errors import AccuracyDropError, QuantizeError

__all__ = [
    "CALIBRATE_METHODS",
    "IMAGE_SUFFIXES",
    "METHODS",
    "QUANT_METADATA_KEY",
    "AccuracyDropError",
    "QuantAttempt",
    "QuantReport",
    "QuantResult",
    "QuantizeError",
    "as_data",
    "cpu_has_vnni",
    "digits_split",
    "image_files",
    "load_images",
    "quantize",
]
