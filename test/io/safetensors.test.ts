import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  arange,
  flip,
  io,
  NeuriteError,
  randn,
  slice,
  type Tensor,
  tensor,
  ValueError,
  zeros,
} from '../../src/index.js';

const { parseSafetensors, serializeSafetensors, readSafetensorsHeader, SafetensorsError } = io;

/** A file with the given header text (padded to 8 bytes unless `pad` is false) and data bytes. */
function rawFile(header: string | object, data: ArrayLike<number> = [], pad = true): Uint8Array {
  let json = typeof header === 'string' ? header : JSON.stringify(header);
  while (pad && json.length % 8) json += ' ';
  const h = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setUint32(0, h.length, true);
  out.set(h, 8);
  out.set(Array.from(data), 8 + h.length);
  return out;
}

function headerOf(bytes: Uint8Array): { len: number; json: Record<string, unknown>; text: string } {
  const len = new DataView(bytes.buffer, bytes.byteOffset).getUint32(0, true);
  const text = new TextDecoder().decode(bytes.subarray(8, 8 + len));
  return { len, json: JSON.parse(text), text };
}

function bytesOf(arr: Float32Array | Float64Array | Int32Array | Uint16Array | BigInt64Array): number[] {
  return Array.from(new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength));
}

/** Runs `fn` and returns the SafetensorsError it throws (failing on success or any other error). */
function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(SafetensorsError);
    expect(e).toBeInstanceOf(NeuriteError);
    return (e as Error).message;
  }
  throw new Error('expected a SafetensorsError, but parsing succeeded');
}

function sameBits(a: Tensor, b: Tensor): void {
  expect(b.dtype).toBe(a.dtype);
  expect(b.shape).toEqual(a.shape);
  const x = a.contiguous().dataSync();
  const y = b.dataSync();
  expect(new Uint8Array(y.buffer, y.byteOffset, y.byteLength)).toEqual(
    new Uint8Array(x.buffer, x.byteOffset, x.byteLength),
  );
}

