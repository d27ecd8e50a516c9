import { crc32, inflateRawSync } from 'node:zlib';

/** One file of a zip archive, its data inflated and checked against its CRC-32. */
export interface ZipEntry {
  /** The name as stored: `/`-separated, a trailing `/` for a folder. */
  readonly name: string;
  readonly isDir: boolean;
  /** Unix permission bits when the archive was made on Unix (0 otherwise). */
  readonly mode: number;
  readonly data: Buffer;
}

const EOCD = 0x06054b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;
/** The largest a zip comment can make the end-of-central-directory record (22 + 65535). */
const EOCD_SEARCH = 22 + 0xffff;
/**
 * What an archive may unpack to in all: a plugin is kilobytes to tens of megabytes. Ours (Go's
 * archive/zip, which Traefik's plugin loader uses, sets none): a zip bomb (a few kilobytes
 * declaring gigabytes) is refused before anything is inflated.
 */
export const MAX_UNPACKED_BYTES = 512 * 1024 * 1024;

/**
 * Reads a zip archive (PKWARE APPNOTE: stored and deflated files, read through the central
 * directory): what plugins.traefik.io serves. Zip64 and encrypted entries are refused. Throws
 * an Error whose message says what is wrong with the archive.
 */
export function readZip(buf: Buffer): ZipEntry[] {
  const from = Math.max(0, buf.length - EOCD_SEARCH);
  let end = -1;
  for (let i = buf.length - 22; i >= from; i--) {
    if (buf.readUInt32LE(i) === EOCD) {
      end = i;
      break;
    }
  }
  if (end < 0) throw new Error('not a zip archive (no end of central directory)');
  const count = buf.readUInt16LE(end + 10);
  const size = buf.readUInt32LE(end + 12);
  let at = buf.readUInt32LE(end + 16);
  if (count === 0xffff || size === 0xffffffff || at === 0xffffffff)
    throw new Error('zip64 archives are not supported');
  if (at + size > end) throw new Error('the central directory runs past its end');
  const out: ZipEntry[] = [];
  let total = 0;
  for (let n = 0; n < count; n++) {
    if (at + 46 > end || buf.readUInt32LE(at) !== CENTRAL)
      throw new Error(`central directory entry ${n} is malformed`);
    const madeBy = buf.readUInt16LE(at + 4) >> 8;
    const flags = buf.readUInt16LE(at + 8);
    const method = buf.readUInt16LE(at + 10);
    const crc = buf.readUInt32LE(at + 16);
    const packed = buf.readUInt32LE(at + 20);
    const unpacked = buf.readUInt32LE(at + 24);
    const nameLen = buf.readUInt16LE(at + 28);
    const extraLen = buf.readUInt16LE(at + 30);
    const commentLen = buf.readUInt16LE(at + 32);
    const external = buf.readUInt32LE(at + 38);
    const local = buf.readUInt32LE(at + 42);
    const name = buf.toString('utf8', at + 46, at + 46 + nameLen);
    at += 46 + nameLen + extraLen + commentLen;
    if ((flags & 1) !== 0) throw new Error(`${name}: encrypted entries are not supported`);
    if (local + 30 > buf.length || buf.readUInt32LE(local) !== LOCAL)
      throw new Error(`${name}: bad local header`);
    const start = local + 30 + buf.readUInt16LE(local + 26) + buf.readUInt16LE(local + 28);
    if (start + packed > buf.length) throw new Error(`${name}: its data runs past the archive's end`);
    total += unpacked;
    if (total > MAX_UNPACKED_BYTES)
      throw new Error(`the archive unpacks to more than ${MAX_UNPACKED_BYTES / 1024 / 1024} MiB`);
    const raw = buf.subarray(start, start + packed);
    let data: Buffer;
    if (method === 0) data = Buffer.from(raw);
    else if (method === 8) data = inflateRawSync(raw, { maxOutputLength: Math.max(unpacked, 1) });
    else throw new Error(`${name}: compression method ${method} is not supported`);
    if (data.length !== unpacked || crc32(data) !== crc) throw new Error(`${name}: CRC or size mismatch`);
    const isDir = name.endsWith('/');
    out.push({ name, isDir, mode: madeBy === 3 ? (external >>> 16) & 0o777 : 0, data });
  }
  return out;
}
