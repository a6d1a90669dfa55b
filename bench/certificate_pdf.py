"""Certificate PDF rendering and QR generation time per certificate, and peak memory.

Run: .venv/bin/python bench/certificate_pdf.py [--count 200]

Issues ``--count`` real SD-JWT VCs (ES256, a proof of holding no real estate: the holder's name and ID and
the type's three fields, each a disclosure, with decoys and the holder's key; about 1,900 characters) for
synthetic holders, then for each one times, in this order:

* QR: ``qr.make`` of the QR payload (``{public_url}/verify#{token}``, about 1,950 bytes): zxing-cpp's
  encoding (Zint) with its standard mask selection, and the level chosen by length;
* PDF: ``pdf.render_certificate_pdf`` of the certificate: the subset CJK font, the table, the QR (made
  again, as a caller rendering only the PDF would), the embedded token, the output.

Both as wall-clock and as CPU time of this process (the CPU figure is steadier on a shared machine). The
font is parsed once per process: its parse alone is timed first (``pdf_font.face``: CPU, wall and the growth
of the resident set), then the first PDF's time (which parses it again) is reported apart and left out of
the figures. Peak memory: the process's maximum resident set size after the run, and the peak of Python
allocations (tracemalloc) while rendering 20 more PDFs. Every 50th PDF's embedded token is read back and
checked. The issue's target: under 150 ms per PDF. Prints the figures and, last, one JSON line.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import tempfile
import time
import tracemalloc
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from zerotrip.certificates import numbers, pdf, pdf_font, qr, sdjwt, signing
from zerotrip.keys import KeyStore

NOW = datetime(2026, 11, 29, 2, 0, tzinfo=UTC)
PUBLIC_URL = "https://zerotrip.example.gov.cn"
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高欧阳诸葛"
GIVEN = ["晓彤", "振华", "雅琴", "志远", "婉儿", "明远", "子涵", "浩然", "思琪", "俊杰", "欣怡", "宇轩"]


@dataclass(frozen=True)
class Org:
    code: str
    division_code: str


def certificates(count: int, folder: Path) -> list[pdf.CertificatePdfView]:
    keys = KeyStore(folder)
    issuer_key = signing.issuer_signing_key(keys, 17, algorithm="ES256")
    credit_code = numbers.issuer_credit_code(Org("330000-land", "330000"))
    type_code = numbers.type_code(credit_code, 1)
    views = []
    for i in range(count):
        name = SURNAMES[i % len(SURNAMES)] + GIVEN[(i // len(SURNAMES)) % len(GIVEN)]
        holder_id = f"3301061990{i % 12 + 1:02d}{i % 28 + 1:02d}{i:03d}"[:17] + "X"
        number = numbers.new_certificate_number(type_code=type_code, issuer_credit_code=credit_code)
        fields = {
            "holder_name": name,
            "holder_id": holder_id,
            "result": "无不动产登记记录",
            "scope": "浙江省全省不动产登记信息",
            "checked_on": "2026-11-28",
        }
        token = sdjwt.issue(
            key=issuer_key,
            claims={
                "iss": f"{PUBLIC_URL}/issuers/{credit_code}",
                "vct": f"{PUBLIC_URL}/certificate-types/no-real-estate",
                "jti": number,
                "iat": NOW,
                "nbf": NOW,
                "exp": NOW + timedelta(days=30),
                "status": {"status_list": {"idx": i, "uri": f"{PUBLIC_URL}/api/certificates/status-lists/1"}},
                "issuer_name": "浙江省自然资源厅",
                "type_name": "无房证明",
            },
            disclosable=fields,
            holder_public_jwk=signing.public_jwk(signing.holder_private_key(keys, holder_id)),
        )
        views.append(
            pdf.CertificatePdfView(
                type_name="无房证明",
                type_name_en="Proof of holding no real estate",
                number=number,
                issuer_name="浙江省自然资源厅",
                holder_name=name,
                fields=[
                    ("公民身份号码", holder_id),
                    ("查询结果", "无不动产登记记录"),
                    ("查询范围", "浙江省全省不动产登记信息"),
                    ("查询日期", "2026-11-28"),
                ],
                issued_at=NOW,
                valid_from=NOW,
                valid_until=NOW + timedelta(days=30),
                token=token,
                qr_data=qr.qr_payload(PUBLIC_URL, token),
            )
        )
    return views


def resident_mb() -> float:
    """The process's resident set now (Linux), not its peak."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * resource.getpagesize() / 2**20


def summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "mean_ms": round(statistics.fmean(ordered) * 1000, 1),
        "p50_ms": round(ordered[len(ordered) // 2] * 1000, 1),
        "p95_ms": round(ordered[int(len(ordered) * 0.95) - 1] * 1000, 1),
        "max_ms": round(ordered[-1] * 1000, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        views = certificates(args.count, Path(folder))
    token_chars = statistics.fmean(len(v.token) for v in views)
    payload_bytes = statistics.fmean(len(v.qr_data.encode()) for v in views)
    code = qr.make(views[0].qr_data)

    rss_before_font = resident_mb()
    wall, cpu = time.perf_counter(), time.process_time()
    pdf_font.face(pdf_font.resolve_font(None))
    font_wall, font_cpu = time.perf_counter() - wall, time.process_time() - cpu
    font_rss_mb = resident_mb() - rss_before_font
    pdf_font.face.cache_clear()

    started = time.perf_counter()
    pdf.render_certificate_pdf(views[0])
    first = time.perf_counter() - started

    qr_wall, qr_cpu, pdf_wall, pdf_cpu, sizes = [], [], [], [], []
    for i, view in enumerate(views):
        wall, cpu = time.perf_counter(), time.process_time()
        qr.make(view.qr_data)
        qr_wall.append(time.perf_counter() - wall)
        qr_cpu.append(time.process_time() - cpu)
        wall, cpu = time.perf_counter(), time.process_time()
        data = pdf.render_certificate_pdf(view)
        pdf_wall.append(time.perf_counter() - wall)
        pdf_cpu.append(time.process_time() - cpu)
        sizes.append(len(data))
        if i % 50 == 0 and pdf.extract_token(data) != view.token:
            raise SystemExit(f"certificate {i}: the embedded token does not read back")
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    tracemalloc.start()
    for view in views[:20]:
        pdf.render_certificate_pdf(view)
    traced_peak_mb = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()

    result = {
        "count": args.count,
        "token_chars_mean": round(token_chars),
        "qr_payload_bytes_mean": round(payload_bytes),
        "qr_version": code.version,
        "qr_error": code.error,
        "font_parse_cpu_ms": round(font_cpu * 1000, 1),
        "font_parse_wall_ms": round(font_wall * 1000, 1),
        "font_parse_rss_growth_mb": round(font_rss_mb, 1),
        "first_pdf_ms_with_font_load": round(first * 1000, 1),
        "qr_wall": summary(qr_wall),
        "qr_cpu": summary(qr_cpu),
        "pdf_wall": summary(pdf_wall),
        "pdf_cpu": summary(pdf_cpu),
        "pdf_kb_mean": round(statistics.fmean(sizes) / 1024, 1),
        "peak_rss_mb": round(rss_mb, 1),
        "tracemalloc_peak_mb_20_pdfs": round(traced_peak_mb, 1),
        "target_pdf_ms": 150,
        "meets_target_cpu_p50": summary(pdf_cpu)["p50_ms"] < 150,
        "meets_target_wall_p50": summary(pdf_wall)["p50_ms"] < 150,
    }
    print(f"{args.count} certificates, token {token_chars:.0f} chars, QR payload {payload_bytes:.0f} bytes")
    print(f"QR symbol: version {code.version}, level {code.error}")
    print(
        f"font parse: {font_cpu * 1000:.0f} ms CPU, {font_wall * 1000:.0f} ms wall,"
        f" resident set +{font_rss_mb:.0f} MB"
    )
    print(f"first PDF (parses the font): {first * 1000:.0f} ms")
    for label in ("qr_wall", "qr_cpu", "pdf_wall", "pdf_cpu"):
        figures = result[label]
        assert isinstance(figures, dict)
        print(
            f"{label:9} mean {figures['mean_ms']:6.1f} ms  p50 {figures['p50_ms']:6.1f}"
            f"  p95 {figures['p95_ms']:6.1f}  max {figures['max_ms']:6.1f}"
        )
    print(f"PDF size {result['pdf_kb_mean']} KB; peak RSS {result['peak_rss_mb']} MB;")
    print(f"Python allocations peak over 20 PDFs {result['tracemalloc_peak_mb_20_pdfs']} MB")
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
