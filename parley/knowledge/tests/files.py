"""Build real test files in memory: PDF (hand-written, with a text layer), DOCX and XLSX."""

from __future__ import annotations

import io


def make_pdf(pages: list[list[str]], title: str = "") -> bytes:
    """A valid PDF whose pages hold the given lines as real text (Helvetica)."""
    objects: list[bytes] = []
    page_ids = []
    font_id = 3
    next_id = 4
    page_objects: list[tuple[int, bytes]] = []
    for lines in pages:
        stream_lines = [b"BT /F1 12 Tf 72 720 Td 14 TL"]
        for line in lines:
            escaped = line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)").encode("latin-1")
            stream_lines.append(b"(" + escaped + b") Tj T*")
        stream_lines.append(b"ET")
        stream = b"\n".join(stream_lines)
        content_id, page_id = next_id, next_id + 1
        next_id += 2
        page_objects.append((content_id, b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream"))
        page_objects.append(
            (
                page_id,
                b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents %d 0 R "
                b"/Resources << /Font << /F1 %d 0 R >> >> >>" % (content_id, font_id),
            )
        )
        page_ids.append(page_id)
    kids = b" ".join(b"%d 0 R" % pid for pid in page_ids)
    info_id = next_id
    objects_by_id = {
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        2: b"<< /Type /Pages /Kids [" + kids + b"] /Count %d >>" % len(page_ids),
        3: b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        info_id: b"<< /Title (" + title.encode("latin-1") + b") >>",
    }
    objects_by_id.update(dict(page_objects))
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = {}
    for number in sorted(objects_by_id):
        offsets[number] = out.tell()
        out.write(b"%d 0 obj\n" % number + objects_by_id[number] + b"\nendobj\n")
    xref = out.tell()
    count = max(objects_by_id) + 1
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % count)
    for number in range(1, count):
        out.write(b"%010d 00000 n \n" % offsets.get(number, 0))
    out.write(b"trailer\n<< /Size %d /Root 1 0 R /Info %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (count, info_id, xref))
    objects.clear()
    return out.getvalue()


def make_docx() -> bytes:
    import docx

    document = docx.Document()
    document.add_heading("Warranty", level=1)
    document.add_paragraph("All kitchenware has a two-year warranty against manufacturing defects.")
    document.add_heading("How to claim", level=2)
    document.add_paragraph("Send the order number and a photo of the defect to our support team.")
    table = document.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text = "Claim window"
    table.rows[0].cells[1].text = "24 months"
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def make_xlsx(rows: list[tuple[str, ...]]) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    for row in rows:
        sheet.append(list(row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
