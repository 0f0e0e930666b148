"""A run folder read back into one typed structure, and the figures the report derives.

The report works from the files a solve wrote (``summary.json``, ``allocation.csv``,
``constraints.csv``, ``resources.csv``, ``units.csv`` when the scenario has whole units,
``diagnosis.json``), never from a live
:class:`~optimiser.results.Result`, so ``carepath report RUN_DIR`` works on any earlier run.
Every number here comes from those files; nothing is re-solved.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import CarepathError
from ..results.tables import DEFINITIONS

PARTS = ("buy", "make", "fixed", "overhead", "expansion", "setup", "adoption", "units",
         "resources")
"""Cost parts in summary.json (``cost``, and ``baseline_parts`` since it was added; the last
three since SPEC section 11: a run written before reads them as 0)."""

SOLVED = ("optimal", "feasible")

_TEXT = {
    "allocation.csv": ["locality", "pathway", "step", "provider", "setting", "mode"],
    "constraints.csv": ["name", "kind", "locality", "pathway", "step", "provider", "resource",
                        "activity", "sense", "meaning"],
    "resources.csv": ["resource"],
    "units.csv": ["provider", "activity"],
}
_NUMBERS = {
    "allocation.csv": ["volume", "unit_cost", "cost", "quality", "baseline_volume"],
    "constraints.csv": ["limit", "slack", "shadow_price", "valid_from", "valid_to"],
    "resources.csv": ["capacity", "expansion_steps", "used", "utilisation", "need"],
    "units.csv": ["size", "units", "capacity", "volume", "utilisation", "cost", "baseline_units"],
}
_OPTIONAL = {"constraints.csv": {"sense", "meaning", "valid_from", "valid_to", "binding"},
             "resources.csv": {"need"},
             "units.csv": {"utilisation", "baseline_units"}}


class ReportInputError(CarepathError):
    """The folder is not a run folder, or one of its files cannot be read (exit 2)."""


@dataclass(frozen=True)
class Run:
    """One run folder's outputs."""

    folder: Path
    summary: dict
    allocation: pd.DataFrame | None
    constraints: pd.DataFrame | None
    resources: pd.DataFrame | None
    diagnosis: dict | None
    units: pd.DataFrame | None = None
    """``units.csv`` (whole units per provider and activity, SPEC section 11), when written."""

    @property
    def status(self) -> str:
        return str(self.summary.get("status"))

    @property
    def solved(self) -> bool:
        return self.status in SOLVED

    @property
    def currency(self) -> str:
        return str(self.summary.get("currency") or "GBP")

    @property
    def scenario(self) -> str:
        return str(self.summary.get("scenario") or self.folder.name)

    @property
    def by_year(self) -> list[dict]:
        return list(self.summary.get("by_year") or [])

    @property
    def multi_year(self) -> bool:
        return len(self.by_year) > 1

    @property
    def years_label(self) -> str:
        """``2027-2031`` for a multi-year plan, else ``""``."""
        if not self.by_year:
            return ""
        first, last = self.by_year[0]["year"], self.by_year[-1]["year"]
        return f"{first}-{last}" if first != last else f"{first}"


