"""The platform's code vocabularies, each with its names in both languages, defined once.

Codes are stored and compared; names are shown. A vocabulary is a tuple of its codes (so it can be
iterated, indexed and tested with `in`) that also knows each code's name. Adding a guarantee type,
a status or a decline reason touches this file only (and the catalog for its English name).
"""
from flask_babel import lazy_gettext as _l


class Vocabulary(tuple):
    """Codes in their order of display, each with a (lazily translated) name."""

    def __new__(cls, names):
        vocabulary = super().__new__(cls, names)
        vocabulary.names = dict(names)
        return vocabulary

    def label(self, code):
        """The name of `code` in the user's language; the code itself when unknown, "" for None."""
        if code is None:
            return ""
        return str(self.names.get(code, code))

    def choices(self):
        """(code, name) pairs, for select fields."""
        return list(self.names.items())

    def subset(self, *codes):
        """A vocabulary of some of these codes (in this one's order); an unknown code fails."""
        unknown = set(codes) - set(self)
        if unknown:
            raise LookupError(f"not in the vocabulary: {', '.join(sorted(unknown))}")
        return Vocabulary({code: self.names[code] for code in self if code in codes})


SUBJECT_KINDS = Vocabulary({
    "enterprise": _l("企业"), "individual_business": _l("个体工商户"),
    "cooperative": _l("农民专业合作社"), "farmer": _l("农户"),
})
INSTITUTION_KINDS = Vocabulary({
    "bank": _l("银行"), "guarantee": _l("担保公司"), "pawn": _l("典当行"), "microloan": _l("小额贷款公司"),
})
# An institution's 经营许可 as its supervisor last said.
LICENCE_STATUSES = Vocabulary({"valid": _l("许可有效"), "suspended": _l("许可暂停"), "revoked": _l("许可吊销")})
ROLES = Vocabulary({
    "firm": _l("融资主体"), "lender_officer": _l("客户经理"), "lender_admin": _l("机构管理员"),
    "regulator": _l("监管部门"), "data_admin": _l("数据管理员"), "platform_admin": _l("平台管理员"),
})
LENDER_ROLES = ROLES.subset("lender_officer", "lender_admin")
# Who may activate a model version or start a re-scoring of everyone.
GOVERNING_ROLES = ROLES.subset("platform_admin", "regulator")

GUARANTEE_TYPES = Vocabulary({"credit": _l("信用"), "guarantor": _l("保证"), "mortgage": _l("抵押"),
                              "pledge": _l("质押")})
REPAYMENT_METHODS = Vocabulary({"annuity": _l("等额本息"), "equal_principal": _l("等额本金"),
                                "bullet": _l("先息后本")})
# What a product does with a subject on the 失信 black list.
BLACKLIST_POLICIES = Vocabulary({"exclude": _l("不受理"), "review": _l("人工审查后办理")})
LIST_TYPES = Vocabulary({"red": _l("红名单"), "black": _l("黑名单")})
URGENCIES = Vocabulary({"normal": _l("一般"), "urgent": _l("紧急")})

NEED_STATUSES = Vocabulary({"open": _l("进行中"), "closed": _l("已关闭"), "withdrawn": _l("已撤回")})
PRODUCT_STATUSES = Vocabulary({"draft": _l("草稿"), "published": _l("已发布"), "retired": _l("已下架")})
APPLICATION_STATUSES = Vocabulary({
    "submitted": _l("已提交"), "in_review": _l("审核中"), "info_requested": _l("待补充材料"),
    "approved": _l("已批准"), "declined": _l("已拒绝"), "offer_accepted": _l("企业已接受"),
    "offer_declined": _l("企业已放弃"), "expired": _l("批复已过期"), "disbursed": _l("已放款"),
    "repaying": _l("还款中"), "overdue": _l("逾期"), "repaid": _l("已结清"), "defaulted": _l("违约"),
    "written_off": _l("已核销"), "withdrawn": _l("已撤回"),
})
# Applications still waiting for the lender's decision.
OPEN_APPLICATION_STATUSES = APPLICATION_STATUSES.subset("submitted", "in_review", "info_requested")
# Applications still on their way to a loan: a need has at most one of these per product.
PENDING_APPLICATION_STATUSES = APPLICATION_STATUSES.subset("submitted", "in_review", "info_requested", "approved",
                                                           "offer_accepted")
