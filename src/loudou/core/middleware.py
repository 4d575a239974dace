"""Request checks every page shares."""

from collections.abc import Callable

from django.core.exceptions import SuspiciousOperation
from django.http import HttpRequest, HttpResponse

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


class RefuseNulMiddleware:
    """A NUL character in a query string or form field is refused with a 400 page before
    any view runs: PostgreSQL cannot store or even compare text containing one (a search
    for it was a 500), and no user types one on purpose. The API checks its own JSON
    bodies and answers in JSON; its query strings are checked here too."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith("/api/"):
            return self.get_response(request)  # JSON errors, from the API's own checks
        query = request.META.get("QUERY_STRING", "")
        if "\x00" in query or "%00" in query:
            raise SuspiciousOperation("NUL character in the query string")
        content_type = request.META.get("CONTENT_TYPE", "")
        if request.method == "POST" and content_type.startswith(FORM_TYPES):
            for values in request.POST.lists():
                for value in values[1]:
                    if "\x00" in value:
                        raise SuspiciousOperation("NUL character in a form field")
        return self.get_response(request)
