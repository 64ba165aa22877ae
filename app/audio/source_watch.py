"""Which sound-server source a microphone stream records from, and the moment that source goes.

Guarantee: when the source a capture was opened on disappears (a USB headset unplugged, a
virtual device unloaded), the capture is told at once, even though the sound server does not end
the stream. PulseAudio (and PipeWire's pulse server) "rescue" a recording whose source went away
by moving it to another source - possibly the monitor of the computer's own output, so the other
participants of a call would be captioned as "You". PortAudio reaches the server through ALSA's
`pulse` plug-in, which cannot ask for a stream that is not moved (PA_STREAM_DONT_MOVE), and after
such a move its callbacks resume within ~0.5-1 s (measured with the virtual microphone): the
capture watchdog (1 s without audio) caught that only in some runs.

How: `pulsectl` (ctypes bindings of libpulse) on a connection of its own. Before the stream is
opened the process's clients are listed; after it started, the new client of this process that
has a recording stream is the ALSA plug-in's (one client per PortAudio stream, kept when the
plug-in re-creates its stream, e.g. after an overrun). A thread then sleeps in libpulse's event
loop (no polling) until a source or recording stream changes, and looks again: the source gone
means the device is lost; the stream moved while its source still exists means the user moved
it (a system mixer), and that source is followed from then on. (Such a move through the ALSA
plug-in pauses the stream for about 1 s here, so the capture watchdog may still call it lost.)

Where there is no pulse server (Windows, macOS, ALSA alone) or the stream cannot be told apart,
nothing is watched: the capture's own checks (a finished stream, the watchdog) still apply.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

CONNECT_SECONDS = 1.0  # a stalled sound server must not hold up opening the microphone
STOP_SECONDS = 2.0
_ALSA_CLIENT_PREFIX = "ALSA plug-in"


def _pulse(name: str) -> Any | None:
    """A pulsectl connection, or None where there is no pulse server to ask."""
    try:
        import pulsectl
    except Exception as err:  # no libpulse on this system (Windows, macOS, a bare ALSA box)
        log.debug("pulsectl is not usable here: %s", err)
        return None
    pulse = pulsectl.Pulse(name, connect=False)
    try:
        pulse.connect(autospawn=False, timeout=CONNECT_SECONDS)
    except Exception as err:
        log.debug("no pulse server to watch the microphone's source on: %s", err)
        pulse.close()
        return None
    return pulse


def _own_clients(pulse: Any) -> set[int]:
    pid = str(os.getpid())
    return {c.index for c in pulse.client_list()
            if c.proplist.get("application.process.id") == pid}


class ClientsBefore:
    """This process's sound-server clients just before a stream is opened."""

    def __init__(self, pulse: Any | None) -> None:
        self._pulse = pulse
        self.indexes: set[int] = set() if pulse is None else _own_clients(pulse)

    @classmethod
    def take(cls) -> ClientsBefore:
        try:
            return cls(_pulse("candor-microphone-watch"))
        except Exception:
            log.debug("listing the sound server's clients failed", exc_info=True)
            return cls(None)

    def close(self) -> None:
        if self._pulse is not None:
            self._pulse.close()
            self._pulse = None

    def watch(self, on_gone: Callable[[str], None]) -> SourceWatch | None:
        """After the stream started: watch the source it records from, or None if unknown.

        `on_gone(reason)` is called once, on the watch's thread, when that source disappears;
        `reason` completes "stopped delivering audio (...)" and names where the server moved
        the recording."""
        pulse, self._pulse = self._pulse, None
        if pulse is None:
            return None
        try:
            found = _new_recording(pulse, self.indexes)
        except Exception:
            log.debug("finding the microphone's recording stream failed", exc_info=True)
            found = None
        if found is None:
            pulse.close()
            return None
        client, source = found
        watch = SourceWatch(pulse, client, source, on_gone)
        watch.start()
        return watch


