"""Bad input gets a clear 4xx HTML page in Chinese with a link home; never a 500 or a trace."""

import pytest
from webclient import html


@pytest.mark.parametrize("path, status", [
    ("/nope", 404),
    ("/chapters/nope", 404),
    ("/kp/nope", 404),
    ("/questions/nope", 404),
    ("/chapters/%3Cscript%3E", 404),
    ("/kp/%22%3E%3Cscript%3Ealert(1)%3C%2Fscript%3E", 404),
    ("/questions/%F0%9F%99%82", 404),
    ("/?x=1", 400),
    ("/glossary?q=1", 400),
    ("/chapters/basics?x=1", 400),
    ("/kp/basics.sinusoidal?x=<script>", 400),
])
def test_error_page(client, path, status):
    response = client.get(path)
    assert response.status_code == status
    tree = html(response)
    assert tree.css_first("html").attributes["lang"] == "zh-CN"
    assert tree.css_first(".error-message").text().strip()
    assert tree.css_first('.error-page a[href="/"]') is not None
    assert "<script>" not in response.text.split("</head>", 1)[1]
    assert "Traceback" not in response.text


def test_unknown_parameter_page_names_it_and_what_is_allowed(client):
    message = html(client.get("/search?query=x")).css_first(".error-message").text()
    assert "「query」" in message and "q、kind" in message


def test_page_without_parameters_says_none_allowed(client):
    message = html(client.get("/glossary?q=1")).css_first(".error-message").text()
    assert "（无）" in message


def test_wrong_method_is_an_html_405(client):
    response = client.post("/")
    assert response.status_code == 405 and "<html" in response.text


def test_unexpected_error_is_a_plain_500_page(tmp_path):
    from fastapi.testclient import TestClient
    from webclient import FIXTURE_CONTENT

    from peprep.web.app import create_app

    app = create_app(FIXTURE_CONTENT)

    @app.get("/boom")
    def boom():
        raise RuntimeError("secret internal detail")

    client = TestClient(app, base_url="http://127.0.0.1:8000", raise_server_exceptions=False)
    response = client.get("/boom")
    assert response.status_code == 500
    assert "secret internal detail" not in response.text and "Traceback" not in response.text
    assert html(response).css_first(".error-message") is not None
    assert response.headers["x-content-type-options"] == "nosniff"
