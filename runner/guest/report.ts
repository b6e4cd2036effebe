/**
 * Turns the guest's frames into what it reported. The guest already enforces the output caps; the
 * host checks them again while receiving, so a confused guest can never make the runner buffer more
 * than the caps allow.
 */
import { decodeExit, Frame, FrameType, GuestExit, ProtocolError } from './protocol';

export interface OutputCaps {
  maxTotalBytes: number;
  maxFiles: number;
}

export interface GuestFile {
  path: string;
  chunks: Buffer[];
  bytes: number;
}

export class GuestReport {
  guestKernel?: string;
  started = false;
  exit?: GuestExit;
  complete = false;
  readonly errors: string[] = [];
  readonly files: GuestFile[] = [];
  private readonly stdoutChunks: Buffer[] = [];
  private readonly stderrChunks: Buffer[] = [];
  private stdoutBytes = 0;
  private stderrBytes = 0;
  private fileBytes = 0;

  constructor(private readonly caps: OutputCaps) {}

  get stdout(): Buffer {
    return Buffer.concat(this.stdoutChunks);
  }

  get stderr(): Buffer {
    return Buffer.concat(this.stderrChunks);
  }

  accept(frame: Frame): void {
    if (this.complete) throw new ProtocolError(`frame '${frame.type}' after the end frame`);
    switch (frame.type) {
      case FrameType.hello:
        this.guestKernel = frame.payload.toString('utf8');
        break;
      case FrameType.started:
        this.started = true;
        break;
      case FrameType.exit:
        this.exit = decodeExit(frame.payload);
        break;
      case FrameType.stdout:
        this.stdoutBytes = this.append(this.stdoutChunks, this.stdoutBytes, frame.payload, 'stdout');
        break;
      case FrameType.stderr:
        this.stderrBytes = this.append(this.stderrChunks, this.stderrBytes, frame.payload, 'stderr');
        break;
      case FrameType.file:
        if (this.files.length >= this.caps.maxFiles) throw new ProtocolError(`guest sent more than ${this.caps.maxFiles} files`);
        this.files.push({ path: frame.payload.toString('utf8'), chunks: [], bytes: 0 });
        break;
      case FrameType.fileData: {
        const file = this.files[this.files.length - 1];
        if (!file) throw new ProtocolError('file data before any file header');
        this.fileBytes = this.append(file.chunks, this.fileBytes, frame.payload, 'output files');
        file.bytes += frame.payload.length;
        break;
      }
      case FrameType.error:
        this.errors.push(frame.payload.toString('utf8'));
        break;
      case FrameType.end:
        this.complete = true;
        break;
      default:
        throw new ProtocolError(`unknown frame type '${frame.type}'`);
    }
  }

  private append(chunks: Buffer[], soFar: number, data: Buffer, what: string): number {
    const total = soFar + data.length;
    if (total > this.caps.maxTotalBytes) throw new ProtocolError(`guest sent more than ${this.caps.maxTotalBytes} bytes of ${what}`);
    chunks.push(data);
    return total;
  }
}
