#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Writes damaged copies of an ELF file, deterministically (seeded).

usage: corrupt.py ELF OUTDIR [FLIPS]

OUTDIR/trunc-N: the first N bytes, for sizes across the headers and every section
boundary; OUTDIR/flip-<section>-K: FLIPS copies each with 1-8 random bytes changed
inside one section (.eh_frame, .debug_info, .debug_abbrev, .debug_line, .symtab,
.strtab, .note.gnu.build-id, .dynamic), in the ELF header and in the program and
section header tables.
"""
import os
import random
import struct
import sys


def sections(data):
    """(name, offset, size) of each section of a little-endian ELF64 file."""
    if data[:4] != b'\x7fELF' or data[4] != 2:
        return []
    shoff, = struct.unpack_from('<Q', data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from('<HHH', data, 0x3a)
    out = []
    hdrs = []
    for i in range(shnum):
        off = shoff + i * shentsize
        name, typ, _flags, _addr, offset, size = struct.unpack_from('<IIQQQQ', data, off)
        hdrs.append((name, typ, offset, size))
    stroff = hdrs[shstrndx][2]
    for name, typ, offset, size in hdrs:
        end = data.index(b'\0', stroff + name)
        if typ != 8:  # not NOBITS
            out.append((data[stroff + name:end].decode(), offset, size))
    return out


def main():
    src, outdir = sys.argv[1], sys.argv[2]
    flips = int(sys.argv[3]) if len(sys.argv) > 3 else 20
    data = open(src, 'rb').read()
    rnd = random.Random(0x6b05)
    os.makedirs(outdir, exist_ok=True)
    secs = sections(data)

    cuts = {1, 4, 16, 52, 63, 64, 65, 120, 200, 512, len(data) // 2, len(data) - 1}
    for _, off, size in secs:
        cuts.update({off, off + 1, off + size // 2, off + size - 1})
    for n in sorted(c for c in cuts if 0 < c < len(data)):
        open(os.path.join(outdir, 'trunc-%d' % n), 'wb').write(data[:n])

    shoff, = struct.unpack_from('<Q', data, 0x28)
    regions = [('ehdr', 0, 64), ('phdrs', 64, 56 * struct.unpack_from('<H', data, 0x38)[0]),
               ('shdrs', shoff, len(data) - shoff)]
    wanted = ('.eh_frame', '.debug_info', '.debug_abbrev', '.debug_line', '.debug_str',
              '.symtab', '.strtab', '.dynsym', '.note.gnu.build-id', '.dynamic',
              '.gnu_debuglink', '.debug_frame', '.debug_line_str', '.debug_rnglists')
    regions += [(n, o, s) for n, o, s in secs if n in wanted and s > 0]
    for name, off, size in regions:
        for k in range(flips):
            buf = bytearray(data)
            for _ in range(rnd.randint(1, 8)):
                pos = off + rnd.randrange(size)
                buf[pos] = rnd.choice((0, 0xff, 0x7f, 0x80, rnd.randrange(256)))
            open(os.path.join(outdir, 'flip-%s-%d' % (name.strip('.'), k)), 'wb').write(buf)


if __name__ == '__main__':
    main()
