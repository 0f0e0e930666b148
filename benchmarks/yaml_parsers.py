"""Measure YAML parsers on a big scenario: speed, peak memory, line marks, duplicates, YAML 1.2.

Issue 5: reading a ~3.5 MB scenario (about 100k variables) must be as lean as it can be.
This runs every candidate parser that is importable on the same file, each in a child
process of its own (so one's memory, crash or hang does not touch another's numbers), and
probes what each one offers beside speed:

* ``marks``: whether line/column positions of keys *and* values reach Python (the engine
  locates every config error as ``FILE:LINE:COL``), checked on a small document, not assumed;
* ``dups``: what ``a: 1`` twice does (``error`` is what the engine needs);
* ``1.2``: how many of 10 plain scalars resolve as the YAML 1.2 core schema says
  (``no`` is text, ``0755`` is 755, ``1e-7`` a float, ``2024-01-02`` text, ...), and
  what ``140_000`` (allowed by the scenario format) becomes;
* ``deep``: 100,000 unclosed ``[`` (a clean error is needed, not a crash);
* ``bomb``: a billion-laughs alias bomb (9 levels of 9), 30 s and 3 GiB resident allowed.

Candidates are installed in a separate venv so the project's stays as it is::

    python3 -m venv /tmp/yv && /tmp/yv/bin/pip install -e . rapidyaml yaml-rs py-yaml12 \
        ruamel.yaml strictyaml fastyaml-rs pyfastyaml libfyaml oryaml rs-turboyaml rustyyaml \
        pyyaml-rs yamlstar yamlium yamlsmith
    /tmp/yv/bin/python benchmarks/yaml_parsers.py --file /tmp/yb/configs/synthetic.yaml

``--prototype N`` instead times a yaml-rs reader with lazily built marks against yamlio (alone
and inside ``optimiser.load.load``) and fuzzes the two against each other with N inputs;
``--profile-load`` times each stage of ``load`` (parse, pydantic, checks, instance build), with
the garbage collector's share. Findings: ``benchmarks/yaml_parsers.md``.

Without ``--file`` a scenario is generated with ``generate.py`` (1,500 localities, ~3.7 MB),
or, if that fails, a synthetic mapping of 20,000 providers with small maps of floats is
written. Timings are wall-clock and CPU seconds (minimum of ``--repeat`` runs, the first
run's included); wall seconds vary with machine load, CPU seconds much less.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# --------------------------------------------------------------------------- candidates
# Each candidate: parse(raw: bytes) -> value, and optionally marks(raw) -> (key mark of
# top.inner, value mark of top.inner[1].k) in 1-based (line, column) on MARKS_DOC.

MARKS_DOC = b"top:\n  inner: [1, {k: 2}]\n"
MARKS_WANT = [(2, 3), (2, 18)]


def _text(raw: bytes) -> str:
    return raw.decode("utf-8-sig")


def _pyyaml() -> dict[str, dict[str, Callable]]:
    import yaml

    def events(raw: bytes) -> int:
        loader = yaml.CBaseLoader(_text(raw))
        n = 0
        try:
            while loader.get_event() is not None:
                n += 1
        finally:
            loader.dispose()
        return n

    def events_marks(raw: bytes) -> list:
        out = []
        for e in yaml.parse(_text(raw), Loader=yaml.CBaseLoader):
            if isinstance(e, yaml.ScalarEvent):
                out.append((e.value, (e.start_mark.line + 1, e.start_mark.column + 1)))
        return [m for v, m in out if v == "inner"] + [m for v, m in out if v == "2"]

    def compose_marks(raw: bytes) -> list:
        node = yaml.compose(_text(raw), Loader=yaml.CBaseLoader)
        (k, v), = node.value
        (ik, iv), = v.value
        mapping = iv.value[1]
        (kk, kv), = mapping.value
        return [(ik.start_mark.line + 1, ik.start_mark.column + 1),
                (kv.start_mark.line + 1, kv.start_mark.column + 1)]

    return {
        "pyyaml safe_load CSafeLoader": {"parse": lambda raw: yaml.load(_text(raw), Loader=yaml.CSafeLoader)},
        "pyyaml safe_load SafeLoader (pure)": {"parse": lambda raw: yaml.load(_text(raw), Loader=yaml.SafeLoader),
                                                "slow": True},
        "pyyaml events CBaseLoader (drain)": {"parse": events, "marks": events_marks, "events": True},
        "pyyaml compose CBaseLoader": {"parse": lambda raw: yaml.compose(_text(raw), Loader=yaml.CBaseLoader),
                                       "marks": compose_marks, "nodes": True},
    }


def _carepath() -> dict[str, dict[str, Callable]]:
    from optimiser import yamlio

    def marks(raw: bytes) -> list:
        doc = yamlio.parse_bytes(raw, "f.yaml")
        return [doc.keys[("top", "inner")], doc.values[("top", "inner", 1, "k")]]

    return {"carepath yamlio.parse_bytes": {"parse": lambda raw: yamlio.parse_bytes(raw, "f").data,
                                            "marks": marks}}


def _ruamel() -> dict[str, dict[str, Callable]]:
    from ruamel.yaml import YAML

    def rt(raw: bytes) -> Any:
        return YAML(typ="rt").load(_text(raw))

    def marks(raw: bytes) -> list:
        d = rt(raw)
        k = d["top"].lc.key("inner")
        v = d["top"]["inner"][1].lc.value("k")
        return [(k[0] + 1, k[1] + 1), (v[0] + 1, v[1] + 1)]

    return {
        "ruamel.yaml rt (pure Python)": {"parse": rt, "marks": marks, "slow": True},
        "ruamel.yaml safe (C)": {"parse": lambda raw: YAML(typ="safe", pure=False).load(_text(raw))},
    }


def _strictyaml() -> dict[str, dict[str, Callable]]:
    import strictyaml

    def load(raw: bytes) -> Any:
        return strictyaml.dirty_load(_text(raw), allow_flow_style=True).data

    def marks(raw: bytes) -> list:
        d = strictyaml.dirty_load(_text(raw), allow_flow_style=True)
        return [(d["top"]["inner"].start_line, None), (d["top"]["inner"][1]["k"].start_line, None)]

    return {"strictyaml dirty_load": {"parse": load, "marks": marks, "no_aliases": True, "slow": True}}


def _ryml() -> dict[str, dict[str, Callable]]:
    import ryml

    from optimiser.yamlio import resolve_scalar

    def to_python(raw: bytes) -> Any:
        """Tree -> dicts from Python, with duplicate check (no marks: the binding has none)."""
        t = ryml.parse_in_arena(raw)
        t.resolve()  # expand aliases
        is_map, is_seq, key, val = t.is_map, t.is_seq, t.key, t.val
        first, nxt, plain, none = t.first_child, t.next_sibling, t.is_val_plain, ryml.NONE
        root = t.root_id()
        out: Any = {} if is_map(root) else []
        stack = [(root, out)]
        while stack:
            node, cont = stack.pop()
            ism = isinstance(cont, dict)
            ch = first(node)
            while ch != none:
                if is_map(ch):
                    v: Any = {}
                    stack.append((ch, v))
                elif is_seq(ch):
                    v = []
                    stack.append((ch, v))
                else:
                    s = str(val(ch), "utf-8")
                    v = resolve_scalar(s) if plain(ch) else s
                if ism:
                    k = str(key(ch), "utf-8")
                    if k in cont:
                        raise ValueError(f"duplicate key {k!r}")
                    cont[k] = v
                else:
                    cont.append(v)
                ch = nxt(ch)
        return out

    return {
        "rapidyaml parse_in_arena (tree only)": {"parse": lambda raw: ryml.parse_in_arena(raw), "tree": True},
        "rapidyaml tree->dict walk (Python)": {"parse": to_python},
    }


def _yaml_rs() -> dict[str, dict[str, Callable]]:
    import yaml_rs

    return {"yaml-rs loads (dups=error)": {"parse": lambda raw: yaml_rs.loads(
        _text(raw), parse_datetime=False, duplicate_key_policy=yaml_rs.DuplicateKeyPolicy.Error)}}


def _yaml12() -> dict[str, dict[str, Callable]]:
    import yaml12

    return {"py-yaml12 parse_yaml": {"parse": lambda raw: yaml12.parse_yaml(_text(raw))}}


def _fast_yaml() -> dict[str, dict[str, Callable]]:
    import fast_yaml

    return {"fastyaml-rs safe_load": {"parse": lambda raw: fast_yaml.safe_load(_text(raw))}}


def _pyfastyaml() -> dict[str, dict[str, Callable]]:
    import pyfastyaml

    def marks(raw: bytes) -> list:
        ev = pyfastyaml.parse_events(_text(raw))
        keys = {e["text"]: (e["span"]["start"]["line"], e["span"]["start"]["col"])
                for e in ev if e["type"] == "key"}
        return [keys.get("inner"), None]  # no scalar-value events

    return {
        "pyfastyaml loads": {"parse": lambda raw: pyfastyaml.loads(_text(raw))},
        "pyfastyaml parse_events": {"parse": lambda raw: pyfastyaml.parse_events(_text(raw)),
                                    "marks": marks, "events": True},
    }


def _libfyaml() -> dict[str, dict[str, Callable]]:
    import libfyaml

    def marks(raw: bytes) -> list:
        ev = libfyaml._parse(_text(raw))
        sc = [(e[4], (e[6][0] + 1, e[6][1] + 1)) for e in ev if e[0] == 9]
        return [m for v, m in sc if v == "inner"] + [m for v, m in sc if v == "2"]

    return {
        "libfyaml loads().to_python()": {"parse": lambda raw: libfyaml.loads(raw).to_python()},
        "libfyaml _parse events (private)": {"parse": lambda raw: libfyaml._parse(_text(raw)),
                                             "marks": marks, "events": True},
    }


def _misc() -> dict[str, dict[str, Callable]]:
    out: dict[str, dict[str, Callable]] = {}
    try:
        import oryaml
        out["oryaml loads"] = {"parse": lambda raw: oryaml.loads(raw)}
    except ImportError:
        pass
    try:
        import turboyaml
        out["rs-turboyaml load"] = {"parse": lambda raw: turboyaml.load(_text(raw))}
    except ImportError:
        pass
    try:
        import rustyyaml
        out["rustyyaml safe_load"] = {"parse": lambda raw: rustyyaml.safe_load(_text(raw))}
    except ImportError:
        pass
    try:
        import pyyaml_rs
        out["pyyaml-rs safe_load"] = {"parse": lambda raw: pyyaml_rs.safe_load(_text(raw))}
    except ImportError:
        pass
    try:
        import yamlstar
        ys = yamlstar.YAMLStar()
        out["yamlstar load (native lib via ctypes)"] = {"parse": lambda raw: ys.load(_text(raw)), "slow": True}
    except (ImportError, OSError):
        pass
    try:
        import yamlium

        def yl_marks(raw: bytes) -> list:
            d = yamlium.parse(_text(raw))
            inner = d["top"]["inner"]
            k = inner[1]["k"]
            return [(inner._line + 1, inner._column + 1), (k._line + 1, k._column + 1)]
        out["yamlium parse (pure Python)"] = {"parse": lambda raw: yamlium.parse(_text(raw)),
                                              "marks": yl_marks, "slow": True}
    except ImportError:
        pass
    try:
        import yamlsmith
        out["yamlsmith load (pure Python)"] = {"parse": lambda raw: yamlsmith.load(_text(raw)), "slow": True}
    except ImportError:
        pass
    return out


GROUPS = [_carepath, _pyyaml, _ruamel, _strictyaml, _ryml, _yaml_rs, _yaml12, _fast_yaml,
          _pyfastyaml, _libfyaml, _misc]


def candidates() -> dict[str, dict[str, Callable]]:
    out: dict[str, dict[str, Callable]] = {}
    for group in GROUPS:
        try:
            out.update(group())
        except ImportError:
            pass
    return out


# --------------------------------------------------------------------------- probes

CORE_DOC = b"""\
a: no
b: 0755
c: 1e-7
d: 0o17
e: on
f: 2024-01-02
g: 0x1F
h: -.inf
i: ~
j: 1:30
u: 140_000
"""
CORE_WANT = {"a": "no", "b": 755, "c": 1e-7, "d": 15, "e": "on", "f": "2024-01-02", "g": 31,
             "h": float("-inf"), "i": None, "j": "1:30"}
DUP_DOC = b"a: 1\nb: 2\na: 3\n"
DEEP_DOC = b"[" * 100_000
BOMB_DOC = (b'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
            + b"".join(f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n".encode()
                       for i in range(8)))


def _plain(v: Any) -> Any:
    """Round-trip-ish wrappers (ruamel, libfyaml, yamlium ...) -> plain Python for comparing."""
    for attr in ("to_python", "to_dict"):
        if hasattr(v, attr) and not isinstance(v, (dict, list, str)):
            return _plain(getattr(v, attr)())
    if isinstance(v, dict):
        return {str(_plain(k)): _plain(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_plain(x) for x in v]
    if hasattr(v, "data") and not isinstance(v, (str, bytes)):  # strictyaml
        return _plain(v.data)
    return v


def probe_core(c: dict) -> str:
    try:
        d = _plain(c["parse"](CORE_DOC))
    except Exception as exc:  # noqa: BLE001
        return f"error: {type(exc).__name__}"
    if not isinstance(d, dict):
        return "n/a"
    ok = sum(1 for k, want in CORE_WANT.items()
             if k in d and type(d[k]) is type(want) and d[k] == want)
    return f"{ok}/10, 140_000->{d.get('u')!r}"


def probe_dups(c: dict) -> str:
    try:
        d = _plain(c["parse"](DUP_DOC))
    except Exception as exc:  # noqa: BLE001
        return f"error ({type(exc).__name__})"
    if not isinstance(d, dict):
        return "n/a"
    return {1: "first wins", 3: "last wins"}.get(d.get("a"), f"? {d.get('a')!r}")


def probe_marks(c: dict) -> str:
    if "marks" not in c:
        return "no"
    try:
        got = [tuple(m) if m else None for m in c["marks"](MARKS_DOC)]
    except Exception as exc:  # noqa: BLE001
        return f"error: {type(exc).__name__}: {exc}"[:60]
    if got == MARKS_WANT:
        return "keys+values"
    if got[0] == MARKS_WANT[0]:
        return "keys only"
    if got[0] and got[0][0] == MARKS_WANT[0][0]:
        return "lines only"
    return f"wrong {got}"


# --------------------------------------------------------------------------- children

def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child_time(name: str, file: str, repeat: int) -> dict:
    c = candidates()[name]
    raw = Path(file).read_bytes()
    base = _rss_mb()
    times, cpu = [], []
    t0, c0 = time.perf_counter(), time.process_time()
    value = c["parse"](raw)
    times.append(time.perf_counter() - t0)
    cpu.append(time.process_time() - c0)
    peak = _rss_mb() - base
    if c.get("events") or c.get("tree") or c.get("nodes"):
        same = "n/a"
    else:
        from optimiser import yamlio
        same = "yes" if _plain(value) == yamlio.parse_bytes(raw, "f").data else "NO"
    del value
    for _ in range(repeat - 1):
        gc.collect()
        t0, c0 = time.perf_counter(), time.process_time()
        value = c["parse"](raw)
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
        del value
    return {"min": min(times), "median": sorted(times)[len(times) // 2], "cpu": min(cpu),
            "peak_mb": peak, "same": same}


def child_probe(name: str) -> dict:
    c = candidates()[name]
    return {"marks": probe_marks(c), "dups": probe_dups(c), "core": probe_core(c)}


def child_limit(name: str, which: str) -> dict:
    c = candidates()[name]
    raw = DEEP_DOC if which == "deep" else BOMB_DOC
    t0 = time.perf_counter()
    try:
        c["parse"](raw)  # a parser that shares aliased values returns fast; one that expands
        return {"result": f"accepted ({time.perf_counter() - t0:.1f}s)"}
    except MemoryError:
        return {"result": "MemoryError"}
    except RecursionError:
        return {"result": "RecursionError"}
    except Exception as exc:  # noqa: BLE001
        return {"result": f"refused ({type(exc).__name__}, {time.perf_counter() - t0:.1f}s)"}


MEMORY_CAP_MB = 3072
"""A limit probe whose resident memory passes this is stopped and reported as such (the
parent watches /proc: an address-space rlimit would make Rust parsers abort on their
virtual-memory reservations rather than on real use)."""


def _rss_of(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _run_child(args: list[str], timeout: float) -> dict:
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        p = subprocess.Popen([sys.executable, __file__, "--child", *args], stdout=out, stderr=err,
                             text=True)
        t0 = time.monotonic()
        peak = 0.0
        while p.poll() is None:
            peak = max(peak, _rss_of(p.pid))
            if peak > MEMORY_CAP_MB or time.monotonic() - t0 > timeout:
                p.kill()
                p.wait()
                if peak > MEMORY_CAP_MB:
                    return {"error": f"over {MEMORY_CAP_MB / 1024:.0f} GiB in {time.monotonic() - t0:.1f}s"}
                return {"error": f"timeout {timeout:.0f}s"}
            time.sleep(0.02)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if p.returncode != 0:
        sig = -p.returncode if p.returncode < 0 else None
        tail = (stderr.strip().splitlines() or ["?"])[-1][:70]
        return {"error": f"crash (signal {sig})" if sig else f"exit {p.returncode}: {tail}"}
    lines = stdout.strip().splitlines()
    try:
        return json.loads(lines[-1])
    except (json.JSONDecodeError, IndexError):
        return {"error": f"no result: {(stderr.strip().splitlines() or ['?'])[-1][:70]}"}


# --------------------------------------------------------------------------- input file

def make_input(out: Path) -> Path:
    """generate.py's 1,500-locality scenario, else a synthetic mapping of the same shape."""
    try:
        subprocess.run([sys.executable, str(ROOT / "benchmarks" / "generate.py"),
                        "--localities", "1500", "--out", str(out)], check=True,
                       capture_output=True, timeout=300)
        found = sorted((out / "configs").glob("*.yaml"))
        if found:
            return found[0]
    except (subprocess.SubprocessError, OSError):
        pass
    path = out / "synthetic.yaml"
    acts = [f"pathway{p}.activity{a}" for p in range(5) for a in range(4)]
    with path.open("w") as f:
        f.write("scenario: synthetic\nproviders:\n")
        for i in range(20_000):
            f.write(f"  hub_{i:05d}:\n    setting: community\n    mode: make\n    serves:\n"
                    f"    - loc{i:05d}\n    fixed_cost: 180000\n    costs:\n")
            for j, a in enumerate(acts[:8]):
                f.write(f"      {a}: {40 + (i * 7 + j) % 900 + 0.25}\n")
            f.write("    quality:\n      default: 0.88\n")
    return path


