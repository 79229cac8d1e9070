"""The API's browsable docs load in a real browser from the app's own files, under its
Content Security Policy (a violation fails the test), and try a call with the session."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_docs_page_runs_under_the_csp_and_tries_a_call(coding, study):
    page = coding.open(study["manager"], "/api/v1/docs")
    page.wait_for_selector("#operations-projects-list_projects")
    assert page.locator(".opblock").count() >= 16
    requests = []
    page.on("request", lambda request: requests.append(request.url))
    page.click("#operations-projects-list_projects .opblock-summary")
    page.click("#operations-projects-list_projects .try-out__btn")
    page.click("#operations-projects-list_projects .execute")
    # The live response (not the documented example, which shares the class names); under
    # load it comes after the example is drawn, so wait for its text.
    body = page.locator("#operations-projects-list_projects .live-responses-table .microlight")
    expect(body.first).to_contain_text("Study", timeout=15_000)
    assert all(url.startswith(coding.url) for url in requests), requests
