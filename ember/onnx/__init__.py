"""``torch.onnx`` for ember: export a model to an ONNX file by tracing it once.

Needs the onnx package (``pip install 'ember[onnx]'``), imported when ``export`` runs.
"""
from ._export import OperatorExportTypes, TrainingMode, export, is_in_onnx_export

__all__ = ["OperatorExportTypes", "TrainingMode", "export", "is_in_onnx_export"]
