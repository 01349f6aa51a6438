"""Settings read from COVE_* variables and the command line, refused when unusable."""

from __future__ import annotations

import pytest

from cove.cli import build_parser
from cove.config import InvalidSetting, Settings


def test_the_cross_az_delay_is_off_by_default_and_bounded(monkeypatch, capsys) -> None:
    monkeypatch.delenv("COVE_CROSS_AZ_DELAY_MS", raising=False)
    assert Settings().cross_az_delay_ms == 0
    monkeypatch.setenv("COVE_CROSS_AZ_DELAY_MS", "1.5")
    assert Settings().cross_az_delay_ms == 1.5
    for wrong in ("-1", "10001"):
        monkeypatch.setenv("COVE_CROSS_AZ_DELAY_MS", wrong)
        with pytest.raises(InvalidSetting, match="COVE_CROSS_AZ_DELAY_MS must be from 0"):
            Settings()
    monkeypatch.setenv("COVE_CROSS_AZ_DELAY_MS", "soon")
    with pytest.raises(InvalidSetting, match="must be a float"):
        Settings()
    args = build_parser().parse_args(["server", "--cross-az-delay-ms", "1"])
    assert args.cross_az_delay_ms == 1.0
    with pytest.raises(SystemExit):
        build_parser().parse_args(["server", "--help"])
    assert "COVE_CROSS_AZ_DELAY_MS" in capsys.readouterr().out
