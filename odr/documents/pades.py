"""PAdES signatures with pyHanko: a signature prepared here and made elsewhere, the platform seal,
and what a signed file says about itself.

A browser signer's signature is made in two steps because the key stays in the browser:

1. :func:`prepare` adds the signature field (with its visible stamp) as an incremental update,
   leaves room for the signature, and returns the bytes the signer's key must sign: the DER of
   the CMS signed attributes, which hold the digest of the document's byte range and a reference
   to the signer's certificate.
2. The browser signs those bytes (WebCrypto ECDSA P-256 with SHA-256); :func:`finish` checks the
   signature against the certificate, wraps it in CMS and writes it into the room left for it.

The prepared state (:class:`Prepared`) is plain bytes and integers, so the two steps can be two
HTTP requests. pyHanko's own clock is replaced by :func:`odr.timeutil.utcnow` so that the time in
the signature, its stamp and the certificate's validity agree (and tests can move the clock).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import io
import logging
from dataclasses import dataclass, field
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from asn1crypto import cms
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import utils as ec_utils
from pyhanko.pdf_utils.images import PdfImage
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfDecodeLimitError, PdfError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.general import SigningError
from pyhanko.sign.signers.pdf_byterange import PreparedByteRangeDigest
from pyhanko.sign.signers.pdf_signer import PdfTBSDocument
from pyhanko.stamp import StaticStampStyle
from pyhanko_certvalidator.registry import SimpleCertificateStore

from odr.documents.ca import KeyPair, PlatformCA, check_signature, to_asn1
from odr.timeutil import utcnow

logger = logging.getLogger(__name__)

#: Room left for each CMS signature, in bytes of the hex string: ample for an ECDSA signature,
#: its certificate chain and a timestamp token.
RESERVED = 16 * 1024
DIGEST = "sha256"
SEAL_FIELD = "PlatformSeal"


class NotAPdf(ValueError):
    """The bytes are not a PDF pyHanko can read (or add a signature to)."""


class TooComplex(NotAPdf):
    """The bytes may be a PDF, but reading or checking it would go past the limits set."""


@dataclass(frozen=True)
class Stamp:
    """What a signer's visible signature shows: their drawn signature and a caption under it."""

    png: bytes | None
    caption: str
    #: The time zone the signing time is shown in (with its offset).
    timezone: str = "UTC"


#: Pixels per PDF point of a stamp image (sharp when printed or zoomed in).
STAMP_SCALE = 3
MM = 72 / 25.4


@functools.cache
def _caption_font(size: int):
    # The font the documents are rendered with, so a Chinese name on a stamp renders too.
    from PIL import ImageFont

    from odr.documents.render import FONTS
    return ImageFont.truetype(str(FONTS / "NotoSansSC-subset.otf"), size)


