"""Hypothesis strategies: random *valid* carepath scenarios (SPEC sections 2 and 3) as YAML.

:func:`scenarios` draws a :class:`GenScenario` -- a config mapping and its pathway
mappings -- that exercises every feature of SPEC section 3:

* 1-3 localities (populations multiples of 100, some with a prevalence override);
* 1-2 pathways of 1-5 steps: fixed and optional steps, ``avoids`` from optional to fixed
  steps (effects small enough that baseline demand stays >= 0, though not at full uptake,
  so the demand floor can bind), ``max_share``;
* 1-4 providers of both modes in a random order: buy (prices, optional block contract),
  make (costs, fixed_cost, min_volume, overhead, setup_cost), ``serves`` lists, quality
  with and without ``default``, ``current_share`` (summing to 1 per locality and step, only
  on arcs) or none, ``uses`` of shared resources (capacity, optional ``expand``);
* constraints ``budget`` / ``min_quality`` / ``max_shift``, each sometimes absent.

Validity is by construction: one "anchor" buy provider (``acute``, setting ``hospital``)
serves every locality with a price for every activity, and every step lists ``hospital``
among its settings, so every step with demand has an arc everywhere.

Numbers lie on coarse grids so that ``cp`` mode (whole activities, pence, quality in 1e-4)
represents them exactly and its rounding stays well inside SPEC's 0.5 %: prices and costs in
multiples of 5 (price ratios at most 25), fixed and setup costs in multiples of 500, block
contracts and budgets in multiples of 100 (drawn relative to the scenario's size or today's
cost, so that they matter), populations in multiples of 100 and prevalences in multiples of
10 (every patient count N is whole and at least 2000), per-patient rates and shares in
tenths, avoidance effects in twentieths, quality and overhead in hundredths, resource use
from {0.25, 0.5, 1, 1.25, 2, 2.5} (a capacity in tens divided by any of them is whole).

:func:`reference_baseline` re-derives today's allocation and its cost from the generated
mappings alone (not from the engine), and :func:`fit_to_baseline` turns a scenario into one
whose every constraint provably admits today's allocation.

Importing this module registers Hypothesis profiles and loads ``ci`` (derandomized: the
same examples on every run) unless ``HYPOTHESIS_PROFILE`` names another one.
"""

from __future__ import annotations

import copy
import math
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

import optimiser

# --------------------------------------------------------------------------- profiles

