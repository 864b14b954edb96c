"""Forms of the lender area."""
from decimal import Decimal

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    FieldList,
    Form,
    FormField,
    IntegerField,
    MonthField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length

from app.common.errors import InvalidInput
from app.common.money import format_rate, format_wan, wan_to_yuan
from app.common.region import town_choices
from app.common.vocab import (
    BLACKLIST_POLICIES,
    DECLARED_OUTCOMES,
    DECLINE_REASONS,
    GUARANTEE_TYPES,
    LENDER_API_SCOPES,
    REPAYMENT_METHODS,
    SOURCE_NAMES,
    SUBJECT_KINDS,
)
from app.forms import CheckboxesField, ServiceCheck, StepForm, amount_field, as_choices, number_of, percent_field
from app.matching.rules import ATTRIBUTES, OPERATORS
from app.matching.tables import ProductTerms
from app.services.applications import MAX_COLLATERAL, MAX_NOTE, Offer, default_offer_valid_until
from app.services.loans import MAX_REFERENCE
from app.services.needs import validate_term
from app.services.products import MAX_DESCRIPTION, MAX_NAME


def _months(label):
    return IntegerField(label, validators=[InputRequired(_l("请输入期限（月）。")), ServiceCheck(validate_term)])


class ProductForm(FlaskForm):
    name = StringField(_l("产品名称"), validators=[
        DataRequired(_l("请输入产品名称。")),
        Length(max=MAX_NAME, message=_l("产品名称不能超过 %(n)d 个字符。", n=MAX_NAME))])
    description = TextAreaField(_l("产品说明"), validators=[
        Length(max=MAX_DESCRIPTION, message=_l("产品说明不能超过 %(n)d 个字符。", n=MAX_DESCRIPTION))])
    amount_min_wan = amount_field(_l("最低额度（万元）"), [InputRequired(_l("请输入金额（万元）。"))])
    amount_max_wan = amount_field(_l("最高额度（万元）"), [InputRequired(_l("请输入金额（万元）。"))])
    term_min = _months(_l("最短期限（月）"))
    term_max = _months(_l("最长期限（月）"))
    rate_min = percent_field(_l("最低年化利率（%）"), [InputRequired(_l("请输入利率（%）。"))])
    rate_max = percent_field(_l("最高年化利率（%）"), [InputRequired(_l("请输入利率（%）。"))])
    guarantee_types = CheckboxesField(_l("接受的担保方式"), choices=as_choices(GUARANTEE_TYPES.choices()))


class SourceRuleForm(Form):
    """One required department source: which, and how many recent months (blank for non-monthly)."""

    source = SelectField(_l("部门数据"), choices=as_choices([("", _l("（不要求）")), *SOURCE_NAMES.choices()]),
                         validate_choice=False)
    months = StringField(_l("近 N 个月"))


class ExtraRuleForm(Form):
    """One of the lender's own rules: attribute, operator, value."""

    attribute = SelectField(_l("企业指标"), validate_choice=False, choices=as_choices(
        [("", _l("（不设）")), *((a.name, a.label) for a in ATTRIBUTES.values())]))
    operator = SelectField(_l("比较"), choices=as_choices(OPERATORS.items()), validate_choice=False)
    value = StringField(_l("值"))


class ProductRulesForm(ProductForm):
    """A product's terms with its fees and eligibility rules (rules as data; see app/matching/spec.py)."""

    upfront_fee_pct = percent_field(_l("一次性费用率（%，可不填）"), what=_l("费用率"), zero=True)
    guarantee_fee_pct = percent_field(_l("担保费率（% / 年，可不填）"), what=_l("费用率"), zero=True)
    repayment = SelectField(_l("还款方式"), choices=as_choices(REPAYMENT_METHODS.choices()), default="annuity",
                            validate_choice=False)
    subject_kinds = CheckboxesField(_l("面向的主体类型（不选为不限）"), validate_choice=False,
                                    choices=as_choices(SUBJECT_KINDS.choices()))
    industries = StringField(_l("支持的行业（门类字母或行业代码，逗号分隔，不填为不限）"))
    towns = CheckboxesField(_l("服务的乡镇街道（不选为不限）"), validate_choice=False)
    min_age_years = StringField(_l("最低成立年限（年，可不填）"))
    min_grade = SelectField(_l("最低信用等级"), validate_choice=False)
    max_pd = percent_field(_l("违约概率上限（%，可不填）"), what=_l("违约概率上限"))
    unscored_pass = BooleanField(_l("允许暂无信用评分的主体"), default=True)
    required_sources = FieldList(FormField(SourceRuleForm), min_entries=3, max_entries=9)
    blacklist_policy = SelectField(_l("失信黑名单主体"), choices=as_choices(BLACKLIST_POLICIES.choices()),
                                   default="exclude", validate_choice=False)
    red_list_priority = BooleanField(_l("守信红名单主体优先（绿色通道）"))
    extra = FieldList(FormField(ExtraRuleForm), min_entries=3, max_entries=5)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.towns.choices = as_choices(town_choices())
        self.min_grade.choices = as_choices([("", _l("不限")), *((g, g) for g in current_app.config["CREDIT_GRADES"])])