describe('serializeSafetensors / parseSafetensors round trip', () => {
  it('keeps values bit for bit for every native dtype and awkward shapes', () => {
    const f32 = tensor(new Float32Array([0, -0, 1.5, Number.NaN, Infinity, -Infinity, 1e-45, 3.4e38]), {
      shape: [2, 4],
    });
    const f64 = tensor(new Float64Array([Math.PI, -0, 5e-324, Number.MAX_VALUE, Number.NaN, -1]), {
      shape: [3, 1, 2],
      dtype: 'float64',
    });
    const state = new Map<string, Tensor>([
      ['f32', f32],
      ['f64', f64],
      [
        'i32',
        tensor(
          [
            [-(2 ** 31), -1, 0],
            [1, 7, 2 ** 31 - 1],
          ],
          { dtype: 'int32' },
        ),
      ],
      ['bool', tensor([true, false, true])],
      ['scalar', tensor(2.5)],
      ['empty', zeros([0, 3])],
      ['empty_i32', zeros([2, 0], { dtype: 'int32' })],
      ['ones_dims', randn([1, 1, 3, 1])],
    ]);
    const bytes = serializeSafetensors(state, { format: 'pt', note: 'ünïcode ✓' });
    const { tensors, metadata } = parseSafetensors(bytes);
    expect(metadata).toEqual({ format: 'pt', note: 'ünïcode ✓' });
    expect([...tensors.keys()].sort()).toEqual([...state.keys()].sort());
    for (const [k, t] of state) sameBits(t, tensors.get(k)!);
    expect(tensors.get('bool')!.toArray()).toEqual([true, false, true]);
  });

  it('accepts a plain object and gives empty metadata when there is none', () => {
    const bytes = serializeSafetensors({ a: tensor([1, 2, 3], { dtype: 'float32' }) });
    expect(headerOf(bytes).json).not.toHaveProperty('__metadata__');
    const { tensors, metadata } = parseSafetensors(bytes);
    expect(metadata).toEqual({});
    expect(tensors.get('a')!.toArray()).toEqual([1, 2, 3]);
  });

  it('writes non-contiguous tensors as their row-major values', () => {
    const base = arange(0, 24, 1, { dtype: 'float32' }).reshape(2, 3, 4);
    const views: Record<string, Tensor> = {
      transposed: base.transpose(0, 2),
      permuted: base.permute(1, 2, 0),
      strided: slice(slice(base, 2, 1, null, 2), 1, 0, 3, 2),
      expanded: tensor([[1], [2]], { dtype: 'float32' }).expand(2, 3),
      flipped: flip(base, [1]),
      offset: base.select(0, 1),
      intT: arange(6).reshape(2, 3).t(),
      boolT: tensor([
        [true, false],
        [false, false],
      ]).t(),
    };
    const { tensors } = parseSafetensors(serializeSafetensors(views));
    for (const [k, v] of Object.entries(views)) {
      expect(tensors.get(k)!.toArray()).toEqual(v.toArray());
      expect(tensors.get(k)!.shape).toEqual(v.shape);
      expect(tensors.get(k)!.isContiguous()).toBe(true);
    }
  });

  it('lays out data like the reference: larger dtypes first, then by name, 8-byte padded header', () => {
    const bytes = serializeSafetensors(
      {
        'b.f32': zeros([3]),
        'a.bool': tensor([true, false, true]),
        'z.f64': zeros([1], { dtype: 'float64' }),
        'a.f32': zeros([2]),
        i32: zeros([1], { dtype: 'int32' }),
      },
      { format: 'pt' },
    );
    const { len, json, text } = headerOf(bytes);
    expect(len % 8).toBe(0);
    expect(text.startsWith('{"__metadata__":{"format":"pt"},"z.f64":{"dtype":"F64","shape":[1],')).toBe(true);
    expect(text.trimEnd().length).toBeGreaterThan(len - 8);
    expect(text.slice(text.trimEnd().length)).toMatch(/^ *$/);
    expect(Object.keys(json)).toEqual(['__metadata__', 'z.f64', 'a.f32', 'b.f32', 'i32', 'a.bool']);
    expect(json['z.f64']).toEqual({ dtype: 'F64', shape: [1], data_offsets: [0, 8] });
    expect(json['a.f32']).toEqual({ dtype: 'F32', shape: [2], data_offsets: [8, 16] });
    expect(json['b.f32']).toEqual({ dtype: 'F32', shape: [3], data_offsets: [16, 28] });
    expect(json.i32).toEqual({ dtype: 'I32', shape: [1], data_offsets: [28, 32] });
    expect(json['a.bool']).toEqual({ dtype: 'BOOL', shape: [3], data_offsets: [32, 35] });
    expect(bytes.length).toBe(8 + len + 35);
  });

  it('orders names by code point (UTF-8 byte order), not UTF-16 units', () => {
    // U+FF5E (3 UTF-8 bytes, one UTF-16 unit > 0xD800) sorts before U+1F600 (surrogate pair).
    const bytes = serializeSafetensors({ '\u{1F600}': zeros([1]), '\uFF5E': zeros([1]), a: zeros([1]) });
    expect(Object.keys(headerOf(bytes).json)).toEqual(['a', '\uFF5E', '\u{1F600}']);
    expect([...parseSafetensors(bytes).tensors.keys()]).toEqual(['a', '\uFF5E', '\u{1F600}']);
  });

  it('returns tensors that do not alias the input buffer', () => {
    const bytes = serializeSafetensors({ a: tensor([1, 2], { dtype: 'float32' }) });
    const t = parseSafetensors(bytes).tensors.get('a')!;
    bytes.fill(0, bytes.length - 8);
    expect(t.toArray()).toEqual([1, 2]);
  });

  it('reads from a Uint8Array that is a window into a larger, unaligned buffer', () => {
    const file = serializeSafetensors({ a: tensor([1.5, -2], { dtype: 'float64' }) });
    const big = new Uint8Array(file.length + 3);
    big.set(file, 3);
    const t = parseSafetensors(big.subarray(3)).tensors.get('a')!;
    expect(t.dtype).toBe('float64');
    expect(t.toArray()).toEqual([1.5, -2]);
  });

  it('converts floating tensors with the dtype option', () => {
    const bytes = serializeSafetensors({
      a: tensor([0.1, 2], { dtype: 'float64' }),
      b: tensor([1, 2], { dtype: 'int32' }),
    });
    const { tensors } = parseSafetensors(bytes, { dtype: 'float32' });
    expect(tensors.get('a')!.dtype).toBe('float32');
    expect(tensors.get('a')!.toArray()).toEqual([Math.fround(0.1), 2]);
    expect(tensors.get('b')!.dtype).toBe('int32');
    expect(() => parseSafetensors(bytes, { dtype: 'int32' as 'float32' })).toThrow(
      /parseSafetensors: dtype must be float32 or float64, got int32/,
    );
  });

  it('refuses bad input to the writer', () => {
    expect(() => serializeSafetensors({ __metadata__: zeros([1]) })).toThrow(
      /serializeSafetensors: '__metadata__' is reserved/,
    );
    expect(() => serializeSafetensors({ a: [1, 2] as unknown as Tensor })).toThrow(ValueError);
    expect(() => serializeSafetensors({ a: [1, 2] as unknown as Tensor })).toThrow(
      /value for 'a' is not a Tensor \(got object\)/,
    );
    expect(() => serializeSafetensors({ a: zeros([1]) }, { n: 1 as unknown as string })).toThrow(
      /serializeSafetensors: metadata value for 'n' must be a string, got number/,
    );
  });
});

