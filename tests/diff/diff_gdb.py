#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Differential oracle: GDB and ghostscope read the same expressions at the same pcs.

For every fixture build (OUTDIR/<cc>-<opt>-dwarf<N>/shop) and every (probe, expression)
pair of pairs.txt:
  1. ghostscope --dry-run resolves each probe to its pcs (module, module-relative pc);
  2. ghostscope launches `shop 2 0` with one trace block per pair, JSON output, and the
     first event of each (pair, pc) is kept;
  3. GDB (gdb_side.py) runs `shop 2 0` from its start, breaks at exactly those pcs and
     evaluates the same expressions at the first hit of each;
  4. both renderings become canonical trees and are compared value for value.
Both programs run with ASLR off and the same minimal environment, so addresses (also
stack addresses) are the same in both runs and pointers are compared by value.

Prints the agreement table and every disagreement with both renderings. Exit status 0
when every disagreement is listed in the known-differences file (and, on a full run,
every entry of that file still matches something), 1 otherwise.
"""
import argparse
import fnmatch
import json
import os
import re
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ENV = {"PATH": "/usr/bin:/bin"}
RUN_ARGS = ["2", "0"]


# ---------------------------------------------------------------------------- inputs

def read_pairs(path):
    """{program: [pair]}; a line `[PROGRAM]` starts the pairs of that fixture program."""
    progs, prog = {}, "shop"
    for line in open(path):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        m = re.fullmatch(r"\[([\w.-]+)\]", line)
        if m:
            prog = m.group(1)
            continue
        parts = [p.strip() for p in line.split("|")]
        probe, expr = parts[0], parts[1]
        gexpr = parts[2] if len(parts) > 2 and parts[2] else expr
        progs.setdefault(prog, []).append({"probe": probe, "expr": expr, "gdb": gexpr})
    return progs


def read_known(path):
    known = []
    if not os.path.exists(path):
        return known
    for n, line in enumerate(open(path), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = [p.strip() for p in line.split("|")]
        if len(parts) < 4 or not parts[3]:
            sys.exit(f"{path}:{n}: want 'FIXTURE-GLOB | PROBE | EXPR | REASON'")
        known.append({"fix": parts[0], "probe": parts[1], "expr": parts[2],
                      "reason": " | ".join(parts[3:]), "line": n, "used": 0})
    return known


def known_match(known, fix, probe, expr):
    for k in known:
        if fnmatch.fnmatchcase(fix, k["fix"]) and k["probe"] == probe and k["expr"] == expr:
            k["used"] += 1
            return k
    return None


# ---------------------------------------------------------------------------- ghostscope

def gs_cmd(args, fixdir, prog, dry, script_path):
    cmd = ["setarch", "-R", args.gs, "--index-dir", args.index_dir,
           "--script-output", "json", "--timeout", "60", "--script-file", script_path,
           "--after-prologue"]
    if dry:
        cmd.append("--dry-run")
    return cmd + ["--", os.path.join(fixdir, prog)] + RUN_ARGS


def run_gs(args, fixdir, prog, dry, script, work, tag):
    path = os.path.join(work, tag + ".gs")
    with open(path, "w") as f:
        f.write(script)
    for attempt in range(5):
        p = subprocess.run(gs_cmd(args, fixdir, prog, dry, path), env=ENV, capture_output=True,
                           text=True, timeout=120)
        # the binary or its code generator library being relinked right now (by make)
        if p.returncode == 0 or not re.search(r"Permission denied|file too short|cannot load",
                                              p.stderr):
            break
        time.sleep(2)
    return p.returncode, p.stdout, p.stderr


PROBE_RE = re.compile(r"^probe (\d+): trace '([^']*)' at (.*)$")


def resolve_probes(args, fixdir, prog, patterns, work):
    """pattern -> [(module, pc, where)], and pattern -> error for unresolvable ones."""
    todo = list(patterns)
    unresolved = {}
    while todo:
        script = "".join(f"trace {p} {{ print \"x\"; }}\n" for p in todo)
        rc, out, err = run_gs(args, fixdir, prog, True, script, work, "resolve")
        m = re.search(r"^error: [^:]+:(\d+):\d+: (.*)$", err, re.M)
        if rc != 0 and m:
            bad = todo[int(m.group(1)) - 1]
            unresolved[bad] = m.group(2)
            todo.remove(bad)
            continue
        if rc != 0:
            raise RuntimeError(f"ghostscope --dry-run failed ({rc}): {err.strip()}")
        pcs = {p: [] for p in todo}
        cur = None
        for line in out.splitlines():
            m = PROBE_RE.match(line)
            if m:
                cur = {"pattern": m.group(2), "where": m.group(3)}
                continue
            s = line.strip()
            if cur is not None and s.startswith("module "):
                cur["module"] = s[len("module "):]
            elif cur is not None and s.startswith("pc "):
                cur["pc"] = s.split()[1].rstrip(",")
                pcs[cur["pattern"]].append((cur["module"], cur["pc"], cur["where"]))
                cur = None
        return pcs, unresolved
    return {}, unresolved


def run_gs_pairs(args, fixdir, prog, pairs, pcs, work):
    """Runs every pair as its own trace block; returns {(pair index, pc index): result}."""
    lines, probe_of = [], {}
    n = 0
    for i, pr in enumerate(pairs):
        if pr["probe"] not in pcs:
            lines.append("// unresolved\n")
            continue
        lines.append(f"trace {pr['probe']} {{ print \"@@{i}\"; print {pr['expr']}; }}\n")
        for j in range(len(pcs[pr["probe"]])):
            n += 1
            probe_of[n] = (i, j)
    rc, out, err = run_gs(args, fixdir, prog, False, "".join(lines), work, "pairs")
    res = {}
    for line in err.splitlines():
        m = re.match(r"^ghostscope: probe (\d+) \(.*?\): [^:]+:(\d+):\d+: (.*)$", line)
        if m and int(m.group(1)) in probe_of:
            key = probe_of[int(m.group(1))]
            res[key] = {"text": "compile error: " + m.group(3), "canon": gs_error_canon(m.group(3))}
    for line in out.splitlines():
        try:
            ev = json.loads(line)
        except ValueError:
            continue
        key = probe_of.get(ev.get("trace_id"))
        if key is None or key in res:
            continue
        i, j = key
        module, pc, _ = pcs[pairs[i]["probe"]][j]
        evlines = ev.get("lines", [])
        if ev.get("pc") != pc or not evlines or evlines[0] != f"@@{i}":
            res[key] = {"text": "event does not match its probe: " + line, "canon": {"k": "gs-bad"}}
            continue
        res[key] = gs_value(pairs[i]["expr"], evlines[1:])
    return res, rc, err


def gs_error_canon(msg):
    if msg.startswith("unknown variable"):
        return {"k": "nosym", "msg": msg}
    if "optimized out" in msg or "optimized-out" in msg:
        return {"k": "optout", "msg": msg}
    return {"k": "gs-error", "msg": msg}


def gs_value(expr, lines):
    prefix = expr + " = "
    for ln in lines:
        if ln.startswith(prefix):
            text = ln[len(prefix):]
            try:
                return {"text": "\n".join(lines), "canon": ValueParser(text).parse_all()}
            except ValueError as e:
                return {"text": "\n".join(lines), "canon": {"k": "gs-unparsed", "msg": str(e)}}
    return {"text": "\n".join(lines), "canon": {"k": "gs-bad"}}


class ValueParser:
    """Parses a value as ghostscope renders it (shared/LANGUAGE.md) into a canonical tree."""

    def __init__(self, s):
        self.s, self.i = s, 0

    def fail(self, what):
        raise ValueError(f"{what} at column {self.i} of {self.s!r}")

    def peek(self, lit):
        return self.s.startswith(lit, self.i)

    def eat(self, lit):
        if not self.peek(lit):
            self.fail(f"expected {lit!r}")
        self.i += len(lit)

    def ws(self):
        while self.i < len(self.s) and self.s[self.i] == " ":
            self.i += 1

    def parse_all(self):
        v = self.value()
        self.ws()
        if self.i != len(self.s):
            self.fail("trailing text")
        return v

    def ptype(self):
        """'(type)' with nested parentheses; returns the type text."""
        self.ws()
        self.eat("(")
        depth, start = 1, self.i
        while depth:
            if self.i >= len(self.s):
                self.fail("unterminated type")
            c = self.s[self.i]
            depth += (c == "(") - (c == ")")
            self.i += 1
        return self.s[start:self.i - 1]

    def string(self):
        self.eat('"')
        out = []
        while True:
            if self.i >= len(self.s):
                self.fail("unterminated string")
            c = self.s[self.i]
            self.i += 1
            if c == '"':
                return "".join(out)
            if c != "\\":
                out.append(c)
                continue
            e = self.s[self.i]
            self.i += 1
            simple = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", '"': '"', "0": "\0",
                      "a": "\a", "b": "\b", "f": "\f", "v": "\v", "e": "\x1b", "'": "'"}
            if e == "x":
                out.append(chr(int(self.s[self.i:self.i + 2], 16)))
                self.i += 2
            elif e in simple:
                out.append(simple[e])
            else:
                self.fail("unknown escape")

    def name(self):
        m = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(::[A-Za-z_~][A-Za-z0-9_]*)*").match(self.s, self.i)
        if not m:
            return None
        self.i = m.end()
        return m.group(0)

    def value(self):
        self.ws()
        s = self.s
        if self.peek("<optimized out>"):
            self.i += len("<optimized out>")
            return {"k": "optout"}
        if self.peek("<synthetic pointer>"):
            self.i += len("<synthetic pointer>")
            return {"k": "synthetic"}
        if self.peek("<"):
            j = s.find(">", self.i)
            msg = s[self.i:j + 1]
            self.i = j + 1
            return {"k": "readerr", "msg": msg}
        if self.peek('"'):
            return {"k": "str", "v": self.string()}
        if self.peek("["):
            self.eat("[")
            items = []
            self.ws()
            while not self.peek("]"):
                items.append(self.value())
                self.ws()
                if self.peek(","):
                    self.eat(",")
            self.eat("]")
            return {"k": "array", "v": items}
        if self.peek("NULL"):
            self.i += 4
            return {"k": "ptr", "addr": 0, "type": self.ptype()}
        m = re.compile(r"0x[0-9a-fA-F]+").match(s, self.i)
        if m and s.startswith(" (", m.end()):
            self.i = m.end()
            return {"k": "ptr", "addr": int(m.group(0), 16), "type": self.ptype()}
        m = re.compile(r"-?(inf|nan|NaN|[0-9][0-9a-fA-Fx.eE+-]*)").match(s, self.i)
        if m:
            self.i = m.end()
            t = m.group(0)
            if re.fullmatch(r"-?[0-9]+", t):
                return {"k": "int", "v": int(t)}
            if re.fullmatch(r"0x[0-9a-fA-F]+", t):
                return {"k": "int", "v": int(t, 16)}
            return {"k": "num", "v": t}
        if self.peek("true") or self.peek("false"):
            v = self.peek("true")
            self.i += 4 if v else 5
            return {"k": "int", "v": int(v)}
        is_union = False
        if self.peek("union "):
            self.i += len("union ")
            is_union = True
        elif self.peek("struct ") or self.peek("class "):
            self.i = s.index(" ", self.i) + 1
        nm = self.name()
        if nm is None:
            self.fail("unexpected text")
        self.ws()
        if self.peek("{"):
            self.eat("{")
            fields = []
            self.ws()
            while not self.peek("}"):
                at = self.i
                fname = self.name()
                self.ws()
                if self.peek("{"):  # a C++ base-class subobject: Base { ... }
                    self.i = at
                    fields.append(["<base>", self.value()])
                    self.ws()
                    if self.peek(","):
                        self.eat(",")
                    self.ws()
                    continue
                if self.peek(":"):
                    self.eat(":")
                else:
                    self.eat("=")
                fields.append([fname, self.value()])
                self.ws()
                if self.peek(","):
                    self.eat(",")
                self.ws()
            self.eat("}")
            return {"k": "union" if is_union else "struct", "v": fields, "name": nm}
        if nm.endswith("::") or "::" not in nm:
            if self.peek("::("):  # unknown enum value: status::(9)
                self.eat("::(")
                j = s.index(")", self.i)
                n = int(s[self.i:j])
                self.i = j + 1
                return {"k": "enum", "n": n}
            self.fail("bare name")
        if self.peek("("):  # status::(9) parsed as name 'status' + '::('? handled above
            self.fail("unexpected (")
        return {"k": "enum", "v": nm.rsplit("::", 1)[1]}


# ---------------------------------------------------------------------------- gdb

def run_gdb(args, fixdir, prog, stops, line_queries, work):
    plan = {"program": os.path.join(fixdir, prog), "args": RUN_ARGS,
            "stops": stops, "line_queries": line_queries}
    plan_path = os.path.join(work, "plan.json")
    out_path = os.path.join(work, "gdb.json")
    with open(plan_path, "w") as f:
        json.dump(plan, f)
    # the plan's path travels in gdb's own convenience variables, not the environment,
    # so that the inferior's environment (and its stack addresses) match ghostscope's run
    cmd = ["gdb", "-nx", "-batch", "-ex", f"python GS_DIFF_PLAN={plan_path!r}",
           "-ex", f"python GS_DIFF_OUT={out_path!r}", "-x", os.path.join(HERE, "gdb_side.py")]
    p = subprocess.run(cmd, env=ENV, capture_output=True, text=True, timeout=300)
    if not os.path.exists(out_path):
        raise RuntimeError("gdb produced no result:\n" + p.stdout[-2000:] + p.stderr[-2000:])
    return json.load(open(out_path))


# ---------------------------------------------------------------------------- compare

def norm_type(t):
    return re.sub(r"\s+", "", t)


def float_bits(text, size):
    t = text.lower()
    val = float(t)  # python accepts inf, -inf, nan
    return struct.pack("<f" if size == 4 else "<d", val)


def compare(g, o, path="value"):
    """None when equal, else a short reason."""
    gk, ok = g["k"], o["k"]
    if gk in ("optout", "nosym", "readerr", "synthetic"):
        return None if ok == gk else f"{path}: gdb {gk}, ghostscope {ok}"
    if ok in ("optout", "nosym", "readerr", "gs-error", "gs-bad", "gs-unparsed"):
        return f"{path}: gdb has a value, ghostscope {ok}"
    if gk == "int":
        if ok == "int" and o["v"] == g["v"]:
            return None
        return f"{path}: gdb {g['v']}, ghostscope {o.get('v')}"
    if gk == "enum":
        if ok == "enum" and o.get("v") == g.get("v") and o.get("n") == g.get("n"):
            return None
        if ok == "int" and "n" in g and o["v"] == g["n"]:
            return None
        return f"{path}: gdb enum {g.get('v', g.get('n'))}, ghostscope {o}"
    if gk == "float":
        if ok in ("num", "int"):
            try:
                if float_bits(str(o["v"]), g["size"]) == float_bits(g["v"], g["size"]):
                    return None
            except ValueError:
                pass
        return f"{path}: gdb {g['v']}, ghostscope {o.get('v')}"
    if gk == "ptr":
        if ok == "str":
            if g.get("str") == o["v"]:
                return None
            return f"{path}: gdb string {g.get('str')!r}, ghostscope {o['v']!r}"
        if ok != "ptr":
            return f"{path}: gdb pointer, ghostscope {ok}"
        if o["addr"] != g["addr"]:
            return f"{path}: gdb {g['addr']:#x}, ghostscope {o['addr']:#x}"
        if norm_type(o["type"]) != norm_type(g["type"]):
            return f"{path}: gdb type {g['type']}, ghostscope type {o['type']}"
        return None
    if gk == "str":
        if ok == "str" and o["v"] == g["v"]:
            return None
        return f"{path}: gdb {g['v']!r}, ghostscope {o.get('v')!r}"
    if gk == "array":
        if ok != "array":
            return f"{path}: gdb array, ghostscope {ok}"
        if len(o["v"]) != len(g["v"]):
            return f"{path}: gdb {len(g['v'])} elements, ghostscope {len(o['v'])}"
        for n, (a, b) in enumerate(zip(g["v"], o["v"])):
            r = compare(a, b, f"{path}[{n}]")
            if r:
                return r
        return None
    if gk in ("struct", "union"):
        if ok != gk:
            return f"{path}: gdb {gk}, ghostscope {ok}"
        gn, on = [f[0] for f in g["v"]], [f[0] for f in o["v"]]
        if gn != on:
            return f"{path}: gdb fields {gn}, ghostscope fields {on}"
        for (name, a), (_, b) in zip(g["v"], o["v"]):
            r = compare(a, b, f"{path}.{name}")
            if r:
                return r
        return None
    return f"{path}: cannot compare gdb {gk}"


def gdb_line_has_code(info):
    """True when GDB's `info line` says that exact line has code."""
    return bool(re.search(r"^Line \d+ of .* starts at address", info)) and "but contains no code" not in info


