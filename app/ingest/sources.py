"""The registry of department sources: each export's columns, types, units and natural key.

Each source is declared once here; the synthetic district writes these exports and the loader
validates them against the same declaration. Files are matched to a source by name prefix.
"""
from dataclasses import dataclass, field

YES_NO = {"是": True, "否": False, "Y": True, "N": False}


@dataclass(frozen=True)
class Column:
    """One column of a department export, as the department names it."""

    header: str
    name: str
    kind: str  # code, text, int, decimal, money, date, month, year, bool, choice, town, id_number
    unit: str | None = None  # money: "元" or "万元"; stored in 元
    choices: dict = field(default_factory=dict)
    required: bool = True
    max_len: int = 200
    minimum: float | None = 0
    maximum: float | None = None


@dataclass(frozen=True)
class Source:
    """A department export: which file, which columns, what identifies one fact."""

    name: str
    department: str
    title: str
    file_prefix: str
    columns: tuple
    natural_key: tuple
    period: str | None = None

    @property
    def subject_column(self):
        """The column holding the subject's 统一社会信用代码 or farmer's household code."""
        return next(c for c in self.columns if c.kind == "code")

    def column(self, name):
        """The column called `name`."""
        return next(c for c in self.columns if c.name == name)

    def label(self, english=False):
        """The department and the export's title, e.g. 税务 · 月度纳税申报 (English: Tax · monthly filings)."""
        if english:
            return " · ".join(SOURCE_NAMES_EN.get(self.name, (self.department, self.title)))
        return f"{self.department} · {self.title}"


def column_label(column, english=False):
    """A column's header as the department names it, or its English name with the unit, e.g. "due (yuan)"."""
    if not english:
        return column.header
    name = COLUMN_NAMES_EN.get(column.name, column.name.replace("_", " "))
    return f"{name} ({UNITS_EN[column.unit]})" if column.unit else name


def choice_label(column, code, english=False):
    """The department's word for a choice column's stored code, or its English name."""
    if english:
        if isinstance(code, bool):
            return "yes" if code else "no"
        return CHOICE_NAMES_EN.get(code, str(code).replace("_", " "))
    return next((text for text, stored in column.choices.items() if stored == code), str(code))


def _code(header="信用主体代码"):
    return Column(header, "subject_code", "code")


def _money(header, name, unit, required=True):
    return Column(header, name, "money", unit=unit, required=required)


SUBJECT_TYPES = {"企业": "enterprise", "个体工商户": "individual_business", "农民专业合作社": "cooperative",
                 "农户": "farmer"}
INSTITUTION_TYPES = {"银行": "bank", "担保公司": "guarantee", "典当行": "pawn", "小额贷款公司": "microloan"}

