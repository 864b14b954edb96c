"""The product rule form: bad input is refused clearly and saves nothing; a change is a new version."""
import pytest
from sqlalchemy import func, select

from app.entities import Application, AuditEntry, Match, Product, ProductVersion
from app.extensions import db
from app.lender.forms import ProductRulesForm, product_form_data
from app.services import matches

from ..conftest import logged_in_client, page_text
from ..test_journey import post_form

GOOD = {"name": "陶瓷贷", "amount_min_wan": "10", "amount_max_wan": "300", "term_min": "6", "term_max": "36",
        "rate_min": "3.65", "rate_max": "5.5", "guarantee_types": ["credit", "mortgage"], "repayment": "annuity",
        "blacklist_policy": "exclude", "unscored_pass": "y", "industries": "C, 0151", "min_age_years": "2",
        "required_sources-0-source": "tax_filing", "required_sources-0-months": "12",
        "extra-0-attribute": "revenue_12m_wan", "extra-0-operator": "ge", "extra-0-value": "100"}

BAD = [
    ({"industries": "Z9"}, "行业“Z9”无效"),
    ({"min_age_years": "-1"}, "最低成立年限应在 0 到 100 年之间"),
    ({"max_pd": "150"}, "违约概率上限超出范围：应大于 0 且不超过 100%"),
    ({"max_pd": "很低"}, "违约概率上限格式不正确"),
    ({"upfront_fee_pct": "25"}, "一次性费用率应在 0 到 20% 之间"),
    ({"guarantee_fee_pct": "-1"}, "费用率超出范围：应在 0 到 100% 之间"),
    ({"guarantee_fee_pct": "12"}, "担保费率应在每年 0 到 10% 之间"),
    ({"repayment": "balloon"}, "请选择还款方式"),
    ({"required_sources-0-months": "99"}, "要求的月数应为 1 到 36 之间的整数"),
    ({"required_sources-1-source": "tax_filing", "required_sources-1-months": "6"}, "不重复的部门数据来源"),
    ({"extra-0-value": "很多"}, "的比较值应为数字"),
    ({"extra-0-attribute": "height"}, "请为自定义条件选择有效的企业指标"),
    ({"extra-0-operator": "in"}, "不支持所选的比较方式"),
    ({"min_grade": "AAA"}, "请选择有效的信用等级"),
    ({"towns": ["110101001"]}, "请选择本区的乡镇街道"),
    ({"amount_min_wan": "500"}, "最低额度不能高于最高额度"),
]


def counts():
    return tuple(db.session.scalar(select(func.count(model.id))) for model in (Product, ProductVersion, AuditEntry))


@pytest.mark.parametrize(("change", "message"), BAD)
def test_bad_rules_are_refused_clearly_and_save_nothing(app, world, change, message):
    before = counts()
    client = logged_in_client(app, world["users"]["lender_admin"])
    response = post_form(client, "/lender/products/new", {**GOOD, **change})
    assert response.status_code == 400 and message in page_text(response)
    assert counts() == before
    edit = post_form(client, f"/lender/products/{world['product'].id}/edit", {**GOOD, **change})
    assert edit.status_code == 400 and message in page_text(edit)
    db.session.expire_all()
    assert counts() == before and world["product"].version == 1


def test_a_published_product_keeps_its_rules_as_data(app, world):
    client = logged_in_client(app, world["users"]["lender_admin"])
    assert post_form(client, "/lender/products/new", GOOD).status_code == 302
    product = db.session.scalars(select(Product).where(Product.name == "陶瓷贷")).one()
    assert product.rules["industries"] == ["C", "0151"] and product.rules["min_age_years"] == 2.0
    assert product.rules["required_sources"] == [{"source": "tax_filing", "months": 12}]
    assert product.rules["extra"] == [{"attribute": "revenue_12m_wan", "operator": "ge", "value": 100.0}]
    form = page_text(client.get(f"/lender/products/{product.id}/edit"))
    assert 'value="C, 0151"' in form and 'value="100"' in form


def test_an_edit_is_a_new_version_and_rematches_open_needs(app, world):
    matches.rematch_all(db.session)
    db.session.commit()
    product, need = world["product"], world["need"]
    stored = db.session.scalars(select(Match).where(Match.product_id == product.id, Match.need_id == need.id)).one()
    assert stored.eligible
    client = logged_in_client(app, world["users"]["lender_admin"])
    response = post_form(client, f"/lender/products/{product.id}/edit", {
        **GOOD, "min_age_years": "20", "industries": "", "extra-0-attribute": "", "extra-0-value": "",
        "required_sources-0-source": "", "required_sources-0-months": ""})
    assert response.status_code == 302
    db.session.expire_all()
    assert product.version == 2
    stored = db.session.scalars(select(Match).where(Match.product_id == product.id, Match.need_id == need.id)).one()
    assert not stored.eligible and [r["rule"] for r in stored.rule_results] == ["firm_age"]
    history = page_text(client.get(f"/lender/products/{product.id}/versions"))
    assert history.count("<tr><td>") == 2 and "min_age_years" in history


def test_an_application_records_the_product_version_it_was_made_against(app, world):
    client = logged_in_client(app, world["users"]["firm"])
    need = world["need"]
    need.status = "open"
    world["application"].status = "withdrawn"
    db.session.commit()
    response = post_form(client, f"/firm/needs/{need.id}/apply/{world['product'].id}", {"consent": "y"})
    assert response.status_code == 302
    application = db.session.scalars(select(Application).order_by(Application.id.desc())).first()
    assert application.product_version.version == 1
    assert application.product_version.terms["rate_min"] == "3.850"


def as_posted(data):
    """A product's form data as a browser posts it back (lists of rows as `name-k-field`, ticked boxes as y)."""
    posted = {}
    for name, value in data.items():
        if isinstance(value, bool):
            if value:
                posted[name] = "y"
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            posted.update({f"{name}-{k}-{key}": v for k, row in enumerate(value) for key, v in row.items()})
        else:
            posted[name] = value
    return posted


def test_an_edit_that_changes_nothing_keeps_the_version(app, world):
    client = logged_in_client(app, world["users"]["lender_admin"])
    assert post_form(client, "/lender/products/new", GOOD).status_code == 302
    product = db.session.scalars(select(Product).where(Product.name == "陶瓷贷")).one()
    before = counts()
    response = post_form(client, f"/lender/products/{product.id}/edit", as_posted(product_form_data(product)))
    assert response.status_code == 302
    db.session.expire_all()
    assert product.version == 1 and counts() == before
    assert "产品条款没有变化，仍为第 1 版" in page_text(client.get("/lender/products"))


@pytest.mark.parametrize(("limit", "months", "accepted"), [(360, 361, False), (120, 120, True), (120, 121, False)])
def test_the_longest_term_a_product_may_offer_follows_the_configuration(app, world, limit, months, accepted):
    app.config["MAX_TERM_MONTHS"] = limit
    with app.test_request_context(method="POST", data={**GOOD, "term_max": str(months)}):
        form = ProductRulesForm(meta={"csrf": False})
        assert form.validate() == accepted
        assert form.errors.get("term_max") == (None if accepted else [f"期限应在 1 到 {limit} 个月之间。"])
