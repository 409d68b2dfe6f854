# SPDX-License-Identifier: GPL-2.0-or-later
# The GDB half of the differential oracle: runs inside `gdb -batch -x gdb_side.py`.
# Reads a JSON plan (path in the Python variable GS_DIFF_PLAN, set with
# `-ex "python GS_DIFF_PLAN='...'"` so the inferior's environment stays clean): the program and its arguments, and a list
# of stops, each a module path, a module-relative pc and the expressions to print there.
# Runs the program once, stops at the first hit of every pc (exactly that address, the
# load bias added), evaluates each expression and writes a canonical tree per expression
# plus GDB's own `output` text to GS_DIFF_OUT (JSON). The canonical form is shared with
# diff_gdb.py, which parses the tracer's rendering into the same shape.
import json
import os
import re

import gdb

import __main__

PLAN = json.load(open(__main__.GS_DIFF_PLAN))
OUT = __main__.GS_DIFF_OUT
MAX_ELEMS = 64


def is_plain_char(t):
    t = t.strip_typedefs()
    return t.code == gdb.TYPE_CODE_INT and t.sizeof == 1 and t.name == "char"


def enum_name(t, n):
    for f in t.fields():
        if f.enumval == n:
            return f.name.rsplit("::", 1)[-1]  # C++ qualifies: ns::Enum::Variant
    return None


def canon(v):
    """The value as a canonical JSON tree (see diff_gdb.py for the shapes)."""
    try:
        if v.is_optimized_out:
            return {"k": "optout"}
        t = v.type.strip_typedefs()
        c = t.code
        if c == gdb.TYPE_CODE_REF or c == gdb.TYPE_CODE_RVALUE_REF:
            return canon(v.referenced_value())
        if c in (gdb.TYPE_CODE_INT, gdb.TYPE_CODE_CHAR, gdb.TYPE_CODE_BOOL):
            return {"k": "int", "v": int(v)}
        if c == gdb.TYPE_CODE_ENUM:
            n = int(v)
            name = enum_name(t, n)
            return {"k": "enum", "v": name} if name is not None else {"k": "enum", "n": n}
        if c == gdb.TYPE_CODE_FLT:
            return {"k": "float", "v": repr(float(v)), "size": t.sizeof}
        if c == gdb.TYPE_CODE_PTR:
            if str(v) == "<synthetic pointer>":  # DW_OP_implicit_pointer: no address
                return synthetic(v, t)
            addr = int(v)
            out = {"k": "ptr", "addr": addr, "type": str(v.type)}
            if addr and is_plain_char(t.target()):
                try:
                    out["str"] = v.string(encoding="latin-1", length=-1)
                except gdb.MemoryError:
                    out["str_error"] = True
            return out
        if c == gdb.TYPE_CODE_ARRAY:
            lo, hi = t.range()
            if is_plain_char(t.target()):
                raw = bytes(int(v[i]) & 0xFF for i in range(lo, hi + 1))
                return {"k": "str", "v": raw.split(b"\0", 1)[0].decode("latin-1")}
            return {"k": "array", "v": [canon(v[i]) for i in range(lo, min(hi, lo + MAX_ELEMS - 1) + 1)]}
        if c in (gdb.TYPE_CODE_STRUCT, gdb.TYPE_CODE_UNION):
            fields = []
            for f in t.fields():
                if f.is_base_class:
                    fields.append(["<base>", canon(v[f])])
                    continue
                if not f.name or getattr(f, "artificial", False):
                    continue
                if not hasattr(f, "bitpos"):  # static member
                    continue
                fields.append([f.name, canon(v[f])])
            return {"k": "union" if c == gdb.TYPE_CODE_UNION else "struct", "v": fields}
        if c == gdb.TYPE_CODE_FUNC:
            return {"k": "func"}
        return {"k": "gdb-unsupported", "v": str(t)}
    except gdb.MemoryError as e:
        return {"k": "readerr", "msg": str(e)}
    except gdb.error as e:
        return classify_error(str(e))


def synthetic(v, t):
    """A pointer with no address (DW_OP_implicit_pointer). GDB reads through it: a char
    pointer canonicalizes to the string it points at, as a real one does."""
    if not is_plain_char(t.target()):
        return {"k": "synthetic"}
    out = {"k": "ptr", "addr": None, "type": str(v.type), "synthetic": True}
    chars = []
    try:
        for i in range(4096):
            b = int(v[i]) & 0xFF
            if not b:
                break
            chars.append(chr(b))
        out["str"] = "".join(chars)
    except gdb.error:  # GDB: the read went past the synthetic object
        out["str_error"] = True
    return out


