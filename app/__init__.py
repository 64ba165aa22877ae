"""Candor: a meeting client whose AI runs on this device, only with the user's recorded consent."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("candor")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+source"
