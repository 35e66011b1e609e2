/**
 * A small base64 decoder that needs no host API (`atob` and `Buffer` are missing in some contexts,
 * e.g. a bare `vm` context or a worklet), used to unpack the embedded WebAssembly binary.
 * @module
 */

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** Value of each base64 character code (255: not a base64 character). */
const VALUES = (() => {
  const t = new Uint8Array(128).fill(255);
  for (let i = 0; i < ALPHABET.length; i++) t[ALPHABET.charCodeAt(i)] = i;
  return t;
})();

/**
 * Decodes standard base64 (RFC 4648 alphabet, optional `=` padding) into bytes.
 * @throws Error when `text` contains a character outside the alphabet or has an impossible length.
 */
export function decodeBase64(text: string): Uint8Array<ArrayBuffer> {
  let len = text.length;
  while (len > 0 && text.charCodeAt(len - 1) === 61) len--; // '='
  if (len % 4 === 1) throw new Error(`decodeBase64: invalid length ${text.length}`);
  const out = new Uint8Array((len * 3) >> 2);
  let acc = 0;
  let bits = 0;
  let o = 0;
  for (let i = 0; i < len; i++) {
    const c = text.charCodeAt(i);
    const v = c < 128 ? VALUES[c]! : 255;
    if (v === 255) throw new Error(`decodeBase64: invalid character at ${i}`);
    acc = ((acc << 6) | v) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 0xff;
    }
  }
  return out;
}
