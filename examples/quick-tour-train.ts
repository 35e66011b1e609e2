// README's training tour, kept runnable: `npx tsx examples/quick-tour-train.ts`.
import { data, fit, manualSeed, nn, optim } from '../src/index.js';
import { loadIris, saveSafetensors } from '../src/node/index.js';

manualSeed(0);
const train = loadIris({ split: 'train' }); // fixed 120/30 split: features [N,4] float32, labels [N] int32
const test = loadIris({ split: 'test' });
const model = new nn.Sequential(new nn.Linear(4, 16), new nn.ReLU(), new nn.Linear(16, 3));
const history = fit(model, {
  train: new data.DataLoader(new data.TensorDataset(train.features, train.labels), {
    batchSize: 16,
    shuffle: true,
  }),
  val: new data.DataLoader(new data.TensorDataset(test.features, test.labels), { batchSize: 30 }),
  loss: new nn.CrossEntropyLoss(),
  optimizer: new optim.Adam(model.parameters(), { lr: 0.05 }),
  epochs: 30,
  metrics: ['accuracy'],
  verbose: 0,
});
console.log('val accuracy', history.history.val_accuracy!.at(-1));
saveSafetensors('/tmp/iris.safetensors', model.stateDict()); // keys 0.weight, 0.bias, 2.weight, 2.bias
