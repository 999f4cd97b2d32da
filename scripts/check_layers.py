#!/usr/bin/env python3
"""check_layers.py — enforces the module layering on the built objects, not on promises.

Reads the manifest CMake writes (build/layers.txt: each module's folder, DEPS and objects,
and the third-party libraries) and fails when:
  1. a module's object needs a symbol defined by a rhei module that is neither itself nor in
     its DEPS (an upward or sideways call through a hand-written prototype);
  2. an object needs a symbol of a third-party library (SQLite, DuckDB, libpq) while its
     source file is not one of those allowed to use that library (THIRD_PARTY below);
  3. an object includes, directly or through another header (the compiler's depfile), a
     third-party header outside those files, or a header of a module outside its DEPS;
  4. code that may use only rhei.h (API_ONLY below: cli/, src/net/, python/) includes
     anything else of the tree or calls an internal rhei__ symbol;
  5. docs/ARCHITECTURE.md's dependency table differs from the DEPS in the manifest.
Usage: check_layers.py BUILD_DIR [--manifest FILE]. Prints each violation; exit 1 if any.
The rules are documented in docs/ARCHITECTURE.md; change both together.
"""
import fnmatch
import os
import re
import subprocess
import sys

# Third-party library (by file name, libX.so -> X): its headers, and the source files (paths
# relative to the repository, fnmatch patterns) that may include them or call into it.
THIRD_PARTY = {
    "sqlite3": (("sqlite3.h", "sqlite3ext.h"),
                ("src/oltp/*", "src/cdc/*", "src/sidecar/source_sqlite.c")),
    "duckdb": (("duckdb.h",), ("src/olap/duckdb*",)),
    "pq": (("libpq-fe.h", "postgres_ext.h"), ("src/sidecar/source_pg.c",)),
}
# Folders whose code sees only the public API. Exemption: cli/ may include bench's suite
# entry (rh bench runs the same suite), which itself uses only rhei.h for the engine.
API_ONLY = ("cli", "src/net", "python")
# Front ends link the network modules (rh starts the servers); those modules use their own
# headers, each other's and the protobuf code protoc-c generates into the build tree.
API_ONLY_EXTRA_HEADERS = {"cli": ("bench/rhei_bench.h", "src/net/flight/flight.h",
                                  "src/net/metrics/metrics_http.h")}


def net_generated(h):
    return "/src/net/" in "/" + h and h.endswith(".pb-c.h")
# Code outside the layering on purpose: tests and benchmarks reach below the API.
EXEMPT = ("tests", "bench", "examples", "third_party")


def read_manifest(path):
    m = {"root": None, "libs": [], "modules": {}}
    with open(path) as f:
        for line in f:
            words = line.split()
            if not words or words[0].startswith("#"):
                continue
            if words[0] == "root":
                m["root"] = os.path.realpath(words[1])
            elif words[0] == "lib":
                m["libs"].append(words[1])
            elif words[0] == "module":
                kv = dict(w.split("=", 1) for w in words[3:])
                m["modules"][words[1]] = {
                    "dir": words[2].rstrip("/"),
                    "deps": [d for d in kv.get("deps", "").split(",") if d],
                    "objs": [o for o in kv.get("objs", "").split(";") if o],
                }
    if not m["root"]:
        sys.exit("check_layers: manifest %s has no 'root' line" % path)
    return m


