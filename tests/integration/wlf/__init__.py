"""wlfcgi integration-test harness."""
import os

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
BUILD = os.path.join(ROOT, "build")
FPMCTL = os.path.join(BUILD, "fpmctl")
MODULE = os.path.join(BUILD, "mod_wlfcgi.so")
