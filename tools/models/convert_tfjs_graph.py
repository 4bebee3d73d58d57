#!/usr/bin/env python3
"""Convert a TensorFlow.js graph model (model.json + weight shards) to ONNX.

Usage:
  convert_tfjs_graph.py MODEL_JSON WEIGHTS_DIR OUT_ONNX --name GRAPH_NAME \
      --input image --output TF_TENSOR=ONNX_NAME [--output ...] [--doc TEXT]

Only the sub-graph that feeds the requested outputs is converted (e.g. CenterNet's
TopK/Gather decoding or nsfwjs' classifier head are dropped). Weights are decoded the way
TensorFlow.js decodes them (float16 -> float32; uint8 affine: q * scale + min computed in
double precision, then rounded to float32). Activations are NCHW inside the graph; the
NHWC model input is transposed once, 4-D outputs are transposed back to NHWC.

--free-hw M gives the ONNX input symbolic height and width (any multiples of M, e.g. 32 for
a backbone of total stride 32) instead of the graph's fixed ones. Only a graph whose
explicit SAME pads cannot depend on the size is accepted (every strided convolution sees
a size divisible by its stride, so TF's pad total is k - stride whatever the size),
ResizeBilinear must be an integer upsampling (written as Resize scales, not sizes), and
the result is still shape-checked at the graph's own size before the dims are freed.

Supported TF ops: Placeholder, Const, Identity, Conv2D, _FusedConv2D and
(Fused)DepthwiseConv2dNative (fused BiasAdd / Relu / Relu6), Add, AddV2, Sub, Mul, Relu,
Relu6, Sigmoid, Mean over H,W (keep_dims), AvgPool, ResizeBilinear (no align_corners, no
half-pixel centres), ConcatV2 on the channel axis, Squeeze of H,W.
"""
import argparse
import base64
import json
import os

import numpy as np
import onnx

from onnx_builder import OnnxGraph, conv_out, same_pads, save

NP_DTYPES = {'float32': np.float32, 'int32': np.int32, 'bool': np.bool_}
Q_DTYPES = {'uint8': np.uint8, 'uint16': np.uint16, 'float16': np.float16}


def load_weights(model, weights_dir):
    """Decode the weights manifest like tfjs-core io.decodeWeights."""
    out = {}
    for group in model['weightsManifest']:
        data = b''.join(open(os.path.join(weights_dir, p), 'rb').read() for p in group['paths'])
        off = 0
        for w in group['weights']:
            shape = [int(s) for s in w['shape']]
            n = int(np.prod(shape)) if shape else 1
            q = w.get('quantization')
            if q:
                qt = np.dtype(Q_DTYPES[q['dtype']]).newbyteorder('<')
                raw = np.frombuffer(data, dtype=qt, count=n, offset=off)
                off += n * qt.itemsize
                if q['dtype'] == 'float16':
                    vals = raw.astype(np.float32)
                else:
                    vals = (raw.astype(np.float64) * q['scale'] + q['min']).astype(np.float32)
                vals = vals.astype(NP_DTYPES[w['dtype']])
            else:
                dt = np.dtype(NP_DTYPES[w['dtype']]).newbyteorder('<')
                vals = np.frombuffer(data, dtype=dt, count=n, offset=off).copy()
                off += n * dt.itemsize
            out[w['name']] = vals.reshape(shape)
        if off != len(data):
            raise ValueError('weights group size mismatch: %d != %d' % (off, len(data)))
    return out


def attr(node, key, default=None):
    a = node.get('attr', {}).get(key)
    if a is None:
        return default
    if 's' in a:
        return base64.b64decode(a['s']).decode()
    if 'list' in a:
        lst = a['list']
        if 's' in lst:
            return [base64.b64decode(s).decode() for s in lst['s']]
        if 'i' in lst:
            return [int(i) for i in lst['i']]
        if 'f' in lst:
            return [float(f) for f in lst['f']]
        return []
    if 'i' in a:
        return int(a['i'])
    if 'f' in a:
        return float(a['f'])
    if 'b' in a:
        return bool(a['b'])
    return a