def _new_recording(pulse: Any, before: set[int]) -> tuple[int, Any] | None:
    """(client index, source info) of the recording stream opened since `before`."""
    new = {c.index: c for c in pulse.client_list()
           if c.index not in before
           and c.proplist.get("application.process.id") == str(os.getpid())}
    recordings = [o for o in pulse.source_output_list() if o.client in new]
    if len({o.client for o in recordings}) > 1:
        # Another stream of this process opened at the same moment (system audio): the ALSA
        # plug-in's is the one PortAudio opened.
        recordings = [o for o in recordings
                      if new[o.client].name.startswith(_ALSA_CLIENT_PREFIX)]
    if len({o.client for o in recordings}) != 1:
        log.debug("%d new recording streams of this process: not watching", len(recordings))
        return None
    sources = {s.index: s for s in pulse.source_list()}
    source = sources.get(recordings[0].source)
    if source is None:
        return None
    return recordings[0].client, source


def _reason(gone: Any, now: Any | None) -> str:
    said = f"{gone.description!r} was disconnected"
    if now is None:
        return said
    return (f"{said}, and the sound server switched the recording to {now.description!r}, "
            "which Candor does not record from unless you pick it")


class SourceWatch:
    """One recording stream's source, watched on a thread of its own until `stop()`."""

    def __init__(self, pulse: Any, client: int, source: Any,
                 on_gone: Callable[[str], None]) -> None:
        self._pulse = pulse
        self.client = client
        self.source_index: int = source.index
        self.source_name: str = source.name
        self._source = source
        self._on_gone = on_gone
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name="candor-source-watch",
                                        daemon=True)

    def start(self) -> None:
        import pulsectl

        def on_event(event: Any) -> None:
            # No pulse calls are allowed inside the callback: leave the loop and look.
            if event.facility in ("source", "source_output"):
                raise pulsectl.PulseLoopStop

        self._pulse.event_mask_set("source", "source_output")
        self._pulse.event_callback_set(on_event)
        self._thread.start()
        log.info("watching the microphone's source %s", self.source_name)

    def _run(self) -> None:
        import pulsectl

        try:
            if self._look():  # gone between finding it and subscribing
                return
            while not self._stopped:
                self._pulse.event_listen()  # sleeps until a source or recording changes
                if self._stopped or self._look():
                    return
        except pulsectl.PulseDisconnected:
            # The server itself went away: the stream ends too, which the capture notices.
            log.info("the sound server closed the connection watching the microphone")
        except Exception:
            log.warning("watching the microphone's source failed", exc_info=True)

    def _look(self) -> bool:
        """True once the source is gone (reported): nothing more to watch."""
        sources = {s.index: s for s in self._pulse.source_list()}
        mine = [o for o in self._pulse.source_output_list() if o.client == self.client]
        now = sources.get(mine[0].source) if mine else None
        if self.source_index not in sources:
            log.warning("the microphone's source %s went away%s", self.source_name,
                        "" if now is None else f"; the server moved the stream to {now.name}")
            self._on_gone(_reason(self._source, now))
            return True
        if now is not None and now.index != self.source_index:
            # Moved while its source is still there: someone chose it (a system mixer).
            log.info("the microphone's stream was moved from %s to %s: following it",
                     self.source_name, now.name)
            self.source_index, self.source_name, self._source = now.index, now.name, now
        return False

    def stop(self) -> None:
        """Ends the watch; safe to call more than once and from any thread but the watch's."""
        if self._stopped:
            return
        self._stopped = True
        thread = self._thread
        if thread.ident is not None and thread is not threading.current_thread():
            # event_listen_stop() is lost if it comes just before the loop starts polling
            # (pulsectl's documented race): repeat it until the thread has left the loop.
            waited = 0.0
            while thread.is_alive() and waited < STOP_SECONDS:
                self._pulse.event_listen_stop()
                thread.join(0.05)
                waited += 0.05
            if thread.is_alive():
                # Blocked on a stalled server: closing the connection under it would free
                # what it is using. The daemon thread ends with the process.
                log.warning("the microphone's source watch did not stop; leaving it")
                return
        self._pulse.close()
