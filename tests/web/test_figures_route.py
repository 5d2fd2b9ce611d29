"""`/figures/{file}`: files under content/figures/ only."""

import os

import pytest
from webclient import client_for


def test_figure_is_served_with_its_type(client):
    response = client.get("/figures/wavelengths.svg")
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/svg+xml"
    assert response.text.startswith("<svg")


@pytest.mark.parametrize("path", [
    "/figures/../not-a-figure.txt",
    "/figures/..%2fnot-a-figure.txt",
    "/figures/%2e%2e/not-a-figure.txt",
    "/figures/%2e%2e%2fnot-a-figure.txt",
    "/figures/..%5cnot-a-figure.txt",
    "/figures/nope.svg",
    "/figures/",
])
def test_nothing_outside_the_figures_folder(client, path):
    response = client.get(path)
    assert response.status_code in (400, 404)
    assert "secret-outside-figures" not in response.text


def test_symlink_out_of_the_folder_is_refused(tmp_path):
    import shutil

    from webclient import FIXTURE_CONTENT

    content = tmp_path / "content"
    shutil.copytree(FIXTURE_CONTENT, content)
    (tmp_path / "secret.svg").write_text("<svg>secret</svg>")
    os.symlink(tmp_path / "secret.svg", content / "figures" / "link.svg")
    response = client_for(content).get("/figures/link.svg")
    assert response.status_code == 404 and "secret" not in response.text
