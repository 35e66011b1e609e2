/**
 * Saving and loading tensors: the safetensors format (PyTorch / Hugging Face) and training
 * checkpoints, as bytes in memory. Browser-safe; `neurite/node` adds file versions (`saveSafetensors`,
 * `loadSafetensors`, `saveCheckpoint`, `loadCheckpoint`) with atomic writes.
 * @module
 */
export {
  CHECKPOINT_FORMAT_KEY,
  type CheckpointContents,
  type CheckpointInfo,
  type CheckpointTargets,
  deserializeCheckpoint,
  encodeCheckpoint,
  type GeneratorSet,
  type OptimizerStateDict,
  restoreCheckpoint,
  type StatefulModel,
  type StatefulOptimizer,
  type StatefulScheduler,
  serializeCheckpoint,
} from './checkpoint.js';
export {
  MAX_HEADER_BYTES,
  type ParsedSafetensors,
  type ParseOptions,
  parseSafetensors,
  readSafetensorsHeader,
  type SafetensorsEntry,
  SafetensorsError,
  type SafetensorsHeader,
  serializeSafetensors,
  type TensorMap,
} from './safetensors.js';
