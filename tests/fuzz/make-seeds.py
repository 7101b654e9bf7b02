#!/usr/bin/env python3
"""Write the binary seeds of tests/fuzz/corpus/ (the text ones are kept as is).

Run from the top of the tree: python3 tests/fuzz/make-seeds.py
"""
import os
import struct

TOP = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(TOP, "corpus")

DESC_F_NEXT, DESC_F_WRITE, DESC_F_INDIRECT = 1, 2, 4


def desc(addr, length, flags, nxt):
    return struct.pack("<QIHH", addr, length, flags, nxt)


def put(ram, off, b):
    ram[off:off + len(b)] = b


def virtq_seed(flags, ring, ops):
    """16-entry queue: desc at RAM+0, avail at +0x100, used at +0x200."""
    ram_gpa = 0x10000
    ram = bytearray(0x800)
    put(ram, 0x000, desc(ram_gpa + 0x400, 16, DESC_F_NEXT, 1))
    put(ram, 0x010, desc(ram_gpa + 0x500, 32, DESC_F_WRITE, 0))
    put(ram, 0x020, desc(ram_gpa + 0x300, 32, DESC_F_INDIRECT, 0))
    put(ram, 0x030, desc(ram_gpa + 0x600, 8, 0, 0))
    put(ram, 0x300, desc(ram_gpa + 0x600, 8, DESC_F_NEXT, 1))
    put(ram, 0x310, desc(ram_gpa + 0x700, 8, DESC_F_WRITE, 0))
    put(ram, 0x100, struct.pack("<HH", 0, len(ring)) + struct.pack("<%dH" % len(ring), *ring))
    # header: flags, size (1 << 4), desc/avail/used offsets (gpa = RAM - 0x400 + off)
    hdr = struct.pack("<BBHHH", flags, 4, 0x400, 0x500, 0x600)
    return hdr + bytes([len(ops)]) + bytes(ops) + bytes(ram)


def write(name, fname, data):
    d = os.path.join(CORPUS, name)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, fname), "wb") as f:
        f.write(data)


# fuzz_virtq: pop, pop, push all, copy, drain, re-enable notifications.
copy = [0x07, 0, 0, 64, 0]
write("fuzz_virtq", "ring-plain",
      virtq_seed(0, [0, 3, 0, 3, 0], [0x00, 0x01, 0x03] + copy + [0x06, 0x04]))
write("fuzz_virtq", "ring-event-idx-indirect",
      virtq_seed(3, [0, 2, 3, 0, 2, 3], [0x00, 0x0c, 0x00, 0x02, 0x01, 0x0a, 0x01, 0x03] + copy +
                 [0x06, 0x04, 0x06]))


# fuzz_virtio_pci: RAM at 0x100000; each queue's rings at 0x1000 * (q + 1)
# (desc +0, avail +0x400, used +0x800), buffers from 0x8000.
PCI_RAM = 0x100000
K_RNG, K_CONSOLE, K_BLK, K_NET = range(4)


def ram_write(at, b):
    out = b""
    while b:
        chunk = b[:255]
        out += bytes([4]) + struct.pack("<HB", at, len(chunk)) + chunk
        at += len(chunk)
        b = b[255:]
    return out


def bring_up(how, q, qsize=16, vec=0, feat_lo=(1 << 28) | (1 << 29)):
    base = 0x1000 * (q + 1)
    return bytes([6]) + struct.pack("<BIIBHHHHB", how, feat_lo, 0, q, qsize,
                                    base, base + 0x400, base + 0x800, vec)


def queue_chains(q, chains):
    """chains: lists of (gpa, len, write); one avail entry per chain."""
    base = 0x1000 * (q + 1)
    table, heads, i = b"", [], 0
    for c in chains:
        heads.append(i)
        for j, (addr, length, w) in enumerate(c):
            last = j == len(c) - 1
            flags = (DESC_F_WRITE if w else 0) | (0 if last else DESC_F_NEXT)
            table += desc(addr, length, flags, 0 if last else i + 1)
            i += 1
    avail = struct.pack("<HH", 0, len(heads)) + struct.pack("<%dH" % len(heads), *heads)
    return ram_write(base, table) + ram_write(base + 0x400, avail)


def doorbell(q):
    return bytes([7, q])


RUN = bytes([5])
ISR_READ = bytes([0x12, 0, 0])
BUF = PCI_RAM + 0x8000

write("fuzz_virtio_pci", "rng",
      bytes([K_RNG | 0x40]) + queue_chains(0, [[(BUF, 64, True)], [(BUF + 64, 16, True)]]) +
      bring_up(0xf, 0) + doorbell(0) + ISR_READ)

write("fuzz_virtio_pci", "console",
      bytes([K_CONSOLE | 0x40]) + ram_write(0x8000 + 0x100, b"hello from the guest\n") +
      queue_chains(0, [[(BUF, 128, True)]]) +
      queue_chains(1, [[(BUF + 0x100, 21, False)]]) +
      bring_up(0x7, 0) + bring_up(0x8, 1, vec=1) + doorbell(1) + doorbell(0) +
      bytes([8, 40, 0]) + ISR_READ)

blk_read = struct.pack("<IIQ", 0, 0, 0)          # VIRTIO_BLK_T_IN, sector 0
blk_write = struct.pack("<IIQ", 1, 0, 8)         # VIRTIO_BLK_T_OUT, sector 8
blk_flush = struct.pack("<IIQ", 4, 0, 0)
blk_id = struct.pack("<IIQ", 8, 0, 0)
write("fuzz_virtio_pci", "blk",
      bytes([K_BLK | 0x40 | 0x20 | 0x08]) +
      ram_write(0x8000, blk_read) + ram_write(0x8400, blk_write) + ram_write(0x8800, blk_flush) +
      ram_write(0x8a00, blk_id) +
      queue_chains(0, [
          [(BUF, 16, False), (BUF + 0x1000, 512, True), (BUF + 0x200, 1, True)],
          [(BUF + 0x400, 16, False), (BUF + 0x1000, 512, False), (BUF + 0x600, 1, True)],
          [(BUF + 0x800, 16, False), (BUF + 0x900, 1, True)],
          [(BUF + 0xa00, 16, False), (BUF + 0x1400, 20, True), (BUF + 0xb00, 1, True)],
      ]) +
      bring_up(0xf, 0) + doorbell(0) + RUN + RUN)

frame = bytes(12) + b"\xff" * 6 + b"\x52\x54\x00\x12\x34\x56" + b"\x88\xb5" + bytes(46)
write("fuzz_virtio_pci", "net",
      bytes([K_NET | 0x40]) + ram_write(0x8000 + 0x800, frame) +
      queue_chains(0, [[(BUF, 1536, True)], [(BUF + 0x600, 1536, True)]]) +
      queue_chains(1, [[(BUF + 0x800, len(frame), False)]]) +
      bring_up(0x7, 0) + bring_up(0x8, 1, vec=1) + doorbell(1) + doorbell(0) +
      bytes([8, 100, 0]) + RUN + ISR_READ)