# Applications the lender approved, whatever followed the approval.
APPROVED_STATUSES = APPLICATION_STATUSES.subset("approved", "offer_accepted", "offer_declined", "expired",
                                                "disbursed", "repaying", "overdue", "repaid", "defaulted",
                                                "written_off")
# Open applications where the firm has the next move: the response clock stands still (docs/response-clock.md).
AWAITING_FIRM_STATUSES = OPEN_APPLICATION_STATUSES.subset("info_requested")
# Views of a lender's work queue of open applications (docs/response-clock.md).
QUEUE_SCOPES = Vocabulary({"all": _l("全部待办"), "mine": _l("分配给我"), "unassigned": _l("未分配"),
                           "escalated": _l("超时已上报")})
# Applications the lender has decided (and what followed the decision).
DECIDED_STATUSES = APPLICATION_STATUSES.subset("declined", *APPROVED_STATUSES)
# A loan's status: disbursed, then what its monthly reports say.
LOAN_STATUSES = APPLICATION_STATUSES.subset("disbursed", "repaying", "overdue", "repaid", "defaulted", "written_off")
# What a monthly report (贷后反馈) may say about a loan.
REPAYMENT_OUTCOMES = LOAN_STATUSES.subset("repaying", "overdue", "repaid", "defaulted", "written_off")
# What the officer may declare on a monthly report; otherwise the days past due and the balance decide.
DECLARED_OUTCOMES = REPAYMENT_OUTCOMES.subset("defaulted", "written_off")
# Days-past-due bands of an overdue loan (90+ is at least 次级 in the five-category classification).
OVERDUE_BANDS = Vocabulary({"dpd_1_30": _l("逾期 1–30 天"), "dpd_31_90": _l("逾期 31–90 天"),
                            "dpd_90_plus": _l("逾期 90 天以上")})


def overdue_band(days_past_due):
    """The band of `days_past_due` (None when the loan is not past due)."""
    if not days_past_due or days_past_due <= 0:
        return None
    if days_past_due <= 30:
        return "dpd_1_30"
    return "dpd_31_90" if days_past_due <= 90 else "dpd_90_plus"


# Principal reasons a lender may give for a decline: specific, never "did not meet standards".
DECLINE_REASONS = Vocabulary({
    "revenue_insufficient": _l("经营收入不足以覆盖还款"),
    "tax_arrears": _l("存在欠税或纳税信用等级较低"),
    "social_insurance_arrears": _l("社保费用存在欠缴"),
    "court_enforcement": _l("存在被执行人或失信被执行人记录"),
    "serious_penalty": _l("公示期内存在严重行政处罚"),
    "debt_too_high": _l("现有负债水平过高"),
    "collateral_insufficient": _l("担保或抵押物价值不足"),
    "operating_history_short": _l("经营年限不足"),
    "information_missing": _l("补充材料未在期限内提交"),
    "amount_exceeds_capacity": _l("申请金额超过经营规模可承受水平"),
})
MAX_DECLINE_REASONS = 4

CONSENT_STATUSES = Vocabulary({"active": _l("有效"), "paused": _l("暂停"), "revoked": _l("已撤回"),
                               "expired": _l("已过期")})
PURPOSES = Vocabulary({"underwriting": _l("贷前审核"), "monitoring": _l("贷后监测"), "supervision": _l("监管"),
                       "screening": _l("在线优企筛选")})
