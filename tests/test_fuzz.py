"""Fuzzing the loader: mutated valid configs are either loaded or refused with located issues.

Start from two valid scenarios (the corpus's ``tests/invalid/valid/base.yaml`` with its tiny
pathway, and the full example ``configs/northshire.yaml`` with its five pathways), read them
with ``yaml.safe_load``, apply random mutations with hypothesis, dump back to YAML text
(sometimes mutating the text or bytes too), write them to a scratch folder and call
:func:`optimiser.load`. The property:

* either the scenario loads, and then (for every few of them) :func:`optimiser.solve` with a
  5 s time limit returns a result whose ``status`` is a :class:`optimiser.Status`, without
  raising (except the deliberate, typed ``optimiser.numerics.NumericsError`` for a model whose
  numbers span more than 1e9 within one row, which is counted apart);
* or :class:`optimiser.ConfigError` is raised, and every issue names one of the files
  written (or ``--set KEY=VALUE``), has a non-empty message, prints as one line, and has a
  line >= 1 and a column >= 1 that lie inside that file. Line 0 is allowed only for
  ``--set`` issues and for files that could not be read at all;
* any other exception is a crash, and fails the test.

Mutations on the data: drop a key or item, retype a value (text, int, float, bool, null,
list, mapping), rename a key (a typo), add an unknown key, perturb a number (negative, 0,
huge, NaN, inf, a fraction where a count is expected), replace a name with an unknown one,
duplicate a list item, swap two values, and ``--set`` overrides built from real and
misspelt paths. Mutations on the text: delete or insert a character (tabs, YAML indicators,
control characters, line breaks), delete, duplicate (so duplicate keys) or swap lines,
re-indent a line, replace a number by a YAML trap (``.nan``, ``1e3``, ``0755``, ``12:30``,
a 5000-digit integer), truncate the file, and insert bytes that are not UTF-8.

Engine bugs already pinned by a strict ``xfail`` test (a case in ``tests/invalid/cases``, or a
test at the end of this module) are recognised by :func:`_known_exception` and
:func:`_known_issue`: the fuzzer counts them rather than failing on them, so it keeps
looking for new ones (set ``CAREPATH_FUZZ_STRICT=1`` to fail on them too). Remove an entry
once its bug is fixed, so that the fuzzer guards against it coming back. Counts (tried,
loaded, solved, refused with locations, known bugs, crashes) are printed at the end of the
module when ``CAREPATH_REPORT=1``. Examples per test are chosen so the module runs more than
5,000 cases in well under three minutes; ``derandomize=True`` makes every run the same.
"""

from __future__ import annotations

import collections
import copy
import math
import os
import re
import shutil
import tempfile
import time
import zlib
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import optimiser
from optimiser import Issue, Status
from conftest import print_past_capture
from optimiser.yamlio import parse_bytes

try:  # solve refuses models whose numbers span more than 1e9 in a row: a typed, deliberate refusal
    from optimiser.numerics import NumericsError
except ImportError:  # pragma: no cover - engines without the numerics check
    NumericsError = ()  # type: ignore[assignment,misc]

ROOT = Path(__file__).resolve().parent.parent
INVALID = ROOT / "tests" / "invalid"
STRICT = os.environ.get("CAREPATH_FUZZ_STRICT") == "1"

# --------------------------------------------------------------------------- seeds


def _seed(config: Path, config_rel: str, pathways: list[Path], pathway_dir: str) -> dict:
    files = {config_rel: config.read_text(encoding="utf-8")}
    for p in pathways:
        files[f"{pathway_dir}/{p.name}"] = p.read_text(encoding="utf-8")
    return {"config": config_rel, "files": files}


SEEDS = {
    "tiny": _seed(INVALID / "valid" / "base.yaml", "cases/c.yaml",
                  [INVALID / "pathways" / "tiny.yaml"], "pathways"),
    "northshire": _seed(ROOT / "configs" / "northshire.yaml", "configs/northshire.yaml",
                        sorted((ROOT / "pathways").glob("*.yaml")), "pathways"),
}

SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)   # libyaml: several times faster
SafeDumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def safe_load(text: str):
    return yaml.load(text, Loader=SafeLoader)