describe('parseSafetensors dtype conversions on reading', () => {
  it('reads I64 as int32 and refuses values outside the int32 range', () => {
    const vals = new BigInt64Array([-(2n ** 31n), -1n, 0n, 5n, 2n ** 31n - 1n]);
    const file = rawFile({ x: { dtype: 'I64', shape: [5], data_offsets: [0, 40] } }, bytesOf(vals));
    const t = parseSafetensors(file).tensors.get('x')!;
    expect(t.dtype).toBe('int32');
    expect(t.toArray()).toEqual([-(2 ** 31), -1, 0, 5, 2 ** 31 - 1]);

    for (const bad of [2n ** 31n, -(2n ** 31n) - 1n, 2n ** 62n, -(2n ** 63n)]) {
      const f = rawFile(
        { step: { dtype: 'I64', shape: [2], data_offsets: [0, 16] } },
        bytesOf(new BigInt64Array([1n, bad])),
      );
      expect(refusal(() => parseSafetensors(f))).toBe(
        `tensor 'step': int64 value ${bad} at flat index 1 is outside the int32 range Neurite uses for integers`,
      );
    }
  });

  it('reads F16 and BF16 as float32 exactly', () => {
    // 0, -0, 1, -2, 65504 (max), 2^-14 (min normal), 2^-24 (min subnormal), inf, -inf, NaN
    const half = new Uint16Array([
      0x0000, 0x8000, 0x3c00, 0xc000, 0x7bff, 0x0400, 0x0001, 0x7c00, 0xfc00, 0x7e00,
    ]);
    const bf = new Uint16Array([0x3f80, 0xc049, 0x7f80, 0x0001, 0xffc0]);
    const file = rawFile(
      {
        h: { dtype: 'F16', shape: [10], data_offsets: [0, 20] },
        b: { dtype: 'BF16', shape: [5], data_offsets: [20, 30] },
      },
      [...bytesOf(half), ...bytesOf(bf)],
    );
    const { tensors } = parseSafetensors(file);
    const h = tensors.get('h')!;
    expect(h.dtype).toBe('float32');
    const hv = Array.from(h.dataSync());
    expect(hv.slice(0, 9)).toEqual([0, -0, 1, -2, 65504, 2 ** -14, 2 ** -24, Infinity, -Infinity]);
    expect(Object.is(hv[1], -0)).toBe(true);
    expect(hv[9]).toBeNaN();
    const bv = Array.from(tensors.get('b')!.dataSync());
    const f32 = (bits: number): number => new Float32Array(new Uint32Array([bits]).buffer)[0]!;
    expect(bv.slice(0, 4)).toEqual([1, f32(0xc0490000), Infinity, f32(0x00010000)]);
    expect(bv[4]).toBeNaN();
  });

  it('reads I8, U8, I16, U16 as int32 and normalises BOOL bytes', () => {
    const file = rawFile(
      {
        i16: { dtype: 'I16', shape: [2], data_offsets: [0, 4] },
        u16: { dtype: 'U16', shape: [1], data_offsets: [4, 6] },
        i8: { dtype: 'I8', shape: [2], data_offsets: [6, 8] },
        u8: { dtype: 'U8', shape: [2], data_offsets: [8, 10] },
        b: { dtype: 'BOOL', shape: [3], data_offsets: [10, 13] },
      },
      [0x00, 0x80, 0xff, 0x7f, 0xff, 0xff, 0x80, 0xff, 0xff, 0x01, 0, 1, 2],
    );
    const { tensors } = parseSafetensors(file);
    expect(tensors.get('i16')!.toArray()).toEqual([-32768, 32767]);
    expect(tensors.get('u16')!.toArray()).toEqual([65535]);
    expect(tensors.get('i8')!.toArray()).toEqual([-128, -1]);
    expect(tensors.get('u8')!.toArray()).toEqual([255, 1]);
    for (const k of ['i16', 'u16', 'i8', 'u8']) expect(tensors.get(k)!.dtype).toBe('int32');
    expect(tensors.get('b')!.toArray()).toEqual([false, true, true]);
    expect(Array.from(tensors.get('b')!.dataSync())).toEqual([0, 1, 1]);
  });
});