def _note_length():
    return Length(max=MAX_NOTE, message=_l("说明不能超过 %(n)d 个字符。", n=MAX_NOTE))


class ApproveForm(StepForm):
    amount_wan = amount_field(_l("批准金额（万元）"), [InputRequired(_l("请输入金额（万元）。"))])
    rate = percent_field(_l("年化利率（%）"), [InputRequired(_l("请输入利率（%）。"))])
    term_months = IntegerField(_l("期限（月）"), validators=[InputRequired(_l("请输入期限（月）。"))])
    repayment = SelectField(_l("还款方式"), choices=as_choices(REPAYMENT_METHODS.choices()), validate_choice=False)
    guarantee = SelectField(_l("担保方式"), choices=as_choices(GUARANTEE_TYPES.choices()), validate_choice=False)
    collateral = StringField(_l("担保物或保证人说明（可不填）"), validators=[
        Length(max=MAX_COLLATERAL, message=_l("担保物说明不能超过 %(n)d 个字符。", n=MAX_COLLATERAL))])
    valid_until = DateField(_l("批复有效期至"))
    note = TextAreaField(_l("说明"), validators=[_note_length()])


class DeclineForm(StepForm):
    reasons = CheckboxesField(_l("拒绝原因（1–4 项）"), choices=as_choices(DECLINE_REASONS.choices()))
    note = TextAreaField(_l("补充说明"), validators=[_note_length()])


class InfoRequestForm(StepForm):
    note = TextAreaField(_l("需要补充的材料"), validators=[
        DataRequired(_l("请写明需要补充的材料。")),
        Length(max=MAX_NOTE, message=_l("请写明需要补充的材料（不超过 %(n)d 字）。", n=MAX_NOTE))])


class DisburseForm(StepForm):
    amount_wan = amount_field(_l("放款金额（万元）"), [InputRequired(_l("请输入金额（万元）。"))])
    disbursed_on = DateField(_l("放款日期"))
    reference = StringField(_l("贷款账号"), validators=[
        Length(max=MAX_REFERENCE, message=_l("请填写贷款账号（不超过 %(n)d 个字符）。", n=MAX_REFERENCE))])
    note = TextAreaField(_l("说明"), validators=[_note_length()])


class RepaymentForm(StepForm):
    """One month's status of a loan: the figures decide repaying / overdue / repaid unless the officer
    declares a default or a write-off."""

    month = MonthField(_l("报送月份"))
    days_past_due = IntegerField(_l("逾期天数"), default=0)
    outstanding_wan = amount_field(_l("贷款余额（万元）"), zero=True)
    declared = SelectField(_l("认定"), validate_choice=False, choices=as_choices(
        [("", _l("按逾期天数和余额判断")), *DECLARED_OUTCOMES.choices()]))
    note = TextAreaField(_l("说明"), validators=[_note_length()])


class FeedbackUploadForm(FlaskForm):
    """A 贷后反馈 file: many loans' monthly status at once."""

    file = FileField(_l("贷后反馈文件（CSV 或 Excel .xlsx）"), validators=[
        FileRequired(_l("请选择要上传的文件。")),
        FileAllowed(["csv", "xlsx"], _l("只接受 CSV 或 Excel（.xlsx）文件。"))])


def approve_form(application, now=None):
    """An approval form proposing the application's own term, the product's repayment method, the
    need's guarantee (when the product takes it) and the default acceptance deadline."""
    product = application.product
    guarantee = application.need.guarantee
    return ApproveForm(data={
        "term_months": application.term_months, "repayment": product.repayment,
        "guarantee": guarantee if guarantee in product.guarantee_types else next(iter(product.guarantee_types), None),
        "valid_until": default_offer_valid_until(now)})