# ---------------------------------------------------------------------------- self-test

def self_test():
    """The parser and the comparator on the renderings of shared/LANGUAGE.md: equal values
    agree, a changed value, field, NULL-ness or optimized-out state does not."""
    I = lambda v: {"k": "int", "v": v}
    cust = {"k": "struct", "v": [["name", {"k": "str", "v": "alice"}], ["tier", I(5)],
                                 ["vip", I(1)], ["id", I(4242)]]}
    cases = [
        ('customer { name: "alice", tier: 5, vip: 1, id: 4242 }', cust, True),
        ('customer { name: "alice", tier: 6, vip: 1, id: 4242 }', cust, False),
        ('customer { name: "alicf", tier: 5, vip: 1, id: 4242 }', cust, False),
        ("union data { i = 5, f = 7e-45 }",
         {"k": "union", "v": [["i", I(5)], ["f", {"k": "float", "v": "7.006492321624085e-45",
                                                  "size": 4}]]}, True),
        ("[1, 2, 3]", {"k": "array", "v": [I(1), I(2), I(3)]}, True),
        ("[1, 2]", {"k": "array", "v": [I(1), I(2), I(3)]}, False),
        ("status::ST_PAID", {"k": "enum", "v": "ST_PAID"}, True),
        ("status::ST_NEW", {"k": "enum", "v": "ST_PAID"}, False),
        ("status::(9)", {"k": "enum", "n": 9}, True),
        ("-12.5", {"k": "float", "v": "-12.5", "size": 8}, True),
        ("-12.25", {"k": "float", "v": "-12.5", "size": 8}, False),
        ("NULL (struct customer*)", {"k": "ptr", "addr": 0, "type": "struct customer *"}, True),
        ("0x10 (struct customer*)", {"k": "ptr", "addr": 0, "type": "struct customer *"}, False),
        ("0x55d0 (int (*)(int))", {"k": "ptr", "addr": 0x55d0, "type": "int (*)(int)"}, True),
        ('"HALF50"', {"k": "ptr", "addr": 1, "type": "const char *", "str": "HALF50"}, True),
        ('"HALF50"', {"k": "ptr", "addr": None, "type": "const char *", "str": "HALF50",
                      "synthetic": True}, True),
        ('"HALF5"', {"k": "ptr", "addr": None, "type": "const char *", "str": "HALF50",
                     "synthetic": True}, False),
        ("<synthetic pointer>", {"k": "synthetic"}, True),
        ("<synthetic pointer>", {"k": "optout"}, False),
        ("<optimized out>", {"k": "synthetic"}, False),
        ("<optimized out>", {"k": "optout"}, True),
        ("0", {"k": "optout"}, False),
        ("<optimized out>", I(0), False),
        ("<error: null pointer dereference>", {"k": "readerr"}, True),
        ("18446744073709551610", I(18446744073709551610), True),
        ("true", I(1), True),
    ]
    bad = 0
    for text, gdb_tree, want in cases:
        got = compare(gdb_tree, ValueParser(text).parse_all()) is None
        if got != want:
            print(f"self-test: {text!r} vs {gdb_tree}: agree={got}, want {want}")
            bad += 1
    print(f"self-test: {len(cases) - bad}/{len(cases)} cases right")
    return 1 if bad else 0


