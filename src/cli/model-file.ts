/**
 * Saving and loading the CLI's trained models. A model is a safetensors file with PyTorch key names
 * (`features.0.weight`, `features.1.running_mean`, `classifier.4.bias`, ...) whose metadata holds the
 * architecture name and its JSON configuration, plus a `config.json` next to it with the same
 * configuration and the training settings and results (for people and other tools).
 * @module
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { MnistCnn, type MnistCnnConfig, resolveMnistCnnConfig } from '../models/mnist-cnn.js';
import { loadSafetensors, saveSafetensors, writeFileAtomic } from '../node/io.js';

/** The architecture name stored in model files. */
export const MNIST_CNN_ARCH = 'mnist-cnn';

/** An error the CLI reports as a one-line message (no stack trace). */
export class CliError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CliError';
  }
}

/** What `config.json` holds. */
export interface ModelInfo {
  /** Architecture name (`mnist-cnn`). */
  architecture: string;
  /** Its hyper-parameters. */
  config: MnistCnnConfig;
  /** Free-form training settings and results (dataset, epochs, optimizer, test accuracy, ...). */
  training?: Record<string, unknown>;
}

/** Saves `model` as `<dir>/model.safetensors` and `<dir>/config.json` (both atomically); returns the paths. */
export function saveModel(
  dir: string,
  model: MnistCnn,
  training: Record<string, unknown> = {},
): { model: string; config: string } {
  const modelPath = join(dir, 'model.safetensors');
  const configPath = join(dir, 'config.json');
  saveSafetensors(modelPath, model.stateDict(), {
    format: 'pt',
    'neurite.architecture': MNIST_CNN_ARCH,
    'neurite.config': JSON.stringify(model.config),
  });
  const info: ModelInfo = { architecture: MNIST_CNN_ARCH, config: model.config, training };
  writeFileAtomic(configPath, new TextEncoder().encode(`${JSON.stringify(info, null, 2)}\n`), 'saveModel');
  return { model: modelPath, config: configPath };
}

/**
 * Loads a model saved by `saveModel`. The configuration comes from the file's metadata, else from a
 * `config.json` beside it, else the default; the weights must match it exactly. Throws CliError with
 * a one-line message when the file is missing, not a safetensors file, or does not fit the model.
 */
export function loadModel(path: string): MnistCnn {
  if (!existsSync(path)) throw new CliError(`model file not found: ${path}`);
  if (statSync(path).isDirectory()) throw new CliError(`model path is a directory, not a file: ${path}`);
  let parsed: ReturnType<typeof loadSafetensors>;
  try {
    parsed = loadSafetensors(path);
  } catch (e) {
    throw new CliError(`cannot read model ${path}: ${firstLine(e)}`);
  }
  const meta = parsed.metadata ?? {};
  const arch = meta['neurite.architecture'];
  if (arch !== undefined && arch !== MNIST_CNN_ARCH) {
    throw new CliError(`model ${path} has architecture '${arch}'; this CLI knows '${MNIST_CNN_ARCH}'`);
  }
  let config: Partial<MnistCnnConfig> = {};
  try {
    if (meta['neurite.config']) {
      config = JSON.parse(meta['neurite.config']) as Partial<MnistCnnConfig>;
    } else {
      const side = join(dirname(path), 'config.json');
      if (existsSync(side)) {
        const info = JSON.parse(readFileSync(side, 'utf8')) as Partial<ModelInfo>;
        config = info.config ?? {};
      }
    }
    config = resolveMnistCnnConfig(config);
  } catch (e) {
    throw new CliError(`model ${path} has an invalid configuration: ${firstLine(e)}`);
  }
  const model = new MnistCnn(config);
  try {
    model.loadStateDict(parsed.tensors, { strict: true });
  } catch (e) {
    throw new CliError(`model ${path} does not fit the ${MNIST_CNN_ARCH} architecture: ${firstLine(e)}`);
  }
  model.eval();
  return model;
}

/** The first line of an error's message (CLI errors are reported on one line). */
export function firstLine(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return msg.split('\n')[0]!.trim();
}
