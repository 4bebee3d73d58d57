"""Writes models/hashing/projection-<k>.onnx: the PCA projection of itq-<k> as an ONNX graph,
so a query's regions are projected in one onnxruntime run (MLAS's GEMM, AVX2/AVX-512 where
the CPU has them) instead of the WebAssembly kernel (src/search/onnx-projection.ts).

    /usr/bin/python3 tools/hashing/projection_onnx.py [--bits 256] [--dir models/hashing]

Input  x      float32 [n, dims]   embeddings
Output y      float32 [n, bits]   (x - mean) . rows^T
       sq     float32 [n]         |x - mean|^2
       offset float32 [n, 1]      x . mean
The weights are itq-<k>.bin's, unchanged; the file is deterministic (same bytes from the
same .bin), and its sha256 is entered in manifest.json beside the .bin's. Needs Debian's
python3-onnx and python3-numpy.
"""
import argparse
import hashlib
import json
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 17
IR_VERSION = 8  # onnx 1.12 (Debian bookworm) writes IR 8; onnxruntime >= 1.10 reads it


def build(mean, rows):
    dims = mean.shape[0]
    bits = rows.shape[0]
    nodes = [
        helper.make_node('Sub', ['x', 'mean'], ['centred'], name='centred'),
        helper.make_node('MatMul', ['centred', 'basis_t'], ['y'], name='y'),
        helper.make_node('ReduceSumSquare', ['centred'], ['sq'], name='sq', axes=[1], keepdims=0),
        helper.make_node('MatMul', ['x', 'mean_column'], ['offset'], name='offset'),
    ]
    inits = [
        numpy_helper.from_array(mean, 'mean'),
        numpy_helper.from_array(np.ascontiguousarray(rows.T), 'basis_t'),
        numpy_helper.from_array(np.ascontiguousarray(mean.reshape(dims, 1)), 'mean_column'),
    ]
    graph = helper.make_graph(
        nodes,
        'projection_%d' % bits,
        [helper.make_tensor_value_info('x', TensorProto.FLOAT, ['n', dims])],
        [
            helper.make_tensor_value_info('y', TensorProto.FLOAT, ['n', bits]),
            helper.make_tensor_value_info('sq', TensorProto.FLOAT, ['n']),
            helper.make_tensor_value_info('offset', TensorProto.FLOAT, ['n', 1]),
        ],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid('', OPSET)], producer_name='metapixel')
    model.ir_version = IR_VERSION
    onnx.checker.check_model(model)
    return model


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--bits', type=int, default=256)
    ap.add_argument('--dir', default=os.path.join(os.path.dirname(__file__), '..', '..', 'models', 'hashing'))
    a = ap.parse_args()
    with open(os.path.join(a.dir, 'itq-%d.json' % a.bits)) as f:
        header = json.load(f)
    dims, bits = header['dims'], header['bits']
    raw = np.fromfile(os.path.join(a.dir, header['bin']), dtype='<f4')
    assert raw.size == dims * (bits + 1), 'itq .bin has %d floats, expected %d' % (raw.size, dims * (bits + 1))
    mean, rows = raw[:dims], raw[dims:].reshape(bits, dims)
    name = 'projection-%d.onnx' % bits
    data = build(mean, rows).SerializeToString()
    with open(os.path.join(a.dir, name), 'wb') as f:
        f.write(data)
    manifest_path = os.path.join(a.dir, 'manifest.json')
    with open(manifest_path) as f:
        manifest = json.load(f)
    manifest['files'][name] = {'sha256': hashlib.sha256(data).hexdigest(), 'bytes': len(data)}
    with open(manifest_path, 'w') as f:
        json.dump(manifest, f, indent=1)
        f.write('\n')
    print('%s: %d bytes, sha256 %s' % (name, len(data), manifest['files'][name]['sha256']))


if __name__ == '__main__':
    main()
