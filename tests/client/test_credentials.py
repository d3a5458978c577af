"""Credentials come from the environment (or the sandbox defaults) and never show their secrets."""

from __future__ import annotations

import base64
import hashlib

import pytest

import reconciler.capillary as capillary
from reconciler.capillary import Credentials
from reconciler.config import ApiConfig, Config
from reconciler.errors import ConfigError
from reconciler.plan import describe_target


def test_public_names_are_exactly_the_client_api() -> None:
    assert sorted(capillary.__all__) == [
        "CapillaryReader",
        "CapillaryWriter",
        "Credentials",
        "SCOPES_UNKNOWN",
        "open_client",
    ]
    assert all(hasattr(capillary, name) for name in capillary.__all__)


def test_basic_header_is_till_and_md5_of_password() -> None:
    # docs/capillary-api.md 1.2: base64(till:md5hex(password)). The documented worked example pairs
    # "Pass123" with md5 bdc87b9c...; that is not md5("Pass123") (it is 2f23fa35...), so only the encoding
    # step is checked against the documented header, and the hash against hashlib.
    header = Credentials.basic("store123", "Pass123").basic_header
    digest = hashlib.md5(b"Pass123").hexdigest()
    assert base64.b64decode(header.split()[1]).decode() == f"store123:{digest}"
    documented = base64.b64encode(b"store123:bdc87b9c894da5168059e00ebffb9077").decode()
    assert documented == "c3RvcmUxMjM6YmRjODdiOWM4OTRkYTUxNjgwNTllMDBlYmZmYjkwNzc="


def test_from_env_reads_oauth_and_basic_variables() -> None:
    env = {"CAPILLARY_OAUTH_KEY": "k1", "CAPILLARY_OAUTH_SECRET": "s3cr3t-value"}
    assert Credentials.from_env("oauth", sandbox=False, environ=env).oauth_body == {
        "key": "k1",
        "secret": "s3cr3t-value",
    }
    env = {"CAPILLARY_TILL": "till.one", "CAPILLARY_PASSWORD": "pw"}
    assert Credentials.from_env("basic", sandbox=False, environ=env).auth == "basic"


def test_sandbox_target_defaults_to_the_sandbox_credentials() -> None:
    assert Credentials.from_env("oauth", sandbox=True, environ={}).oauth_body == {
        "key": "sandbox",
        "secret": "sandbox",
    }
    basic = Credentials.from_env("basic", sandbox=True, environ={})
    assert basic.basic_header == Credentials.basic("sandbox.till", "sandbox").basic_header


@pytest.mark.parametrize(
    ("auth", "env", "missing"),
    [
        ("oauth", {}, "CAPILLARY_OAUTH_KEY and CAPILLARY_OAUTH_SECRET"),
        ("oauth", {"CAPILLARY_OAUTH_KEY": "k"}, "CAPILLARY_OAUTH_SECRET"),
        ("basic", {"CAPILLARY_PASSWORD": "hunter2"}, "CAPILLARY_TILL"),
    ],
    ids=["oauth-none", "oauth-no-secret", "basic-no-till"],
)
def test_missing_credentials_for_a_real_target_name_the_variables(
    auth: str, env: dict[str, str], missing: str
) -> None:
    with pytest.raises(ConfigError) as info:
        Credentials.from_env(auth, sandbox=False, environ=env)
    assert missing in str(info.value)
    assert "hunter2" not in str(info.value)


def test_unknown_auth_kind_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"api\.auth"):
        Credentials.from_env("kerberos", sandbox=True, environ={})


def test_repr_and_str_never_show_secrets() -> None:
    for creds in (Credentials.oauth("key-abc", "secret-xyz"), Credentials.basic("till-abc", "pw-xyz")):
        text = repr(creds) + str(creds) + repr([creds])
        assert "xyz" not in text and "abc" not in text


def test_describe_target_names_the_sandbox_or_the_host() -> None:
    assert describe_target(Config()) == "embedded sandbox (demo data)"
    real = Config(api=ApiConfig(url="https://eu.api.capillarytech.com"))
    assert describe_target(real) == "eu.api.capillarytech.com"
