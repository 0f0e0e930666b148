"""``report.xlsx``: the report's content as sheets (XlsxWriter).

Sheets: ``summary`` (headline, cost parts today and in the plan, solver), ``allocation``,
``constraints`` and ``resources`` (the CSVs' columns and numbers, unrounded), ``units``
(``units.csv``, when the scenario has whole units), ``designs`` (the designs adopted, from
summary.json's ``adoptions``, when the scenario has variants), ``quality`` (achieved against
floors), ``by_year`` (multi-year plans) and ``diagnosis`` (runs without a plan). Every
sheet has a bold header row frozen in place with an autofilter, columns sized to their
contents, money in the run's currency (``"£"#,##0``; shadow prices and unit costs
with pence) and shares as percentages (``0.0%``). Cells hold the exact numbers; only their
display is formatted.
"""

from __future__ import annotations

import datetime
import io
import math

import numpy as np
import pandas as pd

from ..results.text import _SYMBOL
from . import data
from .data import Run

EXCEL_ROWS = 1_048_576
"""Rows in a worksheet, header included."""


def _money_format(currency: str, decimals: int) -> str:
    digits = "#,##0" + ("." + "0" * decimals if decimals else "")
    sym = _SYMBOL.get(currency)
    if sym:
        return f'"{sym}"{digits};-"{sym}"{digits}'
    return f'{digits} "{currency}";-{digits} "{currency}"'


class _Book:
    def __init__(self, currency: str):
        import xlsxwriter

        self.buf = io.BytesIO()
        self.wb = xlsxwriter.Workbook(self.buf, {"in_memory": True, "strings_to_numbers": False,
                                                 "strings_to_formulas": False,
                                                 "strings_to_urls": False})
        wb = self.wb
        # a fixed creation time: the same run folder gives the same bytes
        wb.set_properties({"title": "carepath report", "created": datetime.datetime(2000, 1, 1)})
        self.header = wb.add_format({"bold": True, "bg_color": "#DCE6F0", "bottom": 2,
                                     "text_wrap": True, "valign": "top"})
        self.fmt = {
            "money": wb.add_format({"num_format": _money_format(currency, 0)}),
            "money2": wb.add_format({"num_format": _money_format(currency, 2)}),
            "pct": wb.add_format({"num_format": "0.0%"}),
            "count": wb.add_format({"num_format": "#,##0"}),
            "number": wb.add_format({"num_format": "#,##0.00"}),
            "quality": wb.add_format({"num_format": "0.0000"}),
            "general": wb.add_format({"num_format": "General"}),
            "year": wb.add_format({"num_format": "0"}),
            "text": None,
        }
        self.notes: list[str] = []

    def sheet(self, name: str, frame: pd.DataFrame, formats: dict[str, str], widths: dict | None = None) -> None:
        """One sheet: header row, every row of ``frame`` (as many as a sheet holds), a
        format per column (``formats``; text by default)."""
        ws = self.wb.add_worksheet(name)
        cols = list(frame.columns)
        limit = EXCEL_ROWS - 1
        if len(frame) > limit:
            self.notes.append(f"{name}: the first {limit:,} of {len(frame):,} rows (the CSV has all)")
            frame = frame.head(limit)
        for j, c in enumerate(cols):
            ws.write_string(0, j, str(c), self.header)
        for j, c in enumerate(cols):
            kind = formats.get(c, "text")
            fmt = self.fmt[kind]
            values = frame[c].tolist()
            if kind == "text":
                for i, v in enumerate(values, start=1):
                    if v is None or (isinstance(v, float) and math.isnan(v)) or v == "":
                        continue
                    ws.write_string(i, j, str(v))
            else:
                for i, v in enumerate(values, start=1):
                    if isinstance(v, (bool, np.bool_)):
                        ws.write_boolean(i, j, bool(v))
                    elif v is None or isinstance(v, str) or not math.isfinite(float(v)):
                        if isinstance(v, str) and v:
                            ws.write_string(i, j, v)
                        continue
                    else:
                        ws.write_number(i, j, float(v), fmt)
            sample = [str(c)] + [_shown(v, kind) for v in values[:300]]
            width = (widths or {}).get(c) or min(max(len(s) for s in sample) + 2, 60)
            ws.set_column(j, j, max(width, 8))
        ws.freeze_panes(1, 0)
        if cols:
            ws.autofilter(0, 0, max(len(frame), 1), len(cols) - 1)

    def close(self) -> bytes:
        self.wb.close()
        return self.buf.getvalue()