# Data categories a consent may cover.
DATA_CATEGORIES = Vocabulary({
    "registration": _l("市场监管登记"), "tax": _l("税务"), "social_insurance": _l("社保"),
    "housing_fund": _l("公积金"), "utilities": _l("水电气"), "courts": _l("司法涉诉"),
    "penalties": _l("行政处罚"), "procurement": _l("政府采购"), "credit_score": _l("信用评分及原因"),
})
# Department sources a product may require (the ingest registry's names).
SOURCE_NAMES = Vocabulary({
    "registration": _l("市场监管登记"), "tax_filing": _l("税务月度申报"), "tax_grade": _l("纳税信用等级"),
    "social_insurance": _l("社保月度缴费"), "housing_fund": _l("公积金月度缴存"), "utilities": _l("水电气账单"),
    "logistics": _l("仓储物流数据"), "operations": _l("企业经营数据"), "procurement": _l("政府采购中标"),
})

BATCH_STATUSES = Vocabulary({"loaded": _l("已载入"), "already_loaded": _l("此前已载入，未改动"),
                             "refused": _l("整文件拒收"), "unknown_file": _l("未识别的文件"),
                             "failed": _l("载入失败，已回滚"), "loading": _l("载入中"),
                             "duplicate": _l("同一文件的重复载入（已合并）")})
RUN_STATUSES = Vocabulary({"queued": _l("排队中"), "running": _l("评分中"), "done": _l("已完成"),
                           "failed": _l("失败")})
RUN_TRIGGERS = Vocabulary({"activation": _l("启用新模型"), "ingest": _l("数据归集后"), "manual": _l("手动发起"),
                           "cli": _l("命令行")})
OBJECTION_KINDS = Vocabulary({"review": _l("人工复核"), "data": _l("数据异议")})
# A review request is answered (resolved); an objection to a data item is upheld or rejected.
OBJECTION_STATUSES = Vocabulary({"open": _l("处理中"), "resolved": _l("已答复"), "upheld": _l("异议成立"),
                                 "rejected": _l("异议不成立")})
OBJECTION_DECISIONS = OBJECTION_STATUSES.subset("upheld", "rejected")
# A credit repair (信用修复) request on a penalty.
REPAIR_STATUSES = Vocabulary({"open": _l("审核中"), "approved": _l("已修复"), "rejected": _l("不予修复")})
REPAIR_DECISIONS = REPAIR_STATUSES.subset("approved", "rejected")
# Where a penalty stands in its publicity (行政处罚信息公示).
PENALTY_STATES = Vocabulary({"published": _l("公示中"), "unpublished": _l("不予公示"), "expired": _l("公示期满"),
                             "repaired": _l("已信用修复")})
PENALTY_SEVERITIES = Vocabulary({"minor": _l("轻微"), "general": _l("一般"), "serious": _l("严重")})
# What a red or black list entry does (过惩相当: each list names its measures in LIST_KINDS, config).
LIST_MEASURES = Vocabulary({"no_credit_loans": _l("不予办理纯信用贷款"), "priority": _l("优先推荐（绿色通道）")})
LIST_SOURCES = Vocabulary({"regulator": _l("监管部门认定"), "court_case": _l("司法涉诉（失信被执行人）")})
LIST_ENTRY_STATUSES = Vocabulary({"active": _l("在列"), "removed": _l("已移出")})
# What a 查询记录 entry was a view of, by the prefix of its `what`.
ACCESS_KINDS = Vocabulary({"application": _l("融资申请"), "score": _l("信用评分详情"),
                           "ranking": _l("申请人信用排序"), "screening": _l("在线优企筛选"),
                           "report": _l("信用报告"),
                           "messages": _l("沟通问答")})

# Compliance rules (app/services/compliance.py; their parameters and modes are the COMPLIANCE_RULES setting).
COMPLIANCE_RULES = Vocabulary({
    "apr_cap": _l("年化综合融资成本超过上限"), "apr_disclosure": _l("批复未披露年化综合融资成本"),
    "decline_reasons": _l("拒绝未说明具体原因"), "response_overdue": _l("超过承诺时限未答复"),
    "consent_view": _l("无有效授权查看企业数据"), "licence_suspended": _l("许可暂停或吊销的机构发布产品"),
})
# What a rule does: refuse the action (where it has one) and flag, only flag, or nothing.
COMPLIANCE_MODES = Vocabulary({"refuse": _l("拒绝并提示"), "flag": _l("仅标记"), "off": _l("停用")})
# The kinds of record a compliance flag is about (ORM class names).
COMPLIANCE_TARGETS = Vocabulary({"Product": _l("产品"), "Application": _l("融资申请"), "DataAccessLog": _l("查询记录")})