def safe_dump(data, **kw) -> str:
    return yaml.dump(data, Dumper=SafeDumper, **kw)


DATA = {name: {rel: safe_load(text) for rel, text in seed["files"].items()}
        for name, seed in SEEDS.items()}
"""Each seed file read once with safe_load; cases start from a deep copy."""

# Names a mutation may swap in: real ones from other places (wrong here) and near misses.
NAMES = ["north", "south", "east", "nroth", "copd", "cpod", "heart_failure", "copd.spirometry",
         "copd.spirometri", "copd.admission", "msk.physiotherapy", "nurse_hours", "nurse_hour",
         "hub_nurse_hours", "city_hospital", "hub", "hospital", "community", "primary_care",
         "all", "al", "buy", "make", "mke", "lp", "milp", "cp", "highs", "higs", "cbc", "glop",
         "cpsat", "default", "defualt", "min_cost", "spirometry", "rehab", "admission",
         "emergency_admission", "North", "a.b.c", "", " ", "x" * 300]
TRAPS = ["no", "on", "off", "yes", "y", "n", "1e3", "0755", "0o17", "0x1F", "12:30",
         "2027-01-01", "~", "null", ".nan", ".NaN", "-.inf", ".inf", "1_000", "1,000", "+1",
         "1e400", "-0", "0.", ".5", "<<", "=", "!!str", "&a", "*a", "%", "@", "`", "|", ">"]

# --------------------------------------------------------------------------- known engine bugs


def _known_exception(exc: BaseException) -> str | None:
    """The test that pins this crash, if it is a known engine bug.

    Fixed since they were found (entries removed, so the fuzzer now fails on them): ValueError
    for 5000-digit integers, NUL and over-long pathway paths, the cp seed TypeError, pandas'
    merge error with no arcs at all, TypeError for --set into a provider with a list mode.
    """
    # Also fixed: SolveFailed from a diagnosis that met a solver error (the infeasible
    # verdict is returned now, with a note in the diagnosis).
    return None


_LINE_BREAKING = re.compile("[\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")
"""Characters that end a line for a terminal, an editor or ``str.splitlines``."""


def _known_issue(issue: Issue) -> str | None:
    """The test that pins this badly printed issue, if it is a known engine bug.

    Fixed since they were found: PyYAML's two-line reader errors at 1:1, raw line breaks and
    control characters (C0, C1, U+2028/9) in printed paths and messages, errors placed on a
    line after the last, tab lines counted by str.splitlines().
    """
    # Also fixed: the --set text echoed raw as the issue's file.
    return None


# --------------------------------------------------------------------------- statistics

COUNTS: collections.Counter = collections.Counter()
KNOWN: collections.Counter = collections.Counter()
STATUSES: collections.Counter = collections.Counter()


@pytest.fixture(scope="module", autouse=True)
def _report(request):
    started = time.perf_counter()
    yield
    if os.environ.get("CAREPATH_REPORT") != "1":
        return
    c = COUNTS
    lines = [
        f"fuzz: {c['tried']} tried in {time.perf_counter() - started:.1f} s: "
        f"{c['loaded']} loaded ({c['solved']} solved: "
        f"{', '.join(f'{k} {v}' for k, v in sorted(STATUSES.items())) or 'none'}), "
        f"{c['rejected']} refused with located issues ({c['issues']} issues), "
        f"{sum(KNOWN.values())} known engine bugs, {c['crashes']} crashes",
        *(f"  known bug {name}: {n}" for name, n in sorted(KNOWN.items())),
        *(f"  {k}: {v}" for k, v in sorted(c.items()) if k.startswith("by ")),
    ]
    print_past_capture(request.config, lines)


# --------------------------------------------------------------------------- scratch folder

WORK = Path(tempfile.mkdtemp(prefix="carepath-fuzz-"))


@pytest.fixture(scope="module", autouse=True)
def _cleanup():
    yield
    shutil.rmtree(WORK, ignore_errors=True)


def _write(files: dict[str, bytes]) -> None:
    for sub in ("cases", "configs", "pathways"):
        shutil.rmtree(WORK / sub, ignore_errors=True)
    for rel, raw in files.items():
        path = WORK / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(raw)


