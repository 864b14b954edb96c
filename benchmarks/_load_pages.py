"""What the load benchmark's journeys read from and post to the site's pages (benchmarks/load.py).

Kept apart from load.py, which patches the standard library with gevent as it imports locust, so that
tests/test_load_pages.py checks these against the pages the app renders today.
"""
import re

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')
FORM_TOKEN = re.compile(r'name="form_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="form_token"')
# The consent page of a product that fits the need, on the need's page (best fit first).
APPLY_LINK = re.compile(r'href="(/firm/needs/\d+/apply/\d+)"')
# An application of the officer's work queue.
APPLICATION_LINK = re.compile(r'href="(/lender/applications/\d+)"')
# A need as a firm posts it: 50 万元 for a year, credit only.
NEED_FORM = {"amount_wan": "50", "term_months": "12", "purpose": "购置原材料，扩大生产", "guarantee": "credit",
             "max_rate": "", "urgency": "normal"}


def field(pattern, html):
    """The value the page's form holds for the pattern's hidden field, or None."""
    match = pattern.search(html)
    return (match.group(1) or match.group(2)) if match else None


def login_form(html, username, password):
    return {"csrf_token": field(CSRF, html), "username": username, "password": password}


def need_form(html):
    return {"csrf_token": field(CSRF, html), "form_token": field(FORM_TOKEN, html), **NEED_FORM}


def apply_form(html):
    """The consent page's form, with the consent given."""
    return {"csrf_token": field(CSRF, html), "form_token": field(FORM_TOKEN, html), "consent": "y"}
