"""pytest configuration for the integration suites.

The harness lives in tests/integration/wlf/: host.py (httpd, php-fpm and
test users, found the portable way), sandbox.py (fpmctl sandboxes,
instance teardown by pid), httpd.py (a real httpd with the built module),
modworld.py (the accounts, vhosts and httpd the mod_wlfcgi suites share),
containworld.py (the hostile customer, her victim and the stock httpd the
containment suites attack), apps.py (real PHP applications, a private
database server) and fcgi.py (a FastCGI client). The fixtures of
sandbox.py, httpd.py, modworld.py, containworld.py and apps.py are loaded
as plugins.
"""
import importlib.util
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

pytest_plugins = [
    f"wlf.{name}" for name in ("sandbox", "httpd", "modworld", "containworld",
                               "apps")
    if importlib.util.find_spec(f"wlf.{name}") is not None
]


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: takes more than ~20 s")
