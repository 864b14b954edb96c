"""Record ids and page numbers as URLs and query strings carry them, bounded before they reach a query.

A number beyond the column's range is no record (404) and no page, never a database error: PostgreSQL
refuses to compare an Integer column with 2³¹ or more, and an OFFSET past 2⁶³.
"""
from werkzeug.routing import IntegerConverter

# Integer primary keys are 32-bit on PostgreSQL (SQLite's are 64-bit, but the code is one).
MAX_ID = 2**31 - 1
# No list the platform pages through is a million pages long.
MAX_PAGE = 1_000_000


class IdConverter(IntegerConverter):
    """`<id:name>` in a route: a record id, 1 … MAX_ID; any other path segment matches no route (404)."""

    def __init__(self, url_map):
        super().__init__(url_map, min=1, max=MAX_ID)


def is_record_id(value):
    """True for an int that an Integer primary key can hold."""
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_ID


def page_number(text):
    """A page number from a query string, for `request.args.get("page", 1, type=page_number)`: a
    ValueError (so the default) unless it is a whole number in 1 … MAX_PAGE."""
    page = int(text)
    if not 1 <= page <= MAX_PAGE:
        raise ValueError(text)
    return page