def _shown(v, kind: str) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    if kind in ("money", "count") and isinstance(v, (int, float)):
        return f"£{v:,.0f}"
    if kind in ("money2", "number") and isinstance(v, (int, float)):
        return f"£{v:,.2f}"
    if kind == "pct" and isinstance(v, (int, float)):
        return f"{v:.1%}"
    return str(v)


ALLOCATION_FORMATS = {"year": "year", "volume": "number", "unit_cost": "money2", "cost": "money2",
                      "quality": "quality", "baseline_volume": "number"}
CONSTRAINT_FORMATS = {"year": "year", "limit": "general", "slack": "general",
                      "shadow_price": "money2", "valid_from": "general", "valid_to": "general",
                      "binding": "general"}
RESOURCE_FORMATS = {"year": "year", "capacity": "count", "expansion_steps": "general",
                    "used": "number", "utilisation": "pct", "need": "number"}
UNIT_FORMATS = {"year": "year", "size": "general", "units": "general", "capacity": "number",
                "volume": "number", "utilisation": "pct", "cost": "money2",
                "baseline_units": "general"}
DESIGN_FORMATS = {"year": "year", "adoption_cost": "money", "activity_cost_today": "money",
                  "activity_cost_plan": "money", "saves": "money"}
YEAR_FORMATS = {"year": "year", "spend": "money", "baseline": "money", "savings": "money",
                "budget": "money", "carry": "money", "setup": "money", "discount_factor": "general"}


def _summary_rows(run: Run) -> list[tuple[str, str, object, str]]:
    """(field, description, value, format) rows of the summary sheet."""
    s = run.summary
    rows: list[tuple[str, str, object, str]] = [
        ("scenario", "Scenario", run.scenario, "text"),
        ("status", "Status", run.status, "text"),
    ]
    if run.multi_year:
        rows.append(("horizon", "Years", run.years_label, "text"))
        rate = (s.get("horizon") or {}).get("discount_rate")
        if rate is not None:
            rows.append(("horizon.discount_rate", "Discount rate a year", rate, "pct"))
    if run.solved:
        base = float(s["baseline_cost"])
        rows += [
            ("objective", "Plan cost" + (" (discounted total)" if run.multi_year else ""),
             s["objective"], "money"),
            ("baseline_cost", "Today's cost (baseline)", s["baseline_cost"], "money"),
            ("savings", "Savings (today's cost minus the plan's)", s["savings"], "money"),
            ("savings_share", "Savings as a share of today's cost",
             (float(s["savings"]) / base) if base else None, "pct"),
        ]
        if run.multi_year:
            rows.append(("payback_year", "Payback year", s.get("payback_year"), "year"))
        parts, exact = data.baseline_parts(run)
        for p in data.PARTS:
            label = dict(data.WATERFALL_STEPS)[p]
            rows.append((f"cost.{p}", f"Plan: {label.lower()}", (s["cost"] or {}).get(p), "money"))
        for p in data.PARTS:
            label = dict(data.WATERFALL_STEPS)[p]
            rows.append((f"baseline_parts.{p}", f"Today: {label.lower()}"
                         + ("" if exact else " (estimated)"), parts[p], "money"))
        for pw, share in (s.get("make_share") or {}).items():
            rows.append((f"make_share.{pw}", f"Share made by own services: {pw}", share, "pct"))
    else:
        rows.append(("baseline_cost", "Today's cost (baseline)", s.get("baseline_cost"), "money"))
    solver = s.get("solver") or {}
    rows += [
        ("solver.backend", "Solver", solver.get("backend"), "text"),
        ("solver.mode", "Mode", solver.get("mode"), "text"),
        ("solver.gap", "Gap", solver.get("gap"), "pct"),
        ("solver.seconds", "Solver seconds", solver.get("seconds"), "number"),
        ("input_sha256", "Input sha256", s.get("input_sha256"), "text"),
        ("version", "carepath version", s.get("version"), "text"),
    ]
    return rows