# ---------------------------------------------------------------------------- main

def check_fixture(args, fixdir, prog, pairs, known, work):
    fix = os.path.basename(fixdir) + ("" if prog == "shop" else "/" + prog)
    rows = []  # {probe, expr, pc, status, gdb, gs, reason}
    patterns = list(dict.fromkeys(p["probe"] for p in pairs))
    pcs, unresolved = resolve_probes(args, fixdir, prog, patterns, work)
    gres, rc, gs_err = run_gs_pairs(args, fixdir, prog, pairs, pcs, work)
    stops = {}
    for i, pr in enumerate(pairs):
        for module, pc, _ in pcs.get(pr["probe"], []):
            st = stops.setdefault((module, pc), {"module": module, "pc": pc, "exprs": []})
            if pr["gdb"] not in st["exprs"]:
                st["exprs"].append(pr["gdb"])
    line_queries = [p for p in unresolved if re.search(r":\d+$", p)]
    gdb_out = run_gdb(args, fixdir, prog, list(stops.values()), line_queries, work)
    for i, pr in enumerate(pairs):
        base = {"fix": fix, "probe": pr["probe"], "expr": pr["expr"]}
        if pr["probe"] in unresolved:
            msg = unresolved[pr["probe"]]
            info = gdb_out["lines"].get(pr["probe"], "")
            if pr["probe"] in line_queries and not gdb_line_has_code(info):
                rows.append(dict(base, pc="-", status="skip", gdb=info, gs=msg,
                                 reason="no code at this line in this build (gdb agrees)"))
            else:
                rows.append(dict(base, pc="-", status="diff", gdb=info or "(gdb not asked)",
                                 gs=msg, reason="ghostscope cannot resolve the probe"))
            continue
        for j, (module, pc, where) in enumerate(pcs[pr["probe"]]):
            key = module + ":" + pc
            row = dict(base, pc=f"{os.path.basename(module)}:{pc} ({where})")
            stop = gdb_out["stops"].get(key)
            o = gres.get((i, j))
            if stop is None:
                if o is not None and not o["text"].startswith("compile error"):
                    rows.append(dict(row, status="diff", gdb="(pc never hit under gdb)",
                                     gs=o["text"], reason="only ghostscope reached this pc"))
                else:
                    rows.append(dict(row, status="skip", gdb="(pc never hit under gdb)",
                                     gs=o["text"] if o else "(no event)",
                                     reason="pc not reached in this run (by either)"))
                continue
            g = stop["values"][pr["gdb"]]
            if o is None:
                o = {"text": "(no event at this pc)", "canon": {"k": "gs-bad"}}
            if g["canon"]["k"] in ("gdb-error", "gdb-unsupported"):
                rows.append(dict(row, status="skip", gdb=g["text"], gs=o["text"],
                                 reason="gdb cannot evaluate it"))
                continue
            reason = compare(g["canon"], o["canon"])
            row.update(gdb=g["text"], gs=o["text"], reason=reason)
            if reason is None:
                row["status"] = "agree"
            else:
                k = known_match(known, fix, pr["probe"], pr["expr"])
                row["status"] = "known" if k else "diff"
                if k:
                    row["known"] = k["reason"]
            rows.append(row)
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fixtures", type=os.path.abspath,
                    help="OUTDIR of tests/fixtures/build.sh")
    ap.add_argument("--gs", type=os.path.abspath, help="the ghostscope binary")
    ap.add_argument("--pairs", default=os.path.join(HERE, "pairs.txt"))
    ap.add_argument("--known", default=os.path.join(HERE, "known.txt"))
    ap.add_argument("--only", default="", help="regex on fixture names (e.g. 'gcc-O2')")
    ap.add_argument("--index-dir", default="")
    ap.add_argument("--json", default="", help="write every row here")
    ap.add_argument("-v", "--verbose", action="store_true", help="print agreeing rows too")
    ap.add_argument("--self-test", action="store_true", help="check the parser and comparator")
    args = ap.parse_args()
    if args.self_test:
        return self_test()
    if not args.fixtures or not args.gs:
        ap.error("--fixtures and --gs are required")
    pairs = read_pairs(args.pairs)
    known = read_known(args.known)
    fixdirs = sorted(d for d in os.listdir(args.fixtures)
                     if re.fullmatch(r"(gcc|clang)-O[0-3s]-dwarf[45]", d)
                     and re.search(args.only, d))
    if not fixdirs:
        sys.exit("no fixture builds under " + args.fixtures)
    all_rows = []
    with tempfile.TemporaryDirectory(prefix="gs-diff.") as work:
        if not args.index_dir:
            args.index_dir = os.path.join(work, "index")
        for d, prog in ((d, prog) for d in fixdirs for prog in pairs):
            sub = os.path.join(work, d, prog)
            os.makedirs(sub)
            try:
                all_rows += check_fixture(args, os.path.join(args.fixtures, d), prog,
                                          pairs[prog], known, sub)
            except (RuntimeError, OSError, subprocess.SubprocessError) as e:
                all_rows.append({"fix": d, "probe": "-", "expr": "-", "pc": "-", "status": "diff",
                                 "gdb": "-", "gs": "-", "reason": f"harness error: {e}"})
    if args.json:
        with open(args.json, "w") as f:
            json.dump(all_rows, f, indent=1)

    print(f"{'fixture':<27} {'agree':>6} {'total':>6} {'known':>6} {'new':>5} {'skip':>5}")
    for d in dict.fromkeys(x["fix"] for x in all_rows):
        r = [x for x in all_rows if x["fix"] == d]
        cnt = {s: sum(1 for x in r if x["status"] == s) for s in ("agree", "known", "diff", "skip")}
        total = cnt["agree"] + cnt["known"] + cnt["diff"]
        print(f"{d:<27} {cnt['agree']:>6} {total:>6} {cnt['known']:>6} {cnt['diff']:>5} {cnt['skip']:>5}")
    agree = sum(1 for x in all_rows if x["status"] == "agree")
    total = sum(1 for x in all_rows if x["status"] != "skip")
    print(f"{'all':<27} {agree:>6} {total:>6}  ({100.0 * agree / max(total, 1):.1f}% agree)")

    def show(x):
        print(f"  {x['fix']} | {x['probe']} | {x['expr']}  @ {x['pc']}")
        print(f"      gdb:        {x['gdb']}")
        print(f"      ghostscope: {x['gs']}")
        print(f"      why:        {x['reason']}")
        if x.get("known"):
            print(f"      known:      {x['known']}")

    for status, title in (("diff", "NEW DISAGREEMENTS (not in known.txt)"),
                          ("known", "known disagreements"), ("skip", "skipped")):
        r = [x for x in all_rows if x["status"] == status]
        if r and (status != "skip" or args.verbose):
            print(f"\n{title}: {len(r)}")
            for x in r:
                show(x)
    if args.verbose:
        print("\nagreeing:")
        for x in all_rows:
            if x["status"] == "agree":
                print(f"  {x['fix']} | {x['probe']} | {x['expr']} @ {x['pc']} = {x['gs']}")
    stale = [k for k in known if not k["used"]]
    if stale and not args.only:
        print(f"\nSTALE known.txt entries (nothing disagrees any more: remove them): {len(stale)}")
        for k in stale:
            print(f"  line {k['line']}: {k['fix']} | {k['probe']} | {k['expr']}")
    bad = any(x["status"] == "diff" for x in all_rows) or (stale and not args.only)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
