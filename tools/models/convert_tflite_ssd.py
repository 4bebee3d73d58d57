#!/usr/bin/env python3
"""Convert MediaPipe's SSD-MobileNetV2 (Open Images v4) TFLite flatbuffer to ONNX.

Usage: convert_tflite_ssd.py MODEL.tflite OUT.onnx

fp16 weights (DEQUANTIZE of constant tensors) are folded to fp32 initializers; CONV_2D /
DEPTHWISE_CONV_2D with fused bias and activation become ONNX Conv (+ Clip for RELU6);
activations are NCHW inside the graph; the NHWC input is transposed once and the box
predictor outputs are transposed back to NHWC before TFLite's RESHAPE/CONCATENATION so the
anchor order is exactly the TFLite one.
"""
import sys

import numpy as np

from onnx_builder import OnnxGraph, same_pads, save
from tflite_reader import TFLiteModel

OUT_NAMES = {'raw_outputs/box_encodings': 'raw_boxes',
             'raw_outputs/class_predictions': 'raw_scores'}
INPUT_NAME = 'image'


def short(name):
    return name.split(';')[0]


def convert(tfl: TFLiteModel):
    g = OnnxGraph('ssd_mobilenetv2_oidv4')
    consts = {}     # tensor idx -> np.ndarray (fp32) for folded constants
    val = {}        # tensor idx -> (onnx name, layout) with layout 'NCHW' or 'PLAIN'
    (inp,) = tfl.inputs
    ishape = tfl.tensors[inp]['shape']
    x = g.node('Transpose', [INPUT_NAME], 'input_nchw', perm=[0, 3, 1, 2])
    val[inp] = (x, 'NCHW')

    def const_of(i):
        if i in consts:
            return consts[i]
        v = tfl.tensor_value(i)
        if v is None:
            raise ValueError('tensor %s is not constant' % tfl.tensors[i]['name'])
        return v.astype(np.float32) if v.dtype == np.float16 else v

    def as_plain(i):
        name, layout = val[i]
        if layout == 'NCHW':
            name = g.node('Transpose', [name], short(tfl.tensors[i]['name']) + '/to_nhwc',
                          perm=[0, 2, 3, 1])
        return name

    for op in tfl.operators:
        kind, o = op['op'], op['options']
        ins, outs = op['inputs'], op['outputs']
        out_t = tfl.tensors[outs[0]]
        base = short(out_t['name'])
        if kind == 'DEQUANTIZE':
            src = tfl.tensors[ins[0]]
            if src['dtype'] != np.float16 or src['quant'] is not None:
                raise NotImplementedError('only fp16 constant dequantize is supported')
            consts[outs[0]] = tfl.tensor_value(ins[0]).astype(np.float32)
            continue
        if kind in ('CONV_2D', 'DEPTHWISE_CONV_2D'):
            xin, layout = val[ins[0]]
            assert layout == 'NCHW'
            _, h, w, cin = tfl.tensors[ins[0]]['shape']
            wt = const_of(ins[1])
            bias = const_of(ins[2]) if len(ins) > 2 and ins[2] >= 0 else None
            if kind == 'CONV_2D':
                w_oihw = wt.transpose(0, 3, 1, 2)     # OHWI -> OIHW
                group = 1
            else:
                mult = o['depth_multiplier'] or wt.shape[3] // cin
                assert wt.shape[0] == 1 and wt.shape[3] == cin * mult
                w_oihw = wt[0].transpose(2, 0, 1)[:, None]  # 1HW(C*M) -> (C*M)1HW
                group = cin
            kh, kw = w_oihw.shape[2:]
            if o['padding'] == 'SAME':
                pt, pb = same_pads(h, kh, o['stride_h'], o['dil_h'])
                pl, pr = same_pads(w, kw, o['stride_w'], o['dil_w'])
            else:
                pt = pb = pl = pr = 0
            y = g.conv(xin, w_oihw, bias, (o['stride_h'], o['stride_w']), (pt, pl, pb, pr),
                       group, base, (o['dil_h'], o['dil_w']), act=o['act'])
            val[outs[0]] = (y, 'NCHW')
            continue
        if kind == 'ADD':
            a, la = val[ins[0]]
            b, lb = val[ins[1]]
            assert la == lb and tfl.tensors[ins[0]]['shape'] == tfl.tensors[ins[1]]['shape']
            y = g.activation(g.node('Add', [a, b], base), o['act'], base)
            val[outs[0]] = (y, la)
            continue
        if kind == 'RESHAPE':
            a = as_plain(ins[0])
            shp = g.const(base + '/shape', np.array(out_t['shape'], np.int64))
            val[outs[0]] = (g.node('Reshape', [a, shp], base), 'PLAIN')
            continue
        if kind == 'CONCATENATION':
            assert o['act'] is None
            parts = [as_plain(i) for i in ins]
            rank = len(out_t['shape'])
            val[outs[0]] = (g.node('Concat', parts, base, axis=o['axis'] % rank), 'PLAIN')
            continue
        raise NotImplementedError(kind)

    outputs = []
    for i in tfl.outputs:
        t = tfl.tensors[i]
        name = OUT_NAMES[t['name']]
        g.node('Identity', [as_plain(i)], name)
        outputs.append((name, t['shape']))
    model = g.make_model(
        [(INPUT_NAME, ishape)], outputs,
        doc='SSD-MobileNetV2 (Open Images v4, 24 classes) from MediaPipe objectron '
            'object_detection_ssd_mobilenetv2_oidv4_fp16.tflite; fp16 weights dequantized '
            'to fp32. Input NHWC RGB x/127.5-1; raw_boxes = box encodings (ty,tx,th,tw) '
            'before anchor decoding; raw_scores = class logits (pre-sigmoid).')
    return model


def main():
    src, dst = sys.argv[1], sys.argv[2]
    tfl = TFLiteModel(open(src, 'rb').read())
    data = save(convert(tfl), dst)
    print('wrote %s (%d bytes)' % (dst, len(data)))


if __name__ == '__main__':
    main()
