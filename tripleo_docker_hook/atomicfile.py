"""The package's one atomic write, and the matching read of a JSON record.

Every file this hook keeps for itself (deployment state, exec records,
render records, the config memo, ``<volume>.md5sum``) is written here: to a
temporary name in the same directory, flushed to disk, then renamed over
the final name, so a reader (or the next run after a kill, OOM or reboot)
sees the old file or the new one, never half of one.
"""

import contextlib
import json
import logging
import os
import re
from typing import Any, Optional, Union

LOG = logging.getLogger(__name__)

#: Basenames of the temporary files :func:`write` leaves behind when
#: killed between create and rename (``<name>.tmp-<8 hex>``).
TMP_NAME = re.compile(r'^.+\.tmp-[0-9a-f]{8}$')

_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


def write(path: str, data: Union[str, bytes], mode: int = 0o600,
          durable: bool = True) -> None:
    """Replace ``path`` with ``data`` atomically.

    ``mode`` is that of a new file (the umask applies); ``durable``: fsync
    before the rename (a cache may skip it: a lost write costs a re-run).
    Raises OSError; the temporary file never outlives a failure.
    """
    if isinstance(data, str):
        data = data.encode('utf-8')
    tmp = f'{path}.tmp-{os.urandom(4).hex()}'
    fd = os.open(tmp, _FLAGS, mode)
    try:
        with os.fdopen(fd, 'wb') as f:
            f.write(data)
            if durable:
                f.flush()
                os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def write_json(path: str, data: Any, mode: int = 0o600,
               durable: bool = True, **dump: Any) -> None:
    """:func:`write` of ``json.dumps(data, **dump)``."""
    write(path, json.dumps(data, **dump), mode, durable)


def read_json(path: str) -> Optional[Any]:
    """The JSON value in ``path``; None when it does not exist.

    A file that exists but cannot be read or parsed is also None — the
    caller starts over as if it were absent — but never silently: it is
    logged as a warning naming the file (a corrupt exec record re-runs
    every exec of its deployment).
    """
    try:
        with open(path, encoding='utf-8') as f:
            return json.load(f)
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        LOG.warning('%s is unreadable or corrupt (%s): treated as absent; '
                    'the next write replaces it', path, exc)
        return None
