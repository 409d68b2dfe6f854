# SPDX-License-Identifier: GPL-2.0-or-later
# gdb helper for test_backend_bt.sh: prints every frame of the current stop as
# "<module basename>+0x<module vaddr>" (the load base is the mapping at file offset 0).
import gdb, os
maps = []
for line in gdb.execute("info proc mappings", to_string=True).splitlines():
    f = line.split()
    if len(f) >= 5 and f[0].startswith("0x") and f[-1].startswith("/"):
        maps.append((int(f[0], 16), int(f[1], 16), int(f[3], 16), f[-1]))
def where(pc):
    for s, e, off, path in maps:
        if s <= pc < e:
            base = min(m[0] for m in maps if m[3] == path and m[2] == 0)
            return "%s+0x%x" % (os.path.basename(path), pc - base)
    return "?+0x%x" % pc
f = gdb.newest_frame()
while f is not None:
    print(where(f.pc()))
    f = f.older()
