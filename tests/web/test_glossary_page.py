"""`/glossary`: 中英对照 table with stable anchors."""

from webclient import html, texts


def test_glossary_table(client):
    tree = html(client.get("/glossary"))
    rows = tree.css("table.glossary tbody tr")
    assert [r.attributes["id"] for r in rows] == [
        "term-positional-encoding", "term-length-extrapolation", "term-rotary-position-embedding"]
    assert texts(tree, "td.zh") == ["位置编码", "长度外推", "旋转位置编码"]
    assert texts(tree, "td.en") == ["Positional Encoding", "Length Extrapolation", "Rotary Position Embedding"]
    assert texts(tree, "td.aliases")[0] == "PE、position encoding"
    assert rows[0].css_first("td.zh a").attributes["href"] == "/kp/basics.sinusoidal"
    assert "train short" in rows[1].css_first("td.note").text()


def test_real_glossary_has_a_row_per_term(real_client):
    from peprep.content.loader import default_content_dir, load_content

    terms = load_content(default_content_dir()).glossary
    tree = html(real_client.get("/glossary"))
    assert [r.attributes["id"] for r in tree.css("table.glossary tbody tr")] == [t.anchor for t in terms]