def read_run(folder: str | Path) -> Run:
    """Read a run folder; :class:`ReportInputError` names the file and what is wrong."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ReportInputError(f"{folder}: not a folder (expected a run folder written by "
                               "carepath solve)")
    path = folder / "summary.json"
    if not path.is_file():
        raise ReportInputError(f"{folder}: not a run folder: no summary.json (write one with "
                               "carepath solve CONFIG --out DIR)")
    summary = _json(path)
    if not isinstance(summary, dict) or "status" not in summary:
        raise ReportInputError(f"{path}: not a carepath summary (no 'status')")
    diagnosis = None
    if (folder / "diagnosis.json").is_file():
        diagnosis = _json(folder / "diagnosis.json")
        if not isinstance(diagnosis, dict):
            raise ReportInputError(f"{folder / 'diagnosis.json'}: expected a JSON object")
    tables: dict[str, pd.DataFrame | None] = {}
    solved = summary["status"] in SOLVED
    if solved:
        for key in ("objective", "baseline_cost", "savings", "cost"):
            if summary.get(key) is None:
                raise ReportInputError(f"{path}: status '{summary['status']}' but no '{key}'")
        if not isinstance(summary["cost"], dict):
            raise ReportInputError(f"{path}: 'cost' is not an object")
        for name in ("objective", "baseline_cost", "savings"):
            _number(path, name, summary[name])
    for name in ("allocation.csv", "constraints.csv", "resources.csv"):
        p = folder / name
        if p.is_file() and solved:
            tables[name] = _table(p, name)
        elif solved:
            raise ReportInputError(f"{folder}: status '{summary['status']}' but {name} is missing")
        else:
            tables[name] = None
    p = folder / "units.csv"
    units = _table(p, "units.csv") if solved and p.is_file() else None
    return Run(folder=folder, summary=summary, allocation=tables["allocation.csv"],
               constraints=tables["constraints.csv"], resources=tables["resources.csv"],
               diagnosis=diagnosis, units=units)


def _json(path: Path):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise ReportInputError(f"{path}: not UTF-8 text ({exc.reason})") from None
    except json.JSONDecodeError as exc:
        raise ReportInputError(f"{path}:{exc.lineno}:{exc.colno}: not valid JSON: {exc.msg}") from None


def _number(path: Path, key: str, v) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        raise ReportInputError(f"{path}: '{key}' is not a number: {v!r}")
    return float(v)


def _table(path: Path, name: str) -> pd.DataFrame:
    """A CSV with its text columns as text (a locality called ``NA`` stays ``NA``) and its
    number columns parsed exactly (round trip), empty cells as NaN."""
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ReportInputError(f"{path}: not UTF-8 text ({exc.reason})") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise ReportInputError(f"{path}: not a readable CSV: {str(exc).strip()}") from None
    optional = _OPTIONAL.get(name, set())
    missing = [c for c in _TEXT[name] + _NUMBERS[name] if c not in df.columns and c not in optional]
    if missing:
        raise ReportInputError(f"{path}: missing column{'s' if len(missing) > 1 else ''} "
                               f"{', '.join(missing)}")
    for c in _NUMBERS[name]:
        if c not in df.columns:
            df[c] = np.nan
            continue
        df[c] = _floats(path, c, df[c].tolist())
    if "year" in df.columns:
        years = pd.to_numeric(df["year"], errors="coerce")
        if years.isna().any():
            row = int(np.flatnonzero(years.isna().to_numpy())[0])
            raise ReportInputError(f"{path}:{row + 2}: column year: not a year: {df['year'].iloc[row]!r}")
        df["year"] = years.astype(np.int64)
    if name == "constraints.csv":
        df["binding"] = (df["binding"].str.strip().str.lower() == "true") if "binding" in df \
            else (df["slack"].abs() <= 1e-6 * np.maximum(1.0, df["limit"].abs()))
        for c in ("sense", "meaning"):
            if c not in df:
                df[c] = ""
    return df


def _floats(path: Path, column: str, cells: list[str]) -> np.ndarray:
    """Each cell as Python's ``float`` reads it (exactly what was written), empty as NaN."""
    out = np.empty(len(cells))
    for i, cell in enumerate(cells):
        text = cell.strip()
        if not text:
            out[i] = np.nan
            continue
        try:
            out[i] = float(text)
        except ValueError:
            raise ReportInputError(f"{path}:{i + 2}: column {column}: not a number: {text!r}") from None
    return out


# ---------------------------------------------------------------------------------------
# What the report shows, derived from the files


def baseline_parts(run: Run) -> tuple[dict[str, float], bool]:
    """Today's cost by part (discounted sums for a multi-year plan) and whether it is exact.

    Exact: ``summary.json``'s ``baseline_parts``. A run written before that field existed
    gets an estimate from ``allocation.csv``: buy and make activity at baseline volumes
    (make with the overhead its rows show), and everything else (block-contract top-ups,
    fixed costs) as ``fixed`` so that the parts still add up to ``baseline_cost``.
    """
    s = run.summary
    given = s.get("baseline_parts")
    if isinstance(given, dict) and all(isinstance(given.get(p, 0), (int, float)) for p in PARTS):
        return {p: float(given.get(p) or 0.0) for p in PARTS}, True
    a = run.allocation
    weight = _discount_weights(run, a)
    activity = a["unit_cost"] * a["baseline_volume"] * weight
    with np.errstate(divide="ignore", invalid="ignore"):
        uplift = (a["cost"] / (a["unit_cost"] * a["volume"])).where(a["volume"] * a["unit_cost"] > 0)
    uplift = uplift.groupby(a["provider"]).transform("max").fillna(1.0)
    is_buy = a["mode"] == "buy"
    buy = float(activity[is_buy].sum())
    made = float(activity[~is_buy].sum())
    made_with_overhead = float((activity * uplift)[~is_buy].sum())
    parts = {p: 0.0 for p in PARTS}
    parts["buy"], parts["make"] = buy, made
    parts["overhead"] = made_with_overhead - made
    parts["fixed"] = float(s["baseline_cost"]) - buy - made_with_overhead
    return parts, False


def _discount_weights(run: Run, table: pd.DataFrame) -> pd.Series:
    if "year" not in table or not run.by_year:
        return pd.Series(1.0, index=table.index)
    factor = {e["year"]: float(e.get("discount_factor") or 1.0) for e in run.by_year}
    return table["year"].map(factor).fillna(1.0)


