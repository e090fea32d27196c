"""Importers: torch.fx, SCALE-Sim topology CSV, ONNX."""