# What an API token may do (docs/api.md): an institution's system reads its applications and, under each
# application's consent, the applicant's profile; records decisions, loans and monthly status; keeps its
# products. The regulator's systems read the market's figures.
API_SCOPES = Vocabulary({
    "applications:read": _l("读取本机构的融资申请"), "profiles:read": _l("在授权内读取申请人信用档案"),
    "decisions:write": _l("受理、补充材料、批准、拒绝"), "loans:write": _l("报送放款和月度还款状态"),
    "products:write": _l("发布、修改、下架产品"), "market:read": _l("读取市场统计（监管部门）"),
})
LENDER_API_SCOPES = API_SCOPES.subset("applications:read", "profiles:read", "decisions:write", "loans:write",
                                      "products:write")
REGULATOR_API_SCOPES = API_SCOPES.subset("market:read")

# Every action the audit log records, as the audit page shows it (tests/common/test_vocab.py checks that each
# code written anywhere in app/ has its name here).
AUDIT_ACTIONS = Vocabulary({
    "login.success": _l("登录成功"), "login.failed": _l("登录失败"), "user.register": _l("企业注册"),
    "consent.grant": _l("授权查询"), "consent.revoke": _l("撤销授权"), "identity.release": _l("向机构披露身份"),
    "firm_data.view": _l("查看企业数据"),
    "product.publish": _l("产品发布"), "product.update": _l("产品修改"), "product.retire": _l("产品下架"),
    "application.submit": _l("提交融资申请"), "application.assign": _l("分派申请"),
    "application.approve": _l("批准申请"), "application.decline": _l("拒绝申请"),
    "application.accept_offer": _l("企业接受批复"), "application.decline_offer": _l("企业放弃批复"),
    "application.escalate": _l("超时申请上报"),
    "loan.disburse": _l("放款"), "loan.report": _l("报送贷后月度情况"), "loan.feedback_upload": _l("上传贷后反馈文件"),
    "data.upload": _l("部门数据上传"), "scores.refresh": _l("重新评分"), "model.activate": _l("启用模型版本"),
    "objection.review": _l("申请人工复核评分"), "objection.data": _l("数据异议"),
    "objection.upheld": _l("异议成立"), "objection.rejected": _l("异议不成立"), "objection.resolved": _l("复核已答复"),
    "repair.request": _l("申请信用修复"), "repair.approved": _l("同意信用修复"),
    "repair.rejected": _l("不同意信用修复"),
    "list.add": _l("列入红黑名单"), "list.remove": _l("移出红黑名单"),
    "compliance.acknowledge": _l("确认合规标记"),
    "user.create": _l("创建用户"), "user.activate": _l("启用用户"), "user.deactivate": _l("停用用户"),
    "user.password_change": _l("修改密码"), "user.password_reset": _l("重置密码"),
    "institution.officer_create": _l("机构创建客户经理账户"),
    "invitation.issue.subject": _l("签发主体认领码"), "invitation.issue.member": _l("邀请企业成员"),
    "invitation.revoke": _l("作废邀请码"),
    "subject.join.subject": _l("凭认领码加入信用主体"), "subject.join.member": _l("受邀加入企业"),
    "subject.member_remove": _l("移除企业成员"), "subject.owner_transfer": _l("移交企业账户管理员身份"),
    "api_token.create": _l("创建接口令牌"), "api_token.revoke": _l("吊销接口令牌"),
    "exchange.export": _l("向信易贷节点导出批次"), "exchange.import": _l("导入信易贷节点批次"),
})