def stamp_image(stamp: Stamp, when: datetime, size: tuple[float, float]):
    """The visible signature as one image of ``size`` points: the drawn signature above, name
    and time below.

    Drawing the caption into the image (rather than as PDF text) keeps each signature from
    embedding its own subset of the CJK font, which cost more than the rest of signing.
    """
    from PIL import Image, ImageDraw
    w, h = round(size[0] * STAMP_SCALE), round(size[1] * STAMP_SCALE)
    image = Image.new("RGB", (w, h), "white")
    text_h = 2 * 8 * STAMP_SCALE + 6
    if stamp.png:
        drawn = Image.open(io.BytesIO(stamp.png))
        drawn.load()
        drawn = drawn.convert("RGBA")
        drawn.thumbnail((w, h - text_h))
        image.paste(drawn, ((w - drawn.width) // 2, (h - text_h - drawn.height) // 2), drawn)
    draw = ImageDraw.Draw(image)
    font = _caption_font(7 * STAMP_SCALE)
    draw.line([(0, h - text_h), (w, h - text_h)], fill=(150, 150, 150), width=2)
    draw.text((6, h - text_h + 4), stamp.caption[:40], fill="black", font=font)
    shown = _aware(when).astimezone(ZoneInfo(stamp.timezone))
    draw.text((6, h - text_h // 2 + 2), shown.strftime("%Y-%m-%d %H:%M %z"), fill="black", font=font)
    return image


@dataclass
class Prepared:
    """A document waiting for one browser signature, and where that signature goes."""

    pdf: bytes
    to_be_signed: bytes
    document_digest: bytes
    reserved_start: int
    reserved_end: int
    signed_at: datetime = field(default_factory=utcnow)


def run_sync(coro):
    """Run pyHanko's coroutine to the end from synchronous code, also where an event loop is
    already running in this thread (then in a short-lived thread of its own).

    A plain event loop rather than ``asyncio.run``: in the main thread that installs a SIGINT
    handler holding the task, and restoring it formats the finished task's result — pyHanko's
    ASN.1 objects, re-encoded just to be printed — which cost a quarter of the signing time.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        loop = asyncio.new_event_loop()
        try:
            return loop.run_until_complete(coro)
        finally:
            loop.close()
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(run_sync, coro).result()


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment


def _writer(pdf: bytes) -> IncrementalPdfFileWriter:
    try:
        return IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    except (PdfError, ValueError, KeyError, IndexError, TypeError) as exc:
        raise NotAPdf(str(exc)[:200]) from None


def _fallback_box(slot: int, page_width: float = 595.0) -> tuple[float, float, float, float]:
    """Where the ``slot``-th stamp goes when the document has no box for it: three per row
    along the bottom margin of the last page."""
    width, height, gap, bottom = SIGNATURE_BOX[0], SIGNATURE_BOX[1], 10.0, 30.0
    left = (page_width - 3 * width - 2 * gap) / 2
    row, col = divmod(slot, 3)
    x = left + col * (width + gap)
    y = bottom + row * (height + gap)
    return (x, y, x + width, y + height)


#: A signature box of the document templates (``odr.documents.layout.SIGNATURE_BOX_MM``), in points.
SIGNATURE_BOX = (60 * MM, 20 * MM)


def _page_refs(node, out: list) -> list:
    kids = node.get("/Kids")
    if kids is None:
        return out
    for kid in kids:
        ref = kid.reference if hasattr(kid, "reference") else None
        obj = kid.get_object()
        if obj.get("/Type") == "/Pages":
            _page_refs(obj, out)
        else:
            out.append((ref.idnum if ref is not None else None, obj))
    return out


def _named_destinations(reader) -> dict[str, tuple[int, float, float]]:
    """The document's named destinations: name → (page index, left, top) in points.

    The templates name each signature box (``signature-1`` …); WeasyPrint writes those names
    into the catalog's ``/Names /Dests`` tree with the box's top-left corner.
    """
    try:
        tree = reader.root["/Names"]["/Dests"]
    except KeyError:
        return {}
    pages = {idnum: i for i, (idnum, _obj) in enumerate(_page_refs(reader.root["/Pages"], []))}
    found = {}

    def walk(node):
        names = node.get("/Names")
        if names is not None:
            for i in range(0, len(names) - 1, 2):
                dest = names[i + 1]
                dest = dest.get("/D", dest) if hasattr(dest, "get") else dest
                try:
                    page = dest.raw_get(0) if hasattr(dest, "raw_get") else dest[0]
                    index = pages.get(getattr(page, "idnum", None))
                    if index is not None and dest[1] == "/XYZ":
                        found[str(names[i])] = (index, float(dest[2]), float(dest[3]))
                except (IndexError, TypeError, ValueError):
                    continue
        for kid in node.get("/Kids") or []:
            walk(kid.get_object())

    walk(tree)
    return found


def signature_place(reader, slot: int) -> tuple[int, tuple[float, float, float, float]]:
    """Page index and box of the ``slot``-th (0-based) signer's stamp."""
    dest = _named_destinations(reader).get(f"signature-{slot + 1}")
    if dest is None:
        return -1, _fallback_box(slot)
    page, left, top = dest
    return page, (left, top - SIGNATURE_BOX[1], left + SIGNATURE_BOX[0], top)


def _pdf_signer(signer, field_name: str, stamp: Stamp | None, place=None,
                when: datetime | None = None) -> signers.PdfSigner:
    meta = signers.PdfSignatureMetadata(field_name=field_name, md_algorithm=DIGEST,
                                        subfilter=fields.SigSeedSubFilter.PADES)
    if stamp is None:
        return signers.PdfSigner(meta, signer, new_field_spec=fields.SigFieldSpec(field_name))
    page, box = place
    size = (box[2] - box[0], box[3] - box[1])
    style = StaticStampStyle(background=PdfImage(stamp_image(stamp, when, size)), border_width=1,
                             border_color=(0.6, 0.6, 0.6))
    spec = fields.SigFieldSpec(field_name, on_page=page, box=box)
    return signers.PdfSigner(meta, signer, stamp_style=style, new_field_spec=spec)


async def _digest(pdf_signer, pdf: bytes, when: datetime):
    writer = _writer(pdf)
    if callable(pdf_signer):
        pdf_signer = pdf_signer(writer)
    session = pdf_signer.init_signing_session(writer)
    session.system_time = _aware(when)
    validation = await session.perform_presign_validation(writer)
    tbs = session.prepare_tbs_document(validation_info=validation, bytes_reserved=RESERVED)
    return tbs.digest_tbs_document()


def prepare(pdf: bytes, cert: x509.Certificate, ca: PlatformCA, *, field_name: str, stamp: Stamp,
            slot: int) -> Prepared:
    """Add ``field_name`` with its stamp to ``pdf`` and say what the browser's key must sign.

    :raise NotAPdf: ``pdf`` cannot be read or signed.
    """
    when = utcnow()
    registry = SimpleCertificateStore.from_certs([ca.ca.asn1_cert])
    external = signers.ExternalSigner(to_asn1(cert), registry, signature_value=bytes(72))

    async def run():
        digest, output = await _digest(
            lambda writer: _pdf_signer(external, field_name, stamp, signature_place(writer.prev, slot), when),
            pdf, when)
        attrs = await external.signed_attrs(digest.document_digest, DIGEST, use_pades=True)
        return digest, output, attrs

    try:
        digest, output, attrs = run_sync(run())
    except (PdfError, SigningError, ValueError, KeyError) as exc:
        raise NotAPdf(str(exc)[:200]) from None
    return Prepared(pdf=output.getvalue(), to_be_signed=attrs.dump(), document_digest=digest.document_digest,
                    reserved_start=digest.reserved_region_start, reserved_end=digest.reserved_region_end,
                    signed_at=when)


def raw_to_der(signature: bytes) -> bytes:
    """WebCrypto's ECDSA signature (r ‖ s, 32 bytes each) as the DER the CMS holds."""
    if len(signature) != 64:
        raise ValueError("an ECDSA P-256 signature from WebCrypto is 64 bytes")
    return ec_utils.encode_dss_signature(int.from_bytes(signature[:32], "big"),
                                         int.from_bytes(signature[32:], "big"))


def finish(prepared: Prepared, cert: x509.Certificate, ca: PlatformCA, signature_der: bytes,
           timestamper=None) -> bytes:
    """Put the browser's signature into the prepared document (with a signature timestamp from
    ``timestamper``, if given: then the certificate is checked at that time, not a stated one).

    :raise odr.documents.ca.KeyMismatch: the signature was not made by the certificate's key
        over the prepared signed attributes.
    """
    check_signature(cert, signature_der, prepared.to_be_signed)
    registry = SimpleCertificateStore.from_certs([ca.ca.asn1_cert])
    external = signers.ExternalSigner(to_asn1(cert), registry, signature_value=signature_der)
    digest = PreparedByteRangeDigest(document_digest=prepared.document_digest,
                                     reserved_region_start=prepared.reserved_start,
                                     reserved_region_end=prepared.reserved_end)

    async def run():
        signed = await external.async_sign_prescribed_attributes(
            DIGEST, cms.CMSAttributes.load(prepared.to_be_signed), timestamper=timestamper)
        output = io.BytesIO(prepared.pdf)
        await PdfTBSDocument.async_finish_signing(output, digest, signed)
        return output.getvalue()

    return run_sync(run())


def seal(pdf: bytes, seal_pair: KeyPair, ca: PlatformCA, timestamper=None) -> bytes:
    """The platform's own signature over the finished document (invisible; a document timestamp
    follows when a timestamp authority is configured).

    :raise NotAPdf: ``pdf`` cannot be read or signed.
    """
    signer = signers.SimpleSigner(
        signing_cert=seal_pair.asn1_cert, signing_key=seal_pair.asn1_key,
        cert_registry=SimpleCertificateStore.from_certs([ca.ca.asn1_cert]))
    meta = signers.PdfSignatureMetadata(field_name=SEAL_FIELD, md_algorithm=DIGEST,
                                        subfilter=fields.SigSeedSubFilter.PADES)
    pdf_signer = signers.PdfSigner(meta, signer, timestamper=timestamper,
                                   new_field_spec=fields.SigFieldSpec(SEAL_FIELD))

    async def run():
        digest, output = await _digest(pdf_signer, pdf, utcnow())
        signed = await signer.async_sign(
            digest.document_digest, DIGEST, use_pades=True, timestamper=timestamper,
            signed_attr_settings=None)
        await PdfTBSDocument.async_finish_signing(output, digest, signed)
        out = output.getvalue()
        if timestamper is not None:
            out = await _document_timestamp(out, timestamper)
        return out

    try:
        return run_sync(run())
    except (PdfError, SigningError, ValueError, KeyError) as exc:
        raise NotAPdf(str(exc)[:200]) from None


async def _document_timestamp(pdf: bytes, timestamper) -> bytes:
    from pyhanko.sign.signers.pdf_signer import PdfTimeStamper
    output = await PdfTimeStamper(timestamper).async_timestamp_pdf(_writer(pdf), DIGEST)
    return output.getvalue()


def read(pdf: bytes, decode_limits=None) -> PdfFileReader:
    """A reader over ``pdf`` (``decode_limits``: pyHanko's, default those for untrusted input).

    :raise NotAPdf: not a PDF, or an encrypted one.
    """
    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False, decode_limits=decode_limits)
    except PdfDecodeLimitError as exc:
        raise TooComplex(str(exc)[:200]) from None
    except (PdfError, ValueError, KeyError, IndexError, TypeError, AttributeError) as exc:
        raise NotAPdf(str(exc)[:200]) from None
    if reader.encrypted:
        raise NotAPdf("the PDF is encrypted")
    return reader
