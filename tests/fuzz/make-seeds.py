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


# fuzz_kernel: a small ELF kernel (two segments at 16 MiB and 18 MiB, the
# second with bss, one relocation of each kind), as it is and inside bzImages
# whose payload is gzip and xz (BCJ x86, CRC32), as Linux's build makes them.
def elf_kernel():
    base, kmap = 0x1000000, 0xffffffff80000000
    segs = [(base, 0x1000, 0x1000), (base + 0x200000, 0x800, 0x2000)]
    off = 0x1000
    body = bytearray(off + 0x1000 + segs[-1][1])  # the image ends with the last segment
    ph = b""
    for i, (pa, filesz, memsz) in enumerate(segs):
        fo = off + i * 0x1000
        body[fo:fo + filesz] = bytes((j * 7 + i) & 0xff for j in range(filesz))
        ph += struct.pack("<IIQQQQQQ", 1, 6, fo, kmap + pa, pa, filesz, memsz, 0x200000)
    eh = (b"\x7fELF" + bytes([2, 1, 1]) + bytes(9) +
          struct.pack("<HHIQQQIHHHHHH", 2, 62, 1, base + 0x40, 64, 0, 0, 64, 56,
                      len(segs), 64, 0, 0))
    body[0:len(eh)] = eh
    body[64:64 + len(ph)] = ph
    k = lambda pa, o: (kmap + pa + o) & 0xffffffff
    relocs = [0, k(base, 0x100), 0, k(base + 0x200000, 0x10), 0, k(base, 0x200)]
    return bytes(body) + struct.pack("<%dI" % len(relocs), *relocs)


def bzimage(payload):
    setup_sects, stub = 3, 0x100
    k = bytearray((setup_sects + 1) * 512 + stub + len(payload))
    k[0x1f1] = setup_sects
    struct.pack_into("<I", k, 0x1f4, (len(k) - (setup_sects + 1) * 512) // 16)  # syssize
    struct.pack_into("<H", k, 0x1fe, 0xaa55)
    k[0x200:0x202] = b"\xeb\x6a"  # jump: the header runs to 0x26c
    k[0x202:0x206] = b"HdrS"
    struct.pack_into("<H", k, 0x206, 0x020f)
    k[0x211] = 1  # loadflags: LOADED_HIGH
    struct.pack_into("<I", k, 0x22c, 0x7fffffff)  # initrd_addr_max
    struct.pack_into("<I", k, 0x230, 0x200000)  # kernel_alignment
    k[0x234] = 1  # relocatable_kernel
    struct.pack_into("<H", k, 0x236, 1)  # xloadflags: XLF_KERNEL_64
    struct.pack_into("<I", k, 0x238, 2047)  # cmdline_size
    struct.pack_into("<II", k, 0x248, stub, len(payload))  # payload_offset, _length
    struct.pack_into("<Q", k, 0x258, 0x1000000)  # pref_address
    struct.pack_into("<I", k, 0x260, 0x400000)  # init_size
    k[(setup_sects + 1) * 512 + stub:] = payload
    return bytes(k)


def with_size(stream, n):
    return stream + struct.pack("<I", n)


import gzip  # noqa: E402
import lzma  # noqa: E402

kern = elf_kernel()
write("fuzz_kernel", "vmlinux", kern)
write("fuzz_kernel", "bzimage-gzip", bzimage(gzip.compress(kern, mtime=0)))
write("fuzz_kernel", "bzimage-xz",
      bzimage(with_size(lzma.compress(kern, format=lzma.FORMAT_XZ, check=lzma.CHECK_CRC32,
                                      filters=[{"id": lzma.FILTER_X86},
                                               {"id": lzma.FILTER_LZMA2, "preset": 6}]),
                        len(kern))))
