"""Excel and WPS keep at most 32,767 characters in a cell and cut the rest without a word. The
decision archive's .xlsx and .csv (a long form answer), and every other table file written through
engine/tables.py (ledger, bulletin, supervision ledger, step times), cut such a cell themselves,
ending it with a mark that says so and where the whole text is, as the audit CSV does."""
from __future__ import annotations

import csv
import json

from click.testing import CliRunner
from openpyxl import load_workbook

from engine.cli import main
from engine.tables import CUT_MARK, EXCEL_CELL, save, title_row

from .conftest import FIXTURES, read

LONG = "征求意见汇总" + "x" * 40_000 + "结尾"  # fits a form's 64 KB, not a cell


def _cells_xlsx(path) -> list[str]:
    book = load_workbook(path)
    return [c.value for sheet in book.worksheets for row in sheet.iter_rows() for c in row if isinstance(c.value, str)]


def test_the_archive_cuts_a_long_answer_visibly_in_xlsx_and_csv(engine, people, tmp_path):
    engine.deploy([read(FIXTURES / "diagrams" / "mini_approval.bpmn")])
    plan = engine.start("mini_approval", actor="zhang", title="长文本方案")
    engine.complete(plan["tasks"][0]["id"], actor="zhang", data={"summary": "方案", "days": 10})
    review = engine.instance(plan["id"])["tasks"][0]["id"]
    engine.claim(review, actor="li")
    engine.complete(review, actor="li", data={"decision": "approve", "returnReason": LONG})  # a free text field
    for name in ("archive.xlsx", "archive.csv"):
        path = tmp_path / name
        written = CliRunner().invoke(main, ["--db", engine.db.url, "archive", str(plan["id"]), "--output", str(path)])
        assert written.exit_code == 0, written.output + written.stderr
        if name.endswith(".xlsx"):
            cells = _cells_xlsx(path)
        else:
            cells = [c for row in csv.reader(path.read_text(encoding="utf-8-sig").splitlines()) for c in row]
        assert max(map(len, cells)) == EXCEL_CELL, name
        [cut] = [c for c in cells if c.endswith(CUT_MARK)]
        assert "征求意见汇总xxx" in cut and "结尾" not in cut  # the start kept, the end said to be elsewhere
        assert "全文见系统中的原记录" in cut
    # the whole text is still in the system's record: the archive as JSON
    whole = json.loads(CliRunner().invoke(main, ["--db", engine.db.url, "archive", str(plan["id"]), "--json"]).stdout)
    values = [v["value"] for s in whole["sections"] for r in s["records"] for v in r["values"]]
    assert LONG in values


def test_every_table_file_cuts_its_cells_its_own_layout_added_too(tmp_path):
    """One helper for every export: the table's cells, and a cell a report's layout writes itself
    (a title, a summary line) without going through the table."""
    def fill(book):
        sheet = book.active
        title_row(sheet, "标题：" + "长" * 40_000)  # written by the layout, not from the table
        for row in table:
            sheet.append(row)
    table = [["短", "=1+1", "y" * 33_000]]
    path = tmp_path / "report.xlsx"
    save(str(path), ("报表", "report"), ("甲", "乙", "丙"), table, fill)
    cells = _cells_xlsx(path)
    assert "短" in cells and "=1+1" in cells  # short text unchanged; a formula-like text stays text
    cut = [c for c in cells if c.endswith(CUT_MARK)]
    assert len(cut) == 2 and all(len(c) == EXCEL_CELL for c in cut)
    assert {c[:3] for c in cut} == {"标题：", "yyy"}
    csv_path = tmp_path / "report.csv"
    save(str(csv_path), ("报表", "report"), ("甲", "乙", "丙"), [["短", "=1+1", "y" * 33_000]], lambda book: None)
    [row] = list(csv.reader(csv_path.read_text(encoding="utf-8-sig").splitlines()))[1:]
    assert row[:2] == ["短", "'=1+1"] and len(row[2]) == EXCEL_CELL and row[2].endswith(CUT_MARK)


def test_characters_beyond_the_basic_plane_count_twice_as_excel_counts_them():
    from engine.tables import fits_excel
    rare = "𠀀"  # CJK Extension B: two UTF-16 units, one Python character
    cut = fits_excel(rare * 20_000)  # 40,000 units for Excel, 20,000 characters for len()
    assert cut.endswith(CUT_MARK) and len(cut.encode("utf-16-le")) // 2 <= EXCEL_CELL
    assert len(cut.encode("utf-16-le")) // 2 > EXCEL_CELL - 2  # cut at the limit, not far short of it
    fits = rare * 16_000  # 32,000 units: kept whole
    assert fits_excel(fits) == fits


def test_a_stand_in_of_the_principal_s_own_unit_who_moved_since_is_that_unit_of_the_day():
    from engine.archive_export import unit_text
    row = {"actor_unit": "市财政局", "actor_unit_now": "市发改委", "on_behalf_unit": "市财政局"}
    assert unit_text(row) == "市财政局（现属 市发改委）"
    assert unit_text({**row, "on_behalf_unit": "市司法局"}) == "市司法局（代办人单位：市财政局（现属 市发改委））"
    assert unit_text({**row, "actor_unit_now": None, "on_behalf_unit": None}) == "市财政局"
