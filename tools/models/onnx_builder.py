"""Small helper to build deterministic ONNX graphs (opset 17) from numpy weights.

All 4-D activations are kept in NCHW inside the graph (the layout onnxruntime's CPU
kernels prefer); callers transpose the NHWC model input once at the start and any NHWC
output once at the end.
"""
import re

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 17
IR_VERSION = 8  # onnx 1.12 (Debian bookworm) writes IR 8; onnxruntime >= 1.10 reads it


def same_pads(in_size, k, stride, dilation=1):
    """TensorFlow 'SAME' padding: returns (before, after); the extra pixel goes after."""
    out = -(-in_size // stride)
    eff_k = (k - 1) * dilation + 1
    total = max((out - 1) * stride + eff_k - in_size, 0)
    return total // 2, total - total // 2


def conv_out(in_size, k, stride, dilation, pad_b, pad_a):
    eff_k = (k - 1) * dilation + 1
    return (in_size + pad_b + pad_a - eff_k) // stride + 1


class OnnxGraph:
    def __init__(self, name):
        self.name = name
        self.nodes = []
        self.inits = []
        self.used = set()

    def uniq(self, base):
        base = re.sub(r'[^A-Za-z0-9_/.\-]', '_', base)
        name, k = base, 1
        while name in self.used:
            k += 1
            name = '%s_%d' % (base, k)
        self.used.add(name)
        return name

    def const(self, base, arr):
        arr = np.ascontiguousarray(arr)
        name = self.uniq(base)
        self.inits.append(numpy_helper.from_array(arr, name))
        return name

    def node(self, op, inputs, base, n_out=1, **attrs):
        outs = [self.uniq(base if n_out == 1 else '%s:%d' % (base, i)) for i in range(n_out)]
        self.nodes.append(helper.make_node(op, list(inputs), outs, name=outs[0], **attrs))
        return outs[0] if n_out == 1 else outs

    def activation(self, x, act, base):
        if act is None:
            return x
        if act == 'RELU':
            return self.node('Relu', [x], base + '/Relu')
        if act == 'RELU6':
            lo = self.const(base + '/clip_min', np.array(0.0, np.float32))
            hi = self.const(base + '/clip_max', np.array(6.0, np.float32))
            return self.node('Clip', [x, lo, hi], base + '/Relu6')
        if act == 'SIGMOID':
            return self.node('Sigmoid', [x], base + '/Sigmoid')
        raise NotImplementedError('activation %s' % act)

    def conv(self, x, w_oihw, bias, strides, pads, group, base, dilations=(1, 1), act=None):
        """pads = (top, left, bottom, right); bias may be None."""
        w = self.const(base + '/W', w_oihw.astype(np.float32))
        ins = [x, w]
        if bias is not None:
            ins.append(self.const(base + '/B', bias.astype(np.float32)))
        y = self.node('Conv', ins, base, kernel_shape=list(w_oihw.shape[2:]),
                      strides=list(strides), pads=list(pads), group=int(group),
                      dilations=list(dilations))
        return self.activation(y, act, base)

    def make_model(self, inputs, outputs, doc=''):
        """inputs/outputs: lists of (name, shape) float32 tensors."""
        g = helper.make_graph(
            self.nodes, self.name,
            [helper.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in inputs],
            [helper.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in outputs],
            initializer=self.inits)
        m = helper.make_model(g, opset_imports=[helper.make_opsetid('', OPSET)],
                              producer_name='metapixel tools/models', producer_version='1',
                              doc_string=doc)
        m.ir_version = IR_VERSION
        onnx.checker.check_model(m)
        inferred = onnx.shape_inference.infer_shapes(m, strict_mode=True)
        for vi in inferred.graph.output:
            want = dict(outputs)[vi.name]
            got = [d.dim_value for d in vi.type.tensor_type.shape.dim]
            if got != list(want):
                raise ValueError('output %s shape %s != %s' % (vi.name, got, want))
        return m


def save(model, path):
    data = model.SerializeToString(deterministic=True)
    with open(path, 'wb') as f:
        f.write(data)
    return data