describe('parseSafetensors validation', () => {
  const ok = { a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } };
  const eight = [0, 0, 128, 63, 0, 0, 0, 64];

  it('refuses files too short, huge header lengths and headers past the end', () => {
    expect(refusal(() => parseSafetensors(new Uint8Array(5)))).toBe(
      'file is too short (5 bytes): it must start with an 8-byte header length',
    );
    const huge = (lo: number, hi: number): Uint8Array => {
      const b = new Uint8Array(64);
      new DataView(b.buffer).setUint32(0, lo, true);
      new DataView(b.buffer).setUint32(4, hi, true);
      return b;
    };
    expect(refusal(() => parseSafetensors(huge(0xffffffff, 0xffffffff)))).toBe(
      'header length 18446744073709551615 exceeds the limit of 100000000 bytes (corrupt or not a safetensors file)',
    );
    expect(refusal(() => parseSafetensors(huge(0, 256)))).toMatch(/^header length 1099511627776 exceeds/);
    expect(refusal(() => parseSafetensors(huge(100_000_001, 0)))).toMatch(/^header length 100000001 exceeds/);
    expect(refusal(() => parseSafetensors(huge(57, 0)))).toBe(
      'header length 57 runs past the end of the file (64 bytes, so at most 56)',
    );
  });

  it('refuses headers that are not a UTF-8 JSON object', () => {
    expect(refusal(() => parseSafetensors(rawFile('')))).toMatch(
      /header must be a JSON object starting with '\{'/,
    );
    expect(refusal(() => parseSafetensors(rawFile('[1,2,3]')))).toMatch(/starting with '\{'/);
    const bad = rawFile('{"a":"\u00e9"}');
    bad[bad.indexOf(0xc3)] = 0xff;
    expect(refusal(() => parseSafetensors(bad))).toBe('header is not valid UTF-8');
    expect(refusal(() => parseSafetensors(rawFile('{"a": ')))).toMatch(/^header is not valid JSON \(/);
    expect(refusal(() => parseSafetensors(rawFile('{} {}')))).toMatch(/^header is not valid JSON/);
  });

  it('refuses bad metadata', () => {
    expect(refusal(() => parseSafetensors(rawFile({ __metadata__: [] })))).toBe(
      '__metadata__ must be an object of strings, got an array',
    );
    expect(refusal(() => parseSafetensors(rawFile({ __metadata__: { epoch: 3 } })))).toBe(
      "__metadata__ value for 'epoch' must be a string, got number 3",
    );
    expect(parseSafetensors(rawFile({ __metadata__: null })).metadata).toEqual({});
  });

  it('refuses bad entries, naming the tensor', () => {
    const cases: [object, string][] = [
      [{ w: 3 }, "tensor 'w': entry must be an object, got number 3"],
      [{ w: { shape: [1], data_offsets: [0, 4] } }, "tensor 'w': dtype must be a string, got nothing"],
      [{ w: { dtype: 'F31', shape: [1], data_offsets: [0, 4] } }, `tensor 'w': unknown dtype "F31"`],
      [
        { w: { dtype: 'U64', shape: [1], data_offsets: [0, 8] } },
        "tensor 'w': dtype U64 is not supported (supported: F64, F32, F16, BF16, I64, I32, I16, U16, I8, U8, BOOL)",
      ],
      [
        { w: { dtype: 'F32', shape: [2, -1], data_offsets: [0, 8] } },
        "tensor 'w': shape must be an array of non-negative integers, got [2,-1]",
      ],
      [
        { w: { dtype: 'F32', shape: [1.5], data_offsets: [0, 8] } },
        "tensor 'w': shape must be an array of non-negative integers, got [1.5]",
      ],
      [
        { w: { dtype: 'F32', shape: '2', data_offsets: [0, 8] } },
        `tensor 'w': shape must be an array of non-negative integers, got "2"`,
      ],
      [
        { w: { dtype: 'F32', data_offsets: [0, 8] } },
        "tensor 'w': shape must be an array of non-negative integers, got nothing",
      ],
      [
        { w: { dtype: 'F32', shape: [2 ** 26, 2 ** 26], data_offsets: [0, 8] } },
        "tensor 'w': shape [67108864,67108864] is too large",
      ],
      [
        { w: { dtype: 'F32', shape: [2], data_offsets: [0] } },
        "tensor 'w': data_offsets must be two non-negative integers [begin, end], got [0]",
      ],
      [
        { w: { dtype: 'F32', shape: [2], data_offsets: [-8, 0] } },
        "tensor 'w': data_offsets must be two non-negative integers [begin, end], got [-8,0]",
      ],
      [
        { w: { dtype: 'F32', shape: [2], data_offsets: [0, 2 ** 60] } },
        "tensor 'w': data_offsets must be two non-negative integers [begin, end], got [0,1152921504606847000]",
      ],
      [
        { w: { dtype: 'F32', shape: [2], data_offsets: [8, 0] } },
        "tensor 'w': data_offsets [8,0] end before they begin",
      ],
      [
        { w: { dtype: 'F64', shape: [2], data_offsets: [0, 8] } },
        "tensor 'w': data_offsets [0,8] span 8 bytes but dtype F64 (8 bytes) x shape [2] (2 elements) needs 16",
      ],
      [
        { w: { dtype: 'F32', shape: [3], data_offsets: [0, 12] } },
        "tensor 'w': data_offsets [0,12] run past the end of the file (the data section has 8 bytes)",
      ],
      [
        { w: { dtype: 'F32', shape: [1e6, 1e6], data_offsets: [0, 4e12] } },
        "tensor 'w': data_offsets [0,4000000000000] run past the end of the file (the data section has 8 bytes)",
      ],
    ];
    for (const [header, msg] of cases)
      expect(refusal(() => parseSafetensors(rawFile(header, eight)))).toBe(msg);
  });

  it('refuses overlapping, out-of-order-with-gaps and trailing data', () => {
    const overlap = {
      a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
      b: { dtype: 'F32', shape: [1], data_offsets: [4, 8] },
    };
    expect(refusal(() => parseSafetensors(rawFile(overlap, eight)))).toBe(
      "tensor 'b': data_offsets [4,8] overlap tensor 'a' [0,8]",
    );
    const gap = { a: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } };
    expect(refusal(() => parseSafetensors(rawFile(gap, eight)))).toBe(
      "tensor 'a': data_offsets [4,8] leave a gap of 4 bytes at the start of the data section",
    );
    const gap2 = {
      b: { dtype: 'F32', shape: [1], data_offsets: [8, 12] },
      a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] },
    };
    expect(refusal(() => parseSafetensors(rawFile(gap2, [...eight, 0, 0, 0, 0])))).toBe(
      "tensor 'b': data_offsets [8,12] leave a gap of 4 bytes after tensor 'a' (which ends at 4)",
    );
    // Out of header order but contiguous in the data: fine.
    const swapped = {
      b: { dtype: 'F32', shape: [1], data_offsets: [4, 8] },
      a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] },
    };
    const t = parseSafetensors(rawFile(swapped, eight)).tensors;
    expect([...t.keys()]).toEqual(['a', 'b']);
    expect(t.get('b')!.toArray()).toEqual([2]);
    expect(refusal(() => parseSafetensors(rawFile(ok, [...eight, 1, 2, 3])))).toBe(
      "3 trailing bytes after the last tensor ('a', ending at 8): the data section has 11 bytes",
    );
    expect(refusal(() => parseSafetensors(rawFile({}, [1])))).toBe(
      '1 trailing bytes after the last tensor: the data section has 1 bytes',
    );
    expect(parseSafetensors(rawFile({})).tensors.size).toBe(0);
  });

  it('refuses a non-Uint8Array argument', () => {
    expect(refusal(() => parseSafetensors([1, 2, 3] as unknown as Uint8Array))).toBe(
      "expected the file's bytes as a Uint8Array, got an array",
    );
  });

  it('validates the whole header before reading any tensor', () => {
    // The first tensor is fine but the second has a bad dtype: nothing is decoded, the error names 'z'.
    const file = rawFile(
      {
        a: { dtype: 'I64', shape: [1], data_offsets: [0, 8] },
        z: { dtype: 'Q8', shape: [0], data_offsets: [8, 8] },
      },
      [0, 0, 0, 0, 1, 0, 0, 0], // a holds 2^32, which would fail on decoding
    );
    expect(refusal(() => parseSafetensors(file))).toBe(`tensor 'z': unknown dtype "Q8"`);
    expect(readSafetensorsHeader(rawFile(ok, eight))).toEqual({
      entries: [{ key: 'a', dtype: 'F32', shape: [2], begin: 0, end: 8 }],
      metadata: {},
      dataStart: 64, // 8 + the 56-byte header padded with spaces
    });
  });
});