def _line_count(raw: bytes) -> int:
    """Lines as a YAML reader counts them (CR, LF, CRLF, NEL, LS, PS all break lines)."""
    text = raw.decode("utf-8", errors="replace")
    return len(re.findall(r"\r\n|\r|\n|\x85|\u2028|\u2029", text)) + 1


def check_case(files: dict[str, bytes], config_rel: str, overrides: list[str],
               solve: bool) -> str:
    """Load (and maybe solve) one case; assert the property; return the outcome."""
    _write(files)
    COUNTS["tried"] += 1
    config = os.path.join(str(WORK), config_rel)
    shown = {os.path.normpath(os.path.join(str(WORK), rel)): raw for rel, raw in files.items()}
    try:
        scenario = optimiser.load(config, overrides=overrides)
    except optimiser.ConfigError as exc:
        _check_issues(exc, shown, overrides)
        return "rejected"
    except Exception as exc:
        known = _known_exception(exc)
        if known and not STRICT:
            KNOWN[known] += 1
            return "known"
        COUNTS["crashes"] += 1
        raise
    COUNTS["loaded"] += 1
    if not solve:
        return "loaded"
    try:
        result = optimiser.solve(scenario, time_limit=5)
    except NumericsError as exc:
        assert str(exc).strip(), "NumericsError without a message"
        COUNTS["solved"] += 1
        STATUSES["refused (numerics)"] += 1
        return "solved"
    except Exception as exc:
        known = _known_exception(exc)
        if known and not STRICT:
            KNOWN[known] += 1
            return "known"
        COUNTS["crashes"] += 1
        raise
    assert isinstance(result.status, Status), result.status
    COUNTS["solved"] += 1
    STATUSES[result.status.value] += 1
    return "solved"


def _check_issues(exc: optimiser.ConfigError, shown: dict[str, bytes], overrides) -> None:
    issues = exc.issues
    assert issues, "ConfigError without issues"
    known_here = []
    for issue in issues:
        assert isinstance(issue, Issue), issue
        known = _known_issue(issue)
        if known and not STRICT:
            known_here.append(known)
            continue
        assert isinstance(issue.message, str) and issue.message.strip(), issue
        # printed, an issue is one line (the fields may hold the input's raw text)
        assert not _LINE_BREAKING.search(str(issue)), f"not one line: {str(issue)!r}"
        assert issue.file, issue
        if issue.file.startswith("--set "):
            assert issue.file[len("--set "):] in overrides, issue
            assert issue.line == 0, issue
            continue
        assert issue.file in shown, f"issue in a file that was not written: {issue!r}"
        if issue.line == 0:
            assert issue.message.startswith(("cannot read", "is a folder")), \
                f"line 0 for a readable file: {issue!r}"
            continue
        assert isinstance(issue.line, int) and issue.line >= 1, issue
        assert isinstance(issue.column, int) and issue.column >= 1, issue
        raw = shown[issue.file]
        lines = _line_count(raw)
        assert issue.line <= lines, f"line {issue.line} of a {lines}-line file: {issue!r}"
    if known_here:
        KNOWN[known_here[0]] += 1
    COUNTS["rejected"] += 1
    COUNTS["issues"] += len(issues)


# --------------------------------------------------------------------------- data mutations

SCALARS = st.one_of(
    st.none(), st.booleans(),
    st.integers(-10**12, 10**12), st.sampled_from([0, -1, 1, 2**31, 2**63, 10**30, 10**400]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.5, -0.5, 1e-300, 1e300, 1.5, 1e-7]),
    st.text(max_size=12), st.sampled_from(NAMES), st.sampled_from(TRAPS),
)
IDS = st.one_of(st.sampled_from(NAMES),
                st.from_regex(r"[a-z][a-z0-9_]{0,8}(\.[a-z][a-z0-9_]{0,8})?", fullmatch=True))
VALUES = st.one_of(
    SCALARS,
    st.lists(SCALARS, max_size=3),
    st.dictionaries(IDS, SCALARS, max_size=3),
    st.lists(st.dictionaries(IDS, SCALARS, max_size=2), max_size=2),
)