def clean(ref):
    ref = ref.lstrip('^')
    if ':' in ref:
        name, idx = ref.rsplit(':', 1)
        if idx.isdigit():
            if idx != '0':
                raise NotImplementedError('multi-output node ref %s' % ref)
            return name
    return ref


def short(name):
    for p in ('StatefulPartitionedCall/sequential/keras_layer/StatefulPartitionedCall/'
              'StatefulPartitionedCall/StatefulPartitionedCall/predict/', 'tower_0/'):
        if name.startswith(p):
            return name[len(p):]
    return name


def convert(model, weights, input_name, outputs, graph_name, doc, free_hw=0):
    nodes = {n['name']: n for n in model['modelTopology']['node']}
    order, seen = [], set()

    def visit(n):  # iterative post-order DFS, deterministic
        stack = [(n, False)]
        while stack:
            cur, done = stack.pop()
            if done:
                order.append(cur)
                continue
            if cur in seen:
                continue
            seen.add(cur)
            stack.append((cur, True))
            for i in reversed(nodes[cur].get('input', [])):
                if not i.startswith('^'):
                    stack.append((clean(i), False))

    for tf_name, _ in outputs:
        visit(tf_name)

    g = OnnxGraph(graph_name)
    consts = {}   # tf name -> numpy constant
    val = {}      # tf name -> (onnx name, nhwc shape, layout 'NCHW'|'PLAIN')
    in_shape = None

    def cval(ref):
        return consts.get(clean(ref))

    for name in order:
        n = nodes[name]
        op = n['op']
        ins = [clean(i) for i in n.get('input', []) if not i.startswith('^')]
        base = short(name)
        if op == 'Const':
            if name not in weights:
                raise ValueError('constant %s has no weight data' % name)
            consts[name] = weights[name]
            continue
        if op == 'Placeholder':
            dims = [int(d.get('size', -1)) for d in attr(n, 'shape')['shape']['dim']]
            dims[0] = 1 if dims[0] == -1 else dims[0]
            in_shape = dims
            x = g.node('Transpose', [input_name], 'input_nchw', perm=[0, 3, 1, 2])
            val[name] = (x, dims, 'NCHW')
            continue
        if op == 'Identity':
            val[name] = val[ins[0]]
            continue
        if op in ('Conv2D', '_FusedConv2D', 'DepthwiseConv2dNative', 'FusedDepthwiseConv2dNative'):
            if attr(n, 'data_format', 'NHWC') != 'NHWC':
                raise NotImplementedError('data_format')
            x, (b, h, w, c), layout = val[ins[0]]
            assert layout == 'NCHW'
            filt = consts[ins[1]].astype(np.float32)
            kh, kw = filt.shape[:2]
            fused = attr(n, 'fused_ops', []) if op.startswith(('_Fused', 'Fused')) else []
            bias, act = None, None
            for f in fused:
                if f == 'BiasAdd':
                    bias = consts[ins[2]]
                elif f in ('Relu', 'Relu6'):
                    act = f.upper()
                else:
                    raise NotImplementedError('fused op %s' % f)
            if fused and fused[0] != 'BiasAdd':
                raise NotImplementedError('fused ops %s' % fused)
            _, sh, sw, _ = attr(n, 'strides')
            _, dh, dw, _ = attr(n, 'dilations', [1, 1, 1, 1])
            pad = attr(n, 'padding')
            if free_hw and (sh, sw) != (1, 1):
                # (Stride 1 SAME pads are k - 1 at any size.) A strided layer sees input/S
                # for the input's total stride S so far, a multiple of M/S when the input is
                # a multiple of M, so M/S must divide by the stride.
                for size, full, st in ((h, in_shape[1], sh), (w, in_shape[2], sw)):
                    if full % size or free_hw % ((full // size) * st):
                        raise NotImplementedError('--free-hw %d: %s (input/%s, stride %d) could need other pads' % (free_hw, name, full / size, st))
            if pad == 'SAME':
                pt, pb = same_pads(h, kh, sh, dh)
                pl, pr = same_pads(w, kw, sw, dw)
            elif pad == 'VALID':
                pt = pb = pl = pr = 0
            else:
                raise NotImplementedError('padding %s' % pad)
            if 'Depthwise' in op:
                cin, mult = filt.shape[2], filt.shape[3]
                w_oihw = filt.reshape(kh, kw, cin * mult).transpose(2, 0, 1)[:, None]
                group, cout = cin, cin * mult
            else:
                w_oihw = filt.transpose(3, 2, 0, 1)
                group, cout = 1, filt.shape[3]
            y = g.conv(x, w_oihw, bias, (sh, sw), (pt, pl, pb, pr), group, base, (dh, dw), act)
            oh = conv_out(h, kh, sh, dh, pt, pb)
            ow = conv_out(w, kw, sw, dw, pl, pr)
            val[name] = (y, [b, oh, ow, cout], 'NCHW')
            continue
        if op in ('Add', 'AddV2', 'Sub', 'Mul'):
            onnx_op = {'Add': 'Add', 'AddV2': 'Add', 'Sub': 'Sub', 'Mul': 'Mul'}[op]
            operands, shapes, layout = [], [], None
            for i in ins:
                if i in consts:
                    operands.append(None)
                    shapes.append(list(consts[i].shape))
                else:
                    xn, s, l = val[i]
                    operands.append(xn)
                    shapes.append(s)
                    if layout not in (None, l):
                        raise NotImplementedError('mixed layouts in %s' % name)
                    layout = l
            rank = max(len(s) for s in shapes)
            out_shape = list(np.broadcast_shapes(*[tuple(s) for s in shapes]))
            names = []
            for i, xn in zip(ins, operands):
                if xn is not None:
                    names.append(xn)
                    continue
                c = consts[i].astype(np.float32)
                if layout == 'NCHW' and c.ndim > 0 and c.size > 1:
                    c = c.reshape([1] * (rank - c.ndim) + list(c.shape)).transpose(0, 3, 1, 2)
                names.append(g.const(base + '/' + short(i).split('/')[-1], c))
            val[name] = (g.node(onnx_op, names, base), out_shape, layout)
            continue
        if op in ('Relu', 'Relu6', 'Sigmoid'):
            x, s, l = val[ins[0]]
            act = {'Relu': 'RELU', 'Relu6': 'RELU6', 'Sigmoid': 'SIGMOID'}[op]
            val[name] = (g.activation(x, act, base.rsplit('/', 1)[0] if '/' in base else base), s, l)
            continue
        if op == 'Mean':
            x, (b, h, w, c), l = val[ins[0]]
            axes = sorted(int(a) % 4 for a in np.ravel(consts[ins[1]]))
            if axes != [1, 2] or not attr(n, 'keep_dims', False) or l != 'NCHW':
                raise NotImplementedError('Mean over %s' % axes)
            val[name] = (g.node('GlobalAveragePool', [x], base), [b, 1, 1, c], l)
            continue
        if op == 'AvgPool':
            x, (b, h, w, c), l = val[ins[0]]
            _, kh, kw, _ = attr(n, 'ksize')
            _, sh, sw, _ = attr(n, 'strides')
            if attr(n, 'padding') != 'VALID':
                raise NotImplementedError('AvgPool padding')
            if (kh, kw) == (h, w):
                y = g.node('GlobalAveragePool', [x], base)
            else:
                y = g.node('AveragePool', [x], base, kernel_shape=[kh, kw], strides=[sh, sw])
            val[name] = (y, [b, (h - kh) // sh + 1, (w - kw) // sw + 1, c], l)
            continue
        if op == 'Squeeze':
            x, s, l = val[ins[0]]
            dims = sorted(d % len(s) for d in attr(n, 'squeeze_dims'))
            if l != 'NCHW' or dims != [1, 2] or s[1] != 1 or s[2] != 1:
                raise NotImplementedError('Squeeze %s' % dims)
            ax = g.const(base + '/axes', np.array([2, 3], np.int64))
            val[name] = (g.node('Squeeze', [x, ax], base), [s[0], s[3]], 'PLAIN')
            continue
        if op == 'ResizeBilinear':
            x, (b, h, w, c), l = val[ins[0]]
            if attr(n, 'align_corners', False) or attr(n, 'half_pixel_centers', False):
                raise NotImplementedError('ResizeBilinear mode')
            oh, ow = [int(v) for v in consts[ins[1]]]
            roi = g.const(base + '/roi', np.zeros((0,), np.float32))
            if free_hw:
                # The same output at this size (asymmetric mode, exact integer factor), and
                # the right one at any other.
                fy, fx = oh // h, ow // w
                if oh != fy * h or ow != fx * w:
                    raise NotImplementedError('--free-hw: ResizeBilinear %dx%d -> %dx%d is not an integer upsampling' % (h, w, oh, ow))
                scales = g.const(base + '/scales', np.array([1, 1, fy, fx], np.float32))
                y = g.node('Resize', [x, roi, scales], base, mode='linear',
                           coordinate_transformation_mode='asymmetric')
            else:
                scales = g.const(base + '/scales', np.zeros((0,), np.float32))
                sizes = g.const(base + '/sizes', np.array([b, c, oh, ow], np.int64))
                y = g.node('Resize', [x, roi, scales, sizes], base, mode='linear',
                           coordinate_transformation_mode='asymmetric')
            val[name] = (y, [b, oh, ow, c], l)
            continue
        if op == 'ConcatV2':
            axis = int(consts[ins[-1]])
            parts = [val[i] for i in ins[:-1]]
            s0 = parts[0][1]
            if any(p[2] != 'NCHW' for p in parts) or axis % 4 != 3:
                raise NotImplementedError('ConcatV2 axis %d' % axis)
            y = g.node('Concat', [p[0] for p in parts], base, axis=1)
            val[name] = (y, s0[:3] + [sum(p[1][3] for p in parts)], 'NCHW')
            continue
        raise NotImplementedError('op %s (%s)' % (op, name))

    outs = []
    for tf_name, onnx_name in outputs:
        x, s, l = val[tf_name]
        if l == 'NCHW':
            g.node('Transpose', [x], onnx_name, perm=[0, 2, 3, 1])
        else:
            g.node('Identity', [x], onnx_name)
        outs.append((onnx_name, s))
    model = g.make_model([(input_name, in_shape)], outs, doc=doc)
    if free_hw:
        if in_shape[1] % free_hw or in_shape[2] % free_hw:
            raise NotImplementedError('--free-hw %d: the graph input is %s' % (free_hw, in_shape))
        free_dims(model, input_name)
    return model


def free_dims(model, input_name):
    """Input [N,H,W,C] -> [N,'height','width',C]; each 4-D output's H and W become
    'height/S', 'width/S' for its stride S, as documentation (onnxruntime infers them)."""
    ins = {vi.name: vi for vi in model.graph.input}
    in_dims = ins[input_name].type.tensor_type.shape.dim
    h, w = in_dims[1].dim_value, in_dims[2].dim_value
    in_dims[1].dim_param, in_dims[2].dim_param = 'height', 'width'
    for vi in model.graph.output:
        d = vi.type.tensor_type.shape.dim
        if len(d) == 4:
            sy, sx = h // d[1].dim_value, w // d[2].dim_value
            d[1].dim_param = 'height' if sy == 1 else 'height/%d' % sy
            d[2].dim_param = 'width' if sx == 1 else 'width/%d' % sx
    onnx.checker.check_model(model)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('model_json')
    ap.add_argument('weights_dir')
    ap.add_argument('out')
    ap.add_argument('--name', required=True)
    ap.add_argument('--input', default='image')
    ap.add_argument('--output', action='append', required=True, help='TF_TENSOR=ONNX_NAME')
    ap.add_argument('--doc', default='')
    ap.add_argument('--free-hw', type=int, default=0, metavar='M',
                    help='symbolic input height and width (multiples of M)')
    a = ap.parse_args()
    model = json.load(open(a.model_json))
    weights = load_weights(model, a.weights_dir)
    outputs = [tuple(o.split('=', 1)) for o in a.output]
    data = save(convert(model, weights, a.input, outputs, a.name, a.doc, a.free_hw), a.out)
    print('wrote %s (%d bytes)' % (a.out, len(data)))


if __name__ == '__main__':
    main()
