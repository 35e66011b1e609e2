/**
 * A denoising autoencoder on MNIST: digits corrupted with Gaussian noise (clipped to [0, 1]) go in,
 * the clean digits are the target. A dense encoder 784 -> 256 -> 64 and a mirrored decoder with a
 * sigmoid output learn to remove the noise; the report compares the mean squared error of the
 * noisy inputs and of the reconstructions against the clean test digits.
 * Run it with `npx tsx examples/denoising-autoencoder.ts`.
 * @module
 */
import { pathToFileURL } from 'node:url';
import {
  data,
  Generator,
  loadMnist,
  manualSeed,
  nn,
  noGrad,
  optim,
  randn,
  type Tensor,
} from '../src/node/index.js';

/** Options of `trainDenoiser`. */
export interface DenoiserOptions {
  /** Training digits (first N of the train split; default 4000). */
  trainSize?: number;
  /** Test digits (first N of the test split; default 1000). */
  testSize?: number;
  /** Epochs (default 5). */
  epochs?: number;
  /** Standard deviation of the Gaussian noise (default 0.5). */
  noise?: number;
  /** Size of the code (default 64). */
  code?: number;
  /** Mini-batch size (default 64). */
  batchSize?: number;
  /** Adam learning rate (default 0.002). */
  lr?: number;
  /** Seed (default 0). */
  seed?: number;
  /** Called after each epoch with its 1-based number and the mean training loss. */
  onEpoch?: (epoch: number, loss: number) => void;
}

/** What `trainDenoiser` returns. */
export interface DenoiserResult {
  /** MSE between the noisy test inputs and the clean digits. */
  noisyMse: number;
  /** MSE between the reconstructions of the noisy test inputs and the clean digits. */
  denoisedMse: number;
  /** Mean training loss per epoch. */
  losses: number[];
  /** Clean, noisy and reconstructed versions of the first test digits, [k, 784] each. */
  samples: { clean: Tensor; noisy: Tensor; denoised: Tensor };
  /** The trained autoencoder (input [N, 784] in [0, 1]). */
  model: nn.Sequential;
}

/** Adds N(0, sigma^2) noise and clips to [0, 1]. */
export function corrupt(x: Tensor, sigma: number, generator?: Generator): Tensor {
  return x.add(randn(x.shape, { generator }).mul(sigma)).clamp(0, 1);
}

/** Trains the denoising autoencoder and measures it on noisy test digits. Deterministic for a seed. */
export function trainDenoiser(options: DenoiserOptions = {}): DenoiserResult {
  const seed = options.seed ?? 0;
  manualSeed(seed);
  const sigma = options.noise ?? 0.5;
  const nTrain = options.trainSize ?? 4000;
  const nTest = options.testSize ?? 1000;
  const flat = (t: Tensor, n: number) => t.narrow(0, 0, Math.min(n, t.shape[0]!)).reshape(-1, 784);
  const xTrain = flat(loadMnist({ split: 'train' }).images, nTrain);
  const xTest = flat(loadMnist({ split: 'test' }).images, nTest);

  const code = options.code ?? 64;
  const model = new nn.Sequential(
    new nn.Linear(784, 256),
    new nn.ReLU(),
    new nn.Linear(256, code),
    new nn.ReLU(),
    new nn.Linear(code, 256),
    new nn.ReLU(),
    new nn.Linear(256, 784),
    new nn.Sigmoid(),
  );
  const optimizer = new optim.Adam(model.parameters(), { lr: options.lr ?? 2e-3 });
  const loader = new data.DataLoader(new data.TensorDataset(xTrain), {
    batchSize: options.batchSize ?? 64,
    shuffle: true,
  });
  const losses: number[] = [];
  const epochs = options.epochs ?? 5;
  model.train();
  for (let epoch = 1; epoch <= epochs; epoch++) {
    let sum = 0;
    let count = 0;
    for (const [clean] of loader) {
      // a fresh corruption of every digit each time it is seen
      const noisy = corrupt(clean!, sigma);
      optimizer.zeroGrad();
      const loss = nn.functional.mseLoss(model.forward<Tensor>(noisy), clean!);
      loss.backward();
      optimizer.step();
      sum += loss.item() * clean!.shape[0]!;
      count += clean!.shape[0]!;
    }
    losses.push(sum / count);
    options.onEpoch?.(epoch, sum / count);
  }

  // a fixed corruption of the test digits, from its own generator
  model.eval();
  const noisy = corrupt(xTest, sigma, new Generator(seed + 1));
  const denoised = noGrad(() => model.forward<Tensor>(noisy));
  return {
    noisyMse: nn.functional.mseLoss(noisy, xTest).item(),
    denoisedMse: nn.functional.mseLoss(denoised, xTest).item(),
    losses,
    samples: {
      clean: xTest.narrow(0, 0, 4),
      noisy: noisy.narrow(0, 0, 4),
      denoised: denoised.narrow(0, 0, 4),
    },
    model,
  };
}

/** ASCII art of 28x28 images side by side (one row of characters per two pixel rows). */
export function asciiDigits(images: readonly Tensor[]): string {
  const ramp = ' .:-=+*#%@';
  const data = images.map((t) => t.dataSync());
  const lines: string[] = [];
  for (let y = 0; y < 28; y += 2) {
    const parts = data.map((d) => {
      let s = '';
      for (let x = 0; x < 28; x++) {
        const v = (d[y * 28 + x]! + d[(y + 1) * 28 + x]!) / 2;
        s += ramp[Math.min(ramp.length - 1, Math.floor(v * ramp.length))];
      }
      return s;
    });
    lines.push(parts.join('   '));
  }
  return lines.join('\n');
}

function main(): void {
  const t0 = performance.now();
  console.log('Denoising autoencoder 784-256-64-256-784 on MNIST, Gaussian noise sigma 0.5');
  const r = trainDenoiser({ onEpoch: (e, l) => console.log(`  epoch ${e}: train MSE ${l.toFixed(4)}`) });
  console.log(`test MSE of the noisy inputs vs clean:     ${r.noisyMse.toFixed(4)}`);
  console.log(`test MSE of the reconstructions vs clean:  ${r.denoisedMse.toFixed(4)}`);
  for (let i = 0; i < 2; i++) {
    console.log(`\nclean / noisy / denoised (test digit ${i}):`);
    const pick = (t: Tensor) => t.narrow(0, i, 1).reshape(784);
    console.log(asciiDigits([pick(r.samples.clean), pick(r.samples.noisy), pick(r.samples.denoised)]));
  }
  console.log(`\ndone in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main();
