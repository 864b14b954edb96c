"""Signed batches exchanged with the city/province 信易贷 node (docs/exchange.md).

Export: the district's open needs (anonymised unless the firm released its identity to lenders), its
published products, and the outcomes of decided applications. Import: products and needs the node
sends, each checked and written through the services the pages use; a record that fails is reported
with its place and reason, the others are taken. A batch is signed with HMAC-SHA256 under the key
shared with the node (EXCHANGE_KEY) over its canonical JSON, and carries an id: the same batch
imported twice changes nothing the second time.
"""
import hashlib
import hmac
import json
import uuid
from decimal import Decimal, InvalidOperation

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from app.common.errors import InvalidInput, NotAllowed
from app.common.money import wan_to_yuan, yuan_to_wan
from app.common.vocab import DECIDED_STATUSES, INSTITUTION_KINDS
from app.config import DEVELOPMENT_EXCHANGE_KEY
from app.entities import Application, CreditSubject, ExchangeBatch, FinancingNeed, Institution, Product, User
from app.entities.base import utcnow
from app.entities.users import PLATFORM_ADMIN
from app.matching.tables import ProductTerms

from . import audit, consents, matches, needs, products

FORMAT = "yintai-exchange/1"
KINDS = ("needs", "products", "outcomes")


def canonical(batch):
    """The bytes a signature covers: the batch without its signature, keys sorted, no spaces, UTF-8."""
    unsigned = {k: v for k, v in batch.items() if k != "signature"}
    return json.dumps(unsigned, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def sign(batch, key):
    """HMAC-SHA256 of the batch's canonical form, in hex."""
    return hmac.new(key.encode("utf-8"), canonical(batch), hashlib.sha256).hexdigest()


def _key():
    """The key agreed with the node; a production run refuses the development one."""
    key = current_app.config["EXCHANGE_KEY"]
    if current_app.config.get("PRODUCTION") and key == DEVELOPMENT_EXCHANGE_KEY:
        raise NotAllowed(_("生产环境须配置与信易贷节点约定的 EXCHANGE_KEY。"))
    return key


def operator(session):
    """The first active platform admin: whom a batch is recorded under when the command names no one."""
    return session.scalars(select(User).where(User.role == PLATFORM_ADMIN, User.active.is_(True))
                           .order_by(User.id)).first()


def _handle(kind, record_id, key):
    """A stable pseudonym of a district record for the node: the same record always has the same handle,
    and no one without the key can tell which record it is."""
    return hmac.new(key.encode("utf-8"), f"{kind}:{record_id}".encode(), hashlib.sha256).hexdigest()[:20]


def _need_record(need, released, key):
    subject = need.subject
    record = {"handle": _handle("need", need.id, key), "amount_wan": float(yuan_to_wan(need.amount)),
              "term_months": need.term_months, "purpose": need.purpose, "guarantee": need.guarantee,
              "subject_kind": subject.kind, "town_code": subject.town_code, "industry_code": subject.industry_code,
              "posted_at": need.created_at.isoformat() + "Z", "identified": released}
    if released:
        record.update(subject_name=subject.name, uscc=subject.uscc)
    return record


def _product_record(product):
    institution = product.institution
    return {"id": product.id, "institution": institution.name, "institution_uscc": institution.uscc,
            "institution_kind": institution.kind, "name": product.name, "description": product.description,
            "amount_min_wan": float(yuan_to_wan(product.amount_min)),
            "amount_max_wan": float(yuan_to_wan(product.amount_max)), "term_min_months": product.term_min_months,
            "term_max_months": product.term_max_months, "rate_min": float(product.rate_min),
            "rate_max": float(product.rate_max), "guarantee_types": list(product.guarantee_types),
            "repayment": product.repayment, "version": product.version}


def _outcome_record(application, key):
    loan = application.loan
    return {"need": _handle("need", application.need_id, key), "product_id": application.product_id,
            "status": application.status, "decided_at": application.decided_at.isoformat() + "Z",
            "reasons": application.decision_reasons or [],
            "approved_amount_wan": float(yuan_to_wan(application.approved_amount))
            if application.approved_amount is not None else None,
            "approved_rate": float(application.approved_rate) if application.approved_rate is not None else None,
            "loan_status": loan.status if loan else None}


def export(session, user, now=None):
    """Stage the export batch (signed) and its record; returns the batch."""
    key = _key()
    now = now or utcnow()
    open_needs = session.scalars(select(FinancingNeed).where(FinancingNeed.status == "open")
                                 .order_by(FinancingNeed.id)).all()
    released = consents.released_subjects(session, [n.subject_id for n in open_needs], now)
    published = session.scalars(select(Product).join(Institution).where(
        Product.status == "published", Institution.active.is_(True)).order_by(Product.id)).all()
    decided = session.scalars(select(Application).where(Application.status.in_(DECIDED_STATUSES),
                                                        Application.decided_at.is_not(None))
                              .order_by(Application.id)).all()
    batch = {"format": FORMAT, "batch_id": f"{current_app.config['REGION_CODE']}-{uuid.uuid4().hex}",
             "region": current_app.config["REGION_CODE"], "created_at": now.isoformat() + "Z",
             "needs": [_need_record(n, n.subject_id in released, key) for n in open_needs],
             "products": [_product_record(p) for p in published],
             "outcomes": [_outcome_record(a, key) for a in decided]}
    batch["signature"] = sign(batch, key)
    record = ExchangeBatch(batch_id=batch["batch_id"], direction="export",
                           sha256=hashlib.sha256(canonical(batch)).hexdigest(),
                           counts={kind: len(batch[kind]) for kind in KINDS}, rejects=[], at=now)
    session.add(record)
    audit.record(session, user, "exchange.export", record, batch=batch["batch_id"], **record.counts)
    return batch


def _checked_batch(batch, key):
    if not isinstance(batch, dict) or batch.get("format") != FORMAT:
        raise InvalidInput(_("不是本平台约定格式（%(f)s）的批次。", f=FORMAT), "format")
    signature = batch.get("signature")
    if not isinstance(signature, str) or not hmac.compare_digest(signature, sign(batch, key)):
        raise InvalidInput(_("批次签名不符：文件被改动，或双方密钥不一致。整批未导入。"), "signature")
    batch_id = batch.get("batch_id")
    if not isinstance(batch_id, str) or not 1 <= len(batch_id) <= 64:
        raise InvalidInput(_("批次编号缺失或过长。"), "batch_id")
    for kind in ("needs", "products"):
        if not isinstance(batch.get(kind, []), list):
            raise InvalidInput(_("批次中的 %(k)s 应为列表。", k=kind), kind)
    return batch_id


def import_batch(session, batch, user, now=None):
    """Take a signed batch from the node: (its ExchangeBatch record, True when new). InvalidInput refuses a
    batch whose format or signature is wrong (nothing taken); a batch seen before is returned unchanged."""
    batch_id = _checked_batch(batch, _key())
    earlier = session.scalars(select(ExchangeBatch).where(ExchangeBatch.batch_id == batch_id)).first()
    if earlier is not None:
        return earlier, False
    rejects, counts = [], {"products": 0, "needs": 0}
    for kind, take in (("products", _take_product), ("needs", _take_need)):
        for index, item in enumerate(batch.get(kind, [])):
            try:
                with session.begin_nested():
                    take(session, item, user, batch_id)
            except (InvalidInput, NotAllowed, KeyError, TypeError, ValueError, InvalidOperation) as error:
                message = getattr(error, "message", None) or _("缺少或无法识别的字段：%(f)s", f=str(error))
                rejects.append({"kind": kind, "index": index, "reason": message})
            else:
                counts[kind] += 1
    record = ExchangeBatch(batch_id=batch_id, direction="import", counts={**counts, "rejected": len(rejects)},
                           sha256=hashlib.sha256(canonical(batch)).hexdigest(), rejects=rejects, at=now or utcnow())
    session.add(record)
    session.flush()
    audit.record(session, user, "exchange.import", record, batch=batch_id, products=counts["products"],
                 needs=counts["needs"], rejected=len(rejects))
    return record, True


def _wan(value, field):
    try:
        return wan_to_yuan(Decimal(str(value)))
    except (InvalidOperation, ValueError):
        raise InvalidInput(_("%(f)s 应为以万元为单位的数字。", f=field), field) from None


def _institution(session, item):
    """The node's product's institution: found by its code or name, or registered (kind checked)."""
    uscc, name = item.get("institution_uscc"), str(item["institution"]).strip()
    found = session.scalars(select(Institution).where(
        (Institution.uscc == uscc) if uscc else (Institution.name == name))).first()
    if found is not None:
        return found
    if item.get("institution_kind") not in INSTITUTION_KINDS or not name or len(name) > 120:
        raise InvalidInput(_("机构名称或类型无效。"), "institution")
    institution = Institution(name=name, uscc=uscc or None, kind=item["institution_kind"])
    session.add(institution)
    session.flush()
    return institution


def _take_product(session, item, user, batch_id):
    """Publish the node's product, or update the institution's product of that name to its terms."""
    institution = _institution(session, item)
    terms = ProductTerms(name=str(item["name"]), description=str(item.get("description") or ""),
                         amount_min=_wan(item["amount_min_wan"], "amount_min_wan"),
                         amount_max=_wan(item["amount_max_wan"], "amount_max_wan"),
                         term_min=int(item["term_min_months"]), term_max=int(item["term_max_months"]),
                         rate_min=Decimal(str(item["rate_min"])), rate_max=Decimal(str(item["rate_max"])),
                         guarantee_types=tuple(item["guarantee_types"]), repayment=item.get("repayment", "annuity"))
    existing = session.scalars(select(Product).where(Product.institution_id == institution.id,
                                                     Product.name == terms.name.strip(),
                                                     Product.status == "published")).first()
    if existing is not None:
        return products.update_product(session, existing, user, terms)
    return products.publish_product(session, institution, user, terms)


def _take_need(session, item, user, batch_id):
    """Post the node's need for a subject of the district (found by its 统一社会信用代码)."""
    uscc = str(item.get("uscc") or "").strip().upper()
    subject = session.scalars(select(CreditSubject).where(CreditSubject.uscc == uscc)).first() if uscc else None
    if subject is None:
        raise InvalidInput(_("本区没有统一社会信用代码为“%(c)s”的主体。", c=uscc), "uscc")
    # The node's own id of the need, hashed: the same need sent in another batch posts nothing twice.
    token = "x" + hashlib.sha256(f"{item['node_id']}".encode()).hexdigest()[:31]
    need = needs.post_need(session, subject, user, _wan(item["amount_wan"], "amount_wan"),
                           int(item["term_months"]), item.get("purpose"), item.get("guarantee"),
                           form_token=token)
    matches.rematch_need(session, need)
    return need