def _paths(node, prefix=()):
    if isinstance(node, dict):
        for k, v in node.items():
            yield prefix + (k,)
            yield from _paths(v, prefix + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield prefix + (i,)
            yield from _paths(v, prefix + (i,))


def _parent(root, path):
    node = root
    for p in path[:-1]:
        node = node[p]
    return node


def _typo(draw, word: str) -> str:
    word = str(word)
    kind = draw(st.sampled_from(["drop", "insert", "swap", "case", "suffix", "dot"]))
    if not word:
        return "x"
    i = draw(st.integers(0, len(word) - 1))
    if kind == "drop" and len(word) > 1:
        return word[:i] + word[i + 1:]
    if kind == "insert":
        return word[:i] + draw(st.sampled_from("aeiouxz_.- ")) + word[i:]
    if kind == "swap" and len(word) > 1:
        j = min(i + 1, len(word) - 1)
        w = list(word)
        w[i], w[j] = w[j], w[i]
        return "".join(w)
    if kind == "case":
        return word.upper() if word != word.upper() else word.lower() + "X"
    if kind == "dot":
        return word.replace(".", "_") if "." in word else f"{word}.{word}"
    return word + "s"


def _perturb(draw, v):
    """Another number for ``v``: sign, zero, huge, tiny, NaN, inf, scaled, a fraction, a type."""
    options = [0, -1, 10**30, 1e308, math.nan, math.inf, -math.inf, 1e-300, 2**31,
               str(v), [v], {"min": v, "max": v}, True]
    big_int = isinstance(v, int) and abs(v) > 2**1000      # beyond float: no float arithmetic
    if v == v and v:
        options.append(-v)
    if not big_int:
        options += [v * 1000, v + 0.5]
    if isinstance(v, float) and math.isfinite(v) and v == int(v) and abs(v) < 1e15:
        options.append(int(v))
    if isinstance(v, int) and not big_int:
        options.append(float(v))
    return draw(st.sampled_from(options))


def mutate_data(draw, root, rounds: int) -> None:
    """Apply ``rounds`` random mutations to ``root`` (a dict) in place."""
    for _ in range(rounds):
        paths = list(_paths(root))
        if not paths:
            return
        path = draw(st.sampled_from(paths))
        parent = _parent(root, path)
        key = path[-1]
        value = parent[key]
        op = draw(st.sampled_from(["drop", "retype", "retype", "rename", "perturb", "perturb",
                                   "name", "add", "dup_item", "swap", "wrap"]))
        if op == "drop":
            del parent[key]
        elif op == "retype":
            parent[key] = draw(VALUES)
        elif op == "rename" and isinstance(parent, dict):
            new = draw(st.one_of(st.just(_typo(draw, key)), IDS))
            items = [(new if k == key else k, v) for k, v in parent.items()]
            parent.clear()
            parent.update(items)
        elif op == "perturb" and isinstance(value, (int, float)) and not isinstance(value, bool):
            parent[key] = _perturb(draw, value)
        elif op == "perturb":
            parent[key] = draw(SCALARS)
        elif op == "name" and isinstance(value, str):
            parent[key] = draw(st.one_of(st.sampled_from(NAMES), st.just(_typo(draw, value))))
        elif op == "name" and isinstance(parent, dict):
            parent[draw(st.sampled_from(NAMES))] = value
        elif op == "add" and isinstance(value, dict):
            value[draw(IDS)] = draw(VALUES)
        elif op == "add" and isinstance(parent, dict):
            parent[_typo(draw, key)] = draw(VALUES)
        elif op == "dup_item" and isinstance(value, list) and value:
            value.append(value[draw(st.integers(0, len(value) - 1))])
        elif op == "dup_item" and isinstance(parent, list):
            parent.append(value)
        elif op == "swap":
            other = draw(st.sampled_from(paths))
            try:
                op_parent = _parent(root, other)
                parent[key], op_parent[other[-1]] = op_parent[other[-1]], value
            except (KeyError, IndexError, TypeError):
                pass  # the other path moved under the first; skip
        elif op == "wrap":
            parent[key] = draw(st.sampled_from([[value], {"value": value}, {"min": value}]))


def _dump(draw, data) -> str:
    try:
        return safe_dump(data, sort_keys=False, allow_unicode=draw(st.booleans()),
                              default_flow_style=draw(st.sampled_from([False, None, True])),
                              width=draw(st.sampled_from([80, 4096])))
    except (ValueError, RecursionError, yaml.YAMLError):  # e.g. a self-referencing swap
        return safe_dump({"scenario": "unprintable"})


# --------------------------------------------------------------------------- text mutations

INSERTS = ["\t", ":", ": ", "-", "- ", "[", "]", "{", "}", ",", "&a ", "*a", "!", "!!str ",
           "!!binary ", "#", "'", '"', "|", ">", "%", "@", "`", "?", "\n", " ", "  ", "\r",
           "\r\n", "\x00", "\x07", "\x1b", "\x0c", "\x0b", "\ufeff", "\u2028", "\x85", "é", "€",
           "---\n", "...\n", "<<: ", "\\"]
NUMBER = re.compile(r"(?<![\w.])-?\d[\d_]*(\.\d+)?(?![\w.])")
NUMBER_TRAPS = [".nan", ".NaN", "-.inf", ".inf", "1e3", "1e400", "0755", "12:30", "-1", "0",
                "1_0_0", "1,000", "yes", "no", "true", "~", "''", "9" * 5000, "1" + "0" * 400]


def mutate_text(draw, text: str, rounds: int) -> bytes:
    for _ in range(rounds):
        lines = text.split("\n")
        op = draw(st.sampled_from(["del_char", "insert", "insert", "del_line", "dup_line",
                                   "dup_line", "swap_lines", "indent", "number", "number",
                                   "truncate", "dup_flow_key"]))
        if op == "del_char" and text:
            i = draw(st.integers(0, len(text) - 1))
            text = text[:i] + text[i + 1:]
        elif op == "insert":
            i = draw(st.integers(0, len(text)))
            text = text[:i] + draw(st.sampled_from(INSERTS)) + text[i:]
        elif op == "del_line" and len(lines) > 1:
            i = draw(st.integers(0, len(lines) - 1))
            text = "\n".join(lines[:i] + lines[i + 1:])
        elif op == "dup_line" and lines:
            i = draw(st.integers(0, len(lines) - 1))
            text = "\n".join(lines[:i + 1] + lines[i:])
        elif op == "swap_lines" and len(lines) > 1:
            i = draw(st.integers(0, len(lines) - 2))
            lines[i], lines[i + 1] = lines[i + 1], lines[i]
            text = "\n".join(lines)
        elif op == "indent" and lines:
            i = draw(st.integers(0, len(lines) - 1))
            shift = draw(st.sampled_from([-2, -1, 1, 2]))
            lines[i] = " " * shift + lines[i] if shift > 0 else lines[i][-shift:]
            text = "\n".join(lines)
        elif op == "number":
            spots = list(NUMBER.finditer(text))
            if spots:
                m = spots[draw(st.integers(0, len(spots) - 1))]
                text = text[:m.start()] + draw(st.sampled_from(NUMBER_TRAPS)) + text[m.end():]
        elif op == "truncate" and text:
            text = text[:draw(st.integers(0, len(text)))]
        elif op == "dup_flow_key":
            spots = [m for m in re.finditer(r"\{([^{},]+, )", text)]
            if spots:
                m = spots[draw(st.integers(0, len(spots) - 1))]
                text = text[:m.end()] + m.group(1) + text[m.end():]
    raw = text.encode("utf-8", errors="surrogatepass")
    if draw(st.integers(0, 19)) == 0 and raw:   # now and then: bytes that are not UTF-8
        i = draw(st.integers(0, len(raw)))
        raw = raw[:i] + draw(st.sampled_from([b"\xff", b"\xc3", b"\xa3", b"\xed\xa0\x80",
                                              b"\xfe\xff", b"\xc0\x80"])) + raw[i:]
    return raw


# --------------------------------------------------------------------------- overrides


def _overrides(draw, data) -> list[str]:
    out = []
    paths = [p for p in _paths(data)] if isinstance(data, dict) else []
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["real", "real", "typo", "junk"]))
        if kind == "junk" or not paths:
            out.append(draw(st.sampled_from(["", "=", "=5", "no_equals", "..=1", "a..b=1",
                                             "constraints.budget==5", " = ", ".=1",
                                             "constraints.budget=[1", "scenario=&a [*a]",
                                             "pathways.0.x=1", "pathways.-1=x.yaml",
                                             "localities.north.population=1e400",
                                             "constraints.bud\nget=5", "scenario=a\u2028b"])))
            continue
        path = [str(p) for p in draw(st.sampled_from(paths))]
        if kind == "typo":
            i = draw(st.integers(0, len(path) - 1))
            path[i] = _typo(draw, path[i])
        value = draw(VALUES)
        try:
            text = safe_dump(value, default_flow_style=True, width=10**6).strip()
            text = text.removesuffix("\n...").strip()
        except ValueError:
            text = "1"
        out.append(".".join(path) + "=" + text)
    return out