WATERFALL_STEPS = (
    ("buy", "Bought care"),
    ("make", "Own services' activity"),
    ("fixed", "Own services' fixed costs"),
    ("overhead", "Overhead"),
    ("expansion", "Extra staff"),
    ("setup", "Setting up services"),
    ("adoption", "Adopting new designs"),
    ("units", "Whole units"),
    ("resources", "Resource costs"),
)
SECTION_11 = ("adoption", "units", "resources")
"""Parts a run without variants, units or resource costs never has (left off its waterfall
when zero in both the plan and today)."""


def waterfall(run: Run) -> tuple[list[tuple[str, float]], bool]:
    """``[(label, amount)]``: today's cost, the change in each cost part (plan minus today),
    the plan's cost. The changes add up to ``objective - baseline_cost``."""
    base, exact = baseline_parts(run)
    plan = {p: float((run.summary["cost"] or {}).get(p) or 0.0) for p in PARTS}
    steps = [("Today", float(run.summary["baseline_cost"]))]
    steps += [(label, plan[p] - base[p]) for p, label in WATERFALL_STEPS
              if p not in SECTION_11 or plan[p] or base[p]]
    steps.append(("Plan", float(run.summary["objective"])))
    return steps, exact


def _share(made: pd.Series, total: pd.Series) -> pd.Series:
    return (made / total).where(total > 0)


def make_buy(run: Run, by: str) -> pd.DataFrame:
    """Per ``by`` (``pathway`` or ``locality``), in the order first met: activities made and
    bought, today and in the plan (summed over every year of a multi-year plan)."""
    a = run.allocation
    make = a["mode"] == "make"
    frame = pd.DataFrame({
        by: a[by],
        "made_today": a["baseline_volume"].where(make, 0.0),
        "bought_today": a["baseline_volume"].where(~make, 0.0),
        "made_plan": a["volume"].where(make, 0.0),
        "bought_plan": a["volume"].where(~make, 0.0),
        "cost_plan": a["cost"],
    })
    g = frame.groupby(by, sort=False).sum()
    g["share_today"] = _share(g["made_today"], g["made_today"] + g["bought_today"])
    g["share_plan"] = _share(g["made_plan"], g["made_plan"] + g["bought_plan"])
    return g.reset_index()


def is_hospital(setting: pd.Series) -> pd.Series:
    """Settings whose name contains ``hospital`` (the shipped pathways' ``hospital``)."""
    return setting.str.lower().str.contains("hospital", regex=False)


def out_of_hospital(run: Run) -> pd.DataFrame:
    """Per pathway: hospital-setting activities today and in the plan, the change and the
    hospital share of all the pathway's activity."""
    a = run.allocation
    hosp = is_hospital(a["setting"])
    frame = pd.DataFrame({
        "pathway": a["pathway"],
        "hospital_today": a["baseline_volume"].where(hosp, 0.0),
        "hospital_plan": a["volume"].where(hosp, 0.0),
        "all_today": a["baseline_volume"],
        "all_plan": a["volume"],
    })
    g = frame.groupby("pathway", sort=False).sum()
    g["moved"] = g["hospital_today"] - g["hospital_plan"]
    g["share_today"] = _share(g["hospital_today"], g["all_today"])
    g["share_plan"] = _share(g["hospital_plan"], g["all_plan"])
    return g.reset_index()


def utilisation(run: Run) -> pd.DataFrame:
    """resources.csv with the capacity available (capacity plus the expansion steps bought,
    as the utilisation implies: ``used / utilisation``). A ``whole`` resource (SPEC section
    11: one row per provider and activity holding its heads) is one row per resource (and
    year): the heads of all its rows against what is available."""
    r = run.resources.copy()
    with np.errstate(divide="ignore", invalid="ignore"):
        r["available"] = np.where(r["utilisation"] > 0, r["used"] / r["utilisation"], r["capacity"])
    if "provider" not in r or not (r["provider"].fillna("") != "").any():
        return r
    keys = (["year"] if "year" in r else []) + ["resource"]
    first = r.groupby(keys, sort=False).head(1).copy()
    g = r.groupby(keys, sort=False)
    first = first.set_index(keys)
    first["used"] = g["used"].sum()
    # rows with heads say what is available (used / utilisation); else the capacity
    first["available"] = g["available"].max()
    with np.errstate(divide="ignore", invalid="ignore"):
        first["utilisation"] = np.where(first["available"] > 0, first["used"] / first["available"],
                                        np.nan)
    return first.reset_index()[list(r.columns)].drop(columns=["provider", "activity", "need"],
                                                     errors="ignore")


