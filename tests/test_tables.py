"""Tables (SPEC section 2.3): a row means exactly what the same YAML entry means, and every
problem in a table is located as FILE:ROW:COLUMN.

The equivalence tests move every bulk number of a YAML scenario into tables (CSV and
Parquet) and require the same instance tables and the same optimum: the YAML form is the
independent formulation of the tables form.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

import optimiser
from optimiser.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent
TINY = ROOT / "tests" / "data" / "tiny"


def _copy_scenario(src_cfg: Path, dst: Path) -> dict:
    """Copy a config and its pathways into ``dst``/configs and ``dst``/pathways."""
    (dst / "configs").mkdir(parents=True)
    (dst / "pathways").mkdir()
    data = yaml.safe_load(src_cfg.read_text())
    new = []
    for rel in data["pathways"]:
        p = (src_cfg.parent / rel).resolve()
        shutil.copy(p, dst / "pathways" / p.name)
        new.append(f"../pathways/{p.name}")
    data["pathways"] = new
    return data


def to_tables(src_cfg: Path, dst: Path, fmt: str = "csv") -> Path:
    """Write ``src_cfg`` with its bulk numbers moved into tables; returns the new config."""
    data = _copy_scenario(src_cfg, dst)
    loc_rows, prev_rows, off, uses, res = [], [], {}, [], []
    for loc, spec in data.pop("localities").items():
        loc_rows.append({"locality": loc, "population": spec["population"]})
        for pw, v in spec.get("prevalence_per_1000", {}).items():
            prev_rows.append({"locality": loc, "pathway": pw, "prevalence_per_1000": v})
    for name, spec in data.pop("resources", {}).items():
        e = spec.get("expand")
        res.append({"resource": name, "capacity": spec["capacity"],
                    "expand_step": e["step"] if e else None, "expand_cost": e["cost"] if e else None,
                    "expand_max_steps": e["max_steps"] if e else None})
    for name, v in data["providers"].items():
        for field, col in (("prices", "price"), ("costs", "cost"), ("quality", "quality"),
                           ("current_share", "current_share")):
            for act, val in v.pop(field, {}).items():
                off.setdefault((name, act), {"provider": name, "activity": act})[col] = val
        for act, per in v.pop("uses", {}).items():
            for r, a in per.items():
                uses.append({"provider": name, "activity": act, "resource": r, "amount": a})
    frames = {
        "localities": pd.DataFrame(loc_rows),
        "prevalence": pd.DataFrame(prev_rows, columns=["locality", "pathway", "prevalence_per_1000"]),
        "offers": pd.DataFrame(list(off.values()),
                               columns=["provider", "activity", "price", "cost", "quality", "current_share"]),
        "uses": pd.DataFrame(uses, columns=["provider", "activity", "resource", "amount"]),
        "resources": pd.DataFrame(res, columns=["resource", "capacity", "expand_step", "expand_cost",
                                                "expand_max_steps"]),
    }
    (dst / "data").mkdir()
    data["tables"] = {}
    for kind, f in frames.items():
        path = dst / "data" / f"{kind}.{fmt}"
        if fmt == "csv":
            f.to_csv(path, index=False)
        else:
            f.to_parquet(path, index=False)
        data["tables"][kind] = f"../data/{kind}.{fmt}"
    cfg = dst / "configs" / "scenario.yaml"
    cfg.write_text(yaml.safe_dump(data, sort_keys=False))
    return cfg


def _same_instance(a, b) -> None:
    for name in ("localities", "demand", "avoids", "arcs", "uses", "resources", "caps", "floors"):
        x, y = getattr(a, name), getattr(b, name)
        pd.testing.assert_frame_equal(x.reset_index(drop=True), y.reset_index(drop=True),
                                      check_dtype=False, obj=name)
    assert a.budget == b.budget and a.max_shift == b.max_shift


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
@pytest.mark.parametrize("src", [ROOT / "configs" / "northshire.yaml", TINY / "configs" / "tiny.yaml"],
                         ids=["northshire", "tiny"])
def test_tables_mean_what_the_yaml_means(tmp_path, src, fmt):
    cfg = to_tables(src, tmp_path, fmt)
    yaml_form = optimiser.load(src)
    table_form = optimiser.load(cfg)
    _same_instance(yaml_form.instance, table_form.instance)
    a = optimiser.solve(yaml_form, mode="lp")
    b = optimiser.solve(table_form, mode="lp")
    assert a.status is b.status is optimiser.Status.OPTIMAL
    assert b.objective == pytest.approx(a.objective, rel=1e-9)
    # the input hash covers the table files
    assert len(table_form.files) == len(yaml_form.files) + 5


def test_yaml_and_tables_combine(tmp_path):
    """A locality and a resource declared only in tables can be named by the YAML (serves,
    uses); prices may sit in both, for different activities."""
    cfg = to_tables(TINY / "configs" / "tiny.yaml", tmp_path)
    data = yaml.safe_load(cfg.read_text())
    data["providers"]["hub"]["serves"] = ["north", "south"]             # table localities
    data["providers"]["hub"]["uses"] = {"copd.review": {"nurse": 1}}    # table resource
    data["providers"]["hub"]["costs"] = {"copd.rehab": 300}             # review stays in the table
    off = pd.read_csv(tmp_path / "data" / "offers.csv")
    off.loc[(off["provider"] == "hub") & (off["activity"] == "copd.rehab"), "cost"] = np.nan
    off.to_csv(tmp_path / "data" / "offers.csv", index=False)
    uses = pd.read_csv(tmp_path / "data" / "uses.csv")
    uses = uses[~((uses["provider"] == "hub") & (uses["activity"] == "copd.review"))]
    uses.to_csv(tmp_path / "data" / "uses.csv", index=False)
    cfg.write_text(yaml.safe_dump(data, sort_keys=False))
    sc = optimiser.load(cfg)
    hub = sc.instance.arcs[sc.instance.arcs["provider"] == "hub"]
    assert set(hub["locality"]) == {"north", "south"}
    assert dict(zip(hub["activity"], hub["unit_cost"])) == {"copd.review": 50, "copd.rehab": 300}
    u = sc.instance.uses.merge(sc.instance.arcs[["provider", "activity"]], left_on="arc", right_index=True)
    assert sorted(set(zip(u["activity"], u["amount"]))) == [("copd.rehab", 2.0), ("copd.review", 1.0)]


def _errors(cfg: Path, overrides=()) -> list[str]:
    with pytest.raises(ConfigError) as info:
        optimiser.load(cfg, overrides=list(overrides))
    return [str(i) for i in info.value.issues]


@pytest.fixture
def tiny_tables(tmp_path, monkeypatch):
    to_tables(TINY / "configs" / "tiny.yaml", tmp_path)
    monkeypatch.chdir(tmp_path / "configs")
    return Path("scenario.yaml")


def _write(path: str, text: str) -> None:
    Path(path).write_text(text)


OFFERS_HEAD = "provider,activity,price,cost,quality,current_share\n"
GOOD_OFFERS = ("hosp,copd.review,100,,,\nhosp,copd.admission,3000,,,\nhosp,default,,,0.9,\n"
               "hub,copd.review,,50,,\nhub,copd.rehab,,300,,\nhub,default,,,0.85,\n")


def test_cell_errors_are_located_by_line_and_column(tiny_tables):
    _write("../data/offers.csv", OFFERS_HEAD + GOOD_OFFERS.replace("hosp,copd.review,100", "hosp,copd.review,lots")
           .replace("hub,default,,,0.85", "hub,default,,,1.2")
           + "\n" + "hub,copd.admisson,,10,,\n")
    assert _errors(tiny_tables) == [
        "../data/offers.csv:2:price: price must be a number, got 'lots'",
        "../data/offers.csv:7:quality: quality must lie in [0, 1], got 1.2",
        # line 8 is blank and skipped; the line numbers stay those of the file
        "../data/offers.csv:9:activity: no activity 'copd.admisson'; did you mean 'copd.admission'?",
    ]


def test_header_errors(tiny_tables):
    _write("../data/uses.csv", "provider,activity,resorce,amount\nhub,copd.review,nurse,1\n")
    _write("../data/localities.csv", "locality\nnorth\n")
    errs = _errors(tiny_tables)
    assert "../data/uses.csv:1:resorce: unknown column 'resorce' in a uses table; its columns are " \
           "provider, activity, resource, amount; did you mean 'resource'?" in errs
    assert "../data/uses.csv:1:0: missing column 'resource' (a uses table has provider, " \
           "activity, resource, then amount)" in errs
    assert "../data/localities.csv:1:0: missing column 'population' (a localities table has " \
           "locality, then population, population_growth)" in errs


def test_names_and_modes(tiny_tables):
    _write("../data/offers.csv", OFFERS_HEAD + GOOD_OFFERS + "hub,copd.admission,2000,,,\n"
           "hosp,copd.rehab,,250,,\nclinic,copd.review,90,,,\n")
    _write("../data/uses.csv", "provider,activity,resource,amount\nhub,copd.review,nurses,1\n")
    _write("../data/prevalence.csv", "locality,pathway,prevalence_per_1000\nsouth,copd,10\n"
           "west,copd,12\nnorth,cpd,3\n")
    assert sorted(_errors(tiny_tables)) == sorted([
        "../data/offers.csv:8:price: hub is a make provider: it has a cost, not a price",
        "../data/offers.csv:9:cost: hosp is a buy provider: it has a price, not a cost",
        "../data/offers.csv:10:provider: no provider 'clinic' is declared in the YAML (providers "
        "are declared there, with their setting and mode)",
        "../data/uses.csv:2:resource: no resource 'nurses'; did you mean 'nurse'?",
        "../data/prevalence.csv:3:locality: no locality 'west'",
        "../data/prevalence.csv:4:pathway: no pathway 'cpd' is loaded; did you mean 'copd'?",
    ])


def test_duplicates_within_a_table_and_with_the_yaml(tiny_tables):
    _write("../data/offers.csv", OFFERS_HEAD + GOOD_OFFERS + "hub,copd.review,,55,,\n")
    data = yaml.safe_load(Path(tiny_tables).read_text())
    data["providers"]["hosp"]["prices"] = {"copd.admission": 2900}
    data["localities"] = {"north": {"population": 5}}
    Path(tiny_tables).write_text(yaml.safe_dump(data, sort_keys=False))
    errs = _errors(tiny_tables)
    assert "../data/offers.csv:8:activity: provider 'hub' activity 'copd.review' is given twice " \
           "(also line 5)" in errs
    assert any(e.startswith("../data/offers.csv:3:activity: price of provider 'hosp' activity "
                            "'copd.admission' is given twice: here and in scenario.yaml:") for e in errs)
    assert any(e.startswith("../data/localities.csv:2:locality: locality 'north' is declared "
                            "twice: here and in scenario.yaml:") for e in errs)


def test_parquet_rows_are_zero_based(tmp_path):
    cfg = to_tables(TINY / "configs" / "tiny.yaml", tmp_path, fmt="parquet")
    pd.DataFrame({"locality": ["north", "south"], "population": [-1.0, 50000.0]}).to_parquet(
        tmp_path / "data" / "localities.parquet", index=False)
    pd.DataFrame({"resource": ["nurse"], "capacity": ["many"], "expand_step": [500.0],
                  "expand_cost": [None], "expand_max_steps": [2.5]}).to_parquet(
        tmp_path / "data" / "resources.parquet", index=False)
    errs = _errors(cfg)
    shown = os.path.normpath(cfg.parent / "../data")
    assert errs == sorted([
        f"{shown}/localities.parquet:0:population: population must be >= 0, got -1",
        f"{shown}/resources.parquet:0:capacity: capacity must be a number, got 'many'",
        f"{shown}/resources.parquet:0:expand_max_steps: expand_max_steps must be a whole number, got 2.5",
        f"{shown}/resources.parquet:0:expand_step: expand needs all of expand_step, expand_cost "
        "and expand_max_steps (or none)",
    ], key=lambda e: (e.split(":")[0], e))


def test_many_bad_rows_are_summarised(tiny_tables):
    rows = "".join(f"north{i},-{i + 1}\n" for i in range(500))
    _write("../data/localities.csv", "locality,population\n" + rows)
    errs = [e for e in _errors(tiny_tables) if "population must be" in e]
    assert len(errs) == 11
    assert errs[-1] == ("../data/localities.csv:12:population: population must be >= 0, got -11 "
                        "(and 489 more rows like this after this one)")


def test_table_paths_are_confined(tiny_tables, tmp_path):
    data = yaml.safe_load(Path(tiny_tables).read_text())
    outside = tmp_path.parent / "elsewhere.csv"
    data["tables"]["uses"] = str(outside)
    data["tables"]["offers"] = "../data/offers.txt"
    Path(tiny_tables).write_text(yaml.safe_dump(data, sort_keys=False))
    errs = _errors(tiny_tables)
    assert any("tables.uses: " in e and "lies outside" in e and "--allow-path" in e for e in errs)
    assert any("tables.offers: '../data/offers.txt' is not a .csv or .parquet file" in e for e in errs)


def test_unknown_table_kind_is_an_unknown_key(tiny_tables):
    data = yaml.safe_load(Path(tiny_tables).read_text())
    data["tables"]["ofers"] = data["tables"].pop("offers")
    Path(tiny_tables).write_text(yaml.safe_dump(data, sort_keys=False))
    assert any("tables.ofers: unknown key 'ofers'; did you mean 'offers'?" in e
               for e in _errors(tiny_tables))


def test_set_overrides_a_table_cell(tiny_tables):
    """``--set`` wins over a table value as it does over a YAML one."""
    base = optimiser.load(tiny_tables)
    sc = optimiser.load(tiny_tables, overrides=["providers.hub.costs.copd.review=60"])
    arcs = sc.instance.arcs
    assert set(arcs.loc[(arcs["provider"] == "hub") & (arcs["activity"] == "copd.review"), "unit_cost"]) == {60}
    b = base.instance.arcs
    assert set(b.loc[(b["provider"] == "hub") & (b["activity"] == "copd.review"), "unit_cost"]) == {50}


def test_csv_rows_with_the_wrong_width_are_located(tiny_tables):
    _write("../data/uses.csv", "provider,activity,resource,amount\nhub,copd.review,nurse,1\nhub,copd.rehab\n")
    errs = _errors(tiny_tables)
    assert len(errs) == 1 and errs[0].startswith("../data/uses.csv:3:0: Expected 4 columns, got 2")


def _with_horizon(cfg: Path, years: int = 3) -> None:
    data = yaml.safe_load(Path(cfg).read_text())
    data["horizon"] = {"start": 2027, "years": years}
    Path(cfg).write_text(yaml.safe_dump(data, sort_keys=False))


def test_population_growth_column_means_what_the_yaml_means(tmp_path):
    """A localities table's population_growth is the YAML key's value (SPEC 2.3, 7): the same
    demand growth in the instance, the same demand in every year and the same optimum. A
    blank cell is "not given": growth 0, as a locality without the key."""
    src = TINY / "configs" / "tiny.yaml"
    data = yaml.safe_load(src.read_text())
    data["pathways"] = [str((src.parent / p).resolve()) for p in data["pathways"]]
    data["horizon"] = {"start": 2027, "years": 3}
    data["localities"]["north"]["population_growth"] = 0.02    # south: not given
    yaml_cfg = tmp_path / "yaml" / "configs" / "scenario.yaml"
    yaml_cfg.parent.mkdir(parents=True)
    yaml_cfg.write_text(yaml.safe_dump(data, sort_keys=False))

    cfg = to_tables(src, tmp_path / "tables")
    _with_horizon(cfg)
    _write(str(tmp_path / "tables" / "data" / "localities.csv"),
           "locality,population,population_growth\nnorth,100000,0.02\nsouth,50000,\n")

    a = optimiser.load(yaml_cfg, allow_paths=[TINY])
    b = optimiser.load(cfg)
    _same_instance(a.instance, b.instance)
    g = b.instance.demand.set_index("locality")["growth"]
    assert g["north"].to_numpy() == pytest.approx(1.02) and set(g["south"]) == {1.0}
    for t in (1, 2):
        pd.testing.assert_frame_equal(a.instance.at_year(t).demand, b.instance.at_year(t).demand,
                                      check_dtype=False)
    north = b.instance.demand["locality"] == "north"
    assert b.instance.at_year(2).demand.loc[north, "patients"].to_numpy() == pytest.approx(
        b.instance.demand.loc[north, "patients"].to_numpy() * 1.02 ** 2)
    ra, rb = optimiser.solve(a, mode="lp"), optimiser.solve(b, mode="lp")
    assert ra.status is rb.status is optimiser.Status.OPTIMAL
    assert rb.objective == pytest.approx(ra.objective, rel=1e-9)


def test_population_growth_blank_is_zero(tiny_tables):
    """An all-blank population_growth column changes nothing: growth 0 everywhere."""
    _with_horizon(tiny_tables)
    plain = optimiser.load(tiny_tables)
    _write("../data/localities.csv", "locality,population,population_growth\nnorth,100000,\n"
           "south,50000,\n")
    blank = optimiser.load(tiny_tables)
    assert set(blank.instance.demand["growth"]) == {1.0}
    _same_instance(plain.instance, blank.instance)


def test_population_growth_cell_errors_are_located(tiny_tables):
    """-1 (everyone gone), below -1 and text are refused at FILE:ROW:COLUMN."""
    _with_horizon(tiny_tables)
    _write("../data/localities.csv", "locality,population,population_growth\nnorth,100000,-1\n"
           "south,50000,abc\nwest,1000,-1.5\n")
    assert _errors(tiny_tables) == [
        "../data/localities.csv:2:population_growth: population_growth must be above -1, got -1",
        "../data/localities.csv:3:population_growth: population_growth must be a number, got 'abc'",
        "../data/localities.csv:4:population_growth: population_growth must be above -1, got -1.5",
    ]


def test_a_conflict_is_located_at_the_table_cell(tiny_tables):
    """Rehab (minimum uptake 0.1 per patient) is only delivered by the hub, which needs 2
    nurse hours each; with no nurse hours and no expansion there is no plan, and the
    diagnosis points at the capacity cell of resources.csv (line 2)."""
    _write("../data/resources.csv", "resource,capacity,expand_step,expand_cost,expand_max_steps\n"
           "nurse,0,,,\n")
    res = optimiser.solve(optimiser.load(tiny_tables), mode="lp")
    assert res.status is optimiser.Status.INFEASIBLE
    wheres = [c["where"] for c in res.diagnosis.get("presolve", []) + res.diagnosis["conflict"]]
    assert "../data/resources.csv:2:capacity" in wheres
    from optimiser.results.text import render_diagnosis

    shown = "\n".join(render_diagnosis(res.diagnosis))
    assert "(../data/resources.csv:2:capacity)" in shown   # a cell has no key path to add


def test_warm_population_change_keeps_a_table_prevalence(tmp_path):
    """A locality declared with no population in a table, whose prevalence comes from the
    prevalence table: a warm population change must use that prevalence (10 per 1000), as a
    cold load of the edited table does."""
    cfg = to_tables(TINY / "configs" / "tiny.yaml", tmp_path)
    loc = pd.read_csv(tmp_path / "data" / "localities.csv")
    loc.loc[loc["locality"] == "south", "population"] = 0
    loc.to_csv(tmp_path / "data" / "localities.csv", index=False)
    session = optimiser.warm_start(optimiser.load(cfg), mode="lp")
    warm = session.solve(population={"south": 50000})
    loc.loc[loc["locality"] == "south", "population"] = 50000
    loc.to_csv(tmp_path / "data" / "localities.csv", index=False)
    cold = optimiser.solve(optimiser.load(cfg), mode="lp")
    assert warm.status is cold.status is optimiser.Status.OPTIMAL
    assert warm.objective == pytest.approx(cold.objective, rel=1e-9)
