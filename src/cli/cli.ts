/**
 * The `neurite` command line (Node only), built with commander:
 *
 * ```text
 * neurite train mnist [--epochs N] [--batch-size N] [--optimizer adam|sgd|adamw|rmsprop|adagrad]
 *                     [--lr X] [--seed N] [--out DIR] [--resume CHECKPOINT]
 * neurite eval <model.safetensors>
 * neurite predict <model.safetensors> <image.png> [--json]
 * neurite info
 * ```
 *
 * `runCli(argv, io)` runs one command with the given output streams and resolves to the exit code:
 * 0 on success, 2 for usage errors (unknown command, invalid flag value, unknown dataset), 1 when
 * the command fails (missing model, unreadable image, ...). Errors are one line on stderr, never a
 * stack trace.
 * @module
 */
import { Argument, Command, CommanderError, Option } from 'commander';
import { getBackend, setBackend } from '../index.js';
import {
  type CliIo,
  evalModel,
  type PredictOptions,
  predictDigit,
  printInfo,
  TRAIN_DEFAULTS,
  type TrainOptions,
  trainMnist,
} from './commands.js';
import { firstLine } from './model-file.js';
import { DATASETS, DEFAULT_LR, OPTIMIZERS, positiveInt, positiveNumber, seedInt } from './options.js';

export type { CliIo } from './commands.js';

/** Exit code of a usage error (bad flag, unknown command). */
export const EXIT_USAGE = 2;
/** Exit code of a failed command. */
export const EXIT_FAILURE = 1;

/** The process's streams. */
export function processIo(): CliIo {
  return { stdout: process.stdout, stderr: process.stderr };
}

/** Backends the CLI can run on. */
const BACKENDS = ['wasm', 'cpu'] as const;

function buildProgram(io: CliIo): Command {
  const program = new Command('neurite');
  program
    .description('Neurite: train, evaluate and run the bundled MNIST digit classifier.')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
      outputError: (s, write) => write(s.endsWith('\n') ? s : `${s}\n`),
    })
    .showSuggestionAfterError(true)
    .helpCommand(true)
    .addOption(
      new Option('--backend <name>', 'compute backend: wasm (SIMD + threads, falls back to cpu) or cpu')
        .choices(BACKENDS)
        .default('wasm'),
    )
    .hook('preAction', (cmd) => {
      const want = cmd.opts<{ backend: (typeof BACKENDS)[number] }>().backend;
      setBackend(want);
      if (getBackend().name !== want)
        io.stderr.write(`note: backend '${want}' unavailable, using '${getBackend().name}'\n`);
    });

  const lrDefaults = OPTIMIZERS.map((o) => `${o} ${DEFAULT_LR[o]}`).join(', ');
  program
    .command('train')
    .description('train the default CNN on a bundled dataset, evaluate it and save it')
    .addArgument(new Argument('<dataset>', 'dataset to train on').choices(DATASETS))
    .addOption(
      new Option('--epochs <n>', `number of epochs (default ${TRAIN_DEFAULTS.epochs})`).argParser(
        positiveInt,
      ),
    )
    .addOption(
      new Option('--batch-size <n>', `mini-batch size (default ${TRAIN_DEFAULTS.batchSize})`).argParser(
        positiveInt,
      ),
    )
    .addOption(
      new Option('--optimizer <name>', `optimizer (default ${TRAIN_DEFAULTS.optimizer})`).choices(OPTIMIZERS),
    )
    .addOption(
      new Option(
        '--lr <x>',
        `peak learning rate of the one-cycle schedule (defaults: ${lrDefaults})`,
      ).argParser(positiveNumber),
    )
    .addOption(
      new Option(
        '--seed <n>',
        `seed of the weights, shuffling and dropout (default ${TRAIN_DEFAULTS.seed})`,
      ).argParser(seedInt),
    )
    .addOption(new Option('--out <dir>', `output folder (default ./${TRAIN_DEFAULTS.out})`))
    .addOption(
      new Option(
        '--resume <checkpoint>',
        'continue from a checkpoint file, or from the latest checkpoint in a folder',
      ),
    )
    .addOption(
      new Option('--limit <n>', 'train on the first N digits only').argParser(positiveInt).hideHelp(),
    )
    .addOption(
      new Option('--test-limit <n>', 'evaluate on the first N test digits only')
        .argParser(positiveInt)
        .hideHelp(),
    )
    .action((_dataset: string, opts: TrainOptions) => {
      trainMnist(opts, io);
    });

  program
    .command('eval')
    .description('evaluate a saved model on the MNIST test split (accuracy and confusion matrix)')
    .argument('<model>', 'model file (model.safetensors written by `neurite train`)')
    .addOption(
      new Option('--limit <n>', 'evaluate on the first N test digits only').argParser(positiveInt).hideHelp(),
    )
    .action((model: string, opts: { limit?: number }) => {
      evalModel(model, opts, io);
    });

  program
    .command('predict')
    .description('classify a PNG image of a digit with a saved model')
    .argument('<model>', 'model file (model.safetensors written by `neurite train`)')
    .argument(
      '<image>',
      'PNG image: any size (resized to 28x28), gray or colour; a dark digit on a light background is inverted',
    )
    .option('--json', 'print the result as JSON')
    .action((model: string, image: string, opts: PredictOptions) => {
      predictDigit(model, image, opts, io);
    });

  program
    .command('info')
    .description('print the backend in use (SIMD, relaxed FMA, threads) and the runtime')
    .action(() => {
      printInfo(io);
    });

  return program;
}

/**
 * Runs the CLI on `argv` (the arguments after the program name, e.g. `['train', 'mnist', '--epochs', '2']`)
 * and resolves to the exit code. Output goes to `io` (default: the process's streams).
 */
export async function runCli(argv: readonly string[], io: CliIo = processIo()): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      // help and version are "errors" that exit 0; commander already wrote its message
      if (e.exitCode === 0) return 0;
      return EXIT_USAGE;
    }
    io.stderr.write(`error: ${firstLine(e)}\n`);
    return EXIT_FAILURE;
  }
}
