"""The widget embed routes: the page a host application frames, and the calls the page makes.

``GET /embed/{EmbedId}`` opens a widget with a long-lived token (``token`` query parameter) or
an embed session token made by ``POST /api/v2/widget/{WidgetId}/embed``, and renders a
self-contained HTML page. Everything the page does afterwards (paging, sorting, searching,
details, actions, exports) presents the page's embed session token in the Authorization
header or a form field, never the long-lived token. Each response that re-checks a session
returns a renewed one in the ``X-Embed-Session`` header.

Every response carries the security headers of ``security_headers``, with
``frame-ancestors`` set to the widget's allowed origins ('self' when it has none).
"""

from __future__ import annotations

import logging
import secrets
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from jinja2 import Environment, PackageLoader, select_autoescape
from sqlalchemy.orm import Session
from starlette.responses import HTMLResponse, JSONResponse, Response, StreamingResponse

from listdock.api.direct_route import DirectRoute
from listdock.connectors.formats import FILE_EXTENSIONS, MEDIA_TYPES, render
from listdock.domain.models import Widget
from listdock.errors import (
    AuthenticationError,
    ConflictError,
    InvalidInputError,
    ListdockError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    SourceError,
    SourceTimeoutError,
)
from listdock.security import roles
from listdock.services.embed import EmbedCaller, require_writable
from listdock.services.widget_pages import ViewState
from listdock.web.grid_html import grid_content, pager

if TYPE_CHECKING:
    from listdock.app import Services

logger = logging.getLogger(__name__)

router = APIRouter(include_in_schema=False)

SESSION_HEADER = "X-Embed-Session"
THEMES = ("light", "dark")
STATUS_BY_ERROR: tuple[tuple[type[ListdockError], int], ...] = (
    (AuthenticationError, 401),
    (NotFoundError, 404),
    (InvalidInputError, 400),
    (ConflictError, 409),
    (PermissionDeniedError, 403),
    (RateLimitedError, 429),
    (SourceTimeoutError, 504),
    (SourceError, 502),
)
PAGE_MESSAGES = {
    "token_required": (
        "This widget needs a token. Open it through the application that embeds it, "
        "or add token=… to the widget address."
    ),
    "invalid_token": (
        "This widget link is not valid: its token is unknown, expired, disabled or revoked. "
        "Ask the application that shows it for a new link, then reload the page."
    ),
    "token_scope": (
        "This token was made for another widget, so it cannot open this one. "
        "Use a token made for this widget or a user token."
    ),
    "missing_role": (
        "The token's owner may not open widgets. "
        "Ask an administrator to give the owner the WidgetReader role."
    ),
    "no_data_grant": (
        "The token's owner has no grant to read this widget's data. "
        "Ask an administrator for a grant on the list and its company."
    ),
    "widget_not_found": "This widget does not exist. Check the widget address.",
    "entity_not_found": (
        "This widget's list was not found: it was deleted, or the token's owner has no grant "
        "on it. Ask an administrator for a grant on the list and its company."
    ),
    "company_not_found": (
        "This widget's company was not found: it was deleted, or the token's owner has no "
        "grant on it. Ask an administrator for a grant on the list and its company."
    ),
    "widget_source_missing": (
        "This widget's list, favorite, company or fields are no longer available. "
        "Ask the widget's developer to update it."
    ),
}
ADVICE = {
    400: "Correct the widget address and load it again.",
    403: "Ask an administrator for the role or grant the token's owner needs.",
    404: "It may have been deleted, or the token's owner may not have access to it.",
    409: "Reload the page and try again.",
    429: "Wait a moment and reload the page.",
    502: "The data source failed. Try again later.",
    504: "The data source timed out. Try again later.",
}


