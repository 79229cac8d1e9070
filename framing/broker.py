"""The embedded broker: kombu's ``filesystem://`` transport, made safe for concurrent use.

kombu's own filesystem transport creates a message file in the queue folder and only then
writes it, while consumers list and read that folder without a lock. A consumer that picks a
file up in between reads nothing or half a message, ``json.loads`` raises, the message is
lost and the Celery worker exits with ``Unrecoverable error: JSONDecodeError(...)``
(NOTES.md, "Tried here later"). This transport changes two things and keeps the rest
(file names and their order, exchange tables in the control folder, fanout, polling):

* A producer writes each message to a temporary file in a ``tmp`` folder beside the queue
  folder, flushes and fsyncs it, then ``os.replace``-s it into the queue folder under its
  final name. A consumer only ever sees complete files.
* A consumer claims a file by renaming it out of the queue folder (atomic: of two
  consumers only one wins), then reads it. A file that does not parse as a kombu message
  is logged at ERROR and moved to a ``broken`` folder beside the queue folder; the consumer
  goes on with the next file. A file there may be a complete message after all (written
  by a producer that does not use this transport): move it back into the queue folder to
  deliver it.

Transport options, besides kombu's (``data_folder_in``, ``data_folder_out``,
``control_folder``, ``store_processed``, ``processed_folder``, ``polling_interval``):

* ``tmp_folder``: where messages are written before publication and claimed into before
  reading. Default: ``tmp`` beside the queue folder. It has to be on the same file system
  as the queue folder; if a rename says otherwise (``EXDEV``, say a volume mounted on the
  queue folder alone), a hidden ``.tmp`` folder inside the queue folder is used instead,
  whose name the consumers' filter never matches.
* ``broken_folder``: where unreadable messages go. Default: ``broken`` beside the queue
  folder.

Selected in settings with ``CELERY_BROKER_TRANSPORT = "framing.broker:Transport"`` next to
a ``filesystem://`` broker URL.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import shutil
import uuid
from pathlib import Path
from queue import Empty
from time import monotonic

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.encoding import bytes_to_str, str_to_bytes
from kombu.utils.json import dumps, loads
from kombu.utils.objects import cached_property

logger = logging.getLogger(__name__)

#: The name Celery's ``broker_transport`` setting takes to select this transport.
TRANSPORT = "framing.broker:Transport"

#: Fallback for a tmp folder on another file system: inside the queue folder, under a name
#: that ``name.partition(".")[2] == f"{queue}.msg"`` never matches.
HIDDEN_TMP = ".tmp"


class UnreadableMessage(ValueError):
    """A message file that is not a complete kombu message."""


def message_filename(queue: str) -> str:
    """kombu's name for a message file: creation time, a unique id, the queue.

    Consumers take files in sorted order, so the name fixes the delivery order; it is
    kombu's format unchanged, so that files of both transports sort together.
    """
    return f"{round(monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"


def parse_message(raw: bytes) -> dict:
    """The payload of a message file, or :class:`UnreadableMessage`.

    Checks what kombu's virtual channel needs to build a message from it, so that a
    malformed file fails here, where the consumer can set it aside, and not in the
    delivery callback, where it would stop the worker.
    """
    if not raw:
        raise UnreadableMessage("empty file")
    try:
        payload = loads(bytes_to_str(raw))
    except Exception as exc:  # whatever the bytes are, the consumer has to go on
        raise UnreadableMessage(f"{type(exc).__name__}: {exc}") from exc
    properties = payload.get("properties") if isinstance(payload, dict) else None
    if (
        not isinstance(properties, dict)
        or "delivery_tag" not in properties
        or not isinstance(properties.get("delivery_info"), dict)
    ):
        raise UnreadableMessage("not a kombu message (no properties, delivery tag or info)")
    return payload


def _beside(folder: str | os.PathLike, name: str) -> str:
    return str(Path(folder).parent / name)


class Channel(filesystem.Channel):
    """kombu's filesystem channel with atomic publication and a consumer that survives."""

    # --- folders ---------------------------------------------------------------------

    #: Set when a rename into the configured tmp folder crossed file systems (EXDEV).
    _hidden_tmp_out: str | None = None
    _hidden_tmp_in: str | None = None

    @cached_property
    def _skipped(self) -> set[str]:
        """Message files that could not be taken, warned about once each."""
        return set()

    @property
    def tmp_folder_out(self) -> str:
        """Where producers write messages before renaming them into the queue folder."""
        return (
            self._hidden_tmp_out
            or self.transport_options.get("tmp_folder")
            or _beside(self.data_folder_out, "tmp")
        )

    @property
    def tmp_folder_in(self) -> str:
        """Where consumers rename messages out of the queue folder before reading them."""
        return (
            self._hidden_tmp_in
            or self.transport_options.get("tmp_folder")
            or _beside(self.data_folder_in, "tmp")
        )

    @property
    def broken_folder(self) -> str:
        return self.transport_options.get("broken_folder") or _beside(self.data_folder_in, "broken")

    def _fall_back_to_hidden_tmp(self, side: str, data_folder: str, exc: OSError) -> str:
        hidden = os.path.join(data_folder, HIDDEN_TMP)
        logger.warning(
            "Broker tmp folder %s is on another file system than the queue folder %s (%s); "
            "using %s instead",
            getattr(self, f"tmp_folder_{side}"),
            data_folder,
            exc,
            hidden,
        )
        setattr(self, f"_hidden_tmp_{side}", hidden)
        return hidden

    # --- producer --------------------------------------------------------------------

    def _put(self, queue, payload, **kwargs):
        """Put `payload` onto `queue`: written in full elsewhere, then renamed in."""
        filename = message_filename(queue)
        target = os.path.join(self.data_folder_out, filename)
        data = str_to_bytes(dumps(payload))
        try:
            try:
                self._write_then_rename(data, self.tmp_folder_out, filename, target)
            except OSError as exc:
                if exc.errno != errno.EXDEV or self._hidden_tmp_out is not None:
                    raise
                folder = self._fall_back_to_hidden_tmp("out", self.data_folder_out, exc)
                self._write_then_rename(data, folder, filename, target)
        except OSError as exc:
            raise ChannelError(f"Cannot add file {target!r} to directory") from exc

    @staticmethod
    def _write_then_rename(data: bytes, folder: str, filename: str, target: str) -> None:
        os.makedirs(folder, exist_ok=True)
        temporary = os.path.join(folder, f"{filename}.tmp")
        try:
            with open(temporary, "xb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(temporary, target)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise

    # --- consumer --------------------------------------------------------------------

    def _get(self, queue):
        """Get the next message from `queue`; set unreadable files aside and go on."""
        queue_find = f"{queue}.msg"
        for filename in sorted(os.listdir(self.data_folder_in)):
            # only handle messages for the requested queue
            if filename.partition(".")[2] != queue_find:
                continue
            claimed = self._claim(filename)
            if claimed is None:
                continue  # taken by another consumer, or not ours to take
            try:
                with open(claimed, "rb") as f:
                    raw = f.read()
            except OSError as exc:
                raise ChannelError(f"Cannot read file {claimed!r} from queue.") from exc
            try:
                payload = parse_message(raw)
            except UnreadableMessage as exc:
                self._set_aside(claimed, filename, len(raw), exc)
                continue
            self._dispose(claimed, filename)
            return payload
        raise Empty()

    def _claim(self, filename: str) -> str | None:
        """Rename a message file out of the queue folder; None if someone else has it."""
        source = os.path.join(self.data_folder_in, filename)
        folder = self.tmp_folder_in
        for _attempt in range(2):
            claimed = os.path.join(folder, filename)
            try:
                os.makedirs(folder, exist_ok=True)
                os.replace(source, claimed)
                return claimed
            except FileNotFoundError:
                return None  # another consumer renamed it first
            except OSError as exc:
                if exc.errno != errno.EXDEV or self._hidden_tmp_in is not None:
                    # as kombu: the file may be locked or otherwise not ours; skip it
                    if source not in self._skipped:
                        self._skipped.add(source)
                        logger.warning("Cannot take message file %s: %s", source, exc)
                    return None
                folder = self._fall_back_to_hidden_tmp("in", self.data_folder_in, exc)
        return None

    def _dispose(self, claimed: str, filename: str) -> None:
        """A message read: keep it in the processed folder if asked to, else delete it."""
        try:
            if self.store_processed:
                os.makedirs(self.processed_folder, exist_ok=True)
                shutil.move(claimed, os.path.join(self.processed_folder, filename))
            else:
                os.remove(claimed)
        except OSError as exc:
            # The message is out of the queue folder and will be delivered now; a file
            # left over in the tmp folder must not stop the consumer.
            logger.warning("Cannot remove message file %s after reading it: %s", claimed, exc)

    def _set_aside(self, claimed: str, filename: str, size: int, reason: Exception) -> None:
        destination = os.path.join(self.broken_folder, filename)
        try:
            os.makedirs(self.broken_folder, exist_ok=True)
            shutil.move(claimed, destination)
        except OSError as exc:
            logger.warning("Cannot move unreadable message file %s aside: %s", claimed, exc)
            destination = claimed
        logger.error(
            "Unreadable message file %s in broker queue folder %s (%d bytes, %s): "
            "moved to %s and skipped",
            filename,
            self.data_folder_in,
            size,
            reason,
            destination,
        )


class Transport(filesystem.Transport):
    """kombu's filesystem transport with :class:`Channel`; everything else unchanged."""

    Channel = Channel
