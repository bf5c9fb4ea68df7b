"""Waiting for a condition in a page that runs under the Content-Security-Policy.

Playwright's ``page.wait_for_function`` re-checks its expression with the page's own
``eval``, which the policy forbids (no ``'unsafe-eval'``), so it fails as soon as the
condition is not true at once. :func:`wait_in_page` asks the same question through
``page.evaluate`` (the DevTools protocol, which the policy does not govern) until it
holds or the timeout passes.
"""

from __future__ import annotations

import time

DEFAULT_TIMEOUT = 30.0
POLL_MS = 50


def wait_in_page(page, expression: str, arg: object = None,
                 timeout: float = DEFAULT_TIMEOUT) -> object:
    """Return the first truthy value of ``expression`` (a JavaScript expression, or an arrow
    function given ``arg``) evaluated in ``page``; raise ``TimeoutError`` naming it otherwise."""
    deadline = time.monotonic() + timeout
    while True:
        value = page.evaluate(expression, arg)
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"still false after {timeout:g} s in the page: {expression}")
        page.wait_for_timeout(POLL_MS)
