"""Authentication: Basic, UsernameToken text and digest, replay protection, anonymous policy, and the
[auth] configuration it is built from."""

from __future__ import annotations

import base64
import os
import threading

import pytest
from support.wsse import security_xml, utc

from wadows.config import ConfigError, load_config
from wadows.security.auth import MESSAGE_EXPIRED, AuthenticationFailed, Authenticator, NonceCache
from wadows.security.passwords import hash_password
from wadows.security.policy import TRUSTED, Access, Caller
from wadows.security.credentials import Credentials, Timestamp, UsernameToken
from wadows.soap import wsse
from wadows.wiring import load_and_check
from wadows.soap.envelope import parse_envelope

SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
PASSWORDS = {"radiology": "ident-pass", "research": "research pässword", "digester": "digest-pass"}


@pytest.fixture(scope="module")
def hashes() -> dict[str, str]:
    return {name: hash_password(pw) for name, pw in PASSWORDS.items()}


def write_config(tmp_path, hashes, anonymous="anonymized", extra="", auth_extra="") -> object:
    secret = tmp_path / "digester.secret"
    secret.write_text(PASSWORDS["digester"] + "\n")
    secret.chmod(0o600)
    text = f"""[auth]
anonymous = "{anonymous}"
realm = "wadows test"
replay_window_seconds = 300
{auth_extra}
[[auth.callers]]
name = "radiology"
password_hash = "{hashes['radiology']}"
access = "identified"
[[auth.callers]]
name = "research"
password_hash = "{hashes['research']}"
access = "anonymized"
options = ["RetainLongitudinalTemporalInformationModifiedDatesOption"]
[[auth.callers]]
name = "digester"
password_hash = "{hashes['digester']}"
access = "identified"
digest_secret_file = "{secret}"
{extra}"""
    path = tmp_path / "wadows.toml"
    path.write_text(text)
    return load_config(path)


@pytest.fixture(scope="module")
def auth(tmp_path_factory, hashes) -> Authenticator:
    return Authenticator(write_config(tmp_path_factory.mktemp("auth"), hashes).auth)