settings.register_profile(
    "ci",
    derandomize=True,  # reproducible CI: the examples follow from the test's name
    database=None,     # nothing to replay when derandomized; no .hypothesis/ folder
    deadline=None,     # a solve is milliseconds, but cbc starts a process: no flaky deadlines
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=False,
)
settings.register_profile(
    "dev",  # random exploration: HYPOTHESIS_PROFILE=dev pytest tests/test_properties.py
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

# --------------------------------------------------------------------------- names

LOCALITIES = ("north", "south", "east")
PATHWAYS = ("copd", "heart")
STEPS = ("s1", "s2", "s3", "s4", "s5")
ANCHOR = "acute"
ANCHOR_SETTING = "hospital"
OTHER_SETTINGS = ("community", "primary_care", "third_sector")
SETTINGS = (ANCHOR_SETTING, *OTHER_SETTINGS)
EXTRA_PROVIDERS = ("v1", "v2", "v3")
RESOURCES = ("nurse", "clinic")
USE_AMOUNTS = (0.25, 0.5, 1, 1.25, 2, 2.5)
"""Resource units per activity: a capacity in tens divided by any of them is whole."""
MONEY_KEYS = ("prices", "costs")
"""Provider maps whose values are money per activity (scaled by :func:`scale_money`)."""


# --------------------------------------------------------------------------- the scenario


@dataclass(repr=False)
class GenScenario:
    """A generated scenario: the config mapping and its pathway mappings.

    Its ``repr`` is the YAML of every file, so a falsifying example Hypothesis prints is a
    ready-made reproduction (``GenScenario.from_yaml`` reads it back for ``@example``).
    """

    config: dict
    pathways: list[dict]
    tags: dict = field(default_factory=dict)
    """How it was drawn (e.g. ``tight``); not part of the files."""

    CONFIG_NAME = "scenario.yaml"

    def files(self) -> dict[str, str]:
        """Relative path -> YAML text: ``configs/scenario.yaml`` and ``pathways/<id>.yaml``."""
        out = {f"configs/{self.CONFIG_NAME}": _dump(self.config)}
        for p in self.pathways:
            out[f"pathways/{p['pathway']}.yaml"] = _dump(p)
        return out

    def write(self, root: str | os.PathLike[str]) -> Path:
        """Write the files under ``root``; return the config's path."""
        root = Path(root)
        for rel, text in self.files().items():
            target = root / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
        return root / "configs" / self.CONFIG_NAME

    def yaml(self) -> str:
        return "".join(f"# --- {rel}\n{text}" for rel, text in self.files().items())

    def __repr__(self) -> str:
        return "GenScenario.from_yaml('''\n" + self.yaml() + "''')"

    def _repr_pretty_(self, printer, cycle) -> None:  # what Hypothesis prints
        printer.text(repr(self))

    @classmethod
    def from_yaml(cls, text: str) -> GenScenario:
        """Read back what ``yaml()`` (or ``repr``) printed."""
        parts: dict[str, list[str]] = {}
        current = None
        for line in text.splitlines():
            if line.startswith("# --- "):
                current = line[6:].strip()
                parts[current] = []
            elif current is not None:
                parts[current].append(line)
        docs = {rel: yaml.safe_load("\n".join(lines)) for rel, lines in parts.items()}
        config = next(d for rel, d in docs.items() if rel.startswith("configs/"))
        pathways = [d for rel, d in docs.items() if rel.startswith("pathways/")]
        return cls(config, pathways)

    def copy(self) -> GenScenario:
        return GenScenario(copy.deepcopy(self.config), copy.deepcopy(self.pathways), dict(self.tags))

    # convenient views ------------------------------------------------------------------

    @property
    def providers(self) -> dict:
        return self.config["providers"]

    @property
    def constraints(self) -> dict:
        return self.config.setdefault("constraints", {})


def _dump(data: dict) -> str:
    return yaml.safe_dump(data, sort_keys=False, default_flow_style=None, width=100)


def load(gen: GenScenario, overrides: list[str] | tuple[str, ...] = ()) -> optimiser.Scenario:
    """Write ``gen`` to a fresh temporary folder and ``optimiser.load`` it (with ``--set``
    style ``overrides``). The scenario keeps everything it needs in memory."""
    with tempfile.TemporaryDirectory(prefix="carepath-prop-") as tmp:
        return optimiser.load(gen.write(tmp), overrides=list(overrides))


# --------------------------------------------------------------------------- grids


def _tenths(n: int) -> float:
    return round(n / 10, 1)


def _hundredths(n: int) -> float:
    return round(n / 100, 2)


def _frac(draw, lo: int, hi: int, scale: int = 100) -> float:
    """A fraction on a grid: ``k / scale`` for k in [lo, hi]."""
    return round(draw(st.integers(lo, hi)) / scale, 4)


def _money(draw, step: int, lo: int, hi: int) -> int:
    """A whole amount in multiples of ``step`` in [lo, hi]."""
    return step * draw(st.integers(-(-lo // step), hi // step))


def _chance(draw, p_in_4: int) -> bool:
    """True with probability about ``p_in_4 / 4`` (in Hypothesis' own measure)."""
    return draw(st.integers(0, 3)) < p_in_4


# --------------------------------------------------------------------------- pathways


def _pathway(draw, pid: str, tight: bool) -> dict:
    n_steps = draw(st.integers(1, 5))
    steps: list[dict] = []
    optional = [draw(st.integers(0, 2)) == 0 for _ in range(n_steps)]
    # per-patient rates in tenths (integers here, converted at the end)
    pp = {}
    uptake = {}
    for i in range(n_steps):
        sid = STEPS[i]
        others = draw(st.lists(st.sampled_from(OTHER_SETTINGS), unique=True, max_size=2))
        settings_ = draw(st.permutations([ANCHOR_SETTING, *others]))
        step: dict = {"step": sid}
        if optional[i]:
            lo = draw(st.integers(0, 3))
            uptake[sid] = (lo, lo + draw(st.integers(0, 3)))
        else:
            pp[sid] = draw(st.integers(0, 20))
        step["settings"] = list(settings_)
        caps = {}
        for g in settings_:
            if g == ANCHOR_SETTING and not tight:
                continue  # the anchor's setting stays uncapped: caps alone never infeasible
            if _chance(draw, 1):
                caps[g] = _tenths(draw(st.integers(0 if tight else 2, 10)))
        if caps:
            step["max_share"] = caps
        steps.append(step)
    fixed_ids = [STEPS[i] for i in range(n_steps) if not optional[i]]
    avoids: dict[str, dict[str, int]] = {}
    for i in range(n_steps):
        if optional[i] and fixed_ids and _chance(draw, 2):
            targets = draw(st.lists(st.sampled_from(fixed_ids), unique=True, min_size=1, max_size=2))
            # effect in twentieths (0.05 .. 0.5)
            avoids[STEPS[i]] = {t: draw(st.integers(1, 10)) for t in targets}
    # baseline demand >= 0: per_patient(t) >= sum effect * min uptake of the sources.
    # In thousandths: per_patient = 100*c, effect*min = (5a/100)*(b/10) = 5ab/1000.
    for t in fixed_ids:
        avoided = sum(5 * a[t] * uptake[s][0] for s, a in avoids.items() if t in a)
        pp[t] = max(pp[t], -(-avoided // 100))
    for step in steps:
        sid = step["step"]
        if sid in uptake:
            lo, hi = uptake[sid]
            step_pp: object = {"min": _tenths(lo), "max": _tenths(hi)}
        else:
            step_pp = _tenths(pp[sid])
        # keys in the documented order
        ordered = {"step": sid, "per_patient": step_pp, "settings": step["settings"]}
        if "max_share" in step:
            ordered["max_share"] = step["max_share"]
        if sid in avoids:
            ordered["avoids"] = {t: round(e * 0.05, 2) for t, e in avoids[sid].items()}
        step.clear()
        step.update(ordered)
    return {
        "pathway": pid,
        "name": f"Pathway {pid}",
        "prevalence_per_1000": 10 * draw(st.integers(1, 6)),
        "steps": steps,
    }


# --------------------------------------------------------------------------- scenarios


@st.composite
def scenarios(draw, *, tight: bool = False, constrained: bool = False) -> GenScenario:
    """A random valid scenario.

    ``tight``: constraints that often bind or conflict (capped anchor settings, high
    quality floors, budgets below today's cost), for the infeasibility properties.
    ``constrained``: at least one resource and one provider besides the anchor, and a
    budget (near today's cost), a quality floor and a pace of change always present (the
    monotonicity property relaxes each of them).
    """
    n_paths = draw(st.integers(1, 2))
    pathways = [_pathway(draw, PATHWAYS[i], tight) for i in range(n_paths)]
    acts = [(p["pathway"], s["step"], s["settings"]) for p in pathways for s in p["steps"]]
    keys = [f"{p}.{s}" for p, s, _ in acts]
    settings_of = {f"{p}.{s}": g for p, s, g in acts}

    n_loc = draw(st.integers(1, 3))
    locs = list(LOCALITIES[:n_loc])
    localities = {}
    for loc in locs:
        # N = population * prevalence / 1000 is whole and at least 2000, so that a step's
        # demand is at least 200 activities and cp's whole activities cost < 0.5 % extra
        spec: dict = {"population": 100 * draw(st.integers(2000, 20_000))}
        over = {p["pathway"]: 10 * draw(st.integers(1, 6)) for p in pathways if _chance(draw, 1)}
        if over:
            spec["prevalence_per_1000"] = over
        localities[loc] = spec

    has_floor = constrained or _chance(draw, 2 if tight else 1)
    n_res = draw(st.integers(1 if constrained else 0, 2))
    res_ids = list(RESOURCES[:n_res])

    providers: dict[str, dict] = {}
    # the anchor: buy, hospital, serves all, a price for every activity
    anchor: dict = {"setting": ANCHOR_SETTING, "mode": "buy",
                    "prices": {a: _money(draw, 5, 50, 500) for a in keys}}
    providers[ANCHOR] = anchor
    # scales for amounts that only matter relative to the scenario's size: the largest
    # possible volume, and what the anchor would charge for all of it
    gen0 = GenScenario({"localities": localities, "providers": providers}, pathways)
    dmax = max_demand(gen0)
    volume = sum(dmax.values())
    size = sum(d * anchor["prices"][f"{p}.{s}"] for (_, p, s), d in dmax.items())
    for name in EXTRA_PROVIDERS[: draw(st.integers(1 if constrained else 0, 3))]:
        mode = draw(st.sampled_from(("buy", "make")))
        setting = draw(st.sampled_from(SETTINGS))
        v: dict = {"setting": setting, "mode": mode}
        if _chance(draw, 2):
            v["serves"] = draw(st.lists(st.sampled_from(locs), unique=True, min_size=1))
        able = [a for a in keys if setting in settings_of[a]]
        offered = draw(st.lists(st.sampled_from(able), unique=True, min_size=1)) if able else []
        if _chance(draw, 1):  # a price for an activity it cannot deliver here: no arc
            offered = list(dict.fromkeys(offered + [draw(st.sampled_from(keys))]))
        # price ratios at most 25: one activity moved by cp's rounding stays cheap
        if mode == "buy":
            v["prices"] = {a: _money(draw, 5, 20, 500) for a in offered}
        else:
            v["costs"] = {a: _money(draw, 5, 20, 300) for a in offered}
            if _chance(draw, 2):
                v["fixed_cost"] = 500 * math.ceil(size * _frac(draw, 0, 30) / 500)
            if _chance(draw, 1):
                v["min_volume"] = 10 * math.ceil(volume * _frac(draw, 0, 40) / 10)
            if _chance(draw, 2):
                v["overhead"] = _frac(draw, 0, 10, 20)  # 0 .. 0.5 in steps of 0.05
            if _chance(draw, 1):
                v["setup_cost"] = 500 * math.ceil(size * _frac(draw, 0, 20) / 500)
        providers[name] = v

    # order of listing matters for today's default allocation: shuffle it
    order = draw(st.permutations(list(providers)))
    providers = {n: providers[n] for n in order}

    def arcs_of(name: str) -> set[str]:
        v = providers[name]
        offered = v.get("prices", v.get("costs", {}))
        return {a for a in offered if v["setting"] in settings_of[a]}

    def serves_all(name: str) -> bool:
        return set(providers[name].get("serves", locs)) == set(locs)

    # quality: a default wherever a floor may apply (SPEC: else the config is invalid)
    for name, v in providers.items():
        q: dict = {}
        if has_floor or _chance(draw, 2):
            q["default"] = _frac(draw, 70 if name == ANCHOR else 50, 99)
        for a in sorted(arcs_of(name)):
            if _chance(draw, 1):
                q[a] = _frac(draw, 50, 100)
        if q:
            v["quality"] = q

    # today's shares: none, a split among providers serving every locality, or a whole
    # step to one provider serving only some localities (the rest default to the first
    # listed buy provider with an arc)
    for a in keys:
        choice = draw(st.integers(0, 2))
        if choice == 1:
            cands = [n for n in providers if serves_all(n) and a in arcs_of(n)]
            chosen = draw(st.lists(st.sampled_from(cands), unique=True, min_size=1, max_size=3))
            cuts = sorted(draw(st.lists(st.integers(0, 10), min_size=len(chosen) - 1,
                                        max_size=len(chosen) - 1)))
            bounds = [0, *cuts, 10]
            for n, lo, hi in zip(chosen, bounds, bounds[1:]):
                providers[n].setdefault("current_share", {})[a] = _tenths(hi - lo)
        elif choice == 2:
            cands = [n for n in providers if not serves_all(n) and a in arcs_of(n)]
            if cands:
                providers[draw(st.sampled_from(cands))].setdefault("current_share", {})[a] = 1.0

    resources: dict = {}
    for r in res_ids:
        spec = {"capacity": 10 * math.floor(volume * _frac(draw, 0, 100) / 10)}
        if _chance(draw, 2):
            step = 10 * math.ceil(volume * _frac(draw, 1, 30) / 10)
            spec["expand"] = {"step": step, "cost": step * _money(draw, 5, 5, 200),
                              "max_steps": draw(st.integers(0, 4))}
        resources[r] = spec
    if res_ids:
        for name, v in providers.items():
            if v["mode"] == "buy" and not _chance(draw, 1):
                continue
            uses = {}
            for a in sorted(arcs_of(name)):
                if _chance(draw, 2):
                    uses[a] = {r: draw(st.sampled_from(USE_AMOUNTS))
                               for r in draw(st.lists(st.sampled_from(res_ids), unique=True, min_size=1))}
            if uses:
                v["uses"] = uses

    config: dict = {
        "scenario": "generated",
        "pathways": [f"../pathways/{p['pathway']}.yaml" for p in pathways],
        "localities": localities,
    }
    if resources:
        config["resources"] = resources
    config["providers"] = providers
    gen = GenScenario(config, pathways, {"tight": tight, "constrained": constrained})

    # block contracts and budgets are drawn relative to today's cost, so they matter
    base = reference_baseline(gen).cost
    for name, v in providers.items():
        if v["mode"] == "buy" and _chance(draw, 1):
            v["block_contract"] = 100 * math.ceil(base * _frac(draw, 1, 60) / 100)

    cons: dict = {}
    base = reference_baseline(gen).cost
    if constrained or _chance(draw, 2):
        # tight: often below today's cost; constrained: near it (so it binds); else above
        factor = _frac(draw, *((40, 110) if tight else (70, 130) if constrained else (100, 200)))
        cons["budget"] = 100 * math.ceil(base * factor / 100)
    if has_floor:
        floors = {}
        lo, hi = (70, 95) if tight or constrained else (50, 90)
        if constrained or _chance(draw, 3):
            floors["default"] = _frac(draw, lo, hi)
        for p in pathways:
            if _chance(draw, 1) or not floors:
                floors[p["pathway"]] = _frac(draw, lo, hi)
        cons["min_quality"] = floors
    if constrained or _chance(draw, 2):
        cons["max_shift"] = _tenths(draw(st.integers(0, 6 if constrained else 10)))
    if cons:
        config["constraints"] = cons
    return gen


# --------------------------------------------------------------------------- today, by hand


@dataclass
class Baseline:
    """Today's allocation and cost, derived from the generated mappings (not the engine)."""

    x0: dict[tuple[str, str, str, str], float]
    """(locality, pathway, step, provider) -> today's volume, on every arc."""
    d0: dict[tuple[str, str, str], float]
    cost: float
    volume: dict[str, float]
    """Today's total volume per provider."""
    use: dict[str, float]
    """Resource units used today."""
    quality: dict[tuple[str, str], float | None]
    """Volume-weighted mean quality per (locality, pathway) (None without volume)."""
    share: dict[tuple[str, str, str, str], float]
    """(locality, pathway, step, setting) -> today's share of the step's demand."""
    violations: list[str]
    """Constraints today's allocation breaks (empty: it is a feasible plan)."""


def _quality(v: dict, act: str) -> float | None:
    q = v.get("quality", {})
    return q.get(act, q.get("default"))


def arcs(gen: GenScenario) -> list[tuple[str, str, str, str]]:
    """Every (locality, pathway, step, provider) arc, by SPEC section 3's rule."""
    out = []
    for loc in gen.config["localities"]:
        for p in gen.pathways:
            for s in p["steps"]:
                act = f"{p['pathway']}.{s['step']}"
                for name, v in gen.providers.items():
                    serves = v.get("serves", "all")
                    if serves != "all" and loc not in serves:
                        continue
                    if v["setting"] not in s["settings"]:
                        continue
                    if act not in v.get("prices", v.get("costs", {})):
                        continue
                    out.append((loc, p["pathway"], s["step"], name))
    return out


def max_demand(gen: GenScenario) -> dict[tuple[str, str, str], float]:
    """(locality, pathway, step) -> the step's largest possible demand (N*per_patient or
    N*max)."""
    out = {}
    for loc in gen.config["localities"]:
        for p in gen.pathways:
            n = patients(gen, loc, p)
            for s in p["steps"]:
                pp = s["per_patient"]
                out[(loc, p["pathway"], s["step"])] = n * (pp["max"] if isinstance(pp, dict) else pp)
    return out


def patients(gen: GenScenario, loc: str, p: dict) -> float:
    spec = gen.config["localities"][loc]
    prev = spec.get("prevalence_per_1000", {}).get(p["pathway"], p["prevalence_per_1000"])
    return spec["population"] * prev / 1000


def reference_baseline(gen: GenScenario) -> Baseline:
    """SPEC section 3 "Baseline", evaluated by hand on the generated mappings."""
    provs = gen.providers
    all_arcs = arcs(gen)
    x0: dict = {}
    d0: dict = {}
    for loc in gen.config["localities"]:
        for p in gen.pathways:
            n = patients(gen, loc, p)
            mins = {s["step"]: s["per_patient"]["min"] for s in p["steps"]
                    if isinstance(s["per_patient"], dict)}
            for s in p["steps"]:
                if isinstance(s["per_patient"], dict):
                    d = n * s["per_patient"]["min"]
                else:
                    d = n * s["per_patient"] - sum(
                        e * n * mins[src["step"]]
                        for src in p["steps"] for t, e in src.get("avoids", {}).items()
                        if t == s["step"])
                d0[(loc, p["pathway"], s["step"])] = d
                act = f"{p['pathway']}.{s['step']}"
                here = [a[3] for a in all_arcs if a[:3] == (loc, p["pathway"], s["step"])]
                declared = {v: provs[v]["current_share"][act] for v in here
                            if act in provs[v].get("current_share", {})}
                if not declared and here:
                    buys = [v for v in here if provs[v]["mode"] == "buy"]
                    declared = {(buys or here)[0]: 1.0}  # `here` is in listing order
                for v in here:
                    x0[(loc, p["pathway"], s["step"], v)] = declared.get(v, 0.0) * d

    volume = {v: 0.0 for v in provs}
    spend = {v: 0.0 for v in provs}
    use = {r: 0.0 for r in gen.config.get("resources", {})}
    for (loc, pid, sid, v), x in x0.items():
        act = f"{pid}.{sid}"
        prov = provs[v]
        volume[v] += x
        spend[v] += prov.get("prices", prov.get("costs", {}))[act] * x
        for r, amount in prov.get("uses", {}).get(act, {}).items():
            use[r] += amount * x
    cost = 0.0
    for v, prov in provs.items():
        if prov["mode"] == "buy":
            cost += max(prov.get("block_contract", 0), spend[v])
        else:
            fixed = prov.get("fixed_cost", 0) if volume[v] > 0 else 0.0
            cost += (1 + prov.get("overhead", 0)) * (spend[v] + fixed)

    quality: dict = {}
    for loc in gen.config["localities"]:
        for p in gen.pathways:
            qx = vx = 0.0
            for (l2, pid, sid, v), x in x0.items():
                if (l2, pid) == (loc, p["pathway"]):
                    q = _quality(provs[v], f"{pid}.{sid}")
                    if q is not None:
                        qx += q * x
                        vx += x
            quality[(loc, p["pathway"])] = qx / vx if vx > 0 else None

    share: dict = {}
    for (loc, pid, sid, v), x in x0.items():
        key = (loc, pid, sid, provs[v]["setting"])
        d = d0[(loc, pid, sid)]
        share[key] = share.get(key, 0.0) + (x / d if d > 0 else 0.0)

    violations = []
    cons = gen.config.get("constraints", {})
    for p in gen.pathways:
        for s in p["steps"]:
            for g, cap in s.get("max_share", {}).items():
                for loc in gen.config["localities"]:
                    if share.get((loc, p["pathway"], s["step"], g), 0.0) > cap + 1e-9:
                        violations.append(f"max_share {loc}/{p['pathway']}.{s['step']}/{g}")
    for r, spec in gen.config.get("resources", {}).items():
        if use[r] > spec["capacity"] * (1 + 1e-12) + 1e-9:
            violations.append(f"capacity {r}")
    floors = cons.get("min_quality", {})
    for (loc, pid), q in quality.items():
        floor = floors.get(pid, floors.get("default"))
        if floor is not None and q is not None and q < floor - 1e-12:
            violations.append(f"min_quality {loc}/{pid}")
    for v, prov in provs.items():
        if prov["mode"] == "make" and volume[v] > 0 and volume[v] < prov.get("min_volume", 0) - 1e-9:
            violations.append(f"min_volume {v}")
    if cons.get("budget") is not None and cost > cons["budget"] * (1 + 1e-12) + 1e-9:
        violations.append("budget")
    # pace of change and the demand floor hold at today's allocation by definition
    return Baseline(x0, d0, cost, volume, use, quality, share, violations)


def fit_to_baseline(gen: GenScenario) -> GenScenario:
    """A copy whose every constraint admits today's allocation, most of them tightly.

    Each limit is moved to today's value, rounded outward onto its grid: capacities to
    today's use, budget to today's cost, quality floors to today's worst mean, setting caps
    to today's shares, minimum volumes to today's volume (providers running today). So
    today's plan is feasible, and the optimum can only be cheaper.
    """
    out = gen.copy()
    base = reference_baseline(out)
    for r, spec in out.config.get("resources", {}).items():
        spec["capacity"] = max(spec["capacity"], 10 * math.ceil(base.use[r] / 10 - 1e-9))
    for p in out.pathways:
        for s in p["steps"]:
            for g in list(s.get("max_share", {})):
                need = max((sh for (loc, pid, sid, gg), sh in base.share.items()
                            if (pid, sid, gg) == (p["pathway"], s["step"], g)), default=0.0)
                s["max_share"][g] = max(s["max_share"][g], min(1.0, _tenths(math.ceil(need * 10 - 1e-9))))
    for v, prov in out.providers.items():
        if prov["mode"] == "make" and base.volume[v] > 0 and "min_volume" in prov:
            prov["min_volume"] = min(prov["min_volume"], 10 * math.floor(base.volume[v] / 10 + 1e-9))
    cons = out.config.get("constraints", {})
    if "budget" in cons:
        cons["budget"] = max(cons["budget"], math.ceil(base.cost + 1e-6))
    floors = cons.get("min_quality", {})
    for key in list(floors):
        pids = [p["pathway"] for p in out.pathways if key == p["pathway"]
                or (key == "default" and p["pathway"] not in floors)]
        worst = min((q for (loc, pid), q in base.quality.items() if pid in pids and q is not None),
                    default=None)
        if worst is not None:
            floors[key] = min(floors[key], _hundredths(math.floor(worst * 100 + 1e-9)))
    out.tags["fitted"] = True
    return out


def scale_money(gen: GenScenario, k: float) -> GenScenario:
    """A copy with every amount of money times ``k``: prices, costs, fixed, setup and
    expansion costs, block contracts and the budget (nothing else)."""
    out = gen.copy()
    for prov in out.providers.values():
        for key in MONEY_KEYS:
            if key in prov:
                prov[key] = {a: c * k for a, c in prov[key].items()}
        for key in ("fixed_cost", "setup_cost", "block_contract"):
            if key in prov:
                prov[key] = prov[key] * k
    for spec in out.config.get("resources", {}).values():
        if "expand" in spec:
            spec["expand"]["cost"] = spec["expand"]["cost"] * k
    cons = out.config.get("constraints", {})
    if "budget" in cons:
        cons["budget"] = cons["budget"] * k
    return out


# --------------------------------------------------------------------------- relaxations


@st.composite
def relaxations(draw, gen: GenScenario, prefer: frozenset[str] = frozenset()) -> list[str]:
    """``--set`` overrides that loosen one or two constraints of ``gen``: more capacity, a
    larger budget, a lower quality floor, a larger ``max_shift``. Never empty for a
    ``constrained`` scenario. ``prefer``: keys (``resources.nurse.capacity``,
    ``constraints.budget``, ``constraints.min_quality.copd``, ``constraints.max_shift``)
    to pick from most of the time, e.g. those of binding constraints."""
    options: dict[str, str] = {}
    for r, spec in gen.config.get("resources", {}).items():
        key = f"resources.{r}.capacity"
        more = 10 * math.ceil(spec["capacity"] * _frac(draw, 5, 100) / 10) + _money(draw, 10, 10, 1000)
        options[key] = f"{key}={spec['capacity'] + more}"
    cons = gen.config.get("constraints", {})
    if "budget" in cons:
        more = 100 * math.ceil(cons["budget"] * _frac(draw, 1, 50) / 100)
        options["constraints.budget"] = f"constraints.budget={cons['budget'] + more}"
    for key, floor in cons.get("min_quality", {}).items():
        lower = max(0.0, _hundredths(round(floor * 100) - draw(st.integers(1, 40))))
        options[f"constraints.min_quality.{key}"] = f"constraints.min_quality.{key}={lower}"
    if "max_shift" in cons and cons["max_shift"] < 1:
        more = min(1.0, _tenths(round(cons["max_shift"] * 10) + draw(st.integers(1, 10))))
        options["constraints.max_shift"] = f"constraints.max_shift={more}"
    if not options:
        return []
    keys = sorted(options)
    preferred = sorted(prefer & set(options))
    if preferred and _chance(draw, 3):
        keys = preferred
    chosen = draw(st.lists(st.sampled_from(keys), unique=True, min_size=1, max_size=2))
    return [options[k] for k in chosen]