describe('corrupted files', () => {
  const small = serializeSafetensors(
    {
      w: tensor([1, 2, 3, 4], { dtype: 'float32' }).reshape(2, 2),
      b: tensor([1.5], { dtype: 'float64' }),
      n: tensor([3], { dtype: 'int32' }),
      m: tensor([true, false]),
    },
    { format: 'pt' },
  );
  const headerEnd = 8 + headerOf(small).len;

  it('refuses every truncation of a small file', () => {
    expect(parseSafetensors(small).tensors.size).toBe(4);
    const messages = new Set<string>();
    for (let n = 0; n < small.length; n++) {
      const msg = refusal(() => parseSafetensors(small.slice(0, n)));
      messages.add(msg.replace(/\d+/g, 'N').replace(/tensor '\w'/, "tensor 'K'"));
    }
    expect([...messages].sort()).toEqual([
      'file is too short (N bytes): it must start with an N-byte header length',
      'header length N runs past the end of the file (N bytes, so at most N)',
      "tensor 'K': data_offsets [N,N] run past the end of the file (the data section has N bytes)",
    ]);
  });

  it('never crashes on a flipped header byte: it parses or throws a SafetensorsError', () => {
    let refused = 0;
    for (let i = 0; i < headerEnd; i++) {
      for (const mask of [0x01, 0x20, 0x80, 0xff]) {
        const b = small.slice();
        b[i]! ^= mask;
        try {
          const { tensors } = parseSafetensors(b);
          for (const t of tensors.values()) t.dataSync();
        } catch (e) {
          expect(e).toBeInstanceOf(SafetensorsError);
          refused++;
        }
      }
    }
    expect(refused).toBeGreaterThan(headerEnd * 2);
  });

  it('never crashes on random byte mutations (property test)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat({ max: small.length - 1 }), fc.nat({ max: 255 })), {
          minLength: 1,
          maxLength: 6,
        }),
        fc.nat({ max: small.length }),
        (edits, cut) => {
          const b = small.slice();
          for (const [i, v] of edits) b[i] = v;
          try {
            parseSafetensors(b.subarray(0, cut));
          } catch (e) {
            if (!(e instanceof SafetensorsError)) throw e;
          }
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('refuses an offset pointing past the data and a wrong dtype size', () => {
    const grow = (from: string, to: string): Uint8Array => {
      const { text } = headerOf(small);
      const changed = text.replace(from, to);
      expect(changed).not.toBe(text);
      return rawFile(changed.trimEnd(), small.subarray(headerEnd));
    };
    expect(refusal(() => parseSafetensors(grow('"dtype":"F64"', '"dtype":"F32"')))).toBe(
      "tensor 'b': data_offsets [0,8] span 8 bytes but dtype F32 (4 bytes) x shape [1] (1 elements) needs 4",
    );
    expect(refusal(() => parseSafetensors(grow('"data_offsets":[24,28]', '"data_offsets":[24,32]')))).toMatch(
      /^tensor 'n': data_offsets \[24,32\] span 8 bytes/,
    );
    expect(
      refusal(() =>
        parseSafetensors(grow('"shape":[2],"data_offsets":[28,30]', '"shape":[2],"data_offsets":[99,101]')),
      ),
    ).toBe("tensor 'm': data_offsets [99,101] run past the end of the file (the data section has 30 bytes)");
  });
});