# --------------------------------------------------------------------------- the tests

FUZZ = dict(derandomize=True, deadline=None, database=None, print_blob=False,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                   HealthCheck.filter_too_much])
SCALE = float(os.environ.get("CAREPATH_FUZZ_SCALE", "1"))
"""Multiplies every test's example count (e.g. 10 for a long run on demand)."""


def _n(examples: int) -> int:
    return max(1, int(examples * SCALE))

SOLVE_EVERY = 8   # solve about one loaded scenario in this many (solving dominates run time)


def _should_solve(files: dict[str, bytes], overrides: list[str], every: int = SOLVE_EVERY) -> bool:
    """Chosen from the case's own bytes, so that a re-run of a case (shrinking) does the same."""
    h = zlib.crc32("\0".join(overrides).encode())
    for rel in sorted(files):
        h = zlib.crc32(files[rel], h)
    return h % every == 0


def _as_bytes(files: dict[str, str]) -> dict[str, bytes]:
    return {k: v.encode("utf-8") for k, v in files.items()}


def test_seeds_load_and_round_trip():
    """The harness itself: each seed loads as written, and after safe_load/safe_dump."""
    for name, seed in SEEDS.items():
        files = _as_bytes(seed["files"])
        assert check_case(files, seed["config"], [], solve=False) == "loaded", name
        dumped = {rel: safe_dump(safe_load(text), sort_keys=False).encode()
                  for rel, text in seed["files"].items()}
        assert check_case(dumped, seed["config"], [], solve=False) == "loaded", name
        for rel, text in seed["files"].items():   # safe_load reads the seeds as the engine does
            assert safe_load(text) == parse_bytes(text.encode(), rel).data, rel


