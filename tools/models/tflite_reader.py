"""Minimal, dependency-light reader for TFLite flatbuffer models (schema v3, "TFL3").

Only the tables/fields needed by the converters are decoded. Field indices follow
tensorflow/lite/schema/schema.fbs. Uses the `flatbuffers` package only for its
low-level Table helper (no generated schema code is needed).
"""
import struct

import numpy as np
from flatbuffers.table import Table
from flatbuffers import number_types as N

# TensorType enum (schema.fbs)
TENSOR_TYPES = {
    0: np.float32, 1: np.float16, 2: np.int32, 3: np.uint8, 4: np.int64,
    6: np.bool_, 7: np.int16, 9: np.int8, 10: np.float64,
}

# BuiltinOperator enum values we may meet (schema.fbs)
BUILTIN_OPS = {
    0: 'ADD', 1: 'AVERAGE_POOL_2D', 2: 'CONCATENATION', 3: 'CONV_2D',
    4: 'DEPTHWISE_CONV_2D', 6: 'DEQUANTIZE', 9: 'FULLY_CONNECTED', 14: 'LOGISTIC',
    17: 'MAX_POOL_2D', 18: 'MUL', 19: 'RELU', 21: 'RELU6', 22: 'RESHAPE',
    23: 'RESIZE_BILINEAR', 25: 'SOFTMAX', 28: 'TANH', 32: 'CUSTOM', 34: 'PAD',
    39: 'TRANSPOSE', 40: 'MEAN', 41: 'SUB', 42: 'DIV', 43: 'SQUEEZE',
}

ACTIVATIONS = {0: None, 1: 'RELU', 2: 'RELU_N1_TO_1', 3: 'RELU6', 4: 'TANH'}
PADDINGS = {0: 'SAME', 1: 'VALID'}


class _T:
    """Thin wrapper over flatbuffers.table.Table addressing fields by schema index."""

    def __init__(self, buf, pos):
        self.t = Table(buf, pos)

    def _off(self, i):
        return self.t.Offset(4 + 2 * i)

    def scalar(self, i, flags, default=0):
        o = self._off(i)
        return self.t.Get(flags, o + self.t.Pos) if o else default

    def string(self, i):
        o = self._off(i)
        return self.t.String(o + self.t.Pos).decode('utf-8') if o else None

    def vector_np(self, i, dtype):
        o = self._off(i)
        if not o:
            return np.zeros((0,), dtype=dtype)
        start = self.t.Vector(o)
        n = self.t.VectorLen(o)
        return np.frombuffer(self.t.Bytes, dtype=np.dtype(dtype).newbyteorder('<'),
                             count=n, offset=start)

    def tables(self, i):
        o = self._off(i)
        if not o:
            return []
        start = self.t.Vector(o)
        n = self.t.VectorLen(o)
        return [_T(self.t.Bytes, self.t.Indirect(start + 4 * k)) for k in range(n)]

    def table(self, i):
        o = self._off(i)
        if not o:
            return None
        return _T(self.t.Bytes, self.t.Indirect(o + self.t.Pos))


class TFLiteModel:
    def __init__(self, data: bytes):
        if data[4:8] != b'TFL3':
            raise ValueError('not a TFLite v3 flatbuffer')
        self.data = bytearray(data)
        root = _T(self.data, struct.unpack_from('<I', self.data, 0)[0])
        self.version = root.scalar(0, N.Uint32Flags)
        self.description = root.string(3)
        self.opcodes = []
        for oc in root.tables(1):
            dep = oc.scalar(0, N.Int8Flags)
            code = oc.scalar(3, N.Int32Flags)
            code = max(dep, code)
            self.opcodes.append((BUILTIN_OPS.get(code, 'BUILTIN_%d' % code), oc.string(1)))
        self.buffers = []
        for b in root.tables(4):
            off = b.scalar(1, N.Uint64Flags)
            if off:
                size = b.scalar(2, N.Uint64Flags)
                self.buffers.append(bytes(self.data[off:off + size]))
            else:
                self.buffers.append(b.vector_np(0, np.uint8).tobytes())
        sgs = root.tables(2)
        if len(sgs) != 1:
            raise ValueError('expected exactly one subgraph, got %d' % len(sgs))
        sg = sgs[0]
        self.tensors = []
        for t in sg.tables(0):
            ttype = t.scalar(1, N.Int8Flags)
            q = t.table(4)
            quant = None
            if q is not None:
                scale = q.vector_np(2, np.float32)
                if scale.size:
                    quant = {'scale': scale.copy(), 'zero_point': q.vector_np(3, np.int64).copy()}
            self.tensors.append({
                'name': t.string(3),
                'shape': [int(v) for v in t.vector_np(0, np.int32)],
                'dtype': TENSOR_TYPES[ttype],
                'buffer': t.scalar(2, N.Uint32Flags),
                'quant': quant,
            })
        self.inputs = [int(v) for v in sg.vector_np(1, np.int32)]
        self.outputs = [int(v) for v in sg.vector_np(2, np.int32)]
        self.operators = []
        for op in sg.tables(3):
            name, custom = self.opcodes[op.scalar(0, N.Uint32Flags)]
            opts = op.table(4)
            self.operators.append({
                'op': name,
                'custom': custom,
                'inputs': [int(v) for v in op.vector_np(1, np.int32)],
                'outputs': [int(v) for v in op.vector_np(2, np.int32)],
                'options': self._decode_options(name, opts),
            })

    @staticmethod
    def _decode_options(name, o):
        if o is None:
            return {}
        B, I = N.Int8Flags, N.Int32Flags
        if name == 'CONV_2D':
            return {'padding': PADDINGS[o.scalar(0, B)], 'stride_w': o.scalar(1, I),
                    'stride_h': o.scalar(2, I), 'act': ACTIVATIONS[o.scalar(3, B)],
                    'dil_w': o.scalar(4, I, 1), 'dil_h': o.scalar(5, I, 1)}
        if name == 'DEPTHWISE_CONV_2D':
            return {'padding': PADDINGS[o.scalar(0, B)], 'stride_w': o.scalar(1, I),
                    'stride_h': o.scalar(2, I), 'depth_multiplier': o.scalar(3, I),
                    'act': ACTIVATIONS[o.scalar(4, B)],
                    'dil_w': o.scalar(5, I, 1), 'dil_h': o.scalar(6, I, 1)}
        if name == 'CONCATENATION':
            return {'axis': o.scalar(0, I), 'act': ACTIVATIONS[o.scalar(1, B)]}
        if name in ('ADD', 'MUL', 'SUB', 'DIV'):
            return {'act': ACTIVATIONS[o.scalar(0, B)]}
        if name == 'RESHAPE':
            return {'new_shape': [int(v) for v in o.vector_np(0, np.int32)]}
        if name in ('AVERAGE_POOL_2D', 'MAX_POOL_2D'):
            return {'padding': PADDINGS[o.scalar(0, B)], 'stride_w': o.scalar(1, I),
                    'stride_h': o.scalar(2, I), 'filter_w': o.scalar(3, I),
                    'filter_h': o.scalar(4, I), 'act': ACTIVATIONS[o.scalar(5, B)]}
        return {}

    def tensor_value(self, idx):
        """Constant data of tensor idx as a numpy array (None if not constant)."""
        t = self.tensors[idx]
        raw = self.buffers[t['buffer']] if t['buffer'] < len(self.buffers) else b''
        if not raw:
            return None
        arr = np.frombuffer(raw, dtype=np.dtype(t['dtype']).newbyteorder('<')).copy()
        return arr.reshape(t['shape']) if t['shape'] else arr.reshape(())
