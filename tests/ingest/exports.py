"""Small department exports written by the tests, in the departments' own habits."""
import csv

import pandas as pd

from app.common.codes import make_uscc
from app.ingest.sources import get_source

FIRM_A = make_uscc("91", "610203", "MA6XA001")
FIRM_B = make_uscc("92", "610203", "MA6XA002")
FARMER = "610203106001020031"
BAD_CHECK = FIRM_A[:-1] + ("1" if FIRM_A[-1] != "1" else "2")


def headers(source_name):
    return [c.header for c in get_source(source_name).columns]


def write_csv(path, source_name, rows, encoding="utf-8"):
    """Write `rows` (lists of cells) under the source's declared headers."""
    with open(path, "w", newline="", encoding=encoding) as f:
        writer = csv.writer(f)
        writer.writerow(headers(source_name))
        writer.writerows(rows)
    return path


def write_xlsx(path, source_name, rows):
    pd.DataFrame(rows, columns=headers(source_name)).to_excel(path, index=False)
    return path


def registration_rows():
    return [
        [FIRM_A, "陈炉甲陶瓷有限公司", "企业", "610203100", "3074", "2015-03-01", "500", "存续", "小型", "张三",
         "610203198001011234"],
        [FIRM_B, "城关乙面馆", "个体工商户", "610203001", "6210", "2020-06-01", "", "存续", "微型", "李四", ""],
        [FARMER, "王建军", "农户", "610203106", "0151", "", "", "存续", "", "王建军", ""],
    ]


def tax_rows():
    return [
        [FIRM_A, "2025-01", "1,200,000.00", "36000", "12000", "是", "0"],
        [FIRM_A, "2025-02", "９８００００", "29400", "9800", "是", "0"],
        [FIRM_B, "2025-01", "80000", "800", "0", "否", "1500"],
    ]


def write_district(folder):
    """A tiny district: registration (UTF-8 BOM), tax filings (GBK), tax grades (Excel)."""
    folder.mkdir(parents=True, exist_ok=True)
    write_csv(folder / "市场监管_主体登记_2025.csv", "registration", registration_rows(), "utf-8-sig")
    write_csv(folder / "税务_月度申报_2025.csv", "tax_filing", tax_rows(), "gb18030")
    write_xlsx(folder / "税务_纳税信用等级_2025.xlsx", "tax_grade", [[FIRM_A, "2024", "B", "82"]])
    return folder