def classify_error(msg):
    if msg.startswith("No symbol"):
        return {"k": "nosym", "msg": msg}
    if "optimized out" in msg:
        return {"k": "optout", "msg": msg}
    if msg.startswith("Cannot access memory"):
        return {"k": "readerr", "msg": msg}
    return {"k": "gdb-error", "msg": msg}


def evaluate(expr):
    """Evaluates in the innermost frame; a name unknown in an inlined instance is looked up
    again in the frames it is inlined into, as ghostscope's scope lookup does (and as GDB
    itself does for a breakpoint set by line, where it shows the caller's frame)."""
    r = evaluate_here(expr)
    frame = gdb.selected_frame()
    while r["canon"]["k"] == "nosym" and frame.type() == gdb.INLINE_FRAME and frame.older():
        frame = frame.older()
        frame.select()
        r = evaluate_here(expr)
        fn = frame.function()
        r["text"] += " [in the caller's frame %s]" % (fn.name if fn else "?")
    gdb.newest_frame().select()
    return r


def evaluate_here(expr):
    try:
        text = gdb.execute("output " + expr, to_string=True)
    except gdb.error as e:
        text = "error: " + str(e)
    try:
        v = gdb.parse_and_eval(expr)
        tree = canon(v)
    except gdb.MemoryError as e:
        tree = {"k": "readerr", "msg": str(e)}
    except gdb.error as e:
        tree = classify_error(str(e))
    return {"text": text, "canon": tree}


def load_biases():
    """Module path -> load bias, from the mappings of the stopped process."""
    maps = gdb.execute("info proc mappings", to_string=True)
    bias = {}
    for line in maps.splitlines():
        parts = line.split()
        if len(parts) < 5 or not parts[0].startswith("0x"):
            continue
        start, offset, path = int(parts[0], 16), int(parts[3], 16), parts[-1]
        if offset == 0 and path.startswith("/") and path not in bias:
            bias[os.path.realpath(path)] = start
    return bias


def elf_is_exec(path):
    with open(path, "rb") as f:
        hdr = f.read(18)
    return hdr[16] == 2  # ET_EXEC: addresses are absolute


def main():
    result = {"stops": {}, "lines": {}, "notes": []}
    gdb.execute("set confirm off")
    gdb.execute("set pagination off")
    gdb.execute("set print pretty off")
    gdb.execute("set startup-with-shell off")
    gdb.execute("unset environment LINES")
    gdb.execute("unset environment COLUMNS")
    gdb.execute("file " + PLAN["program"])
    gdb.execute("set args " + " ".join(PLAN["args"]))
    for q in PLAN.get("line_queries", []):
        try:
            result["lines"][q] = gdb.execute("info line " + q, to_string=True).strip()
        except gdb.error as e:
            result["lines"][q] = "error: " + str(e)
    gdb.execute("break main")
    gdb.execute("run")
    bias = load_biases()
    # address -> stop key; a stop is keyed "module:pc"
    todo = {}
    for stop in PLAN["stops"]:
        mod = os.path.realpath(stop["module"])
        if mod not in bias:
            result["notes"].append("module not mapped: " + mod)
            continue
        base = 0 if elf_is_exec(mod) else bias[mod]
        addr = base + int(stop["pc"], 16)
        key = stop["module"] + ":" + stop["pc"]
        todo.setdefault(addr, []).append((key, stop["exprs"]))
    gdb.execute("delete")
    bps = {}
    for addr in todo:
        bps[addr] = gdb.Breakpoint("*" + hex(addr), internal=False)
    while todo:
        try:
            gdb.execute("continue")
        except gdb.error as e:
            result["notes"].append("continue: " + str(e))
            break
        try:
            frame = gdb.selected_frame()
        except gdb.error:
            break  # the process exited
        pc = frame.pc()
        if pc not in todo:
            continue
        fn = frame.function()
        for key, exprs in todo.pop(pc):
            result["stops"][key] = {
                "frame": fn.name if fn else "?",
                "values": {e: evaluate(e) for e in exprs},
            }
        bps[pc].enabled = False
    try:
        gdb.execute("kill")
    except gdb.error:
        pass
    with open(OUT, "w") as f:
        json.dump(result, f)


try:
    main()
finally:
    gdb.execute("quit")
