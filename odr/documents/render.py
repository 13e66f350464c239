"""HTML to PDF/A-3b with WeasyPrint, reading nothing but the document itself and the bundled font.

A document must look the same on every machine and must not be able to read the server's files
or reach the network, whatever text ends up in it. So WeasyPrint gets a URL fetcher that serves
``data:`` URLs and the files in :data:`BUNDLED` and refuses everything else — ``file:``, ``http:``,
any other scheme, and relative URLs, which resolve against a base that is never fetched. A
refused URL stops the rendering with :class:`ForbiddenResource` rather than leaving a hole in
the PDF: a document people are going to sign must not silently lose part of its content.
"""

from __future__ import annotations

import base64
import logging
from pathlib import Path
from urllib.parse import urlsplit

import pydyf
from weasyprint import HTML, Attachment
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import FatalURLFetchingError, URLFetcher, URLFetcherResponse

from odr.timeutil import utcnow

logger = logging.getLogger(__name__)

FONTS = Path(__file__).parent / "fonts"
#: The scheme templates name the bundled files with; only :class:`LockedFetcher` knows it.
ASSET_SCHEME = "odr-asset"
FONT_URL = f"{ASSET_SCHEME}:fonts/NotoSansSC-subset.otf"
#: Every file a document may load: URL → (path, media type).
BUNDLED = {FONT_URL: (FONTS / "NotoSansSC-subset.otf", "font/otf")}
#: Relative URLs resolve against this and are then refused like any outside address
#: (``.invalid`` never resolves, and the fetcher never tries).
BASE_URL = "https://document.invalid/"
PDF_VARIANT = "pdf/a-3b"


class ForbiddenResource(ValueError):
    """The HTML asked for a resource outside itself: a local file or a network address."""

    def __init__(self, url: str):
        super().__init__(f"documents may only use data: URLs and bundled files, not {url[:200]!r}")
        self.url = url


class LockedFetcher(URLFetcher):
    """A WeasyPrint URL fetcher that serves ``data:`` URLs and the :data:`BUNDLED` files, nothing else."""

    def __init__(self):
        # allowed_protocols is a second lock on the parent's opener (which also has file, http
        # and ftp handlers); fail_on_errors makes a refusal stop the rendering.
        super().__init__(allowed_protocols={"data"}, allow_redirects=False, fail_on_errors=True)
        #: What was refused: WeasyPrint swallows some errors (an image inside an SVG), so
        #: :func:`render_pdf` checks this list as well.
        self.refused: list[str] = []

    def fetch(self, url, headers=None):
        if url in BUNDLED:
            path, mimetype = BUNDLED[url]
            return URLFetcherResponse(url, path.read_bytes(), {"Content-Type": mimetype})
        if urlsplit(url).scheme.lower() == "data":
            return super().fetch(url, headers)  # urllib's DataHandler decodes it in memory
        self.refused.append(url)
        raise ForbiddenResource(url)


def _list_each_file_once(document, pdf) -> None:
    """WeasyPrint names each attachment twice in the catalog's associated files (``/AF``)."""
    if "AF" in pdf.catalog:
        pdf.catalog["AF"] = pydyf.Array(dict.fromkeys(pdf.catalog["AF"]))


def data_url(content: bytes, mimetype: str) -> str:
    return f"data:{mimetype};base64,{base64.b64encode(content).decode('ascii')}"


def render_pdf(html: str, attachments=()) -> bytes:
    """Render HTML to a PDF/A-3b document, embedding ``(name, bytes, mimetype)`` attachments
    as associated files of the document.

    :raise ForbiddenResource: the HTML refers to a local file, a network address or a relative URL.
    """
    fetcher = LockedFetcher()
    now = utcnow()
    files = [Attachment(url=data_url(content, mimetype), url_fetcher=fetcher, name=name,
                        created=now, modified=now)
             for name, content, mimetype in attachments]
    try:
        document = HTML(string=html, base_url=BASE_URL, url_fetcher=fetcher).render(
            font_config=FontConfiguration(), pdf_variant=PDF_VARIANT)
        pdf = document.write_pdf(attachments=files, pdf_variant=PDF_VARIANT, finisher=_list_each_file_once)
    except FatalURLFetchingError as exc:
        # WeasyPrint's fatal fetch error is a BaseException (it must get past its own
        # ``except Exception``); hand the caller the ordinary error that caused it.
        cause = exc.__cause__
        if isinstance(cause, ForbiddenResource):
            raise ForbiddenResource(cause.url) from None
        raise ValueError(f"a resource of the document could not be read: {cause}") from cause
    if fetcher.refused:
        raise ForbiddenResource(fetcher.refused[0])
    return pdf
