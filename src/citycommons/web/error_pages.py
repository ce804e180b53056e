"""The HTML face of the error tree: one friendly page per status, in the visitor's language.

``web.errors.render`` calls :func:`render_error_page` for requests that want HTML. Messages raised by the services
are English msgids; those listed in ``KNOWN_MESSAGES`` are translated, others are shown as they are.
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import Request
from fastapi.responses import Response

from citycommons.errors import CityCommonsError, NotAuthenticated, QuotaExceeded
from citycommons.settings import Settings
from citycommons.web.render import N_, view_for

TITLES = {
    400: N_("The request could not be understood"),
    401: N_("Please sign in"),
    403: N_("You do not have access to this page"),
    404: N_("Page not found"),
    405: N_("That action is not possible here"),
    409: N_("That conflicts with existing data"),
    413: N_("The file or form is too large"),
    422: N_("Some of the information is not valid"),
    429: N_("Too many requests"),
}
# Messages the services raise that visitors commonly see, so that the catalogs translate them.
KNOWN_MESSAGES = (
    N_("Not found"),
    N_("Dataset not found"),
    N_("Resource not found"),
    N_("Organization not found"),
    N_("User not found"),
    N_("You may not edit this dataset"),
    N_("You may not add datasets to this organisation"),
    N_("This data is not open; ask the data steward for access"),
    N_("This resource has no stored file; follow its URL"),
    N_("The stored file is missing"),
    N_("The form has expired or did not come from this site; reload the page and try again"),
    N_("Invalid input"),
    N_("Sign in first"),
    N_("You are not an editor of any organisation"),
    N_("Only members can list the members of an organisation"),
)


def render_error_page(request: Request, exc: CityCommonsError) -> Response:
    settings: Settings = request.app.state.settings
    view = view_for(request, settings)
    if isinstance(exc, NotAuthenticated) and request.method in ("GET", "HEAD"):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return view.redirect(f"/user/login?next={quote(target, safe='')}")
    headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, QuotaExceeded) else {}
    title = TITLES.get(exc.status, N_("Something went wrong"))
    return view.render(
        "error.html",
        status_code=exc.status,
        headers=headers,
        status=exc.status,
        title=view.gettext(title),
        message=view.gettext(exc.message) if exc.message else "",
        retry_after=exc.retry_after if isinstance(exc, QuotaExceeded) else None,
    )
