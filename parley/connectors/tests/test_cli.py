"""``parley channels sign`` prints the signature the webhooks verify."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from parley.connectors.cli import channels
from parley.connectors.webhooks import sign


def test_sign_matches_the_verifier(tmp_path: Path) -> None:
    payload = tmp_path / "payload.json"
    payload.write_bytes(b'{"object": "whatsapp_business_account", "entry": []}')
    result = CliRunner().invoke(channels, ["sign", "--secret", "s3cret", str(payload)])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == sign("s3cret", payload.read_bytes())
    not_json = tmp_path / "x.json"
    not_json.write_text("nope")
    assert CliRunner().invoke(channels, ["sign", "--secret", "s", str(not_json)]).exit_code != 0
