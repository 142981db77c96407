"""[audit] in the configuration: off by default, documented by `wadows config`, checked at load."""

from __future__ import annotations

import pytest

from wadows.audit import DISABLED, from_config
from wadows.cli import main
from wadows.config import ConfigError, load_config


def test_off_by_default_and_documented(capsys):
    assert load_config().audit.enabled is False
    assert from_config(load_config().audit, "http://h/wado-ws") is DISABLED
    main(["config"])
    out = capsys.readouterr().out
    for key in ("[audit]", "transport = \"tls\"", "queue_size", "app_name", "source_id", "enterprise_site_id",
                "IHE+RFC-3881"):
        assert key in out


@pytest.mark.parametrize("override, message", [
    ({"audit__enabled": True}, "audit.host"),
    ({"audit__transport": "tcp"}, "audit.transport"),
    ({"audit__cert": "/x.pem"}, "go together"),
    ({"audit__queue_size": 0}, "audit.queue_size"),
    ({"audit__app_name": "has space"}, "audit.app_name"),
])
def test_bad_settings_stop_the_server(override, message):
    with pytest.raises(ConfigError, match=message):
        load_config(**override)


def test_unreadable_tls_files_stop_at_start(tmp_path):
    cfg = load_config(audit__enabled=True, audit__host="127.0.0.1", audit__ca=str(tmp_path / "missing.pem"))
    with pytest.raises(SystemExit, match=r"\[audit\]"):
        from_config(cfg.audit, "http://h/wado-ws")