def heads(run: Run) -> pd.DataFrame:
    """The rows of resources.csv for ``whole`` resources (SPEC section 11): heads held per
    provider and activity (``used``) against the use before rounding (``need``). Empty when
    no resource is whole."""
    r = run.resources
    if r is None or "provider" not in r:
        return pd.DataFrame(columns=["resource", "provider", "activity", "used", "need"])
    return r[r["provider"].fillna("") != ""].reset_index(drop=True)


def designs(run: Run) -> pd.DataFrame:
    """summary.json's ``adoptions`` (SPEC section 11) as a table: per locality and pathway
    that leaves today's design, the design, the year adopted (a multi-year plan), its
    adoption cost, the pathway's activity costs today and in the plan, and what it saves."""
    cols = ["locality", "pathway", "variant", "name", "year", "adoption_cost",
            "activity_cost_today", "activity_cost_plan", "saves"]
    rows = [{c: e.get(c) for c in cols} for e in run.summary.get("adoptions") or []
            if isinstance(e, dict)]
    out = pd.DataFrame(rows, columns=cols)
    for c in cols[5:]:
        out[c] = pd.to_numeric(out[c], errors="coerce").astype(float)
    if out["year"].isna().all():
        out = out.drop(columns=["year"])
    return out


def binding(run: Run) -> pd.DataFrame:
    """Binding limits other than flow balances and block-contract payments (which bind by
    construction), largest |shadow price| first, ties in file order."""
    c = run.constraints
    keep = c["binding"] & ~c["kind"].isin(DEFINITIONS)
    b = c[keep].copy()
    b["worth"] = b["shadow_price"].abs()
    b["order"] = np.arange(len(b))
    b = b.sort_values(["worth", "order"], ascending=[False, True], na_position="last",
                      kind="mergesort")
    return b.drop(columns=["order"])


def quality(run: Run) -> pd.DataFrame:
    """Per locality and pathway: quality achieved (summary.json) and the floor, recovered
    from the quality rows of constraints.csv: each is ``sum (q - Q) * x >= 0``, so its slack
    is ``sum q*x - Q * sum x`` and ``Q = (sum q*x - slack) / sum x`` (per year; the largest
    over the years). No floor where the pathway has none or has no activity."""
    achieved = run.summary.get("quality") or {}
    rows = []
    for key, q in achieved.items():
        loc, _, pw = str(key).partition("/")
        rows.append({"locality": loc, "pathway": pw, "achieved": q})
    out = pd.DataFrame(rows, columns=["locality", "pathway", "achieved"])
    out["achieved"] = pd.to_numeric(out["achieved"], errors="coerce").astype(float)
    c, a = run.constraints, run.allocation
    qrows = c[c["kind"] == "quality"]
    floors: dict[tuple[str, str], float] = {}
    if len(qrows):
        keys = ["year", "locality", "pathway"] if "year" in a else ["locality", "pathway"]
        known = a["quality"].notna()
        g = (a[known].assign(qx=a["quality"] * a["volume"])
             .groupby(keys, sort=False)[["qx", "volume"]].sum())
        for r in qrows.itertuples(index=False):
            k = tuple(getattr(r, n) for n in keys)
            if k not in g.index:
                continue
            qx, vol = g.loc[k, "qx"], g.loc[k, "volume"]
            if vol > 1e-9:
                floor = round(float((qx - r.slack) / vol), 4)
                place = (r.locality, r.pathway)
                floors[place] = max(floor, floors.get(place, -math.inf))
    out["floor"] = [floors.get((loc, pw), np.nan) for loc, pw in zip(out["locality"], out["pathway"])]
    out["margin"] = out["achieved"] - out["floor"]
    return out


def years(run: Run) -> pd.DataFrame:
    """summary.json's ``by_year`` as a table."""
    rows = []
    for e in run.by_year:
        started = set(e.get("started") or [])
        rows.append({
            "year": int(e["year"]),
            "spend": e.get("spend"),
            "baseline": e.get("baseline"),
            "savings": e.get("savings"),
            "budget": e.get("budget"),
            "carry": e.get("carry"),
            "setup": e.get("setup"),
            "running": ", ".join(f"{n} (new)" if n in started else str(n)
                                 for n in e.get("running") or []),
            "staff": ", ".join(f"{r} {v:g}" for r, v in (e.get("expansion_steps") or {}).items()),
        })
    out = pd.DataFrame(rows, columns=["year", "spend", "baseline", "savings", "budget", "carry",
                                      "setup", "running", "staff"])
    for c in ("spend", "baseline", "savings", "budget", "carry", "setup"):
        out[c] = pd.to_numeric(out[c], errors="coerce").astype(float)
    return out
