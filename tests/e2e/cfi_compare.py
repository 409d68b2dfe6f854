#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Compares our CFI table (cfi_dump output) with readelf --debug-dump=frames-interp.

usage: cfi_compare.py OURS.txt READELF.txt

At every row start of either side, the CFA (reg+off or exp), the return-address rule
and the rbp rule must agree; and at every row start of our saved-register table (the
"S0x..." lines) or of readelf's, the rules of rbx and r12-r15 (x86-64). readelf prints "u" both for DW_CFA_undefined and for a
register that the FDE mentions later but has not set yet (which for rbp means "same
value"), and leaves out columns the FDE never mentions: so readelf "u" or a missing
column matches our "u" or "s". .eh_frame wins over .debug_frame, as in gs_cfi_build.
Prints one line per mismatch (at most 20) and a summary; exit 1 on any mismatch.
"""
import bisect
import re
import sys

HDR = re.compile(r'^([0-9a-f]{8,16}) [0-9a-f]+ [0-9a-f]+ (CIE|FDE)')
FDE = re.compile(r'cie=([0-9a-f]+) pc=([0-9a-f]+)\.\.([0-9a-f]+)')
ROW = re.compile(r'^([0-9a-f]{16}) +(.*)$')
REGNAME = re.compile(r'\br\d+ \((\w+)\)')
SAVED = ('rbx', 'r12', 'r13', 'r14', 'r15')


def parse_readelf(path):
    """Returns {'eh': [(lo, hi, [(pc, (cfa, ra, rbp))...])...], 'df': [...]}."""
    out = {'eh': [], 'df': []}
    sect = None
    cies = {}
    cur = None  # ('CIE', off, rows) or ('FDE', lo, hi, cie, rows)
    cols = []

    def finish():
        if cur is None:
            return
        if cur[0] == 'CIE':
            cies[(sect, cur[1])] = cur[2][0][1] if cur[2] else None
        else:
            _, lo, hi, cie, rows = cur
            if not rows:
                init = cies.get((sect, cie))
                rows = [(lo, init)] if init else []
            out[sect].append((lo, hi, rows))

    for line in open(path):
        line = line.rstrip('\n')
        if line.startswith('Contents of the .eh_frame section'):
            finish(); cur = None; sect = 'eh'; continue
        if line.startswith('Contents of the .debug_frame section'):
            finish(); cur = None; sect = 'df'; continue
        if line.startswith('Contents of'):
            finish(); cur = None; sect = None; continue
        if sect is None:
            continue
        m = HDR.match(line)
        if m:
            finish()
            off = int(m.group(1), 16)
            if m.group(2) == 'CIE':
                cur = ('CIE', off, [])
            else:
                f = FDE.search(line)
                cur = ('FDE', int(f.group(2), 16), int(f.group(3), 16),
                       int(f.group(1), 16), [])
            continue
        if line.startswith('   LOC'):
            cols = line.split()[1:]
            continue
        m = ROW.match(line)
        if m and cur is not None:
            # readelf writes a register rule as "r10 (r10)" or "r1 (rdx)"
            text = REGNAME.sub(r'\1', m.group(2))
            vals = dict(zip(cols, text.split()))
            state = (vals.get('CFA'), vals.get('ra', 'u'), vals.get('rbp', 'u')) + \
                tuple(vals.get(r, 'u') for r in SAVED)
            rows = cur[-1]
            if rows and rows[-1][0] == int(m.group(1), 16):
                rows.pop()  # a zero-length row: the later one holds at this pc
            rows.append((int(m.group(1), 16), state))
    finish()
    return out


def parse_ours(path, saved=False):
    """Our rows (saved=False) or saved-register rows ("S0x..." lines)."""
    pcs, states = [], []
    for line in open(path):
        parts = line.split()
        if not parts:
            continue
        if saved != parts[0].startswith('S0x') or not parts[0].lstrip('S').startswith('0x'):
            continue
        pc = int(parts[0].lstrip('S'), 16)
        if parts[1] == 'gap':
            state = None
        else:
            kv = dict(p.split('=', 1) for p in parts[1:])
            state = tuple(kv[r] for r in SAVED) if saved else (kv['cfa'], kv['ra'], kv['rbp'])
        pcs.append(pc)
        states.append(state)
    return pcs, states


def same_reg(theirs, ours):
    if theirs == 'u':
        return ours in ('u', 's')
    return theirs == ours


def same(theirs, ours):
    if ours is None or theirs is None:
        return theirs is None and ours is None
    return theirs[0] == ours[0] and same_reg(theirs[1], ours[1]) and same_reg(theirs[2], ours[2])


def same_saved(theirs, ours):
    if ours is None or theirs is None:
        return theirs is None and ours is None
    return all(same_reg(t, o) for t, o in zip(theirs[3:], ours))


def main():
    ours_pcs, ours_states = parse_ours(sys.argv[1])
    sv_pcs, sv_states = parse_ours(sys.argv[1], saved=True)
    re_tab = parse_readelf(sys.argv[2])

    # readelf pieces: eh first; debug_frame only where no eh FDE covers.
    eh_ranges = sorted((lo, hi) for lo, hi, _ in re_tab['eh'] if lo)
    eh_starts = [r[0] for r in eh_ranges]

    def eh_covers(pc):
        i = bisect.bisect_right(eh_starts, pc) - 1
        return i >= 0 and eh_ranges[i][0] <= pc < eh_ranges[i][1]

    pieces = []  # (lo, hi, state)
    for sect in ('eh', 'df'):
        for lo, hi, rows in re_tab[sect]:
            if lo == 0 or lo >= hi:
                continue  # discarded function's leftover FDE
            for i, (pc, st) in enumerate(rows):
                end = rows[i + 1][0] if i + 1 < len(rows) else hi
                end = min(end, hi)
                if pc >= end:
                    continue
                if sect == 'df' and eh_covers(pc):
                    continue
                pieces.append((pc, end, st))
    pieces.sort(key=lambda p: p[0])
    p_starts = [p[0] for p in pieces]

    def theirs_at(pc):
        i = bisect.bisect_right(p_starts, pc) - 1
        if i >= 0 and pieces[i][0] <= pc < pieces[i][1]:
            return pieces[i][2]
        return None

    def ours_at(pc):
        i = bisect.bisect_right(ours_pcs, pc) - 1
        return ours_states[i] if i >= 0 else None

    def saved_at(pc):
        i = bisect.bisect_right(sv_pcs, pc) - 1
        return sv_states[i] if i >= 0 else None

    bad = 0
    checked = 0
    points = sorted(set(p_starts) | set(ours_pcs))
    for pc in points:
        t, o = theirs_at(pc), ours_at(pc)
        checked += 1
        if not same(t, o):
            bad += 1
            if bad <= 20:
                print('mismatch at 0x%x: readelf %s, ours %s' % (pc, t, o))
    # the saved-register table (x86-64 only: empty elsewhere)
    nsaved = 0
    if sv_pcs:
        for pc in sorted(set(p_starts) | set(sv_pcs)):
            t, o = theirs_at(pc), saved_at(pc)
            nsaved += 1
            if not same_saved(t, o):
                bad += 1
                if bad <= 20:
                    print('saved mismatch at 0x%x: readelf %s, ours %s'
                          % (pc, t and t[3:], o))
    print('cfi_compare: %d row starts checked (%d for rbx/r12-r15), %d readelf rows, '
          '%d of ours, %d mismatches' % (checked, nsaved, len(pieces), len(ours_pcs), bad))
    sys.exit(1 if bad or not pieces else 0)


if __name__ == '__main__':
    main()
