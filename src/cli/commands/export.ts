import type { Command } from 'commander';
import { exportModel } from '../../api/export-model.js';
import { exportOptions, type ExportModelOptions } from '../../options/export.js';
import { declaredCommand } from '../declared-options.js';

export function exportCommand(): Command {
  const description = 'export a model (official .pt, trained or pruned .safetensors) to ONNX, verified against libtorch';
  return declaredCommand(exportOptions, description).action(async (options: ExportModelOptions) => {
    await exportModel(options);
  });
}
