"""Bit-exactness across every implementation of a design (Brevitas, NumPy reference, qonnx, C simulation):
the comparisons in :mod:`.checks`, the one orchestrator in :mod:`.design`."""
