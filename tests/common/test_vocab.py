"""The code vocabularies: codes in order, names in both languages, subsets."""
import pytest
from flask_babel import force_locale

from app.common import vocab


def test_a_vocabulary_is_its_codes_in_order():
    assert tuple(vocab.GUARANTEE_TYPES) == ("credit", "guarantor", "mortgage", "pledge")
    assert "mortgage" in vocab.GUARANTEE_TYPES and "land" not in vocab.GUARANTEE_TYPES
    assert vocab.GUARANTEE_TYPES.index("pledge") == 3 and vocab.GUARANTEE_TYPES[0] == "credit"


def test_names_follow_the_user_language(app):
    with app.test_request_context():
        assert vocab.GUARANTEE_TYPES.label("mortgage") == "抵押"
        with force_locale("en"):
            assert vocab.GUARANTEE_TYPES.label("mortgage") == "Mortgage"
            assert dict(vocab.SUBJECT_KINDS.choices())["farmer"] == "Farmer"


def test_unknown_and_missing_codes():
    assert vocab.DECLINE_REASONS.label("no_such_reason") == "no_such_reason"
    assert vocab.DECLINE_REASONS.label(None) == ""


def test_subsets_keep_order_and_names():
    assert tuple(vocab.OPEN_APPLICATION_STATUSES) == ("submitted", "in_review", "info_requested")
    assert set(vocab.DECIDED_STATUSES) <= set(vocab.APPLICATION_STATUSES)
    assert not set(vocab.DECIDED_STATUSES) & set(vocab.OPEN_APPLICATION_STATUSES)
    assert vocab.OPEN_APPLICATION_STATUSES.names["in_review"] is vocab.APPLICATION_STATUSES.names["in_review"]
    with pytest.raises(LookupError, match="bogus"):
        vocab.APPLICATION_STATUSES.subset("submitted", "bogus")


def test_every_vocabulary_names_every_code():
    tables = [v for v in vars(vocab).values() if isinstance(v, vocab.Vocabulary)]
    assert len(tables) > 15
    for table in tables:
        assert len(set(table)) == len(table) and all(table.names[code] for code in table)


def test_application_status_subsets_partition_the_lifecycle():
    statuses = vocab.APPLICATION_STATUSES
    assert set(vocab.DECIDED_STATUSES) == {"declined", *vocab.APPROVED_STATUSES}
    assert set(vocab.PENDING_APPLICATION_STATUSES) == {*vocab.OPEN_APPLICATION_STATUSES, "approved", "offer_accepted"}
    assert set(vocab.REPAYMENT_OUTCOMES) < set(vocab.LOAN_STATUSES) < set(vocab.APPROVED_STATUSES) < set(statuses)
    assert set(vocab.DECLARED_OUTCOMES) == {"defaulted", "written_off"}


@pytest.mark.parametrize(("days", "band"), [(None, None), (0, None), (1, "dpd_1_30"), (30, "dpd_1_30"),
                                            (31, "dpd_31_90"), (90, "dpd_31_90"), (91, "dpd_90_plus")])
def test_overdue_bands(days, band):
    assert vocab.overdue_band(days) == band


def audited_action_codes():
    """Every action code app/ hands to `audit.record`: a string written in the call, or one passed to the
    function whose parameter the call forwards (as `_decided(…, "application.approve", …)` does)."""
    import ast
    from pathlib import Path

    codes = set()
    for path in (Path(vocab.__file__).resolve().parents[1]).rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        functions = {node.name: node for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)}
        for function in functions.values():
            for call in ast.walk(function):
                if not (isinstance(call, ast.Call) and ast.unparse(call.func) in ("audit.record", "record")
                        and len(call.args) >= 3):
                    continue
                action = call.args[2]
                if isinstance(action, ast.Constant):
                    codes.add(action.value)
                    continue
                if isinstance(action, ast.IfExp):  # "user.activate" if active else "user.deactivate"
                    codes.update(branch.value for branch in (action.body, action.orelse))
                    continue
                if isinstance(action, ast.JoinedStr):  # f"repair.{decision}": every value the vocabulary allows
                    codes.update(_expanded(action))
                    continue
                assert isinstance(action, ast.Name), f"{path}: an action that is neither a string nor a parameter"
                position = [arg.arg for arg in function.args.args].index(action.id)
                for forward in ast.walk(tree):
                    if isinstance(forward, ast.Call) and ast.unparse(forward.func) == function.name:
                        codes.add(forward.args[position].value)
    return codes


# The values an f-string's placeholder takes in an audited action, by the placeholder's expression.
PLACEHOLDER_VALUES = {
    "decision": (*vocab.OBJECTION_DECISIONS, "resolved", *vocab.REPAIR_DECISIONS),
    "invitation.kind": ("subject", "member"), "kind": ("subject", "member"),
}


def _expanded(joined):
    """The action codes an f-string like f"repair.{decision}" can make, for the prefix it starts with."""
    import ast

    prefix = "".join(part.value for part in joined.values if isinstance(part, ast.Constant))
    placeholder = next(ast.unparse(part.value) for part in joined.values if isinstance(part, ast.FormattedValue))
    known = {"objection.": ("upheld", "rejected", "resolved"), "repair.": tuple(vocab.REPAIR_DECISIONS)}
    return {prefix + value for value in known.get(prefix, PLACEHOLDER_VALUES[placeholder])}


def test_every_audited_action_has_a_name_in_both_languages(app):
    codes = audited_action_codes()
    assert {"login.failed", "application.approve", "application.decline", "consent.grant"} <= codes
    assert codes - set(vocab.AUDIT_ACTIONS) == set()
    with app.test_request_context():
        chinese = {code: vocab.AUDIT_ACTIONS.label(code) for code in vocab.AUDIT_ACTIONS}
        with force_locale("en"):
            english = {code: vocab.AUDIT_ACTIONS.label(code) for code in vocab.AUDIT_ACTIONS}
    assert all(chinese[code] != english[code] and english[code].isascii() for code in chinese)
