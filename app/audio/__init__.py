"""Microphone capture, device listing, level metering and noise suppression (no Qt here).

Submodules import sounddevice / noisereduce only when used, so importing this package is cheap.
"""
