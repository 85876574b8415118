// Export with the built-in check: build the ONNX graph, run it in ONNX Runtime against the libtorch forward,
// and write the file only if they agree.
import { writeFile } from 'node:fs/promises';
import type { DetectionModel } from '../model/yolo.js';
import { exportOnnx, normalizeImageSize, type OnnxExportOptions, type OnnxModel } from './onnx-export.js';
import { compareWithTorch, describeVerify, verifyCases, type VerifyResult } from './verify.js';

export { exportOnnx, checkOpset, DEFAULT_OPSET, SUPPORTED_OPSETS, type OnnxExportOptions, type OnnxModel } from './onnx-export.js';
export { compareWithTorch, describeVerify, VERIFY_ATOL, VERIFY_RTOL, type VerifyResult } from './verify.js';
export { readMetadata, type ExportMetadata } from './metadata.js';

export interface ExportedFile {
  file: string;
  onnx: OnnxModel;
  verification: VerifyResult[];
}

/** Exports, verifies against libtorch, then writes `file`; throws (writing nothing) if the runtimes disagree. */
export async function exportOnnxFile(model: DetectionModel, file: string, options: OnnxExportOptions = {}): Promise<ExportedFile> {
  const onnx = exportOnnx(model, options);
  const [height, width] = normalizeImageSize(options.imgsz ?? 640);
  const cases = verifyCases(height, width, options.batchSize ?? 1, options.dynamic ?? false, Math.max(...model.stride, 32));
  const verification = await compareWithTorch(onnx.bytes, model, cases);
  const failed = verification.filter((r) => !r.ok);
  if (failed.length) {
    throw new Error(`ONNX export of ${file} failed verification against libtorch:\n  ${failed.map(describeVerify).join('\n  ')}`);
  }
  await writeFile(file, onnx.bytes);
  return { file, onnx, verification };
}
