"""Parsers keep structure (headings, Q&A pairs) and refuse what they cannot read; the chunker respects it."""

from __future__ import annotations

import pytest

from parley.knowledge.chunking import chunk_blocks
from parley.knowledge.parsing import ParseError, UnsupportedFormat, parse
from parley.knowledge.parsing.base import Block
from parley.knowledge.tests.files import make_docx, make_pdf, make_xlsx
from parley.knowledge.text import count_tokens

HTML = b"""<!doctype html><html><head><title>Returns | Demo Shop</title><script>var x = 'tracking';</script></head>
<body>
<header><nav><a href="/">Home</a><a href="/shop">Shop</a> Cookie settings</nav></header>
<main>
  <h1>Returns</h1>
  <p>You can return unused items within <b>30 days</b>.</p>
  <h2>Damaged items</h2>
  <ul><li>Send a photo within 14 days.</li><li>We refund in full.</li></ul>
</main>
<footer>Copyright Demo Shop. Imprint. Newsletter signup.</footer>
</body></html>"""


def test_markdown_headings_become_heading_paths() -> None:
    parsed = parse(
        b"# Guide\n\nIntro text.\n\n## Setup\n\nStep **one**, see [docs](http://x).\n\nSub\n---\n\nDetails.", filename="guide.md"
    )
    assert parsed.title == "Guide"
    assert [(b.heading_path, b.text) for b in parsed.blocks] == [
        (("Guide",), "Intro text."),
        (("Guide", "Setup"), "Step one, see docs."),
        (("Guide", "Sub"), "Details."),
    ]


def test_html_keeps_main_content_and_headings_and_drops_navigation() -> None:
    parsed = parse(HTML, filename="returns.html")
    text = parsed.text
    assert parsed.title == "Returns | Demo Shop"
    assert "30 days" in text and "Send a photo within 14 days." in text
    for noise in ("Cookie settings", "Copyright", "var x", "Home"):
        assert noise not in text
    damaged = next(b for b in parsed.blocks if "photo" in b.text)
    assert damaged.heading_path == ("Returns", "Damaged items")


def test_pdf_text_layer_is_read_page_by_page() -> None:
    data = make_pdf([["Shipping policy.", "Orders ship within two days."], ["Returns are free."]], title="Policies")
    parsed = parse(data, filename="policies.pdf")
    assert parsed.title == "Policies"
    assert any("Orders ship within two days" in b.text and b.heading_path == ("Page 1",) for b in parsed.blocks)
    assert any("Returns are free" in b.text and b.heading_path == ("Page 2",) for b in parsed.blocks)


def test_docx_headings_paragraphs_and_tables() -> None:
    parsed = parse(make_docx(), filename="warranty.docx")
    paths = {b.text: b.heading_path for b in parsed.blocks}
    assert paths["All kitchenware has a two-year warranty against manufacturing defects."] == ("Warranty",)
    assert paths["Send the order number and a photo of the defect to our support team."] == ("Warranty", "How to claim")
    assert paths["Claim window | 24 months"] == ("Warranty", "How to claim")


def test_csv_and_xlsx_question_answer_pairs() -> None:
    csv_data = b'category,question,answer\nBilling,"Do you take PayPal?","Yes, PayPal and cards."\nBilling,When am I charged?,When the order ships.\n'
    parsed = parse(csv_data, filename="faq.csv")
    assert [b.kind for b in parsed.blocks] == ["qa", "qa"]
    assert parsed.blocks[0].heading_path == ("Billing", "Do you take PayPal?")
    assert parsed.blocks[0].text == "Q: Do you take PayPal?\nA: Yes, PayPal and cards."
    xlsx = make_xlsx([("Question", "Answer"), ("Can I pick up in store?", "Yes, in Berlin."), ("", "orphan answer")])
    parsed = parse(xlsx, filename="faq.xlsx")
    assert [b.text for b in parsed.blocks] == ["Q: Can I pick up in store?\nA: Yes, in Berlin."]
    chunks = chunk_blocks(parse(csv_data, filename="faq.csv").blocks)
    assert len(chunks) == 2 and all(c.kind == "qa" for c in chunks)


@pytest.mark.parametrize(
    ("data", "filename", "error", "reason"),
    [
        (b"%PDF-1.4\n1 0 obj << /Type /Catalog garbage", "broken.pdf", ParseError, "PDF"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "photo.png", UnsupportedFormat, "unsupported"),
        (b"just some text pretending", "report.pdf", ParseError, "not a valid PDF"),
        (b"PK\x03\x04 not really a zip", "letter.docx", ParseError, "not a valid DOCX"),
        (b"MZ\x90\x00\x03\x00\x00\x00", "tool.exe", UnsupportedFormat, "unsupported"),
    ],
)
def test_corrupt_or_unsupported_files_raise_a_clear_reason(data: bytes, filename: str, error: type, reason: str) -> None:
    with pytest.raises(error, match=reason):
        parse(data, filename=filename)


def test_chunks_never_mix_sections_and_respect_the_budget_with_overlap() -> None:
    sentence = "Our couriers deliver parcels on weekdays between eight and six o'clock."
    long_paragraph = " ".join([sentence] * 12)
    blocks = [
        Block("Short intro.", ("A",)),
        Block(long_paragraph, ("A", "Details")),
        Block("Another section entirely.", ("B",)),
    ]
    chunks = chunk_blocks(blocks, max_tokens=40, overlap_tokens=15)
    assert [c.position for c in chunks] == list(range(len(chunks)))
    assert chunks[0].text == "Short intro." and chunks[0].heading_path == ("A",)
    details = [c for c in chunks if c.heading_path == ("A", "Details")]
    assert len(details) >= 4
    assert all(c.token_count <= 40 for c in details)
    # consecutive chunks of a section overlap by whole sentences
    assert details[1].text.startswith(sentence)
    assert chunks[-1].text == "Another section entirely." and chunks[-1].heading_path == ("B",)
    assert chunks[-1].embedding_text("Guide") == "Guide > B\nAnother section entirely."


def test_a_run_on_sentence_is_split_at_word_boundaries() -> None:
    words = " ".join(f"word{i}" for i in range(100))
    chunks = chunk_blocks([Block(words)], max_tokens=30, overlap_tokens=0)
    assert all(count_tokens(c.text) <= 30 for c in chunks)
    assert " ".join(c.text for c in chunks) == words
