"""The credit report's PDF: its content laid out in sections with an embedded CJK font (fpdf2).

The font is a configured OpenType/TrueType file or collection (REPORT_FONT_PATH, face REPORT_FONT_INDEX);
the default is Debian's Noto Sans CJK SC, which `make browser` installs (fonts-noto-cjk). The canonical
JSON whose sha256 the report prints is attached to the PDF as report.json.
"""
from pathlib import Path

from flask_babel import gettext as _
from fpdf import FPDF
from fpdf.fonts import FontFace

FONT = "report"
TITLE_SIZE = 18
HEADING_SIZE = 13
BODY_SIZE = 9.5
LINE = 5.5


class ReportUnavailable(Exception):
    """The report cannot be drawn on this server (no CJK font); `message` is in the user's language."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message


class _Report(FPDF):
    """A4 pages whose footer names the report and its page."""

    def __init__(self, footer_text):
        super().__init__(format="A4")
        self.footer_text = footer_text

    def footer(self):
        self.set_y(-12)
        self.set_font(FONT, size=7.5)
        self.set_text_color(110)
        self.cell(0, 5, f"{self.footer_text} · {self.page_no()}/{{nb}}", align="C")


def _font(pdf, path, index):
    if not path or not Path(path).is_file():
        raise ReportUnavailable(_("服务器上没有找到报告所需的中文字体（%(path)s），暂时不能生成信用报告；"
                                  "请管理员安装 fonts-noto-cjk 或设置 REPORT_FONT_PATH。", path=path or "—"))
    pdf.add_font(FONT, "", path, collection_font_number=index)


def _heading(pdf, text):
    pdf.ln(3)
    pdf.set_font(FONT, size=HEADING_SIZE)
    pdf.set_text_color(20, 60, 120)
    pdf.cell(0, 8, text, new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(0)
    pdf.set_font(FONT, size=BODY_SIZE)


def _pairs(pdf, pairs):
    """Label: value lines."""
    with pdf.table(col_widths=(1, 3), first_row_as_headings=False, line_height=LINE,
                   borders_layout="HORIZONTAL_LINES") as table:
        for label, value in pairs:
            table.row((label, str(value)))


def _table(pdf, headers, rows, widths, empty):
    """A table with a heading row, or the sentence `empty` when there are no rows."""
    if not rows:
        pdf.multi_cell(0, LINE, empty, new_x="LMARGIN", new_y="NEXT")
        return
    with pdf.table(col_widths=widths, line_height=LINE, headings_style=FontFace(fill_color=(228, 236, 247)),
                   ) as table:
        table.row(headers)
        for row in rows:
            table.row([str(cell) for cell in row])


def _score(pdf, score):
    if score is None:
        pdf.multi_cell(0, LINE, _("本主体暂无信用评分：平台尚未根据其数据计算评分，本报告不含分数和等级。"),
                       new_x="LMARGIN", new_y="NEXT")
        return
    _pairs(pdf, [(_("信用评分"), score["score"]), (_("信用等级"), score["grade"]),
                 (_("数据截至"), score["data_as_of"])])
    pdf.ln(2)
    pdf.cell(0, LINE + 1, _("主要原因（按影响大小排列）"), new_x="LMARGIN", new_y="NEXT")
    for reason in score["reasons"]:
        effect = _("拉低评分") if reason["raises_risk"] else _("提高评分")
        pdf.multi_cell(0, LINE, f"· {reason['text']}（{effect}）", new_x="LMARGIN", new_y="NEXT")


def _body(pdf, content):
    subject = content["subject"]
    _heading(pdf, _("一、主体信息"))
    _pairs(pdf, [(_("名称"), subject["name"]), (_("统一社会信用代码 / 户码"), subject["code"]),
                 (_("主体类型"), subject["kind"]), (_("所在乡镇"), subject["town"]),
                 (_("行业"), subject["industry"]), (_("成立（登记）日期"), subject["established_on"])])
    _heading(pdf, _("二、数据来源与期间"))
    _table(pdf, (_("部门"), _("数据"), _("记录数"), _("最早月份"), _("最近月份")),
           [(s["department"], s["source"], s["records"], s["first"], s["last"]) for s in content["sources"]],
           (2, 3, 1.3, 1.7, 1.7), _("平台尚未归集到本主体的部门数据。"))
    _heading(pdf, _("三、信用评分、等级与原因"))
    _score(pdf, content["score"])
    _heading(pdf, _("四、行政处罚"))
    _table(pdf, (_("决定书文号"), _("处罚机关"), _("处罚日期"), _("程度"), _("罚款（元）"), _("公示截止"), _("状态")),
           [(p["decision_no"], p["authority"], p["decided_on"], p["severity"], p["fine_yuan"], p["publicity_until"],
             p["status"]) for p in content["penalties"]],
           (2.6, 2.2, 1.7, 1, 1.5, 2.2, 2), _("无行政处罚记录。"))
    _heading(pdf, _("五、司法涉诉"))
    _table(pdf, (_("案号"), _("诉讼地位"), _("案由"), _("涉案金额（万元）"), _("立案日期"), _("案件状态"),
                 _("失信被执行人")),
           [(c["case_no"], c["role"], c["cause"], c["amount_wan"], c["filed_on"], c["status"], c["dishonest"])
            for c in content["court_cases"]],
           (3, 1.3, 2, 1.5, 1.7, 1.5, 1.3), _("无涉诉记录。"))
    _heading(pdf, _("六、红黑名单"))
    _table(pdf, (_("名单"), _("名称"), _("原因"), _("列入日期"), _("移出日期"), _("状态")),
           [(e["list"], e["name"], e["reason"], e["listed_on"], e["removed_on"], e["status"])
            for e in content["lists"]],
           (1, 2.5, 3, 1.6, 1.6, 1), _("未被列入红名单或黑名单。"))
    _heading(pdf, _("七、查询记录汇总"))
    _table(pdf, (_("查询方"), _("用途"), _("授权"), _("次数"), _("首次"), _("最近")),
           [(a["who"], a["purpose"], a["consent"], a["views"], a["first"], a["last"]) for a in content["access"]],
           (3, 1.6, 1, 1, 1.6, 1.6), _("尚无机构查询过本主体的信用数据。"))


def render(content, sha256, canonical_bytes, font_path, font_index=0):
    """The report as PDF bytes; ReportUnavailable when the configured font is missing."""
    report = content["report"]
    pdf = _Report(_("信用报告 %(code)s", code=report["code"]))
    _font(pdf, font_path, font_index)
    pdf.set_title(_("信用报告"))
    pdf.set_creator("印台区数字金融服务平台")
    pdf.set_auto_page_break(True, margin=16)
    pdf.add_page()
    pdf.set_font(FONT, size=TITLE_SIZE)
    pdf.cell(0, 12, _("信用报告"), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, size=BODY_SIZE)
    _pairs(pdf, [(_("报告编号"), report["code"]), (_("报告日期"), report["as_of"]),
                 (_("出具时间（UTC）"), report["issued_at"]), (_("出具给"), report["issued_to"]),
                 (_("校验码（SHA-256）"), sha256)])
    _body(pdf, content)
    pdf.ln(4)
    pdf.set_font(FONT, size=8)
    pdf.multi_cell(0, 4.5, _("校验方法：本报告内容的规范文本（附件 report.json）的 SHA-256 即上方校验码；"
                             "在平台的 /report/verify/%(code)s 页面输入校验码，可确认报告由平台出具且未被改动。",
                             code=report["code"]), new_x="LMARGIN", new_y="NEXT")
    pdf.embed_file(basename="report.json", bytes=canonical_bytes, desc=_("报告内容的规范文本"))
    return bytes(pdf.output())
