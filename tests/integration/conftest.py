"""pytest configuration for the integration suites.

The harness lives in tests/integration/wlf/: sandbox.py (fpmctl sandboxes,
test users, instance teardown by pid) and httpd.py (a real httpd with the
built module), modworld.py (the accounts, vhosts and httpd the
mod_wlfcgi suites share) and containworld.py (the customer, victim and
stock httpd the containment suites attack). Their fixtures are loaded as plugins when
present.
"""
import importlib.util
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

pytest_plugins = [
    f"wlf.{name}" for name in ("sandbox", "httpd", "modworld", "containworld")
    if importlib.util.find_spec(f"wlf.{name}") is not None
]


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: takes more than ~20 s")
