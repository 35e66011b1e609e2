/**
 * The main entry must run in browsers: bundling it for the browser must not pull in any Node
 * built-in, and the bundle must work in a bare JavaScript context (no process, Buffer, require).
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createContext, runInContext } from 'node:vm';
import { build, type Plugin } from 'esbuild';
import { describe, expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const entry = join(root, 'src', 'index.ts');
const NODE_ONLY =
  /^(node:.*|fs|fs\/promises|path|os|worker_threads|child_process|crypto|module|url|util|vm|process|buffer)$/;

/** Records every import of a Node built-in (and keeps it external so the build still finishes). */
function nodeImportSpy(found: string[]): Plugin {
  return {
    name: 'node-import-spy',
    setup(b) {
      b.onResolve({ filter: NODE_ONLY }, (args) => {
        found.push(`${args.importer.replace(root, '.')} imports '${args.path}'`);
        return { path: args.path, external: true };
      });
    },
  };
}

async function bundle(
  format: 'esm' | 'iife',
  source?: string,
): Promise<{ code: string; nodeImports: string[]; inputs: string[] }> {
  const nodeImports: string[] = [];
  const res = await build({
    ...(source === undefined
      ? { entryPoints: [entry] }
      : { stdin: { contents: source, resolveDir: join(root, 'src'), loader: 'ts' } }),
    bundle: true,
    platform: 'browser',
    format,
    globalName: format === 'iife' ? 'Neurite' : undefined,
    write: false,
    metafile: true,
    logLevel: 'silent',
    plugins: [nodeImportSpy(nodeImports)],
  });
  const inputs = Object.keys(res.metafile.inputs);
  for (const [file, info] of Object.entries(res.metafile.inputs)) {
    for (const imp of info.imports) {
      if (imp.external || NODE_ONLY.test(imp.path)) nodeImports.push(`${file} imports '${imp.path}'`);
    }
  }
  return { code: res.outputFiles[0]!.text, nodeImports: [...new Set(nodeImports)], inputs };
}

describe('browser bundle of src/index.ts', () => {
  it('imports no Node built-in anywhere in the module graph', async () => {
    const { code, nodeImports, inputs } = await bundle('esm');
    expect(nodeImports).toEqual([]);
    expect(inputs.length).toBeGreaterThan(10);
    expect(code).not.toMatch(/\bfrom\s*["']node:/);
    expect(code).not.toMatch(/\brequire\(\s*["']/);
    expect(code).not.toMatch(/\bimport\(\s*["']node:/);
  });

  it('the check itself notices Node imports (self-test)', async () => {
    const { nodeImports } = await bundle(
      'esm',
      "import { readFileSync } from 'node:fs';\nimport * as os from 'os';\nimport './index.js';\nexport const a = [readFileSync, os];",
    );
    expect(nodeImports.some((m) => m.includes("'node:fs'"))).toBe(true);
    expect(nodeImports.some((m) => m.includes("'os'"))).toBe(true);
  });

  it('runs in a bare JavaScript context without Node globals', async () => {
    const { code } = await bundle('iife');
    const sandbox: Record<string, unknown> = {};
    const ctx = createContext(sandbox);
    expect(runInContext('typeof process + typeof require + typeof Buffer', ctx)).toBe(
      'undefinedundefinedundefined',
    );
    runInContext(code, ctx);
    const out = runInContext(
      `(() => {
        const N = Neurite;
        N.manualSeed(0);
        const x = N.tensor([[1, 2], [3, 4]], { dtype: 'float32', requiresGrad: true });
        const w = N.randn([2, 2]);
        const y = x.matmul(w).tanh().sum();
        y.backward();
        const g = N.grad((a) => a.mul(a).sum())(N.tensor([3]).float())[0];
        return JSON.stringify({
          printed: x.toString(),
          shape: x.grad.shape,
          finite: Array.from(x.grad.dataSync()).every(Number.isFinite),
          g: g.item(),
        });
      })()`,
      ctx,
    );
    expect(JSON.parse(out as string)).toEqual({
      printed: 'tensor([[1., 2.],\n        [3., 4.]], requires_grad=True)',
      shape: [2, 2],
      finite: true,
      g: 6,
    });
  });
});
