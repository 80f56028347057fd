"""PDF (text layer), DOCX and CSV/XLSX question-answer sheets."""

from __future__ import annotations

import csv
import io
import zipfile

from parley.knowledge.parsing.base import Block, HeadingStack, ParsedDocument, ParseError
from parley.knowledge.parsing.text_formats import decode_text
from parley.knowledge.text import normalise_whitespace

_QUESTION_COLUMNS = ("question", "questions", "q", "query", "prompt", "instruction", "title")
_ANSWER_COLUMNS = ("answer", "answers", "a", "response", "reply", "body", "content")
_SECTION_COLUMNS = ("category", "section", "topic", "group", "intent")


def parse_pdf(data: bytes, title: str = "") -> ParsedDocument:
    """The PDF's text layer, page by page (each page's paragraphs under the heading ``Page N``)."""
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise ParseError("the PDF is encrypted")
        pdf_title = ""
        if reader.metadata is not None and reader.metadata.title:
            pdf_title = str(reader.metadata.title).strip()
        blocks: list[Block] = []
        for number, page in enumerate(reader.pages, start=1):
            text = page.extract_text() or ""
            for paragraph in _pdf_paragraphs(text):
                blocks.append(Block(text=paragraph, heading_path=(f"Page {number}",)))
    except ParseError:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, OSError) as exc:
        raise ParseError(f"corrupt or unreadable PDF: {exc}") from exc
    return ParsedDocument(title=title or pdf_title, blocks=blocks, format="pdf")


def _pdf_paragraphs(text: str) -> list[str]:
    text = normalise_whitespace(text)
    parts = [p for p in text.split("\n\n") if p.strip()]
    if len(parts) <= 1:
        # Many PDFs have no blank lines: group lines into paragraphs at sentence ends.
        lines, parts, current = text.split("\n"), [], []
        for line in lines:
            current.append(line)
            if line.rstrip().endswith((".", "?", "!", ":")) and sum(len(x) for x in current) > 200:
                parts.append(" ".join(current))
                current = []
        if current:
            parts.append(" ".join(current))
    return [" ".join(p.split()) for p in parts if p.strip()]


def parse_docx(data: bytes, title: str = "") -> ParsedDocument:
    """Word documents: ``Heading N`` / ``Title`` styles become the heading path; tables become rows."""
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(io.BytesIO(data))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise ParseError(f"corrupt or unreadable DOCX: {exc}") from exc
    headings = HeadingStack()
    blocks: list[Block] = []
    doc_title = (document.core_properties.title or "").strip()
    for paragraph in document.paragraphs:
        text = " ".join(paragraph.text.split())
        if not text:
            continue
        style = (paragraph.style.name if paragraph.style is not None else "") or ""
        if style == "Title":
            doc_title = doc_title or text
            headings.push(0, text)
        elif style.startswith("Heading"):
            level = int(style.split()[-1]) if style.split()[-1].isdigit() else 1
            headings.push(level, text)
        else:
            blocks.append(Block(text=text, heading_path=headings.path))
    for table in document.tables:
        for row in table.rows:
            cells = [" ".join(cell.text.split()) for cell in row.cells]
            line = " | ".join(cell for cell in cells if cell)
            if line:
                blocks.append(Block(text=line, heading_path=headings.path))
    return ParsedDocument(title=title or doc_title, blocks=blocks, format="docx")


def _qa_rows_to_blocks(rows: list[list[str]]) -> list[Block]:
    rows = [[(cell or "").strip() for cell in row] for row in rows if any((cell or "").strip() for cell in row)]
    if not rows:
        return []
    header = [cell.lower() for cell in rows[0]]
    q_col = next((i for i, name in enumerate(header) if name in _QUESTION_COLUMNS), None)
    a_col = next((i for i, name in enumerate(header) if name in _ANSWER_COLUMNS), None)
    s_col = next((i for i, name in enumerate(header) if name in _SECTION_COLUMNS), None)
    if q_col is None or a_col is None:
        if len(rows[0]) < 2:
            raise ParseError("a Q&A sheet needs a question and an answer column")
        q_col, a_col, s_col = 0, 1, None
    else:
        rows = rows[1:]
    blocks = []
    for row in rows:
        question = row[q_col] if q_col < len(row) else ""
        answer = row[a_col] if a_col < len(row) else ""
        if not question or not answer:
            continue
        section = row[s_col] if s_col is not None and s_col < len(row) else ""
        path = (section, question) if section else (question,)
        blocks.append(Block(text=f"Q: {question}\nA: {normalise_whitespace(answer)}", heading_path=path, kind="qa"))
    return blocks


def parse_qa_csv(data: bytes, title: str = "") -> ParsedDocument:
    """A CSV of question/answer pairs (header names like question/answer, or the first two columns)."""
    text = decode_text(data)
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    try:
        rows = list(csv.reader(io.StringIO(text), dialect))
    except csv.Error as exc:
        raise ParseError(f"malformed CSV: {exc}") from exc
    return ParsedDocument(title=title, blocks=_qa_rows_to_blocks(rows), format="qa_csv")


def parse_qa_xlsx(data: bytes, title: str = "") -> ParsedDocument:
    """An Excel workbook of question/answer pairs (every sheet; sheet name used as a section when set)."""
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise ParseError(f"corrupt or unreadable XLSX: {exc}") from exc
    blocks: list[Block] = []
    for sheet in workbook.worksheets:
        rows = [["" if cell is None else str(cell) for cell in row] for row in sheet.iter_rows(values_only=True)]
        blocks.extend(_qa_rows_to_blocks(rows))
    workbook.close()
    return ParsedDocument(title=title, blocks=blocks, format="qa_xlsx")