def nm(args, path):
    out = subprocess.run(["nm"] + args + [path], capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit("check_layers: nm %s %s failed: %s" % (" ".join(args), path, out.stderr))
    return [ln.split()[-1] for ln in out.stdout.splitlines() if ln.strip()]


def lib_name(path):
    base = os.path.basename(path)
    return re.sub(r"\.so.*$|\.a$", "", re.sub(r"^lib", "", base))


def depfile(obj):
    """(source, [headers]) from the compiler's depfile next to obj, or (None, [])."""
    d = obj + ".d"
    if not os.path.exists(d):
        return None, []
    with open(d) as f:
        text = f.read().replace("\\\n", " ")
    deps = text.split(":", 1)[1].split() if ":" in text else []
    return (deps[0], deps[1:]) if deps else (None, [])


def rel(root, path):
    p = os.path.realpath(path)
    return os.path.relpath(p, root) if p.startswith(root + os.sep) else None


def allowed(relsrc, lib):
    return relsrc is not None and any(fnmatch.fnmatch(relsrc, pat) for pat in THIRD_PARTY[lib][1])


class Checker:
    def __init__(self, manifest):
        self.m = manifest
        self.root = manifest["root"]
        self.errors = []
        self.lib_syms = {}
        for path in manifest["libs"]:
            name = lib_name(path)
            if name in THIRD_PARTY:
                for s in nm(["-D", "--defined-only"], path):
                    self.lib_syms.setdefault(s, name)
        self.owner = {}
        for name, mod in manifest["modules"].items():
            for o in mod["objs"]:
                for s in nm(["-g", "--defined-only"], o):
                    self.owner[s] = name
        self.header_lib = {h: lib for lib, (hs, _) in THIRD_PARTY.items() for h in hs}
        self.mod_by_dir = {mod["dir"]: n for n, mod in manifest["modules"].items()}

    def fail(self, msg):
        self.errors.append(msg)

    def module_of_header(self, relh):
        for d, n in self.mod_by_dir.items():
            if relh.startswith(d + "/"):
                return n
        return None

    def check_headers(self, relsrc, headers, may_include_module, who):
        for h in headers:
            lib = self.header_lib.get(os.path.basename(h))
            if lib and not allowed(relsrc, lib):
                self.fail("%s: %s includes <%s> (allowed only in %s)"
                          % (who, relsrc, os.path.basename(h), ", ".join(THIRD_PARTY[lib][1])))
            relh = rel(self.root, h)
            if relh is None:
                continue
            if not may_include_module(relh):
                self.fail("%s: %s includes %s, outside what it may depend on" % (who, relsrc, relh))

    def check_module(self, name):
        mod = self.m["modules"][name]
        ok = set(mod["deps"]) | {name}
        api_only = mod["dir"] in API_ONLY
        if api_only and mod["deps"]:
            self.fail("module %s (%s) may use only rhei.h but has DEPS %s"
                      % (name, mod["dir"], ",".join(mod["deps"])))
        for o in mod["objs"]:
            src, headers = depfile(o)
            relsrc = rel(self.root, src) if src else None
            where = relsrc or os.path.basename(o)
            if api_only:
                self.check_api_only(o, relsrc, headers, mod["dir"])
                continue

            def may(relh):
                if relh.startswith("include/"):
                    return True
                owner = self.module_of_header(relh)
                return owner is None or owner in ok
            self.check_headers(relsrc, headers, may, "module " + name)
            for s in nm(["-u"], o):
                owner = self.owner.get(s)
                lib = self.lib_syms.get(s)
                if owner and owner not in ok:
                    self.fail("module %s: %s calls %s, defined in %s, which is not in its DEPS"
                              " (%s)" % (name, where, s, owner, ",".join(sorted(ok - {name}))))
                elif not owner and lib and not allowed(relsrc, lib):
                    self.fail("module %s: %s calls %s of lib%s (allowed only in %s)"
                              % (name, where, s, lib, ", ".join(THIRD_PARTY[lib][1])))

    def check_api_only(self, o, relsrc, headers, top):
        extra = API_ONLY_EXTRA_HEADERS.get(top, ())
        self.check_headers(relsrc, headers,
                           lambda h: h == "include/rhei.h" or h.startswith(top + "/") or h in extra
                           or (top == "src/net" and net_generated(h)),
                           top + "/ (rhei.h only)")
        for s in nm(["-u"], o):
            # internal = defined in a librhei module and not public (the network modules'
            # own rhei__ symbols are theirs to share with rh)
            if s in self.owner and (s.startswith("rhei__") or not s.startswith("rhei_")):
                self.fail("%s/ (rhei.h only): %s calls internal %s" % (top, relsrc, s))
            lib = self.lib_syms.get(s)
            if lib and not allowed(relsrc, lib):
                self.fail("%s/ (rhei.h only): %s calls %s of lib%s" % (top, relsrc, s, lib))

    def api_only_objects(self, build):
        """Objects built from API-only folders, wherever their targets put them."""
        for dirpath, _, files in os.walk(build):
            for f in files:
                if not f.endswith(".o"):
                    continue
                o = os.path.join(dirpath, f)
                src, _ = depfile(o)
                relsrc = rel(self.root, src) if src else None
                if relsrc is None:
                    continue
                for top in API_ONLY:
                    if relsrc.startswith(top + "/") and top not in self.mod_by_dir:
                        yield o, relsrc, top

    def check_api_only_sources(self):
        """Source-level rule for API-only folders, built by CMake or not (python/)."""
        inc = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')

        def own_header(dirpath, name):
            p = os.path.realpath(os.path.join(dirpath, name))
            return p.startswith(os.path.realpath(base) + os.sep) and os.path.exists(p)
        for top in API_ONLY:
            base = os.path.join(self.root, top)
            for dirpath, _, files in os.walk(base):
                for f in files:
                    if not f.endswith((".c", ".h")):
                        continue
                    path = os.path.join(dirpath, f)
                    relsrc = os.path.relpath(path, self.root)
                    with open(path, errors="replace") as fh:
                        for n, line in enumerate(fh, 1):
                            mt = inc.match(line)
                            if not mt:
                                continue
                            name = mt.group(2)
                            if os.path.basename(name) in self.header_lib:
                                self.fail("%s:%d: includes <%s>; %s/ may use only rhei.h"
                                          % (relsrc, n, name, top))
                            elif mt.group(1) == '"' and name != "rhei.h" and \
                                    not own_header(dirpath, name) and \
                                    not (top == "src/net" and (name.endswith(".pb-c.h") or
                                         any(os.path.exists(os.path.join(base, d, name))
                                             for d in os.listdir(base)))) and \
                                    not any(e.endswith("/" + name)
                                            for e in API_ONLY_EXTRA_HEADERS.get(top, ())):
                                self.fail("%s:%d: includes \"%s\", which is neither rhei.h nor"
                                          " a header of %s/" % (relsrc, n, name, top))

    def check_architecture_md(self):
        """docs/ARCHITECTURE.md's table lists, per src/ folder, the modules it depends on."""
        path = os.path.join(self.root, "docs", "ARCHITECTURE.md")
        if not os.path.exists(path):
            return
        short = {n: n.replace("rhei_", "") for n in self.m["modules"]}
        seen = set()
        row = re.compile(r"^\|\s*`(src/[a-z_]+)/?`\s*\|[^|]*\|([^|]*)\|")
        with open(path) as f:
            for line in f:
                mt = row.match(line)
                if not mt or mt.group(1) not in self.mod_by_dir:
                    continue
                name = self.mod_by_dir[mt.group(1)]
                seen.add(name)
                words = set(re.findall(r"[a-z_]+", mt.group(2)))
                doc = {n for n, s in short.items() if s in words and n != name}
                cm = set(self.m["modules"][name]["deps"])
                if doc != cm:
                    self.fail("docs/ARCHITECTURE.md: %s may depend on {%s}, CMakeLists.txt"
                              " says {%s}" % (mt.group(1), ", ".join(sorted(short[d] for d in doc)),
                                              ", ".join(sorted(short[d] for d in cm))))
        for name in sorted(set(self.m["modules"]) - seen):
            self.fail("docs/ARCHITECTURE.md: no row for %s" % self.m["modules"][name]["dir"])

    def run(self, build):
        for name in sorted(self.m["modules"]):
            self.check_module(name)
        for o, relsrc, top in self.api_only_objects(build):
            _, headers = depfile(o)
            self.check_api_only(o, relsrc, headers, top)
        self.check_api_only_sources()
        self.check_architecture_md()
        return self.errors


def main(argv):
    args = [a for a in argv[1:] if not a.startswith("--manifest")]
    manifest = None
    for a in argv[1:]:
        if a.startswith("--manifest="):
            manifest = a.split("=", 1)[1]
    if len(args) != 1:
        sys.exit("usage: check_layers.py BUILD_DIR [--manifest=FILE]")
    build = os.path.realpath(args[0])
    manifest = manifest or os.path.join(build, "layers.txt")
    if not os.path.exists(manifest):
        sys.exit("check_layers: no manifest %s (configure and build first)" % manifest)
    m = read_manifest(manifest)
    errors = Checker(m).run(build)
    for e in sorted(set(errors)):
        print("layering: " + e)
    nobj = sum(len(mod["objs"]) for mod in m["modules"].values())
    print("check_layers: %d modules, %d objects, %d violations"
          % (len(m["modules"]), nobj, len(set(errors))))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
