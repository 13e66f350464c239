"""How long a mediation agreement takes to render, and to render and sign by three people and seal.

    .venv/bin/python bench/pdf.py [--runs 15] [--lang zh]

It files the sample case (``odr.samples``: a neighbour dispute mediated to an
approved agreement) in a throw-away instance on SQLite, then times, each as the median of
``--runs``:

- **bare WeasyPrint**: ``weasyprint.HTML(string=…).write_pdf()`` of the agreement's exact HTML
  with the same bundled font (through the same URL fetcher, which only serves it), but no PDF/A
  and no attachment (the floor);
- **render**: the agreement as the platform renders it (PDF/A-3b, audit trail attached);
- **render + 3 signatures + seal**: the render, then three signers each with a fresh ECDSA
  P-256 key — certificate issued, document prepared with the visible stamp, the signature made
  as the browser would (included: about 0.1 ms), embedded —
  and the platform seal; the same pyHanko code paths the signing endpoints run.

The goal (issue 6): the three signatures add less than the render itself, i.e. render + sign
≤ 2 × render. Printed as ratios to the bare render and to the platform render.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import tempfile
import time

sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != os.path.dirname(os.path.abspath(__file__))]
sys.path.append(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from _common import log  # noqa: E402


def median_time(fn, runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--lang", default="zh", choices=["zh", "en"])
    args = parser.parse_args()

    instance = tempfile.mkdtemp(prefix="odr-bench-pdf-")
    os.environ["ODR_INSTANCE_PATH"] = instance
    os.environ.setdefault("ODR_DATABASE_URL", f"sqlite:///{instance}/bench.sqlite")
    import logging
    logging.disable(logging.INFO)

    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from weasyprint import HTML

    from odr import create_app
    from odr.cli import upgrade_database
    from odr.documents import pades
    from odr.documents.ca import platform_ca
    from odr.documents.render import BASE_URL, LockedFetcher
    from odr.samples import sample_case
    from odr.extensions import db
    from odr.mediate.outcomes.pdf import mediation_html, mediation_pdf

    app = create_app()
    with app.app_context():
        upgrade_database()
        sample = sample_case(args.lang)
        case, agreement = sample.case, sample.agreement
        html = mediation_html(case, agreement)
        ca = platform_ca()
        png = _drawing()

        def bare():
            HTML(string=html, base_url=BASE_URL, url_fetcher=LockedFetcher()).write_pdf()

        def render():
            return mediation_pdf(case, agreement)

        def render_and_sign():
            pdf = render()
            for slot, name in enumerate(("张三", "李四", "李调解")):
                key = ec.generate_private_key(ec.SECP256R1())  # in the browser, in real life
                spki = key.public_key().public_bytes(serialization.Encoding.DER,
                                                     serialization.PublicFormat.SubjectPublicKeyInfo)
                cert = ca.issue_signer(spki, name=name, user_ref=f"bench-{slot}", case_number=case.number,
                                       minutes=30)
                prepared = pades.prepare(pdf, cert, ca, field_name=f"Signer{slot + 1}",
                                         stamp=pades.Stamp(png, name, "Asia/Shanghai"), slot=slot)
                pdf = pades.finish(prepared, cert, ca, key.sign(prepared.to_be_signed, ec.ECDSA(hashes.SHA256())))
            return pades.seal(pdf, ca.seal, ca)

        for fn in (bare, render, render_and_sign):  # warm up: fonts, templates, imports
            fn()
        log(f"{args.runs} runs each, median; agreement in {args.lang}, {len(render()):,} bytes")
        t_bare = median_time(bare, args.runs)
        t_render = median_time(render, args.runs)
        t_signed = median_time(render_and_sign, args.runs)
        signed = render_and_sign()
        db.session.rollback()

    print(f"bare WeasyPrint render           {t_bare * 1000:8.1f} ms")
    print(f"platform render (PDF/A-3b + AF)  {t_render * 1000:8.1f} ms   {t_render / t_bare:.2f}x bare")
    print(f"render + 3 signatures + seal     {t_signed * 1000:8.1f} ms   {t_signed / t_bare:.2f}x bare, "
          f"{t_signed / t_render:.2f}x render   ({len(signed):,} bytes)")
    print(f"signing alone (3 + seal)         {(t_signed - t_render) * 1000:8.1f} ms   "
          f"{(t_signed - t_render) / t_render:.2f}x render   goal: < 1x render (≤ 2x in total)")


def _drawing() -> bytes:
    from PIL import Image, ImageDraw
    image = Image.new("RGBA", (600, 240), (0, 0, 0, 0))
    ImageDraw.Draw(image).line([(20, 200), (160, 40), (300, 180), (440, 60), (580, 160)], fill="navy", width=8)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


if __name__ == "__main__":
    main()
