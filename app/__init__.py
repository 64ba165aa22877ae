"""Candor: a meeting client whose AI runs on this device, only with the user's recorded consent."""

# First, before any import that can load a library with telemetry (see the module's docstring).
import app.offline_env  # noqa: F401  # isort: skip

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("candor")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+source"
