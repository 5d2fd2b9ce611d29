"""Binding: `peprep serve` listens on 127.0.0.1 by default; any other address needs --allow-remote and prints a
warning; even then the guard accepts only that address (or IP literals for 0.0.0.0), never a DNS name."""

from __future__ import annotations

import socket

import pytest
import uvicorn
from reliability_kit import count
from typer.testing import CliRunner

from peprep.cli import app as cli
from peprep.web.guard import is_allowed_host


@pytest.fixture
def ran(monkeypatch):
    """Replace uvicorn.run: record how the server would have been started instead of starting it."""
    calls: list[dict] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: calls.append({"app": app, **kw}))
    return calls


def test_default_is_loopback(ran, content_dir, tmp_path):
    result = CliRunner().invoke(cli, ["serve", "--content", str(content_dir), "--db", str(tmp_path / "p.sqlite3")])
    assert result.exit_code == 0, result.output
    assert ran[0]["host"] == "127.0.0.1"
    assert "warning: serving on" not in result.output


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.20", "example.local"])
def test_other_addresses_need_the_flag(ran, content_dir, host):
    result = CliRunner().invoke(cli, ["serve", "--host", host, "--content", str(content_dir)])
    assert result.exit_code == 2 and "--allow-remote" in result.output and not ran
    count("binding: non-loopback address without the flag")


def test_the_flag_binds_elsewhere_with_a_warning(ran, content_dir, tmp_path):
    from fastapi.testclient import TestClient

    result = CliRunner().invoke(cli, ["serve", "--host", "0.0.0.0", "--allow-remote", "--content", str(content_dir),
                                      "--db", str(tmp_path / "p.sqlite3")])
    assert result.exit_code == 0, result.output
    assert ran[0]["host"] == "0.0.0.0"
    assert "warning: serving on 0.0.0.0" in result.output and "no login" in result.output
    client = TestClient(ran[0]["app"])
    assert client.get("/", headers={"Host": "192.168.1.20:8000"}).status_code == 200  # the LAN address
    assert client.get("/", headers={"Host": "evil.example:8000"}).status_code == 400  # rebinding still refused


def test_allowed_hosts_for_an_explicit_address():
    assert is_allowed_host("127.0.0.1:8000") and is_allowed_host("[::1]:1") and not is_allowed_host("10.0.0.5")
    assert is_allowed_host("10.0.0.5:8000", "10.0.0.5") and not is_allowed_host("10.0.0.6:8000", "10.0.0.5")
    assert is_allowed_host("[fe80::1]:8000", "::") and is_allowed_host("10.1.2.3", "0.0.0.0")
    for host in ("evil.example", "10.0.0.5.evil.example", "10.0.0.5:8000@evil", "", "[10.0.0.5]:80", "10.0.0.5\n"):
        assert not is_allowed_host(host, "10.0.0.5") and not is_allowed_host(host, "0.0.0.0"), host
    count("binding: Host checks with an explicit address", 8)


def test_the_running_server_listens_on_loopback_only(live):
    _, port, _ = live
    with open("/proc/net/tcp", encoding="ascii") as f:
        listening = [line.split()[1] for line in f.readlines()[1:] if line.split()[3] == "0A"]
    assert f"0100007F:{port:04X}" in listening and f"00000000:{port:04X}" not in listening
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:  # this machine's outward address, if any
        try:
            probe.connect(("10.255.255.255", 1))
            outward = probe.getsockname()[0]
        except OSError:
            outward = "127.0.0.1"
    if not outward.startswith("127."):
        with pytest.raises(OSError):
            socket.create_connection((outward, port), timeout=2).close()
    count("binding: listening sockets checked")
