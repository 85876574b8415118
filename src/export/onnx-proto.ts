// The subset of onnx.proto (github.com/onnx/onnx, onnx/onnx.in.proto) that an inference graph needs, as a
// protobufjs reflection descriptor. Field names keep the proto's snake_case; field numbers are the official ones.
// onnx.proto is proto2, so repeated scalars are written unpacked (protobufjs' proto2 default).
import protobuf from 'protobufjs';

const field = (type: string, id: number, repeated = false) => (repeated ? { rule: 'repeated', type, id } : { type, id });

const descriptor = {
  nested: {
    onnx: {
      nested: {
        StringStringEntryProto: { fields: { key: field('string', 1), value: field('string', 2) } },
        OperatorSetIdProto: { fields: { domain: field('string', 1), version: field('int64', 2) } },
        TensorProto: {
          fields: {
            dims: field('int64', 1, true),
            data_type: field('int32', 2),
            name: field('string', 8),
            raw_data: field('bytes', 9),
            doc_string: field('string', 12),
          },
        },
        AttributeProto: {
          fields: {
            name: field('string', 1),
            f: field('float', 2),
            i: field('int64', 3),
            s: field('bytes', 4),
            t: field('TensorProto', 5),
            floats: field('float', 7, true),
            ints: field('int64', 8, true),
            strings: field('bytes', 9, true),
            doc_string: field('string', 13),
            type: field('int32', 20),
          },
        },
        NodeProto: {
          fields: {
            input: field('string', 1, true),
            output: field('string', 2, true),
            name: field('string', 3),
            op_type: field('string', 4),
            attribute: field('AttributeProto', 5, true),
            doc_string: field('string', 6),
            domain: field('string', 7),
          },
        },
        TensorShapeProto: {
          fields: { dim: field('Dimension', 1, true) },
          nested: {
            Dimension: {
              oneofs: { value: { oneof: ['dim_value', 'dim_param'] } },
              fields: { dim_value: field('int64', 1), dim_param: field('string', 2), denotation: field('string', 3) },
            },
          },
        },
        TypeProto: {
          oneofs: { value: { oneof: ['tensor_type'] } },
          fields: { tensor_type: field('Tensor', 1), denotation: field('string', 6) },
          nested: { Tensor: { fields: { elem_type: field('int32', 1), shape: field('TensorShapeProto', 2) } } },
        },
        ValueInfoProto: { fields: { name: field('string', 1), type: field('TypeProto', 2), doc_string: field('string', 3) } },
        GraphProto: {
          fields: {
            node: field('NodeProto', 1, true),
            name: field('string', 2),
            initializer: field('TensorProto', 5, true),
            doc_string: field('string', 10),
            input: field('ValueInfoProto', 11, true),
            output: field('ValueInfoProto', 12, true),
            value_info: field('ValueInfoProto', 13, true),
          },
        },
        ModelProto: {
          fields: {
            ir_version: field('int64', 1),
            producer_name: field('string', 2),
            producer_version: field('string', 3),
            domain: field('string', 4),
            model_version: field('int64', 5),
            doc_string: field('string', 6),
            graph: field('GraphProto', 7),
            opset_import: field('OperatorSetIdProto', 8, true),
            metadata_props: field('StringStringEntryProto', 14, true),
          },
        },
      },
    },
  },
};

// The same ModelProto with only its metadata: decoding skips the graph's fields without materializing them.
Object.assign(descriptor.nested.onnx.nested, {
  ModelMetadataView: { fields: { metadata_props: field('StringStringEntryProto', 14, true) } },
});

const root = protobuf.Root.fromJSON(descriptor);
const modelType = root.lookupType('onnx.ModelProto');
const metadataView = root.lookupType('onnx.ModelMetadataView');

/** TensorProto.DataType values used here. */
export const DataType = { FLOAT: 1, UINT8: 2, INT8: 3, INT32: 6, INT64: 7 } as const;

/** AttributeProto.AttributeType values used here. */
export const AttributeType = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, FLOATS: 6, INTS: 7 } as const;

export interface TensorMessage {
  name: string;
  dims: number[];
  data_type: number;
  raw_data: Uint8Array;
}

export interface AttributeMessage {
  name: string;
  type: number;
  f?: number;
  i?: number;
  s?: Uint8Array;
  t?: TensorMessage;
  floats?: number[];
  ints?: number[];
}

export interface NodeMessage {
  name: string;
  op_type: string;
  input: string[];
  output: string[];
  attribute: AttributeMessage[];
}

/** A dimension is a fixed size or a symbolic name (dynamic axis). */
export type Dim = number | string;

export interface ValueInfoMessage {
  name: string;
  /** Without `shape` the rank is unknown (as for the intermediate tensors calibration reads). */
  type: { tensor_type: { elem_type: number; shape?: { dim: ({ dim_value: number } | { dim_param: string })[] } } };
}

export interface GraphMessage {
  name: string;
  node: NodeMessage[];
  initializer: TensorMessage[];
  input: ValueInfoMessage[];
  output: ValueInfoMessage[];
}

export interface ModelMessage {
  ir_version: number;
  producer_name: string;
  producer_version: string;
  opset_import: { domain: string; version: number }[];
  graph: GraphMessage;
  metadata_props: { key: string; value: string }[];
  doc_string?: string;
}

/** A typed array's own bytes (not the rest of its buffer), as TensorProto.raw_data holds them (little-endian). */
export function tensorBytes(data: Float32Array | BigInt64Array | Int8Array | Uint8Array | Int32Array): Uint8Array {
  return new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
}

export function valueInfo(name: string, elemType: number, dims: Dim[]): ValueInfoMessage {
  return {
    name,
    type: {
      tensor_type: {
        elem_type: elemType,
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d })) },
      },
    },
  };
}

export function encodeModel(model: ModelMessage): Uint8Array {
  const problem = modelType.verify(model);
  if (problem) throw new Error(`internal error: invalid ONNX model message (${problem})`);
  return modelType.encode(modelType.fromObject(model)).finish();
}

/** Decodes an ONNX file's bytes (int64 fields as numbers, bytes as Uint8Array). */
export function decodeModel(bytes: Uint8Array): ModelMessage {
  let message: protobuf.Message;
  try {
    message = modelType.decode(bytes);
  } catch (error) {
    throw new Error(`not an ONNX model (${(error as Error).message})`);
  }
  return modelType.toObject(message, { longs: Number, bytes: Uint8Array, arrays: true, defaults: false }) as ModelMessage;
}

/** Only an ONNX file's metadata_props (cheap: the graph is skipped). */
export function decodeMetadataProps(bytes: Uint8Array): { key: string; value: string }[] {
  let message: protobuf.Message;
  try {
    message = metadataView.decode(bytes);
  } catch (error) {
    throw new Error(`not an ONNX model (${(error as Error).message})`);
  }
  return (metadataView.toObject(message, { arrays: true }) as { metadata_props: { key: string; value: string }[] }).metadata_props;
}
