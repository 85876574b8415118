// The line each command starts with, as YOLOv5's print_args (`train: weights=yolov5n.pt, data=data.yaml, ...`),
// so that a log shows what the run was asked for, defaults included, in the names YOLOv5 users know.
import type { Command } from 'commander';

const snakeCase = (name: string) => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

function format(value: unknown): string {
  return Array.isArray(value) ? `[${value.map(format).join(', ')}]` : String(value);
}

/**
 * `<command>: name=value, ...` over the command's options in the order declared, with the values parsed or
 * defaulted; `resolved` replaces values the command completes itself (detect's imgsz [640, 640] for a size left
 * out). Options with no value are left out.
 */
export function settingsLine(command: Command, resolved: Record<string, unknown> = {}): string {
  const values = command.opts();
  const settings: string[] = [];
  for (const option of command.options) {
    const key = option.attributeName();
    const value = key in resolved ? resolved[key] : values[key];
    if (value !== undefined) settings.push(`${snakeCase(key)}=${format(value)}`);
  }
  return `${command.name()}: ${settings.join(', ')}`;
}
