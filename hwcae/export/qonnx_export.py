"""Brevitas -> QONNX export, qonnx clean-up and channels-last conversion, executor check.

The stock ``ConvertToChannelsLastAndClean`` loops forever on 1-D networks with a residual add
(qonnx 1.0.0: for 3-D tensors the to-last and to-first permutations coincide, and its
``MoveChanFirstDownstream`` step pushes transposes back and forth across the Add). We run the
same sub-transformations without that step, once. A final rewrite folds the transpose before the
codeword ArgMax into the ArgMax's axis, so the firmware has no transpose there.
"""
from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
import torch


def export(encoder, path: str | os.PathLike) -> Path:
    """Export the encoder (indices as output) to QONNX with the classic (non-dynamo) exporter."""
    from brevitas.export import export_qonnx

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    encoder.eval()
    module, example = encoder.export_view()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        export_qonnx(module, example, str(path), dynamo=False)
    return path


def cleaned(path: str | os.PathLike):
    from qonnx.core.modelwrapper import ModelWrapper
    from qonnx.util.cleanup import cleanup_model

    return cleanup_model(ModelWrapper(str(path)))


def to_channels_last(model):
    """Channels-last graph for hls4ml (conv input (1, 64, 4); a dense encoder's is (1, 256),
    sample-major, already), without the looping step; Gemms become MatMuls, as hls4ml's QONNX
    front end expects."""
    from qonnx.transformation import channels_last as cl
    from qonnx.transformation.fold_constants import FoldConstants
    from qonnx.transformation.gemm_to_matmul import GemmToMatMul
    from qonnx.transformation.infer_shapes import InferShapes
    from qonnx.util.cleanup import cleanup_model

    for t in (cl.InsertChannelsLastDomainsAndTrafos(), cl.RemoveConsecutiveChanFirstAndChanLastTrafos(),
              cl.MoveChanLastUpstream(), cl.FoldTransposeIntoQuantInit(), cl.RemoveConsecutiveChanFirstAndChanLastTrafos(),
              cl.MoveTransposePastFork(), cl.RemoveConsecutiveChanFirstAndChanLastTrafos(), cl.AbsorbChanFirstIntoMatMul(),
              cl.MakeInputChannelsLast(), cl.RemoveConsecutiveChanFirstAndChanLastTrafos(), InferShapes(), FoldConstants(),
              GemmToMatMul()):
        model = model.transform(t)
    model = cleanup_model(model)
    _fold_transpose_into_argmax(model)
    return cleanup_model(model)


def _fold_transpose_into_argmax(model) -> None:
    g = model.graph
    for node in list(g.node):
        if node.op_type != "ArgMax":
            continue
        prod = model.find_producer(node.input[0])
        if prod is None or prod.op_type != "Transpose" or list(prod.attribute[0].ints) != [0, 2, 1]:
            continue
        node.input[0] = prod.input[0]
        for a in node.attribute:
            if a.name == "axis":
                a.i = 2 if a.i == 1 else 1
        if not model.find_consumers(prod.output[0]):
            g.node.remove(prod)


def latent_quant(model):
    """The latent word's Quant node: the first activation Quant upstream of the codeword ArgMax."""
    node = next(n for n in model.graph.node if n.op_type == "ArgMax")
    while node.op_type != "Quant" or model.get_initializer(node.input[0]) is not None:
        producers = [model.find_producer(i) for i in node.input if model.get_initializer(i) is None]
        node = next(p for p in producers if p is not None and  # skip quantised weights
                    not (p.op_type == "Quant" and model.get_initializer(p.input[0]) is not None))
    return node


def execute(model, x: np.ndarray, batch: int = 512) -> tuple[np.ndarray, np.ndarray]:
    """Run qonnx's own executor on normalised input in the graph's layout (the encoder's
    ``to_export_layout``): (latent values (N, D, L), indices (N, L))."""
    from qonnx.core.onnx_exec import execute_onnx
    from qonnx.transformation.change_batchsize import ChangeBatchSize
    from qonnx.transformation.infer_shapes import InferShapes

    latent_name = latent_quant(model).output[0]
    inp, out = model.graph.input[0].name, model.graph.output[0].name
    lat, idx = [], []
    for i in range(0, len(x), batch):
        xb = np.ascontiguousarray(x[i:i + batch], np.float32)
        m = model.transform(ChangeBatchSize(len(xb))).transform(InferShapes())
        ctx = execute_onnx(m, {inp: xb}, return_full_exec_context=True)
        z, positions = ctx[latent_name], ctx[out].shape[1]
        if z.ndim == 2:  # dense: the flat position-major latent (N, L x D) -> (N, D, L)
            z = z.reshape(len(z), positions, -1).transpose(0, 2, 1)
        lat.append(z)
        idx.append(ctx[out])
    return np.concatenate(lat), np.concatenate(idx)