def basic(name: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{name}:{password}".encode()).decode()


def token(*args, **kw) -> Credentials:
    xml = (f'<env:Envelope xmlns:env="{SOAP12}"><env:Header>{security_xml(*args, **kw)}</env:Header>'
           f"<env:Body><x/></env:Body></env:Envelope>")
    return wsse.read(parse_envelope(xml.encode()).headers)


def refused(auth: Authenticator, authorization, security) -> AuthenticationFailed:
    with pytest.raises(AuthenticationFailed) as err:
        auth.authenticate(authorization, security)
    for secret in (*PASSWORDS, *PASSWORDS.values(), "nobody", "wrong"):
        assert secret not in err.value.reason
    return err.value


# -- configuration -----------------------------------------------------------------------------------
def test_config_reads_callers(tmp_path, hashes):
    cfg = write_config(tmp_path, hashes).auth
    assert (cfg.anonymous, cfg.realm, cfg.replay_window_seconds) == ("anonymized", "wadows test", 300)
    assert [(c.name, c.access, c.options) for c in cfg.callers] == [
        ("radiology", "identified", None), ("research", "anonymized",
                                            ("RetainLongitudinalTemporalInformationModifiedDatesOption",)),
        ("digester", "identified", None)]


def test_shipped_default_anonymizes_strangers():
    cfg = load_config().auth
    assert cfg.anonymous == "anonymized" and cfg.callers == () and cfg.replay_window_seconds == 300


@pytest.mark.parametrize("entry, message", [
    ('name = "x"\npassword = "hunter2"\naccess = "identified"', "never stored in clear"),
    ('name = "x"\npassword_hash = "hunter2"\naccess = "identified"', "not a password hash"),
    ('name = "x"\npassword_hash = "{h}"\naccess = "everything"', "access' must be one of"),
    ('name = "x"\npassword_hash = "{h}"\naccess = "identified"\noptions = ["RetainEverythingOption"]',
     "unknown de-identification option"),
    ('name = "x"\npassword_hash = "{h}"\naccess = "identified"\nrole = "admin"', "unknown configuration key"),
    ('name = "x"\naccess = "identified"', "needs 'password_hash'"),
    ('name = "a:b"\npassword_hash = "{h}"\naccess = "identified"', "without ':'"),
    ('name = "x"\npassword_hash = "{h}"\naccess = "identified"\noptions = "RetainUIDsOption"', "must be of type list"),
    ('name = "x"\npassword_hash = "{h}"\naccess = "identified"\ndigest_secret_file = "/nonexistent/s"',
     "digest_secret_file"),
])
def test_config_errors(tmp_path, hashes, entry, message):
    path = tmp_path / "bad.toml"
    path.write_text("[[auth.callers]]\n" + entry.replace("{h}", hashes["radiology"]) + "\n")
    with pytest.raises(ConfigError, match=message) as err:
        load_and_check(path)
    assert "hunter2" not in str(err.value)


def test_config_errors_in_policy_and_duplicates(tmp_path, hashes):
    for text, message in [('[auth]\nanonymous = "maybe"\n', "auth.anonymous"),
                          ('[auth]\nreplay_window_seconds = 0\n', "replay_window_seconds"),
                          ('[auth]\nrealm = "a\\"b"\n', "realm"),
                          (f'[[auth.callers]]\nname = "x"\npassword_hash = "{hashes["radiology"]}"\naccess = "identified"\n'
                           f'[[auth.callers]]\nname = "x"\npassword_hash = "{hashes["research"]}"\naccess = "anonymized"\n',
                           "same name")]:
        path = tmp_path / "bad.toml"
        path.write_text(text)
        with pytest.raises(ConfigError, match=message):
            load_config(path)


def test_digest_secret_readable_by_others_stops_the_server(tmp_path, hashes):
    cfg = write_config(tmp_path, hashes)
    (tmp_path / "digester.secret").chmod(0o644)
    with pytest.raises(ConfigError, match="chmod 600"):
        Authenticator(cfg.auth)


# -- HTTP Basic -------------------------------------------------------------------------------------
def test_basic_good(auth):
    assert auth.authenticate(basic("radiology", "ident-pass"), None) == Caller("radiology", Access.IDENTIFIED)
    research = auth.authenticate(basic("research", "research pässword"), None)
    assert research.force_anonymize and research.deid_options == (
        "RetainLongitudinalTemporalInformationModifiedDatesOption",)


def test_basic_good_twice_uses_the_cache_and_stays_right(auth):
    for _ in range(2):
        assert auth.authenticate(basic("radiology", "ident-pass"), None).name == "radiology"
        refused(auth, basic("radiology", "ident-pas"), None)


@pytest.mark.parametrize("name, password", [("radiology", "wrong"), ("nobody", "ident-pass"), ("radiology", "")])
def test_basic_bad(auth, name, password):
    err = refused(auth, basic(name, password), None)
    assert err.challenge and err.subcode == "FailedAuthentication"


@pytest.mark.parametrize("header", ["Basic", "Basic !!!!", "Basic " + base64.b64encode(b"no-colon").decode(),
                                    "Basic " + base64.b64encode(b"\xff\xfe:x").decode(), "Bearer abc.def",
                                    "Basic " + base64.b64encode(b":pw").decode()])
def test_basic_malformed(auth, header):
    assert refused(auth, header, None).challenge


# -- UsernameToken ----------------------------------------------------------------------------------
def test_password_text_good_and_bad(auth):
    assert auth.authenticate(None, token("radiology", "ident-pass")).name == "radiology"
    err = refused(auth, None, token("radiology", "wrong"))
    assert not err.challenge and err.subcode == "FailedAuthentication"
    refused(auth, None, token("nobody", "wrong"))
    refused(auth, None, token("radiology"))  # no Password at all


def test_password_digest_good(auth):
    caller = auth.authenticate(None, token("digester", "digest-pass", use_digest=True))
    assert caller == Caller("digester", Access.IDENTIFIED)


def test_password_digest_bad(auth):
    refused(auth, None, token("digester", "wrong", use_digest=True))
    refused(auth, None, token("nobody", "digest-pass", use_digest=True))
    # A caller without a digest secret cannot use PasswordDigest even with the right password.
    refused(auth, None, token("radiology", "ident-pass", use_digest=True))


def test_password_digest_over_an_empty_password_never_logs_in_a_caller_without_a_secret(auth):
    """Without the `secret is None` guard, the expected digest of a caller with no digest secret is the
    digest over "" (issue 17 item 9): identified access for anyone who knows a caller's name."""
    refused(auth, None, token("radiology", "", use_digest=True))
    refused(auth, None, token("nobody", "", use_digest=True))


def test_password_digest_needs_nonce_and_created(auth):
    t = token("digester", "digest-pass", use_digest=True, nonce=b"n" * 16).token
    stripped = Credentials(UsernameToken(t.username, t.password, t.password_type, None, t.created,
                                                t.created_text), None)
    assert "Nonce" in refused(auth, None, stripped).reason


def test_replayed_nonce_refused(auth):
    sec = token("digester", "digest-pass", use_digest=True)
    assert auth.authenticate(None, sec).name == "digester"
    assert "already used" in refused(auth, None, sec).reason
    # PasswordText tokens with a nonce are protected the same way.
    text = token("radiology", "ident-pass", nonce=os.urandom(16), created=utc())
    auth.authenticate(None, text)
    refused(auth, None, text)


def test_failed_attempt_does_not_burn_the_nonce(auth):
    nonce, created = os.urandom(16), utc()
    refused(auth, None, token("digester", "wrong", use_digest=True, nonce=nonce, created=created))
    assert auth.authenticate(None, token("digester", "digest-pass", use_digest=True, nonce=nonce,
                                         created=created)).name == "digester"


@pytest.mark.parametrize("offset", [-301, -3600, 61, 86400])
def test_stale_and_future_created_refused(auth, offset):
    err = refused(auth, None, token("digester", "digest-pass", use_digest=True, created=utc(offset)))
    assert err.subcode == MESSAGE_EXPIRED


def test_created_inside_window_and_small_skew_accepted(auth):
    for offset in (-290, 30):
        assert auth.authenticate(None, token("digester", "digest-pass", use_digest=True, created=utc(offset)))


@pytest.mark.parametrize("offsets", [(-400, None), (None, -120), (120, None), (-10, -20)])
def test_stale_timestamp_refused(auth, offsets):
    # Times are taken when the test runs, not when it is collected: a long run would age them.
    ts = tuple(None if o is None else utc(o) for o in offsets)
    assert refused(auth, None, token("radiology", "ident-pass", timestamp=ts)).subcode == MESSAGE_EXPIRED


def test_fresh_timestamp_accepted(auth):
    assert auth.authenticate(None, token("radiology", "ident-pass", timestamp=(utc(-5), utc(295)))).name == "radiology"


# -- both, and neither ------------------------------------------------------------------------------
def test_basic_and_token_for_the_same_user(auth):
    assert auth.authenticate(basic("radiology", "ident-pass"), token("radiology", "ident-pass")).name == "radiology"
    assert refused(auth, basic("radiology", "ident-pass"), token("radiology", "wrong")).challenge


def test_basic_and_token_naming_different_users(auth):
    err = refused(auth, basic("radiology", "ident-pass"), token("research", "research pässword"))
    assert err.challenge and "different users" in err.reason


def test_anonymous_anonymized(auth):
    assert auth.authenticate(None, None) == Caller(None, Access.ANONYMIZED)
    # A Timestamp alone authenticates nobody.
    sec = Credentials(None, Timestamp(None, None))
    assert auth.authenticate(None, sec).force_anonymize


def test_anonymous_identified_and_deny(tmp_path, hashes):
    assert Authenticator(write_config(tmp_path, hashes, "identified").auth).authenticate(None, None) == TRUSTED
    deny = Authenticator(write_config(tmp_path, hashes, "deny").auth)
    assert refused(deny, None, None).challenge
    assert deny.authenticate(basic("research", "research pässword"), None).name == "research"


# -- the nonce memory -------------------------------------------------------------------------------
def test_nonce_cache_expires_and_is_bounded():
    now = [0.0]
    cache = NonceCache(10, max_entries=3, clock=lambda: now[0])
    assert cache.add(b"a") and not cache.add(b"a")
    now[0] = 11
    assert cache.add(b"a")  # outside the window: no longer a replay
    for k in (b"b", b"c", b"d"):
        assert cache.add(k)
    assert len(cache) == 3


def test_nonce_cache_one_winner_under_threads():
    cache = NonceCache(60)
    wins = []
    barrier = threading.Barrier(8)

    def go():
        barrier.wait()
        wins.append(cache.add(b"same"))

    threads = [threading.Thread(target=go) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(wins) == [False] * 7 + [True]


# -- password guessing ------------------------------------------------------------------------------
def test_repeated_failures_make_a_name_wait_even_with_the_right_password(tmp_path, hashes, monkeypatch):
    auth = Authenticator(write_config(tmp_path, hashes).auth)
    checks = []
    import wadows.security.auth as auth_module

    real_verify = auth_module.verify_password
    monkeypatch.setattr(auth_module, "verify_password", lambda pw, h: checks.append(1) or real_verify(pw, h))
    for _ in range(5):  # the shipped default: five free attempts
        err = refused(auth, basic("radiology", "guess"), None)
        assert err.retry_after is None
    checked = len(checks)
    err = refused(auth, basic("radiology", "ident-pass"), None)
    assert err.retry_after == 1 and err.challenge and "Retry-After" in err.reason
    assert len(checks) == checked  # refused unchecked: no scrypt for a waiting name
    # Other names, and the same name by UsernameToken, are judged on their own / held the same.
    assert auth.authenticate(basic("research", "research pässword"), None).name == "research"
    assert refused(auth, None, token("radiology", "ident-pass")).retry_after == 1


def test_unknown_names_and_digests_are_throttled_alike(tmp_path, hashes):
    auth = Authenticator(write_config(tmp_path, hashes, auth_extra="failed_logins_before_wait = 2").auth)
    for name in ("nobody", "digester"):
        for _ in range(2):
            assert refused(auth, None, token(name, "wrong", use_digest=True)).retry_after is None
        assert refused(auth, None, token(name, "wrong", use_digest=True)).retry_after == 1


def test_success_before_the_limit_clears_the_count(tmp_path, hashes):
    auth = Authenticator(write_config(tmp_path, hashes, auth_extra="failed_logins_before_wait = 2").auth)
    for _ in range(3):
        refused(auth, basic("radiology", "guess"), None)
        assert auth.authenticate(basic("radiology", "ident-pass"), None).name == "radiology"


def test_throttle_settings_are_checked(tmp_path):
    for text, message in [("[auth]\nfailed_logins_before_wait = 0\n", "failed_logins_before_wait"),
                          ("[auth]\nmax_login_wait_seconds = 0\n", "max_login_wait_seconds")]:
        path = tmp_path / "bad.toml"
        path.write_text(text)
        with pytest.raises(ConfigError, match=message):
            load_config(path)
