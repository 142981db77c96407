"""Start-up: a bad value in a caller's policy stops `wadows serve` with the setting named."""

from __future__ import annotations

from wadows.cli import main
from wadows.security.passwords import hash_password


def test_serve_refuses_a_policy_value_security_owns(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text('[[auth.callers]]\nname = "x"\npassword_hash = "hunter2"\naccess = "identified"\n')
    assert main(["serve", "--config", str(bad), "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert "configuration error" in err and "auth.callers[0].password_hash" in err and "hunter2" not in err


def test_serve_refuses_an_unknown_option_in_a_policy(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text('[[auth.callers]]\nname = "x"\naccess = "anonymized"\noptions = ["RetainEverything"]\n'
                   f'password_hash = "{hash_password("pw")}"\n')
    assert main(["serve", "--config", str(bad), "--port", "0"]) == 2
    assert "auth.callers[0].options" in capsys.readouterr().err