SOURCES = (
    Source("registration", "市场监管", "市场主体登记", "市场监管_主体登记", (
        _code(), Column("主体名称", "name", "text", max_len=120),
        Column("主体类型", "kind", "choice", choices=SUBJECT_TYPES),
        Column("乡镇街道代码", "town_code", "town"),
        Column("行业代码", "industry_code", "text", max_len=5),
        Column("成立日期", "established_on", "date", required=False),
        _money("注册资本(万元)", "registered_capital", "万元", required=False),
        Column("登记状态", "status", "choice", choices={"存续": "active", "注销": "deregistered", "吊销": "revoked"}),
        Column("企业规模", "size_class", "choice", choices={"微型": "micro", "小型": "small", "中型": "medium"},
               required=False),
        Column("法定代表人", "legal_rep_name", "text", max_len=60, required=False),
        Column("法定代表人证件号", "legal_rep_id", "id_number", required=False),
    ), natural_key=("subject_code",)),
    Source("tax_filing", "税务", "月度纳税申报", "税务_月度申报", (
        _code("纳税人识别号"), Column("所属期", "period", "month"),
        _money("营业收入(元)", "revenue", "元"), _money("增值税(元)", "vat", "元"),
        _money("企业所得税(元)", "income_tax", "元"),
        Column("是否按期申报", "on_time", "bool", choices=YES_NO),
        _money("欠税金额(元)", "arrears", "元"),
    ), natural_key=("subject_code", "period"), period="period"),
    Source("tax_grade", "税务", "纳税信用等级", "税务_纳税信用等级", (
        _code("纳税人识别号"), Column("评价年度", "year", "year"),
        Column("纳税信用等级", "grade", "choice", choices={g: g for g in "ABMCD"}),
        Column("评价得分", "points", "decimal", required=False, maximum=100),
    ), natural_key=("subject_code", "year"), period="year"),
    Source("social_insurance", "社保", "社会保险月度缴费", "社保_月度缴费", (
        _code("统一社会信用代码"), Column("费款所属期", "period", "month"),
        Column("参保人数", "insured", "int"), _money("应缴金额(元)", "due", "元"),
        _money("实缴金额(元)", "paid", "元"), _money("欠缴金额(元)", "arrears", "元"),
    ), natural_key=("subject_code", "period"), period="period"),
    Source("housing_fund", "公积金", "住房公积金月度缴存", "公积金_月度缴存", (
        _code("统一社会信用代码"), Column("缴存月份", "period", "month"),
        Column("缴存人数", "members", "int"), _money("缴存金额(元)", "paid", "元"),
    ), natural_key=("subject_code", "period"), period="period"),
    Source("utilities", "水电气", "水电气月度账单", "水电气_月度账单", (
        _code(), Column("账期", "period", "month"),
        Column("类别", "utility", "choice", choices={"水": "water", "电": "electricity", "燃气": "gas"}),
        Column("用量", "usage", "decimal"), _money("应缴金额(元)", "billed", "元"),
        Column("是否按期缴费", "paid_on_time", "bool", choices=YES_NO),
        Column("逾期天数", "days_late", "int", maximum=3650),
    ), natural_key=("subject_code", "period", "utility"), period="period"),
    Source("logistics", "仓储物流", "仓储物流月度数据", "仓储物流_月度", (
        _code(), Column("月份", "period", "month"),
        Column("货运量(吨)", "freight_tonnes", "decimal"), Column("仓储量(吨)", "storage_tonnes", "decimal"),
    ), natural_key=("subject_code", "period"), period="period"),
    Source("operations", "企业经营", "企业经营月度数据", "企业经营_月度", (
        _code(), Column("月份", "period", "month"),
        _money("营业收入(万元)", "revenue", "万元"), Column("用工人数", "employees", "int"),
        Column("数据来源", "provenance", "choice", choices={"自报": "self_reported", "平台核验": "verified"}),
    ), natural_key=("subject_code", "period"), period="period"),
    Source("court_case", "司法", "涉诉案件", "司法_涉诉案件", (
        Column("案号", "case_no", "text", max_len=60), _code(),
        Column("诉讼地位", "role", "choice", choices={
            "原告": "plaintiff", "被告": "defendant", "被执行人": "enforced", "第三人": "third_party"}),
        Column("案由", "cause", "text", max_len=60),
        _money("涉案金额(万元)", "amount", "万元"), Column("立案日期", "filed_on", "date"),
        Column("案件状态", "status", "choice", choices={
            "审理中": "pending", "已结案": "closed", "执行中": "enforcing", "终结本次执行": "terminated"}),
        Column("失信被执行人", "dishonest", "bool", choices=YES_NO),
    ), natural_key=("case_no", "subject_code"), period="filed_on"),
    Source("penalty", "行政处罚", "行政处罚决定", "行政处罚_处罚决定", (
        Column("决定书文号", "decision_no", "text", max_len=80), _code(),
        Column("处罚机关", "authority", "text", max_len=60), Column("处罚日期", "decided_on", "date"),
        Column("处罚程度", "severity", "choice", choices={"轻微": "minor", "一般": "general", "严重": "serious"}),
        _money("罚款金额(元)", "fine", "元"), Column("公示截止日期", "publicity_until", "date", required=False),
        Column("是否已信用修复", "repaired", "bool", choices=YES_NO),
    ), natural_key=("decision_no",), period="decided_on"),
    Source("procurement", "政府采购", "政府采购中标", "政府采购_中标公告", (
        Column("项目编号", "project_no", "text", max_len=60), _code(),
        Column("采购单位", "buyer", "text", max_len=80), Column("中标日期", "awarded_on", "date"),
        _money("中标金额(万元)", "amount", "万元"),
    ), natural_key=("project_no", "subject_code"), period="awarded_on"),
    Source("loan_feedback", "金融机构", "贷后反馈", "贷后反馈_贷款", (
        Column("贷款编号", "loan_no", "text", max_len=60),
        Column("机构名称", "institution", "text", max_len=120),
        Column("机构类型", "institution_kind", "choice", choices=INSTITUTION_TYPES), _code(),
        Column("放款日期", "disbursed_on", "date"), Column("到期日期", "maturity_on", "date"),
        _money("贷款金额(万元)", "principal", "万元"), Column("年化利率(%)", "annual_rate", "decimal", maximum=100),
        Column("还款状态", "outcome", "choice", choices={
            "正常结清": "repaid", "逾期": "overdue", "违约": "defaulted", "未到期": "current"}),
        Column("最长逾期天数", "max_days_past_due", "int", maximum=3650),
    ), natural_key=("institution", "loan_no"), period="disbursed_on"),
    Source("application_history", "金融机构", "贷款申请审批记录", "贷款申请_审批记录", (
        Column("申请编号", "application_no", "text", max_len=60),
        Column("机构名称", "institution", "text", max_len=120), _code(),
        Column("申请日期", "applied_on", "date"), _money("申请金额(万元)", "amount", "万元"),
        Column("申请期限(月)", "term_months", "int", minimum=1, maximum=360),
        Column("审批结果", "decision", "choice", choices={"批准": "approved", "拒绝": "declined"}),
        Column("拒绝原因", "decline_reasons", "text", required=False),
    ), natural_key=("institution", "application_no"), period="applied_on"),
)

