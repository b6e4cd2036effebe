import { existsSync, readFileSync } from 'node:fs';
import { bzImagePayload, bzImageRelease, defaultKernelPath, hasPvhNote, moduleVermagic } from '../../../runner/executors/microvm/kernel';

/** A minimal ELF64 with one PT_NOTE segment holding a single note. */
function elfWithNote(name: string, type: number): Buffer {
  const elf = Buffer.alloc(0x200);
  Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2]).copy(elf);
  elf.writeBigUInt64LE(0x40n, 0x20); // e_phoff
  elf.writeUInt16LE(56, 0x36); // e_phentsize
  elf.writeUInt16LE(1, 0x38); // e_phnum
  const noteAt = 0x100;
  elf.writeUInt32LE(4, 0x40); // PT_NOTE
  elf.writeBigUInt64LE(BigInt(noteAt), 0x40 + 8);
  elf.writeBigUInt64LE(24n, 0x40 + 32);
  elf.writeUInt32LE(name.length + 1, noteAt);
  elf.writeUInt32LE(4, noteAt + 4);
  elf.writeUInt32LE(type, noteAt + 8);
  elf.write(name, noteAt + 12, 'latin1');
  return elf;
}

describe('guest kernel', () => {
  test('recognises the PVH entry note', () => {
    expect(hasPvhNote(elfWithNote('Xen', 18))).toBe(true);
    expect(hasPvhNote(elfWithNote('Xen', 17))).toBe(false);
    expect(hasPvhNote(elfWithNote('GNU', 18))).toBe(false);
    expect(hasPvhNote(Buffer.from('not an elf'))).toBe(false);
  });

  test('reads a module\'s vermagic', () => {
    const ko = Buffer.concat([Buffer.from('\x7fELF...license=GPL\0'), Buffer.from('vermagic=6.1.0-56-amd64 SMP preempt mod_unload \0name=virtio\0')]);
    expect(moduleVermagic(ko)).toBe('6.1.0-56-amd64 SMP preempt mod_unload ');
    expect(moduleVermagic(Buffer.from('nothing here'))).toBeUndefined();
  });

  test('non-bzImage input has no release or payload', () => {
    expect(bzImageRelease(Buffer.alloc(0x1000))).toBeUndefined();
    expect(bzImagePayload(Buffer.alloc(0x1000))).toBeUndefined();
  });

  const kernel = defaultKernelPath();
  (existsSync(kernel) ? test : test.skip)('reads the release and payload of the bootstrap kernel', () => {
    const image = readFileSync(kernel);
    expect(bzImageRelease(image)).toMatch(/^\d+\.\d+/);
    expect(bzImagePayload(image)?.length).toBeGreaterThan(1_000_000);
  });
});