def offer_of(form):
    """The offer an ApproveForm carries, for applications.approve to check (InvalidInput when a number is not one)."""
    return Offer(amount=amount_in_yuan(form, "amount_wan"),
                 rate=number_of(form, "rate"), term_months=form.term_months.data,
                 repayment=form.repayment.data, guarantee=form.guarantee.data, valid_until=form.valid_until.data,
                 collateral=form.collateral.data or "")


def amount_in_yuan(form, name):
    """A 万元 amount field in 元 (None when blank); InvalidInput when it is not a number in range."""
    amount = number_of(form, name)
    return None if amount is None else wan_to_yuan(amount)


def product_terms(form):
    """The terms a ProductRulesForm carries, for products.publish_product / update_product to validate."""
    numbers = {name: number_of(form, name) for name in ("amount_min_wan", "amount_max_wan", "rate_min", "rate_max")}
    for name, value in numbers.items():
        if value is None:
            raise InvalidInput(_("请输入数字。"), name)
    max_pd = number_of(form, "max_pd")
    rules = {
        "subject_kinds": form.subject_kinds.data, "industries": form.industries.data, "towns": form.towns.data,
        "min_age_years": form.min_age_years.data, "min_grade": form.min_grade.data or None,
        "max_pd": None if max_pd is None else max_pd / 100, "unscored_pass": form.unscored_pass.data,
        "required_sources": [entry.data for entry in form.required_sources],
        "blacklist_policy": form.blacklist_policy.data, "red_list_priority": form.red_list_priority.data,
        "extra": [entry.data for entry in form.extra],
    }
    return ProductTerms(
        name=form.name.data, description=form.description.data,
        amount_min=wan_to_yuan(numbers["amount_min_wan"]), amount_max=wan_to_yuan(numbers["amount_max_wan"]),
        term_min=form.term_min.data, term_max=form.term_max.data, rate_min=numbers["rate_min"],
        rate_max=numbers["rate_max"], guarantee_types=tuple(form.guarantee_types.data or ()),
        upfront_fee_pct=number_of(form, "upfront_fee_pct", Decimal(0)),
        guarantee_fee_pct=number_of(form, "guarantee_fee_pct", Decimal(0)),
        repayment=form.repayment.data, rules=rules)


def product_form_data(product):
    """A product's current terms as the form's initial data."""
    rules = product.rules or {}
    extra = [{**r, "value": "、".join(r["value"]) if isinstance(r["value"], list) else _extra_text(r["value"])}
             for r in rules.get("extra", ())]
    return {
        "name": product.name, "description": product.description,
        "amount_min_wan": format_wan(product.amount_min).replace(",", ""),
        "amount_max_wan": format_wan(product.amount_max).replace(",", ""),
        "term_min": product.term_min_months, "term_max": product.term_max_months,
        "rate_min": format_rate(product.rate_min), "rate_max": format_rate(product.rate_max),
        "guarantee_types": product.guarantee_types, "upfront_fee_pct": format_rate(product.upfront_fee_pct or 0),
        "guarantee_fee_pct": format_rate(product.guarantee_fee_pct or 0), "repayment": product.repayment,
        "subject_kinds": rules.get("subject_kinds", []), "industries": ", ".join(rules.get("industries", [])),
        "towns": rules.get("towns", []), "min_age_years": _extra_text(rules.get("min_age_years")),
        "min_grade": rules.get("min_grade") or "",
        "max_pd": "" if rules.get("max_pd") is None else _extra_text(round(rules["max_pd"] * 100, 4)),
        "unscored_pass": rules.get("unscored_pass", True),
        "required_sources": [{"source": r["source"], "months": r["months"] or ""}
                             for r in rules.get("required_sources", ())],
        "blacklist_policy": rules.get("blacklist_policy", "exclude"),
        "red_list_priority": rules.get("red_list_priority", False), "extra": extra,
    }


def _extra_text(value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    return f"{Decimal(str(value)).normalize():f}"


class ApiTokenForm(FlaskForm):
    """A token for the institution's own systems: what it is for, what it may do, how long it lives."""

    name = StringField(_l("用途（如信贷系统名称）"), validators=[DataRequired(_l("请填写令牌用途。")),
                                                        Length(max=80, message=_l("用途不能超过 80 个字符。"))])
    scopes = CheckboxesField(_l("权限范围"), choices=LENDER_API_SCOPES.choices(),
                             validators=[DataRequired(_l("请至少选择一项权限。"))])
    days = IntegerField(_l("有效天数"), validators=[InputRequired(_l("请填写有效天数。"))])
