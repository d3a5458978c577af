"""The plan tests' fixtures: a real loopback sandbox per test and a workspace planned against it."""

from tests.plan.conftest import oauth_env, server, ws

__all__ = ["oauth_env", "server", "ws"]