# English names of the departments' words, for readers who chose English (the stored data keeps codes).
SOURCE_NAMES_EN = {
    "registration": ("Market regulation", "business registration"),
    "tax_filing": ("Tax", "monthly tax filings"), "tax_grade": ("Tax", "tax credit grade"),
    "social_insurance": ("Social insurance", "monthly contributions"),
    "housing_fund": ("Housing fund", "monthly contributions"), "utilities": ("Utilities", "monthly bills"),
    "logistics": ("Warehousing and logistics", "monthly volumes"), "operations": ("Operations", "monthly figures"),
    "court_case": ("Courts", "court cases"), "penalty": ("Administrative penalties", "penalty decisions"),
    "procurement": ("Government procurement", "contract awards"),
    "loan_feedback": ("Financial institutions", "loan feedback"),
    "application_history": ("Financial institutions", "loan application decisions"),
}
UNITS_EN = {"元": "yuan", "万元": "10k yuan"}
COLUMN_NAMES_EN = {
    "subject_code": "credit subject code", "kind": "subject type", "town_code": "town code",
    "established_on": "established on", "size_class": "size", "legal_rep_name": "legal representative",
    "legal_rep_id": "legal representative's ID number", "on_time": "filed on time", "vat": "VAT",
    "points": "evaluation points", "grade": "tax credit grade", "insured": "insured people",
    "members": "contributing members", "utility": "utility", "paid_on_time": "paid on time",
    "freight_tonnes": "freight (t)", "storage_tonnes": "storage (t)", "provenance": "data source",
    "case_no": "case number", "role": "role in the case", "filed_on": "filed on",
    "dishonest": "dishonest judgment debtor",
    "decision_no": "decision number", "authority": "issuing authority", "decided_on": "decided on",
    "publicity_until": "published until", "repaired": "credit repaired", "project_no": "project number",
    "awarded_on": "awarded on", "loan_no": "loan number", "institution_kind": "institution type",
    "disbursed_on": "disbursed on", "maturity_on": "matures on", "annual_rate": "annual rate (%)",
    "outcome": "repayment status", "max_days_past_due": "most days past due", "application_no": "application number",
    "applied_on": "applied on", "term_months": "term (months)", "reference": "loan account number",
    "month": "report month", "days_past_due": "days past due", "outstanding": "outstanding balance",
    "declared": "declared status",
}
CHOICE_NAMES_EN = {
    "individual_business": "individual business", "active": "in business", "enforced": "judgment debtor",
    "third_party": "third party", "pending": "on trial", "enforcing": "in enforcement",
    "terminated": "enforcement ended", "self_reported": "self-reported", "verified": "verified by the platform",
    "current": "not yet due", "microloan": "microloan company", "guarantee": "guarantee company",
    "pawn": "pawn shop",
}

REGISTRY = {source.name: source for source in SOURCES}


def get_source(name):
    """The source called `name`; an unknown name fails with the known ones."""
    try:
        return REGISTRY[name]
    except KeyError:
        raise LookupError(f"unknown source {name!r}; known: {', '.join(REGISTRY)}") from None


def source_for_file(filename):
    """The source whose file prefix starts `filename` (longest prefix wins), or None."""
    matches = [s for s in SOURCES if filename.startswith(s.file_prefix)]
    return max(matches, key=lambda s: len(s.file_prefix)) if matches else None