def _data_case(draw, seed_name: str, target: str):
    seed = SEEDS[seed_name]
    files = dict(seed["files"])
    if target == "config":
        rel = seed["config"]
    else:
        rel = draw(st.sampled_from(sorted(k for k in files if k != seed["config"])))
    data = copy.deepcopy(DATA[seed_name][rel])
    if draw(st.integers(0, 49)) == 0:
        data = draw(VALUES)            # now and then the whole document is something else
    else:
        mutate_data(draw, data, draw(st.integers(1, 4)))
    text = _dump(draw, data)
    raw = mutate_text(draw, text, draw(st.integers(1, 2))) if draw(st.integers(0, 4)) == 0 \
        else text.encode()
    out = _as_bytes(files)
    out[rel] = raw
    overrides = []
    if target == "config" and draw(st.integers(0, 4)) == 0:
        overrides = _overrides(draw, DATA[seed_name][rel])
    return out, seed["config"], overrides


@settings(max_examples=_n(2000), **FUZZ)
@given(st.data())
def test_fuzz_tiny_config_data(data):
    files, config, overrides = _data_case(data.draw, "tiny", "config")
    COUNTS["by tiny config data"] += 1
    check_case(files, config, overrides, solve=_should_solve(files, overrides))


@settings(max_examples=_n(800), **FUZZ)
@given(st.data())
def test_fuzz_tiny_pathway_data(data):
    files, config, overrides = _data_case(data.draw, "tiny", "pathway")
    COUNTS["by tiny pathway data"] += 1
    check_case(files, config, overrides, solve=_should_solve(files, overrides))


@settings(max_examples=_n(500), **FUZZ)
@given(st.data())
def test_fuzz_northshire_data(data):
    target = data.draw(st.sampled_from(["config", "config", "pathway"]))
    files, config, overrides = _data_case(data.draw, "northshire", target)
    COUNTS["by northshire data"] += 1
    check_case(files, config, overrides, solve=_should_solve(files, overrides))


