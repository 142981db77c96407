"""Password hashes: round trip, wrong password, both schemes, malformed and too-cheap hashes refused."""

from __future__ import annotations

import io

import pytest

from wadows.security import cli as security_cli
from wadows.security.passwords import (PBKDF2, SCRYPT, HashFormatError, SecretFileError, hash_password, parse_hash,
                                       read_secret_file, verify_password)


@pytest.fixture(scope="module")
def scrypt_hash() -> str:
    return hash_password("correct horse battery staple")


def test_scrypt_round_trip_and_wrong_password(scrypt_hash):
    assert scrypt_hash.startswith("scrypt$n=16384,r=8,p=1$")
    assert verify_password("correct horse battery staple", scrypt_hash)
    assert not verify_password("correct horse battery stapl", scrypt_hash)
    assert not verify_password("", scrypt_hash)


def test_pbkdf2_round_trip_and_wrong_password():
    h = hash_password("pässwörd", PBKDF2, iterations=100_000)
    assert h.startswith("pbkdf2-sha256$i=100000$")
    assert verify_password("pässwörd", h) and not verify_password("passwort", h)


def test_salt_is_fresh_each_time():
    a, b = hash_password("same", PBKDF2, iterations=100_000), hash_password("same", PBKDF2, iterations=100_000)
    assert a != b and parse_hash(a).salt != parse_hash(b).salt


def test_parse_keeps_parameters(scrypt_hash):
    h = parse_hash(scrypt_hash)
    assert (h.scheme, h.params, len(h.salt), len(h.key)) == (SCRYPT, {"n": 16384, "r": 8, "p": 1}, 16, 32)
    assert str(h) == scrypt_hash


@pytest.mark.parametrize("text", [
    "hunter2",  # a cleartext password where a hash belongs
    "md5$i=1$AAAAAAAAAAA=$AAAAAAAAAAAAAAAAAAAAAA==",
    "scrypt$n=16384,r=8$AAAAAAAAAAA=$AAAAAAAAAAAAAAAAAAAAAA==",
    "scrypt$n=16384,r=8,p=1$not base64!$AAAAAAAAAAAAAAAAAAAAAA==",
    "scrypt$n=1024,r=8,p=1$AAAAAAAAAAA=$AAAAAAAAAAAAAAAAAAAAAA==",  # too cheap
    "scrypt$n=20000,r=8,p=1$AAAAAAAAAAA=$AAAAAAAAAAAAAAAAAAAAAA==",  # not a power of two
    "pbkdf2-sha256$i=1000$AAAAAAAAAAA=$AAAAAAAAAAAAAAAAAAAAAA==",  # too few rounds
    "pbkdf2-sha256$i=600000$AAAA$AAAAAAAAAAAAAAAAAAAAAA==",  # salt too short
])
def test_malformed_or_weak_hashes_refused(text):
    with pytest.raises(HashFormatError) as err:
        parse_hash(text)
    assert "hunter2" not in str(err.value)


def test_secret_file_must_be_private_and_match(tmp_path, scrypt_hash):
    f = tmp_path / "secret"
    f.write_text("correct horse battery staple\n")
    f.chmod(0o600)
    assert read_secret_file(f, scrypt_hash) == "correct horse battery staple"
    f.chmod(0o640)
    with pytest.raises(SecretFileError, match="chmod 600"):
        read_secret_file(f, scrypt_hash)
    f.chmod(0o600)
    f.write_text("another password\n")
    with pytest.raises(SecretFileError, match="does not hold") as err:
        read_secret_file(f, scrypt_hash)
    assert "another" not in str(err.value)
    with pytest.raises(SecretFileError):
        read_secret_file(tmp_path / "missing", scrypt_hash)


def test_hash_password_command_reads_stdin_not_argv(monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO("from stdin\n"))
    from wadows.cli import main

    assert main(["hash-password", "--scheme", "pbkdf2-sha256"]) == 0
    out = capsys.readouterr().out.strip()
    assert verify_password("from stdin", out) and "from stdin" not in out
    with pytest.raises(SystemExit):  # no way to pass the password as an argument
        main(["hash-password", "secret"])


def test_hash_password_command_refuses_empty(monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO("\n"))
    assert security_cli._hash_password(type("A", (), {"scheme": SCRYPT})()) == 1
    assert "empty" in capsys.readouterr().err


def test_hash_password_command_tty_asks_twice(monkeypatch, capsys):
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    answers = iter(["one", "two"])
    monkeypatch.setattr("sys.stdin", Tty())
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    assert security_cli._hash_password(type("A", (), {"scheme": PBKDF2})()) == 1
    assert "differ" in capsys.readouterr().err
