"""A stored PDF's pages as images, for reading the exact file on a phone before signing it.

Rendered with PDFium (pypdfium2: wheels for every platform, no system package) at a width that
is sharp on a phone screen, as 16-grey PNG (a text page is small that way), and kept beside
the document files by the PDF's hash and page number: the same file always gives the same
images, so they can be cached by the browser for good.
"""

from __future__ import annotations

import io
import threading

from odr.documents import storage

#: Width of a page image in pixels (an A4 page then reads well at 360 CSS px, 2× density).
WIDTH = 900
_lock = threading.Lock()  # PDFium is not thread-safe


def _cache_path(sha256: str, name: str):
    path = storage.folder() / "pages" / sha256[:2]
    path.mkdir(parents=True, exist_ok=True)
    return path / f"{sha256}-{name}"


def page_count(sha256: str) -> int:
    cached = _cache_path(sha256, "count")
    if cached.exists():
        return int(cached.read_text())
    import pypdfium2 as pdfium
    with _lock:
        pdf = pdfium.PdfDocument(storage.get(sha256))
        try:
            count = len(pdf)
        finally:
            pdf.close()
    cached.write_text(str(count))
    return count


def page_png(sha256: str, number: int) -> bytes:
    """Page ``number`` (1-based) as PNG.

    :raise IndexError: no such page.
    """
    cached = _cache_path(sha256, f"{number}.png")
    if cached.exists():
        return cached.read_bytes()
    if number < 1 or number > page_count(sha256):
        raise IndexError(number)
    import pypdfium2 as pdfium
    with _lock:
        pdf = pdfium.PdfDocument(storage.get(sha256))
        try:
            pdf.init_forms()  # so signature widgets (the visible stamps) are drawn
            page = pdf[number - 1]
            scale = WIDTH / page.get_width()
            image = page.render(scale=scale, draw_annots=True, grayscale=True).to_pil()
            page.close()
        finally:
            pdf.close()
    out = io.BytesIO()
    image.convert("L").quantize(16).save(out, "PNG", optimize=True)
    data = out.getvalue()
    tmp = cached.with_suffix(".tmp")
    tmp.write_bytes(data)
    tmp.replace(cached)
    return data