@settings(max_examples=_n(1300), **FUZZ)
@given(st.data())
def test_fuzz_text(data):
    """Text-level mutations of the files as written (comments, flow style and all)."""
    seed_name = data.draw(st.sampled_from(["tiny", "tiny", "tiny", "northshire"]))
    seed = SEEDS[seed_name]
    rel = data.draw(st.sampled_from(sorted(seed["files"])))
    files = _as_bytes(seed["files"])
    files[rel] = mutate_text(data.draw, seed["files"][rel], data.draw(st.integers(1, 3)))
    COUNTS[f"by {seed_name} text"] += 1
    check_case(files, seed["config"], [], solve=_should_solve(files, []))


@settings(max_examples=_n(400), **FUZZ)
@given(st.data())
def test_fuzz_overrides(data):
    """Only ``--set``: real, misspelt and malformed paths with random values."""
    seed_name = data.draw(st.sampled_from(["tiny", "tiny", "northshire"]))
    seed = SEEDS[seed_name]
    overrides = _overrides(data.draw, DATA[seed_name][seed["config"]])
    COUNTS["by overrides"] += 1
    files = _as_bytes(seed["files"])
    check_case(files, seed["config"], overrides, solve=_should_solve(files, overrides))


def _numeric_paths(node, prefix=()):
    for path in _paths(node, prefix):
        v = _parent(node, path)[path[-1]]
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            yield path


@settings(max_examples=_n(300), **FUZZ)
@given(st.data())
def test_fuzz_valid_numbers(data):
    """Gentle: move numbers to other plausible values (0, tiny, huge, scaled), so that most
    cases load and many are solved: the solver side sees odd but valid scenarios."""
    seed_name = data.draw(st.sampled_from(["tiny", "tiny", "tiny", "northshire"]))
    seed = SEEDS[seed_name]
    rel = data.draw(st.sampled_from(sorted(seed["files"])))
    doc = copy.deepcopy(DATA[seed_name][rel])
    paths = list(_numeric_paths(doc))
    for _ in range(data.draw(st.integers(1, 3))):
        path = data.draw(st.sampled_from(paths))
        parent = _parent(doc, path)
        v = parent[path[-1]]
        fraction = 0 <= v <= 1 and isinstance(v, float)
        choices = ([0.0, 1.0, 0.5, 1e-9, 0.999999, v / 2] if fraction else
                   [0, 1, v * 2, v * 10, v // 2 if isinstance(v, int) else v / 2, 10**6, 10**9])
        parent[path[-1]] = data.draw(st.sampled_from(choices))
    files = _as_bytes(seed["files"])
    files[rel] = _dump(data.draw, doc).encode()
    COUNTS["by valid numbers"] += 1
    check_case(files, seed["config"], [], solve=_should_solve(files, [], every=3))


def test_fuzz_ran_enough_cases():
    """Runs last in this module: the fuzz tests above tried at least 5,000 cases."""
    if COUNTS["by tiny config data"] == 0:
        pytest.skip("the fuzz tests did not run (deselected)")
    assert COUNTS["tried"] >= 5000 * min(SCALE, 1), COUNTS


def test_diagnosis_failure_still_returns_infeasible(tmp_path):
    seed = SEEDS["northshire"]
    files = _as_bytes(seed["files"])
    hf = files["pathways/heart_failure.yaml"].decode()
    files["pathways/heart_failure.yaml"] = re.sub(
        r"(?m)^prevalence_per_1000: .*$", "prevalence_per_1000: 1000000", hf).encode()
    for rel, raw in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(raw)
    scenario = optimiser.load(tmp_path / seed["config"])
    result = optimiser.solve(scenario, time_limit=5)
    assert result.status is Status.INFEASIBLE


def test_override_text_is_escaped_in_issues():
    with pytest.raises(optimiser.ConfigError) as info:
        optimiser.load(INVALID / "valid" / "base.yaml", overrides=["constraints.bud\nget=5"])
    assert info.value.issues
    for issue in info.value.issues:
        assert not _LINE_BREAKING.search(str(issue)), repr(str(issue))
