"""Names of codes in the user's language (codes are stored; names are shown)."""
from flask_babel import lazy_gettext as _l

SUBJECT_KINDS = {
    "enterprise": _l("企业"), "individual_business": _l("个体工商户"),
    "cooperative": _l("农民专业合作社"), "farmer": _l("农户"),
}
INSTITUTION_KINDS = {
    "bank": _l("银行"), "guarantee": _l("担保公司"), "pawn": _l("典当行"), "microloan": _l("小额贷款公司"),
}
ROLES = {
    "firm": _l("融资主体"), "lender_officer": _l("客户经理"), "lender_admin": _l("机构管理员"),
    "regulator": _l("监管部门"), "data_admin": _l("数据管理员"), "platform_admin": _l("平台管理员"),
}
NEED_STATUSES = {"open": _l("进行中"), "closed": _l("已关闭"), "withdrawn": _l("已撤回")}
PRODUCT_STATUSES = {"draft": _l("草稿"), "published": _l("已发布"), "retired": _l("已下架")}
URGENCIES = {"normal": _l("一般"), "urgent": _l("紧急")}
CONSENT_STATUSES = {"active": _l("有效"), "paused": _l("暂停"), "revoked": _l("已撤回"),
                    "expired": _l("已过期")}
BATCH_STATUSES = {"loaded": _l("已载入"), "already_loaded": _l("此前已载入，未改动"), "refused": _l("整文件拒收"),
                  "unknown_file": _l("未识别的文件"), "failed": _l("载入失败，已回滚"), "loading": _l("载入中")}
PURPOSES = {"underwriting": _l("贷前审核"), "monitoring": _l("贷后监测"), "supervision": _l("监管"),
            "screening": _l("在线优企筛选")}

RUN_STATUSES = {"queued": _l("排队中"), "running": _l("评分中"), "done": _l("已完成"), "failed": _l("失败")}
RUN_TRIGGERS = {"activation": _l("启用新模型"), "ingest": _l("数据归集后"), "manual": _l("手动发起"),
                "cli": _l("命令行")}
OBJECTION_KINDS = {"review": _l("人工复核"), "data": _l("数据异议")}
OBJECTION_STATUSES = {"open": _l("处理中"), "resolved": _l("已答复"), "rejected": _l("不予受理")}
# What a 查询记录 entry was a view of, by the prefix of its `what`.
ACCESS_KINDS = {"application": _l("融资申请"), "score": _l("信用评分详情"), "ranking": _l("申请人信用排序"),
                "screening": _l("在线优企筛选")}


def label(table, code):
    """The name of `code` in `table`, or the code itself when it has none."""
    return str(table.get(code, code)) if code is not None else ""