def alias_free(src: Path) -> Path:
    """The same data written without anchors/aliases (for parsers that refuse them)."""
    import yaml

    class NoAlias(yaml.SafeDumper):
        def ignore_aliases(self, data: Any) -> bool:
            return True

    data = yaml.load(src.read_text(), Loader=yaml.CSafeLoader)
    dst = Path(tempfile.mkdtemp(prefix="yamlbench-")) / (src.stem + ".noalias.yaml")
    dst.write_text(yaml.dump(data, Dumper=NoAlias, sort_keys=False))
    return dst



# --------------------------------------------------------------------------- prototype
# What yamlio would look like on top of yaml-rs (the fastest parser here that refuses
# duplicate keys and resolves YAML 1.2 scalars). yaml-rs gives no marks, so they are built
# only when first asked for (an error is being reported), by yamlio's own event pass over the
# same text. yaml-rs differs from yamlio on tags (``!foo`` and ``!!str`` accepted), several
# documents (returned as a list), non-text keys (``1: x`` gives the int 1, ``[a]: x`` a
# tuple), control characters, 400-digit numbers, depth and a few number spellings, so
# anything that might touch those goes to yamlio; the rest is checked after the fact.

_CONTROL = None


def _needs_yamlio(text: str) -> bool:
    """True if the text has anything on which yaml-rs and yamlio might differ (conservative:
    plain substring tests, which run at memory speed, and one character-class search)."""
    import re
    global _CONTROL
    if _CONTROL is None:
        _CONTROL = re.compile(
            "[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
    return (any(c in text for c in "!%?|>")           # tags, directives, complex keys, blocks
            or text.startswith(("---", "...")) or "\n---" in text or "\n..." in text  # documents
            or "._" in text                            # '._5': yaml-rs 0.5, yamlio text
            or _CONTROL.search(text) is not None)      # characters libyaml refuses


def prototype_parse_bytes(raw: bytes, file: str) -> Any:
    """yamlio.parse_bytes with yaml-rs doing the reading when it safely can."""
    import yaml_rs

    from optimiser import yamlio

    if len(raw) > yamlio.MAX_BYTES or b"\t" in raw:
        return yamlio.parse_bytes(raw, file)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return yamlio.parse_bytes(raw, file)
    if _needs_yamlio(text):
        return yamlio.parse_bytes(raw, file)
    try:
        data = yaml_rs.loads(text, parse_datetime=False,
                             duplicate_key_policy=yaml_rs.DuplicateKeyPolicy.Error)
    except Exception:  # noqa: BLE001 - any refusal: yamlio says where and why
        return yamlio.parse_bytes(raw, file)
    if not _plain_enough(data, yamlio.MAX_DEPTH, yamlio.MAX_NODES):
        return yamlio.parse_bytes(raw, file)
    return _LazyDocument(file, data, text)


def _plain_enough(data: Any, max_depth: int, max_nodes: int) -> bool:
    """Text keys only, no deeper than yamlio allows, no more values, no whole number of more
    than 150 digits (yamlio refuses over 308; underscores count there), iteratively."""
    if type(data) is int and data.bit_length() > 500:
        return False
    stack = [(data, 0)]
    nodes = 0
    while stack:
        v, depth = stack.pop()
        nodes += 1
        if isinstance(v, dict):
            if depth >= max_depth:
                return False
            for k, x in v.items():
                if type(k) is not str:
                    return False
                if type(x) is dict or type(x) is list:
                    stack.append((x, depth + 1))
                else:
                    nodes += 1
                    if type(x) is int and x.bit_length() > 500:
                        return False
        elif isinstance(v, list):
            if depth >= max_depth:
                return False
            for x in v:
                if type(x) is dict or type(x) is list:
                    stack.append((x, depth + 1))
                else:
                    nodes += 1
                    if type(x) is int and x.bit_length() > 500:
                        return False
    return nodes <= max_nodes


def _lazy_document_class() -> type:
    from optimiser import yamlio

    class LazyDocument(yamlio.Document):
        """A Document whose marks are read from the text on first use."""

        def __init__(self, file: str, data: Any, text: str):
            super().__init__(file=file, data=data)
            self._text: str | None = text

        def _marks(self) -> None:
            if self._text is not None:
                text, self._text = self._text, None
                full = yamlio.parse_text(text, self.file)
                self.__dict__["values"], self.__dict__["keys"] = full.values, full.keys

        def __getattribute__(self, name: str) -> Any:
            if name in ("values", "keys"):
                object.__getattribute__(self, "_marks")()
            return object.__getattribute__(self, name)

    return LazyDocument


def _LazyDocument(file: str, data: Any, text: str) -> Any:  # noqa: N802
    global _LAZY
    try:
        cls = _LAZY
    except NameError:
        cls = _LAZY = _lazy_document_class()
    return cls(file, data, text)


def prototype_report(file: Path, repeat: int, cases: int) -> None:
    """Speed of the prototype against yamlio, on the file and inside load(); then a
    differential fuzz: every input where the two disagree (data, or issue list) is a bug."""
    import importlib
    import random

    from optimiser import yamlio
    from optimiser.errors import ConfigError

    raw = file.read_bytes()
    for name, fn in (("yamlio.parse_bytes", yamlio.parse_bytes),
                     ("prototype (yaml-rs, lazy marks)", prototype_parse_bytes)):
        ts, cs = [], []
        for _ in range(repeat):
            gc.collect()
            t0, c0 = time.perf_counter(), time.process_time()
            fn(raw, "f")
            ts.append(time.perf_counter() - t0)
            cs.append(time.process_time() - c0)
        print(f"{name:34s} wall min {min(ts):.3f}s median {sorted(ts)[len(ts) // 2]:.3f}s, "
              f"CPU min {min(cs):.3f}s")
    t0, c0 = time.perf_counter(), time.process_time()
    d = prototype_parse_bytes(raw, "f")
    d.keys  # noqa: B018 - the first error report pays for the marks
    print(f"{'prototype + marks on first error':34s} wall {time.perf_counter() - t0:.3f}s, "
          f"CPU {time.process_time() - c0:.3f}s")

    load_mod = importlib.import_module("optimiser.load")
    cfg = file
    for name, fn in (("load() with yamlio", yamlio.parse_bytes),
                     ("load() with prototype", prototype_parse_bytes)):
        load_mod.parse_bytes = fn
        ts, cs = [], []
        for _ in range(max(2, repeat // 2)):
            gc.collect()
            t0, c0 = time.perf_counter(), time.process_time()
            load_mod.load(cfg)
            ts.append(time.perf_counter() - t0)
            cs.append(time.process_time() - c0)
        print(f"{name:34s} wall min {min(ts):.3f}s, CPU min {min(cs):.3f}s")
    load_mod.parse_bytes = yamlio.parse_bytes

    def outcome(fn: Callable, data: bytes) -> Any:
        try:
            doc = fn(data, "f.yaml")
            return ("ok", repr(doc.data), sorted(map(repr, doc.values.items())),
                    sorted(map(repr, doc.keys.items())))
        except ConfigError as exc:
            return ("error", [str(i) for i in exc.issues])

    seeds = [p.read_bytes() for p in ROOT.rglob("*.yaml") if p.stat().st_size < 20_000]
    seeds += [CORE_DOC, DUP_DOC, MARKS_DOC, b"a: ._5\nb: 1__0\nc: 0b1\nd: 1:2\ne: .5e3\n",
              b"1: a\ntrue: b\nnull: c\n", b"a: &x {b: [1, 2]}\nc: *x\n"]
    alphabet = b" \n:-[]{},&*!?#'\"|>~0123456789abcex._+%@`"
    rnd = random.Random(0)
    differ = 0
    fast = 0
    for i in range(cases):
        data = bytearray(rnd.choice(seeds))
        for _ in range(rnd.randint(0, 4)):
            pos = rnd.randrange(len(data) + 1)
            if rnd.random() < 0.5 and data:
                data[min(pos, len(data) - 1)] = rnd.choice(alphabet)
            else:
                data[pos:pos] = bytes([rnd.choice(alphabet)])
        data = bytes(data)
        a, b = outcome(yamlio.parse_bytes, data), outcome(prototype_parse_bytes, data)
        try:
            fast += not _needs_yamlio(data.decode("utf-8-sig"))
        except UnicodeDecodeError:
            pass
        if a != b:
            differ += 1
            if differ <= 8:
                print("DIFFERS:", data[:160], "\n  yamlio:", str(a)[:300], "\n  proto: ", str(b)[:300])
    print(f"differential fuzz: {cases} inputs, {fast} through the fast gate, {differ} differ")

    import yaml_rs
    spellings = ["_00000", "__1", "-_1", "_1.5", "1e1_0", "0b11", "-0x1", "+0o7", "0X1F", "1_", "1._5",
                 "0x_1", "1.e3", "140_000", "0755", "1e-7"]
    print("| plain scalar | yaml-rs | yamlio |\n|---|---|---|")
    for t in spellings:
        theirs = yaml_rs.loads(f"a: {t}", parse_datetime=False)["a"]
        try:
            ours = yamlio.resolve_scalar(t)
        except yamlio.ScalarError:
            ours = "error"
        flag = "" if repr(theirs) == repr(ours) else " **differs**"
        print(f"| `{t}` | {theirs!r} | {ours!r}{flag} |")


# --------------------------------------------------------------------------- load stages

def profile_load(file: Path, repeat: int, cprofile: bool) -> None:
    """Wall, CPU and garbage-collector seconds of each stage of optimiser.load.load(file)."""
    import importlib
    from collections import defaultdict

    load_mod = importlib.import_module("optimiser.load")
    wall: dict[str, float] = defaultdict(float)
    cpu: dict[str, float] = defaultdict(float)
    gct: dict[str, float] = defaultdict(float)
    current = ["other"]
    started = [0.0]

    def on_gc(phase: str, info: dict) -> None:
        if phase == "start":
            started[0] = time.perf_counter()
        else:
            gct[current[0]] += time.perf_counter() - started[0]

    def wrap(mod: Any, name: str, label: str) -> None:
        f = getattr(mod, name)

        def timed(*args: Any, **kwargs: Any) -> Any:
            outer, current[0] = current[0], label
            t0, c0 = time.perf_counter(), time.process_time()
            try:
                return f(*args, **kwargs)
            finally:
                wall[label] += time.perf_counter() - t0
                cpu[label] += time.process_time() - c0
                current[0] = outer
        setattr(mod, name, timed)

    wrap(load_mod, "_read", "read + sha256")
    wrap(load_mod, "parse_bytes", "parse (yamlio)")
    wrap(load_mod, "validate", "validate (pydantic)")
    wrap(load_mod.overrides_mod, "apply", "overrides")
    wrap(load_mod.checks, "check_pathways", "checks")
    wrap(load_mod.checks, "check_references", "checks")
    wrap(load_mod.checks, "check_instance", "checks")
    wrap(load_mod, "build", "instance build")
    load_mod.load(file)  # imports and first-call costs out of the way
    best = None
    for _ in range(repeat):
        gc.collect()
        for d in (wall, cpu, gct):
            d.clear()
        gc.callbacks.append(on_gc)
        t0, c0 = time.perf_counter(), time.process_time()
        scenario = load_mod.load(file)
        total = (time.perf_counter() - t0, time.process_time() - c0)
        gc.callbacks.remove(on_gc)
        del scenario
        if best is None or total[1] < best[0][1]:
            best = (total, dict(wall), dict(cpu), dict(gct))
    (twall, tcpu), w, c, g = best
    print(f"load({file.name}): {twall:.3f} s wall, {tcpu:.3f} s CPU (run with least CPU of {repeat})")
    print("| stage | wall s | CPU s | share of CPU | of which garbage collector s |")
    print("|---|---:|---:|---:|---:|")
    for k in sorted(c, key=lambda k: -c[k]):
        print(f"| {k} | {w[k]:.3f} | {c[k]:.3f} | {100 * c[k] / tcpu:.0f}% | {g.get(k, 0):.3f} |")
    rest_w, rest_c = twall - sum(w.values()), tcpu - sum(c.values())
    print(f"| rest of load() | {rest_w:.3f} | {rest_c:.3f} | {100 * rest_c / tcpu:.0f}% | {g.get('other', 0):.3f} |")
    if cprofile:
        import cProfile
        import pstats
        prof = cProfile.Profile()
        prof.runcall(load_mod.load, file)
        pstats.Stats(prof).sort_stats("cumulative").print_stats(30)


# --------------------------------------------------------------------------- main

def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--file", type=Path, help="scenario YAML (default: generate one)")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--only", nargs="*", help="substrings of candidate names to run")
    ap.add_argument("--skip", nargs="*", default=[], help="substrings of candidate names to leave out")
    ap.add_argument("--no-limits", action="store_true", help="skip the deep and bomb probes")
    ap.add_argument("--no-time", action="store_true", help="probes only, no timing")
    ap.add_argument("--slow-timeout", type=float, default=240.0)
    ap.add_argument("--json", type=Path, help="write the results here too")
    ap.add_argument("--profile-load", action="store_true", help="time each stage of "
                    "optimiser.load.load on the file instead (with --cprofile: and a profile)")
    ap.add_argument("--cprofile", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--prototype", type=int, metavar="CASES", help="time the yaml-rs prototype "
                    "against yamlio and fuzz the two against each other with CASES inputs")
    ap.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    a = ap.parse_args()

    if a.child:
        kind, name, *rest = a.child
        if kind == "time":
            res = child_time(name, rest[0], int(rest[1]))
        elif kind == "probe":
            res = child_probe(name)
        else:
            res = child_limit(name, rest[0])
        print(json.dumps(res))
        return

    file = a.file or make_input(Path(tempfile.mkdtemp(prefix="yamlbench-")))
    if a.profile_load:
        profile_load(file, a.repeat, a.cprofile)
        return
    if a.prototype is not None:
        prototype_report(file, a.repeat, a.prototype)
        return
    noalias = alias_free(file)
    print(f"file: {file} ({file.stat().st_size / 1e6:.2f} MB); python {sys.version.split()[0]}; "
          f"{os.cpu_count()} cores", flush=True)
    cands = candidates()
    names = [n for n in cands if (not a.only or any(s in n for s in a.only))
             and not any(s in n for s in a.skip)]
    rows = []
    for name in names:
        c = cands[name]
        f = noalias if c.get("no_aliases") else file
        slow = c.get("slow")
        rep = 1 if slow else a.repeat
        t = {} if a.no_time else _run_child(["time", name, str(f), str(rep)],
                                            a.slow_timeout if slow else 300)
        p = _run_child(["probe", name], 120)
        row = {"name": name, **t, **{k: v for k, v in p.items() if k != "error"}}
        if "error" in p:
            row["probe_error"] = p["error"]
        if not a.no_limits:
            for which in ("deep", "bomb"):
                r = _run_child(["limit", name, which], 30)
                row[which] = r.get("result") or r.get("error")
        if c.get("no_aliases"):
            row["note"] = "timed on an alias-free copy (refuses anchors)"
        rows.append(row)
        print(_fmt(row), flush=True)
        if a.json:
            a.json.write_text(json.dumps(rows, indent=1))
    print()
    print(table(rows))


def _fmt(r: dict) -> str:
    if "min" in r:
        return (f"{r['name']}: {r['min']:.3f}s min, {r['median']:.3f}s median, {r['cpu']:.3f}s CPU, "
                f"+{r['peak_mb']:.0f} MB, same data: {r.get('same')}")
    return f"{r['name']}: {r.get('error')}"


def table(rows: list[dict]) -> str:
    head = ("| parser | wall min s | wall median s | CPU min s | peak +MB | same data as yamlio "
            "| marks | duplicates | YAML 1.2 core | 100k `[` | alias bomb |")
    out = [head, "|" + "---|" * 11]
    for r in rows:
        t = (f"{r['min']:.3f} | {r['median']:.3f} | {r['cpu']:.3f} | {r['peak_mb']:.0f} | "
             f"{r.get('same', '?')}" if "min" in r else f"{r.get('error')} | | | | ")
        out.append(f"| {r['name']} | {t} | {r.get('marks', '?')} | {r.get('dups', '?')} | "
                   f"{r.get('core', '?')} | {r.get('deep', '-')} | {r.get('bomb', '-')} |")
    return "\n".join(out)


if __name__ == "__main__":
    main()