def render(run: Run) -> bytes:
    book = _Book(run.currency)
    rows = _summary_rows(run)
    frame = pd.DataFrame({"field": [r[0] for r in rows], "item": [r[1] for r in rows],
                          "value": [r[2] for r in rows]})
    _summary_sheet(book, frame, [r[3] for r in rows])
    if run.solved:
        book.sheet("allocation", run.allocation, ALLOCATION_FORMATS)
        book.sheet("constraints", run.constraints, CONSTRAINT_FORMATS, {"meaning": 70, "name": 36})
        book.sheet("resources", run.resources, RESOURCE_FORMATS)
        if run.units is not None:
            book.sheet("units", run.units, UNIT_FORMATS)
        if "designs" in run.summary:
            book.sheet("designs", data.designs(run), DESIGN_FORMATS, {"name": 36})
        q = data.quality(run)
        book.sheet("quality", q, {"achieved": "quality", "floor": "quality", "margin": "quality"})
        if run.multi_year:
            y = pd.DataFrame([{k: e.get(k) for k in ("year", "spend", "baseline", "savings", "budget",
                                                     "carry", "setup", "discount_factor")}
                              for e in run.by_year])
            t = data.years(run)
            y["running"], y["staff"] = t["running"], t["staff"]
            book.sheet("by_year", y, YEAR_FORMATS, {"running": 40, "staff": 40})
    if run.diagnosis is not None:
        book.sheet("diagnosis", _diagnosis_frame(run.diagnosis),
                   {"limit": "general", "relax_by": "general"}, {"message": 70})
    if book.notes:
        ws = book.wb.get_worksheet_by_name("summary")
        ws.write_string(len(rows) + 2, 0, "Note: " + "; ".join(book.notes))
    return book.close()


def _summary_sheet(book: _Book, frame: pd.DataFrame, kinds: list[str]) -> None:
    ws = book.wb.add_worksheet("summary")
    for j, c in enumerate(frame.columns):
        ws.write_string(0, j, c, book.header)
    for i, (field, item, value, kind) in enumerate(zip(frame["field"], frame["item"],
                                                        frame["value"], kinds), start=1):
        ws.write_string(i, 0, field)
        ws.write_string(i, 1, item)
        if value is None or (isinstance(value, float) and math.isnan(value)):
            continue
        if kind == "text" or isinstance(value, str):
            ws.write_string(i, 2, str(value))
        else:
            ws.write_number(i, 2, float(value), book.fmt[kind])
    ws.set_column(0, 0, max(len(f) for f in frame["field"]) + 2)
    ws.set_column(1, 1, max(len(f) for f in frame["item"]) + 2)
    ws.set_column(2, 2, 22)
    ws.freeze_panes(1, 0)
    ws.autofilter(0, 0, len(frame), 2)


def _diagnosis_frame(d: dict) -> pd.DataFrame:
    rows = []
    for part in ("presolve", "relaxation", "conflict"):
        for r in d.get(part) or []:
            rows.append({"part": part, "message": r.get("message"), "constraint": r.get("constraint"),
                         "kind": r.get("kind"), "limit": r.get("limit"),
                         "relax_by": r.get("relax_by"), "where": r.get("where"), "key": r.get("key")})
    return pd.DataFrame(rows, columns=["part", "message", "constraint", "kind", "limit", "relax_by",
                                       "where", "key"])
