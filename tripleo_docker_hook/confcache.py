"""A memo of oslo.config's answer, so a no-op run need not import it.

oslo.config stays the source of truth for every option: this module only
keeps, per config file, the values oslo.config parsed last time, together
with a key made of *everything* those values depend on (the file's bytes,
every ``OS_*`` environment variable oslo.config's environment source can
read, the command line, and the files that define the options).  When the
key matches, the values are exactly what oslo.config would answer again;
when anything differs, or the memo is missing, unreadable or not ours,
oslo.config parses as usual and the memo is rewritten.

Why: importing ``oslo_config.cfg`` (netaddr, rfc3986, stevedore,
importlib.metadata) costs 60–180 ms per process on the target machines,
more than everything else a no-op run does (``docs/source/benchmark.rst``).

Where: ``$TRIPLEO_DOCKER_HOOK_CACHE_DIR`` or ``/run/tripleo-docker-hook``
(a tmpfs on a node: gone after a reboot, which costs one normal parse).
The directory must belong to the effective user and be closed to others,
as must the memo file: the hook runs as root, and a memo others could
write would let them choose ``state_dir`` or ``docker_url``.  Nothing is
cached when ``config_source`` (remote option sources) is set.
"""

import hashlib
import json
import os
import stat
import sys
from typing import Any, Dict, Optional

from tripleo_docker_hook import atomicfile

#: Bump when the memo's layout or the key's recipe changes.
FORMAT = 1
ENV_DIR = 'TRIPLEO_DOCKER_HOOK_CACHE_DIR'
ENV_CONFIG = 'TRIPLEO_DOCKER_HOOK_CONFIG'
DEFAULT_CONFIG_FILE = '/etc/tripleo-docker-hook/tripleo-docker-hook.conf'
DEFAULT_DIR = '/run/tripleo-docker-hook'
#: Files whose change means the options themselves may have changed.
_DEFINITIONS = (('oslo_config', 'cfg.py'), ('oslo_config', 'sources',
                                             '_environment.py'),
                ('oslo_log', '_options.py'))


class Group:
    """Read-only attribute access to one group's option values."""

    def __init__(self, values: Dict[str, Any]):
        self.__dict__.update(values)

    def __getattr__(self, name: str):
        raise AttributeError(f'no option {name!r}')


class Snapshot(Group):
    """What ``opts.load`` would return, as plain values: ``conf.state_dir``,
    ``conf.puppet.workers``.  ``real()`` loads the real ``ConfigOpts``
    (oslo.log's set-up needs it)."""

    def __init__(self, values: Dict[str, Any], groups: Dict[str, Dict],
                 loader):
        super().__init__(values)
        for name, group in groups.items():
            self.__dict__[name] = Group(group)
        self.__dict__['_loader'] = loader

    def real(self):
        return self._loader()


def config_file() -> str:
    """The config file ``opts.load`` reads (it may be missing)."""
    return os.environ.get(ENV_CONFIG, DEFAULT_CONFIG_FILE)


def cache_dir() -> Optional[str]:
    """The memo directory, or None where there is no safe place."""
    path = os.environ.get(ENV_DIR)
    if path:
        return path
    if os.geteuid() == 0:
        return DEFAULT_DIR
    return None


def _definition_stamps():
    """(path, mtime_ns, size) of the files defining the options."""
    stamps = []
    here = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                        'opts.py')
    paths = [here]
    for parts in _DEFINITIONS:
        for base in sys.path:
            candidate = os.path.join(base or '.', *parts)
            if os.path.exists(candidate):
                paths.append(candidate)
                break
        else:
            paths.append('/'.join(parts) + ':missing')
    for path in paths:
        try:
            st = os.stat(path)
            stamps.append([path, st.st_mtime_ns, st.st_size])
        except OSError:
            stamps.append([path, None, None])
    return stamps


def key(config_file: str, argv) -> str:
    """sha256 of every input of oslo.config's answer."""
    try:
        with open(config_file, 'rb') as f:
            content = hashlib.sha256(f.read()).hexdigest()
    except FileNotFoundError:
        content = None
    env = sorted((k, v) for k, v in os.environ.items()
                 if k.startswith('OS_'))
    material = json.dumps([FORMAT, sys.version, config_file, content,
                           list(argv), env, _definition_stamps()])
    return hashlib.sha256(material.encode()).hexdigest()


def _memo_path(directory: str, config_file: str) -> str:
    name = hashlib.sha256(config_file.encode()).hexdigest()[:24]
    return os.path.join(directory, f'conf-{name}.json')


def _private(st) -> bool:
    return st.st_uid == os.geteuid() and not st.st_mode & 0o077


def load_options(argv=()):
    """What ``opts.load(argv)`` answers, from the memo when none of its
    inputs changed: a :class:`Snapshot` (no oslo.config import) or the
    ``ConfigOpts`` itself."""
    def loader():
        from tripleo_docker_hook import opts
        return opts.load(argv)
    return load(config_file(), argv, loader)


def load(config_file: str, argv, loader):
    """A :class:`Snapshot` from a valid memo, else ``loader()``'s
    ``ConfigOpts`` (then memoised)."""
    directory = cache_dir()
    if directory is None:
        return loader()
    want = key(config_file, argv)
    path = _memo_path(directory, config_file)
    memo = _read(directory, path)
    if memo and memo.get('key') == want:
        return Snapshot(memo['values'], memo['groups'], loader)
    conf = loader()
    _write(directory, path, want, conf)
    return conf


def _read(directory: str, path: str) -> Optional[dict]:
    try:
        if not _private(os.lstat(directory)):
            return None
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or not _private(st):
            return None
        with os.fdopen(fd, 'rb', closefd=False) as f:
            memo = json.loads(f.read(1 << 20))
        return memo if isinstance(memo, dict) else None
    except (OSError, ValueError):
        return None
    finally:
        os.close(fd)


def values_of(conf) -> Optional[tuple]:
    """(DEFAULT values, {group: values}) of a ``ConfigOpts``, or None when
    a value is not plain JSON or remote sources are configured."""
    if getattr(conf, 'config_source', None):
        return None
    top, groups = {}, {}
    for name in conf:
        value = conf[name]
        if hasattr(value, '_group'):  # a GroupAttr
            groups[name] = {opt: value[opt] for opt in value}
        else:
            top[name] = value
    try:
        json.dumps([top, groups])
    except (TypeError, ValueError):
        return None
    return top, groups


#: Memos kept per directory (one per config file path): a host has one
#: or two; test runs with many temporary config files stay bounded.
MAX_MEMOS = 32


def _prune(directory: str, keep: str) -> None:
    """Remove the oldest memos beyond :data:`MAX_MEMOS` (on a miss only)."""
    memos = []
    for name in os.listdir(directory):
        if name.startswith('conf-') and name.endswith('.json'):
            full = os.path.join(directory, name)
            try:
                memos.append((os.lstat(full).st_mtime, full))
            except FileNotFoundError:
                continue
    memos.sort()
    for _, full in memos[:max(0, len(memos) - MAX_MEMOS)]:
        if full != keep:
            try:
                os.unlink(full)
            except FileNotFoundError:
                pass


def _write(directory: str, path: str, want: str, conf) -> None:
    """Best effort: a memo that cannot be written just costs a parse."""
    got = values_of(conf)
    if got is None:
        return
    try:
        os.makedirs(directory, mode=0o700, exist_ok=True)
        if not _private(os.lstat(directory)):
            return
        atomicfile.write_json(path, {'key': want, 'values': got[0],
                                     'groups': got[1]}, durable=False)
        _prune(directory, keep=path)
    except OSError:
        pass
