"""The pages work under the Content-Security-Policy: nothing on them is blocked by it."""
import pytest

from app.demo import demo_logins

from .test_pages import demo, log_in  # noqa: F401  (the demo fixture)

# A page that breaks the policy the way an inline snippet would, to show the check sees it.
INLINE_PAGE = """<!doctype html><html><head><title>before</title></head><body>
<p id="styled" style="color: rgb(255, 0, 0)">x</p><script>document.title = "after";</script>
<button id="handler" onclick="document.title = 'clicked'">y</button></body></html>"""


def test_the_check_sees_what_the_policy_blocks(app, page):
    app.add_url_rule("/inline-probe", "inline_probe", lambda: INLINE_PAGE)
    page.goto(f"{page.base}/inline-probe")
    page.click("#handler")
    assert page.title() == "before"
    assert page.evaluate("getComputedStyle(document.getElementById('styled')).color") != "rgb(255, 0, 0)"
    assert len(page.csp_violations) >= 3


@pytest.mark.parametrize("username", sorted({username for _role, username, _ in demo_logins()}))
def test_every_page_in_the_menu_runs_without_a_policy_violation(demo, page, username):  # noqa: F811
    for path in ("/", "/login", "/register", "/no-such-page"):
        page.goto(f"{page.base}{path}")
    log_in(page, username)
    links = page.eval_on_selector_all("nav.nav a", "links => links.map(a => a.getAttribute('href'))")
    assert links
    for href in links:
        response = page.goto(f"{page.base}{href}")
        assert response.ok, href
        assert "'self'" in response.headers["content-security-policy"]
    page.click("text=English")
    page.wait_for_load_state("load")
    assert page.csp_violations == [] and page.outside_requests == []
