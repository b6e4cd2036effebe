/**
 * The framed channel from the guest init (runner/guest/init.c, `send_frame`) to the host.
 *
 *   "BLCH" | nonce (16 bytes) | seq u32 | type u8 | len u32 | payload | crc32(seq..payload) u32
 *
 * Only init writes to the channel, but the decoder does not rely on that alone: a frame counts only
 * when it carries this job's nonce, arrives in sequence and passes its CRC. Bytes that do not start a
 * frame (a Firecracker serial port may carry other output) are skipped and counted.
 */
export const FRAME_MAGIC = Buffer.from('BLCH', 'latin1');
export const NONCE_BYTES = 16;
const PREFIX_BYTES = FRAME_MAGIC.length + NONCE_BYTES;
const HEADER_BYTES = PREFIX_BYTES + 9;
const TRAILER_BYTES = 4;
/** init sends at most 64 KiB per frame; anything much larger is corruption, not data. */
export const MAX_FRAME_PAYLOAD = 1024 * 1024;

export const FrameType = {
  hello: 'H', // init is up; payload = guest kernel release
  started: 'S', // the command was exec'd
  exit: 'X', // how the command ended (see decodeExit)
  stdout: 'O',
  stderr: 'E',
  file: 'F', // an output file starts; payload = its path as requested
  fileData: 'D', // the next bytes of the latest file
  error: 'R', // a message for the user
  end: 'Z', // nothing follows; the report is complete
} as const;

export interface Frame {
  seq: number;
  type: string;
  payload: Buffer;
}

export class ProtocolError extends Error {}

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[i] = c >>> 0;
  }
  return table;
})();

/** CRC-32 (IEEE), the same as zlib's; written out because zlib.crc32 needs Node >= 20.15. */
export function crc32(data: Uint8Array, seed = 0): number {
  let crc = ~seed >>> 0;
  for (let i = 0; i < data.length; i++) crc = CRC_TABLE[(crc ^ data[i]) & 0xff] ^ (crc >>> 8);
  return ~crc >>> 0;
}

/** The host-side twin of init's send_frame: used by tests and to document the format executable-y. */
export function encodeFrame(nonce: Buffer, seq: number, type: string, payload: Buffer = Buffer.alloc(0)): Buffer {
  const header = Buffer.alloc(HEADER_BYTES);
  FRAME_MAGIC.copy(header, 0);
  nonce.copy(header, FRAME_MAGIC.length);
  header.writeUInt32BE(seq, PREFIX_BYTES);
  header.write(type, PREFIX_BYTES + 4, 1, 'latin1');
  header.writeUInt32BE(payload.length, PREFIX_BYTES + 5);
  const trailer = Buffer.alloc(TRAILER_BYTES);
  trailer.writeUInt32BE(crc32(payload, crc32(header.subarray(PREFIX_BYTES))));
  return Buffer.concat([header, payload, trailer]);
}

export class FrameDecoder {
  /** Bytes seen that were not part of a frame for this job. */
  skippedBytes = 0;
  // Received bytes not yet consumed, as chunks: the channel arrives in small pieces (QEMU writes a
  // debug port byte by byte), so they are joined once per frame, not once per piece.
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** Size of the frame at the head of the buffer, once its header has been read. */
  private frameBytes?: number;
  private nextSeq = 0;
  private readonly prefix: Buffer;

  constructor(nonce: Buffer) {
    if (nonce.length !== NONCE_BYTES) throw new Error(`nonce must be ${NONCE_BYTES} bytes`);
    this.prefix = Buffer.concat([FRAME_MAGIC, nonce]);
  }

  /** Feeds channel bytes; returns the frames they complete. Throws ProtocolError on a damaged or missing frame. */
  push(chunk: Buffer): Frame[] {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const frames: Frame[] = [];
    for (;;) {
      if (this.frameBytes === undefined && !this.findHeader()) return frames;
      if (this.buffered < this.frameBytes!) return frames;
      frames.push(this.takeFrame(this.frameBytes!));
      this.frameBytes = undefined;
    }
  }

  private joined(): Buffer {
    if (this.chunks.length > 1) this.chunks = [Buffer.concat(this.chunks)];
    return this.chunks[0] ?? Buffer.alloc(0);
  }

  private keep(rest: Buffer): void {
    this.chunks = rest.length ? [rest] : [];
    this.buffered = rest.length;
  }

  /** Skips to the next header of this job and reads its length; false until one is complete. */
  private findHeader(): boolean {
    const data = this.joined();
    const start = data.indexOf(this.prefix);
    if (start < 0) {
      // Keep a tail that could be the beginning of a prefix split across chunks.
      const keep = Math.min(data.length, PREFIX_BYTES - 1);
      this.skippedBytes += data.length - keep;
      this.keep(data.subarray(data.length - keep));
      return false;
    }
    this.skippedBytes += start;
    this.keep(data.subarray(start));
    if (this.buffered < HEADER_BYTES) return false;
    const length = data.readUInt32BE(start + PREFIX_BYTES + 5);
    if (length > MAX_FRAME_PAYLOAD) {
      throw new ProtocolError(`frame ${data.readUInt32BE(start + PREFIX_BYTES)} claims ${length} bytes: corrupted channel`);
    }
    this.frameBytes = HEADER_BYTES + length + TRAILER_BYTES;
    return true;
  }

  private takeFrame(total: number): Frame {
    const data = this.joined();
    const seq = data.readUInt32BE(PREFIX_BYTES);
    const type = data.toString('latin1', PREFIX_BYTES + 4, PREFIX_BYTES + 5);
    const end = total - TRAILER_BYTES;
    if (crc32(data.subarray(PREFIX_BYTES, end)) !== data.readUInt32BE(end)) {
      throw new ProtocolError(`frame ${seq} failed its checksum: corrupted channel`);
    }
    if (seq !== this.nextSeq) throw new ProtocolError(`frame ${this.nextSeq} is missing (got ${seq}): lost data`);
    this.nextSeq++;
    // Copy: the payload must not pin the (possibly much larger) receive buffer.
    const payload = Buffer.from(data.subarray(HEADER_BYTES, end));
    this.keep(data.subarray(total));
    return { seq, type, payload };
  }
}

export type ExitKind = 'exited' | 'signaled' | 'timed-out' | 'not-started';
const EXIT_KINDS: ExitKind[] = ['exited', 'signaled', 'timed-out', 'not-started'];

export interface GuestExit {
  kind: ExitKind;
  /** Exit status for 'exited', signal number for 'signaled'. */
  code: number;
  durationUs: number;
}

/** Payload of an 'X' frame: kind u8, 3 bytes padding, code i32, duration in microseconds u64. */
export function decodeExit(payload: Buffer): GuestExit {
  if (payload.length !== 16) throw new ProtocolError(`exit frame has ${payload.length} bytes, expected 16`);
  const kind = EXIT_KINDS[payload[0]];
  if (!kind) throw new ProtocolError(`exit frame has unknown kind ${payload[0]}`);
  return { kind, code: payload.readInt32BE(4), durationUs: Number(payload.readBigUInt64BE(8)) };
}

export function encodeExit(exit: GuestExit): Buffer {
  const payload = Buffer.alloc(16);
  payload[0] = EXIT_KINDS.indexOf(exit.kind);
  payload.writeInt32BE(exit.code, 4);
  payload.writeBigUInt64BE(BigInt(exit.durationUs), 8);
  return payload;
}
