"""Facts about a request every domain uses: where it came from (activity log, throttling), where it may lead,
and what no request can mean (a form that is not text, an id no row can have)."""

from typing import Any

from litestar import Request
from litestar.datastructures import FormMultiDict
from litestar.enums import RequestEncodingType
from litestar.exceptions import ClientException, NotFoundException
from multipart import MultipartError, MultipartSegment, PushMultipartParser  # type: ignore[import-untyped]

INT4_MAX = 2**31 - 1
INT8_MAX = 2**63 - 1
BIGSERIAL_IDS = frozenset({"bill_id", "import_id"})
"""Path parameters naming rows of a ``bigserial`` table; every other ``{..._id:int}`` names a ``serial`` (int4) one."""


NOT_TEXT = "The form's text was not sent as UTF-8. Reload the page and send it again."


class FormRequest(Request[Any, Any, Any]):
    """The app's request class: a form whose text is not UTF-8 (or names a charset nobody knows) is the sender's
    mistake, answered 400 with a sentence. Litestar's multipart parser lets ``UnicodeDecodeError`` out (a 500) and
    leaves the files of the parts before it open, so a multipart body's text parts are checked first. The CSRF
    middleware reads the form through this class too (``Litestar(request_class=...)``); the body is read once."""

    async def form(self) -> FormMultiDict:
        content_type, options = self.content_type
        multipart = content_type == RequestEncodingType.MULTI_PART and "boundary" in options
        if multipart and not _text_parts_decode(await self.body(), options["boundary"].encode()):
            raise ClientException(NOT_TEXT)
        return await super().form()


def _text_parts_decode(body: bytes, boundary: bytes) -> bool:
    """Whether every part of a multipart body that is not a file decodes in its charset (UTF-8 by default). A
    malformed body counts as decoding: Litestar's parser refuses it itself, with a 400."""
    segment: MultipartSegment | None = None
    text = bytearray()
    try:
        with PushMultipartParser(boundary) as parser:
            for chunk in (body, b""):
                for part in parser.parse(chunk):
                    if isinstance(part, MultipartSegment):
                        segment, text = part, bytearray()
                    elif part is not None:
                        text.extend(part if segment is not None and not segment.filename else b"")
                    elif segment is not None and not segment.filename:
                        text.decode(segment.charset or "utf-8")
    except (UnicodeDecodeError, LookupError):
        return False
    except MultipartError:
        return True
    return True


async def refuse_impossible_ids(request: Request[Any, Any, Any]) -> None:
    """``before_request`` of the app: an id in the path that no row can have (zero, negative, beyond its column's
    type) names a page that does not exist, a 404, instead of reaching the database as an out-of-range argument
    (a 500). Guards run first, so who may not use the route still learns nothing more."""
    for name, value in request.path_params.items():
        if isinstance(value, int) and not 0 < value <= (INT8_MAX if name in BIGSERIAL_IDS else INT4_MAX):
            raise NotFoundException()


def client_ip(request: Request[Any, Any, Any]) -> str:
    """The address the request came from (the socket peer; behind a proxy, configure uvicorn's forwarded-allow-ips)."""
    return request.client.host if request.client else ""


def site_url(request: Request[Any, Any, Any]) -> str:
    """Where this platform is reached from outside, without a trailing slash, for links that leave the page:
    payment gateways' return addresses, invitation and invoice links sent by SMS. ``ISPB_PUBLIC_URL`` when set;
    else the request's own address, which comes from its Host header and is only as trustworthy as the proxy in
    front (a forged Host would send a paying customer's browser elsewhere)."""
    configured: str | None = request.app.state.runtime.settings.public_url
    return configured or str(request.base_url).rstrip("/")


def safe_next(target: str | None, default: str) -> str:
    """Only local paths: a sign-in link must not send people to another site."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return default
