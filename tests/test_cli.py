import tomllib

import pytest

from wadows.cli import build_parser, main
from wadows.config import ConfigError, load_config


def test_config_prints_every_default(capsys):
    assert main(["config"]) == 0
    data = tomllib.loads(capsys.readouterr().out)
    assert data["server"]["max_documents"] == load_config().server.max_documents


def test_serve_options_parse():
    args = build_parser().parse_args(["serve", "--store", "/x", "--port", "0", "--host", "127.0.0.1"])
    assert args.command == "serve" and args.port == 0


def test_unknown_config_key_is_an_error(tmp_path):
    f = tmp_path / "c.toml"
    f.write_text("[server]\nmax_document = 5\n")
    with pytest.raises(ConfigError, match="server.max_document"):
        load_config(f)


def test_config_file_overrides_and_public_url(tmp_path):
    f = tmp_path / "c.toml"
    f.write_text('[server]\nmax_documents = 5\npublic_url = "https://pacs.example/wado-ws/"\n')
    cfg = load_config(f)
    assert cfg.server.max_documents == 5 and cfg.server.effective_public_url == "https://pacs.example/wado-ws"


@pytest.mark.parametrize("text, message", [
    ("[server]\nshutdown_grace_seconds = -1.0\n", "shutdown_grace_seconds"),
    ("[server]\nshutdown_grace_seconds = 7200\n", "shutdown_grace_seconds"),
    ('[server]\ntrusted_proxy = 1\n', "trusted_proxy"),
    ("[server]\nswitch_interval_ms = 0\n", "switch_interval_ms"),
    ("[server]\nswitch_interval_ms = 500\n", "switch_interval_ms"),
    ("[server]\nactive_threads = -1\n", "active_threads"),
])
def test_server_setting_errors_name_the_key(tmp_path, text, message):
    f = tmp_path / "c.toml"
    f.write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_config(f)


@pytest.mark.parametrize("key, bad, good", [
    ("max_blanked_object_bytes", (0, -1), (1, 256 << 20)),
    ("max_dimension", (0, 65536), (1, 65535)),
    ("header_cache_mib", (-1, (1 << 20) + 1), (0, 1 << 20)),
])
def test_render_limits_out_of_range_are_errors_naming_the_key(tmp_path, key, bad, good):
    f = tmp_path / "c.toml"
    for value in bad:
        f.write_text(f"[render]\n{key} = {value}\n")
        with pytest.raises(ConfigError, match=f"render.{key}"):
            load_config(f)
    for value in good:  # the bounds themselves are accepted
        f.write_text(f"[render]\n{key} = {value}\n")
        assert getattr(load_config(f).render, key) == value