def build_embed_environment() -> Environment:
    """Return the Jinja2 environment of the embed templates, with autoescaping always on."""
    environment = Environment(
        loader=PackageLoader("listdock", "web/templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.globals["grid_content"] = grid_content
    environment.globals["pager"] = pager
    return environment


TEMPLATES = build_embed_environment()


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


def status_for(error: ListdockError) -> int:
    for error_class, status in STATUS_BY_ERROR:
        if isinstance(error, error_class):
            return status
    return 500


def security_headers(origins: list[str], nonce: str | None = None) -> dict[str, str]:
    """Return the headers every embed response carries."""
    ancestors = " ".join(origins) if origins else "'self'"
    script = f"'nonce-{nonce}'" if nonce else "'none'"
    policy = (
        f"default-src 'none'; style-src 'unsafe-inline'; script-src {script}; "
        f"connect-src 'self'; form-action 'self'; img-src data:; base-uri 'none'; "
        f"frame-ancestors {ancestors}"
    )
    return {
        "Content-Security-Policy": policy,
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
    }


def presented_credential(request: Request, form_value: str | None = None) -> str | None:
    """Return the token or embed session the request carries, or None.

    The Authorization header (Bearer), the ``token`` query parameter (GET only) and, for
    form posts, the ``session`` field are accepted; more than one is a 400.
    """
    header = request.headers.get("authorization")
    query_values = request.query_params.getlist("token")
    given = [value for value in (header, form_value) if value is not None]
    if len(given) + (1 if query_values else 0) > 1 or len(query_values) > 1:
        raise InvalidInputError("Send the token in one place only", code="token_conflict")
    if header is not None:
        scheme, _, rest = header.strip().partition(" ")
        return rest.strip() if scheme.lower() == "bearer" else ""
    if query_values:
        if request.method not in ("GET", "HEAD"):
            raise InvalidInputError(
                "The token parameter is accepted on GET requests only", code="token_in_query"
            )
        return query_values[0].strip()
    return form_value


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


def error_sentence(error: ListdockError, status: int) -> str:
    """Return a full sentence for an error page: what failed and what to do next."""
    if error.code in PAGE_MESSAGES:
        return PAGE_MESSAGES[error.code]
    if error.code == "missing_parameter":
        name = error.message.removeprefix("Missing parameter ")
        return (
            f"This widget needs the parameter {name}. "
            f"Add {name}=… to the widget address and load it again."
        )
    if error.code == "unknown_parameter":
        return (
            f"{error.message.rstrip('.')}. Remove that parameter from the widget address, "
            "or use one of the accepted ones, and load it again."
        )
    advice = ADVICE.get(status, "Try again later.")
    return f"{error.message.rstrip('.')}. {advice}"


def log_error(error: ListdockError, status: int) -> None:
    """Log a refused or failed embed request by its code; messages may quote request values."""
    if status >= 500:
        logger.warning("Embed request failed with %d (%s)", status, error.code)
    else:
        logger.info("Embed request rejected with %d (%s)", status, error.code)


def error_page(error: ListdockError, origins: list[str]) -> HTMLResponse:
    status = status_for(error)
    log_error(error, status)
    template = TEMPLATES.get_template("embed/error.html")
    html = template.render(message=error_sentence(error, status), status=status)
    return HTMLResponse(html, status_code=status, headers=security_headers(origins))


def error_json(error: ListdockError, origins: list[str]) -> JSONResponse:
    status = status_for(error)
    log_error(error, status)
    headers = security_headers(origins)
    if isinstance(error, RateLimitedError):
        headers["Retry-After"] = str(error.retry_after)
    return JSONResponse({"error": error.message, "code": error.code}, status, headers=headers)


class EmbedContext:
    """One embed request: its store session, widget, caller and the owner's rights."""

    def __init__(self, request: Request, session: Session, embed_id: str) -> None:
        self.request = request
        self.session = session
        self.services = get_services(request)
        self.widget: Widget | None = None
        self.origins: list[str] = []
        self.embed_id = embed_id

    def load_widget(self) -> Widget:
        self.widget = self.services.widgets.get_by_embed_id(self.session, self.embed_id)
        self.origins = self.services.embed.frame_ancestors(self.session, self.widget)
        return self.widget

    def caller(
        self,
        form_value: str | None = None,
        *,
        with_query: bool = False,
        require_parameters: bool = True,
    ) -> EmbedCaller:
        widget = self.widget or self.load_widget()
        credential = presented_credential(self.request, form_value)
        query = list(self.request.query_params.multi_items()) if with_query else []
        return self.services.embed.open_caller(
            self.session,
            widget,
            credential,
            ip=client_ip(self.request),
            query_parameters=query,
            require_parameters=require_parameters,
        )


def view_state(values: dict[str, str]) -> ViewState:
    """Return the paging, sorting and search that a request names."""
    raw_skip = values.get("skip", "0") or "0"
    if not raw_skip.isdigit() or len(raw_skip) > 12:
        raise InvalidInputError("skip must be a non-negative integer", code="invalid_skip")
    return ViewState(
        skip=int(raw_skip),
        sort=values.get("sort") or None,
        descending=values.get("desc", "") in ("1", "true"),
        search_field=values.get("field") or None,
        search=(values.get("q") or "").strip()[:200],
    )


# Page -----------------------------------------------------------------------------------


@router.get("/embed/{EmbedId}", name="embed_page", response_class=HTMLResponse)
def embed_page(EmbedId: str, request: Request) -> Response:  # noqa: N803
    """Render a widget as a complete page for an iframe."""
    services = get_services(request)
    with services.sessions() as session:
        context = EmbedContext(request, session, EmbedId)
        try:
            context.load_widget()
            caller = context.caller(with_query=True)
            access, source = services.embed.authorize(session, caller, source_widget(context))
            page = services.embed.page(session, caller, access, source, ViewState())
        except ListdockError as error:
            return error_page(error, context.origins)
        logger.debug("Opened widget %s for principal %s", page.widget.id, caller.principal_id)

        theme = request.query_params.get("theme", "light")
        locale = request.query_params.get("locale", "en")
        nonce = secrets.token_urlsafe(16)
        html = TEMPLATES.get_template("embed/widget.html").render(
            page=page,
            session_value=caller.session_value,
            base_path=f"/embed/{EmbedId}",
            theme=theme if theme in THEMES else "light",
            locale=locale if locale.replace("-", "").isalnum() and len(locale) <= 16 else "en",
            nonce=nonce,
            read_only=caller.read_only,
        )
    return HTMLResponse(html, headers=security_headers(context.origins, nonce))


def source_widget(context: EmbedContext) -> Widget:
    assert context.widget is not None
    return context.widget


@router.get("/embed/{EmbedId}/parameters")
def embed_parameters(EmbedId: str, request: Request) -> Response:  # noqa: N803
    """List the widget's parameters, so a host application can tell which record fields to pass."""
    services = get_services(request)
    with services.sessions() as session:
        context = EmbedContext(request, session, EmbedId)
        try:
            widget = context.load_widget()
            caller = context.caller(require_parameters=False)
            _access, source = services.embed.authorize(session, caller, widget)
        except ListdockError as error:
            return error_json(error, context.origins)
        body = [
            {
                "Name": parameter.name,
                "EntityFieldId": parameter_field.id,
                "ApiName": parameter_field.api_name,
                "DisplayName": parameter_field.display_name,
                "Type": parameter_field.type,
                "Required": parameter.required,
            }
            for parameter, parameter_field in source.parameters
        ]
    return JSONResponse(body, headers=security_headers(context.origins))


async def embed_view(EmbedId: str, request: Request) -> Response:  # noqa: N803
    """Return the widget's content for one page, sort and search, as an HTML fragment."""
    return await get_services(request).embed_views.serve(request, EmbedId, full_embed_view)


router.add_api_route(
    "/embed/{EmbedId}/view",
    embed_view,
    methods=["GET"],
    response_class=HTMLResponse,
    route_class_override=DirectRoute,
)


def full_embed_view(EmbedId: str, request: Request) -> Response:  # noqa: N803
    """Serve a view request with every check in the store; runs in a worker thread."""
    services = get_services(request)
    with services.sessions() as session:
        context = EmbedContext(request, session, EmbedId)
        try:
            widget = context.load_widget()
            caller = context.caller()
            access, source = services.embed.authorize(session, caller, widget)
            view = view_state(dict(request.query_params))
            page = services.embed.page(session, caller, access, source, view)
        except ListdockError as error:
            return error_json(error, context.origins)
        html = TEMPLATES.get_template("embed/content.html").render(page=page)
    headers = security_headers(context.origins)
    headers[SESSION_HEADER] = caller.session_value
    return HTMLResponse(html, headers=headers)


@router.post("/embed/{EmbedId}/detail/{RelationshipId}", response_class=HTMLResponse)
async def embed_detail(EmbedId: str, RelationshipId: str, request: Request) -> Response:  # noqa: N803
    """Return one record's detail rows as an HTML fragment; the body is ``{"Key": {…}}``."""
    body = await json_body(request)
    services = get_services(request)
    with services.sessions() as session:
        context = EmbedContext(request, session, EmbedId)
        try:
            widget = context.load_widget()
            caller = context.caller()
            access, source = services.embed.authorize(session, caller, widget)
            key = body.get("Key") if isinstance(body, dict) else None
            if not isinstance(key, dict):
                raise InvalidInputError("Key must be an object", code="invalid_keys")
            columns, rows = services.embed.detail_rows(
                session, caller, access, source, RelationshipId, key
            )
        except ListdockError as error:
            return error_json(error, context.origins)
        html = TEMPLATES.get_template("embed/detail.html").render(columns=columns, rows=rows)
    headers = security_headers(context.origins)
    headers[SESSION_HEADER] = caller.session_value
    return HTMLResponse(html, headers=headers)


@router.post("/embed/{EmbedId}/export")
async def embed_export(EmbedId: str, request: Request) -> Response:  # noqa: N803
    """Download the widget's rows (current sort and search) as CSV or XLSX.

    A form post whose ``session`` field is the page's embed session; needs the owner's
    TextExporter (CSV) or ExcelExporter (XLSX) connector role.
    """
    form = await request.form()
    fields = {key: str(value) for key, value in form.items() if isinstance(value, str)}
    services = get_services(request)
    with services.sessions() as session:
        context = EmbedContext(request, session, EmbedId)
        try:
            widget = context.load_widget()
            caller = context.caller(fields.get("session"))
            access, source = services.embed.authorize(session, caller, widget)
            export_format = fields.get("format", "")
            permission = {
                "csv": roles.CONNECTOR_EXPORT_TEXT,
                "xlsx": roles.CONNECTOR_EXPORT_EXCEL,
            }.get(export_format)
            if permission is None:
                raise InvalidInputError("Format must be csv or xlsx", code="invalid_format")
            if not access.has_connector_permission(source.entity.connector_id, permission):
                raise PermissionDeniedError(
                    "The token's owner may not export this data", code="export_not_allowed"
                )
            view = view_state(fields)
            view = ViewState(0, view.sort, view.descending, view.search_field, view.search)
            prepared = services.embed.prepare_rows(
                session,
                caller,
                access,
                source,
                view,
                services.data.max_records_limit,
                export_format=export_format,
            )
            rows = list(prepared.stream())
        except ListdockError as error:
            return error_page(error, context.origins)
        name = "".join(char if char.isalnum() else "_" for char in widget.name) or "widget"
    headers = security_headers(context.origins)
    headers["Content-Disposition"] = (
        f'attachment; filename="{name}{FILE_EXTENSIONS[export_format]}"'
    )
    return StreamingResponse(
        render(export_format, prepared.fields, rows),
        media_type=MEDIA_TYPES[export_format],
        headers=headers,
    )


@router.api_route(
    "/embed/{EmbedId}/action/{ActionId}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"]
)
async def embed_action(EmbedId: str, ActionId: str, request: Request) -> Response:  # noqa: N803
    """Run one of the widget's actions; the body is ``{"Keys": [{…}], "Values": {…}}``.

    A read-only token gets 403 ``read_only_token`` whatever the method; methods other than
    POST then get 405.
    """
    body = await json_body(request) if request.method == "POST" else {}
    services = get_services(request)
    with services.sessions() as session:
        context = EmbedContext(request, session, EmbedId)
        try:
            widget = context.load_widget()
            caller = context.caller()
            require_writable(caller)
            if request.method != "POST":
                return JSONResponse(
                    {"error": "Method not allowed", "code": "method_not_allowed"},
                    405,
                    headers=security_headers(context.origins),
                )
            access, source = services.embed.authorize(session, caller, widget)
            keys = body.get("Keys", []) if isinstance(body, dict) else None
            values = body.get("Values", {}) if isinstance(body, dict) else None
            if not isinstance(keys, list) or not all(isinstance(key, dict) for key in keys):
                raise InvalidInputError("Keys must be a list of objects", code="invalid_keys")
            if not isinstance(values, dict):
                raise InvalidInputError("Values must be an object", code="invalid_values")
            changed = services.embed.run_action(
                session, caller, access, source, ActionId, keys, values, ip=client_ip(request)
            )
        except ListdockError as error:
            return error_json(error, context.origins)
    headers = security_headers(context.origins)
    headers[SESSION_HEADER] = caller.session_value
    return JSONResponse({"Changed": changed}, headers=headers)


async def json_body(request: Request) -> Any:
    """Return the request's JSON body, or an empty object when it has none or is invalid."""
    raw = await request.body()
    if not raw:
        return {}
    try:
        return await request.json()
    except ValueError:
        return {}
