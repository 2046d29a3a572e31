"""TripleO ``docker_config`` (heat-agents docker-cmd / paunch format).

``step_N`` → container name → options, loosely ``docker run`` flags.  Unlike
docker-cmd and paunch, unknown keys are errors, every value is type-checked
and ``env_file`` is read here, so a typo fails the deployment before anything
changes on the host.  Keys starting with ``_`` are comments (the examples'
``_source``/``_note``) and ignored, also in the hash.
"""

import contextvars
import dataclasses
import errno
import math
import os
import re
import shlex
import stat
from decimal import Decimal
from typing import Any, Dict, List, Mapping, Optional, Tuple

from tripleo_docker_hook import errors
from tripleo_docker_hook import model
from tripleo_docker_hook.definitions import common
from tripleo_docker_hook.definitions import host_services

#: Options of a created container (``action`` absent or ``run``).
RUN_KEYS = (
    'image', 'name', 'action', 'net', 'pid', 'ipc', 'uts', 'privileged',
    'restart', 'user', 'volumes', 'volumes_from', 'environment', 'env_file',
    'command', 'entrypoint', 'working_dir', 'detach', 'exit_codes',
    'start_order', 'timeout', 'healthcheck', 'ulimit', 'security_opt',
    'cap_add', 'cap_drop', 'memory', 'mem_limit', 'memswap_limit',
    'mem_reservation', 'mem_swappiness', 'shm_size', 'cpu_shares',
    'cpu_quota', 'cpu_period', 'cpuset_cpus', 'stop_grace_period',
    'stop_signal', 'remove', 'tty', 'interactive', 'log_tag', 'hostname',
    'extra_hosts', 'group_add', 'labels', 'host_services')
#: Options of ``action: exec`` (``docker exec [--user --privileged --env]``).
EXEC_KEYS = ('action', 'command', 'user', 'privileged', 'environment',
             'env_file', 'start_order', 'exit_codes', 'timeout', 'name')

ULIMITS = ('core', 'cpu', 'data', 'fsize', 'locks', 'memlock', 'msgqueue',
           'nice', 'nofile', 'nproc', 'rss', 'rtprio', 'rttime',
           'sigpending', 'stack')
_MOUNT_OPTS = {'ro', 'rw', 'z', 'Z', 'shared', 'rshared', 'slave', 'rslave',
               'private', 'rprivate'}
_RESTART = re.compile(r'^(no|always|unless-stopped|on-failure(:\d{1,10})?)$')
_ENV_KEY = re.compile(r'^[^=\s\x00]+$')
#: Docker refuses memory limits below 6 MiB.
MIN_MEMORY = 6 * 1024 * 1024


def split_command(value: str) -> Optional[List[str]]:
    """A string command, split like a POSIX shell would (quotes honoured).

    docker-cmd and paunch split on whitespace only, which breaks
    ``bash -c "a b"``; for strings without quotes both agree.
    """
    try:
        return shlex.split(value)
    except ValueError:
        return None


#: Largest env file read (Docker has no limit; ours keeps the hook's
#: memory bounded: ``env_file: /dev/zero`` used to grow until the OOM kill).
MAX_ENV_FILE_BYTES = 1024 * 1024
#: Where ``env_file`` paths are read: the host's ``/`` as the hook sees it
#: (option ``host_root``); set by :func:`definitions.parse`.
HOST_ROOT: contextvars.ContextVar = contextvars.ContextVar(
    'host_root', default='/')
_MAX_LINKS = 40


def _resolve_under(root: str, path: str) -> str:
    """``path`` of the host, resolved inside ``root`` like a chroot would:
    absolute symlinks restart at ``root``, ``..`` stops at it."""
    if root in ('', '/'):
        return path
    root = root.rstrip('/')
    todo = [p for p in path.split('/') if p]
    done: List[str] = []
    links = 0
    while todo:
        part = todo.pop(0)
        if part == '.':
            continue
        if part == '..':
            if done:
                done.pop()
            continue
        candidate = root + '/' + '/'.join(done + [part])
        try:
            target = os.readlink(candidate)
        except OSError:   # not a link (or missing: open() will tell)
            done.append(part)
            continue
        links += 1
        if links > _MAX_LINKS:
            raise OSError(errno.ELOOP, 'too many levels of symbolic links')
        parts = [p for p in target.split('/') if p]
        if target.startswith('/'):
            done = []
        todo = parts + todo
    return root + '/' + '/'.join(done)


def read_host_file(path: str, max_bytes: int,
                   host_root: Optional[str] = None) -> bytes:
    """The content of a host's regular file, read through ``host_root``.

    Never opens anything but a regular file (a device or FIFO is refused
    before it is opened), never blocks and never reads more than
    ``max_bytes``.  Raises
    :class:`OSError` with a reason an operator understands.
    """
    real = _resolve_under(HOST_ROOT.get() if host_root is None
                          else host_root, path)
    # Checked before opening: opening a device can change the host
    # (``/dev/watchdog`` arms the watchdog, a tape device rewinds, a
    # FIFO releases a writer waiting for a reader).
    if not stat.S_ISREG(os.stat(real).st_mode):
        raise OSError(errno.EINVAL, 'not a regular file')
    fd = os.open(real, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC |
                 os.O_NOCTTY)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise OSError(errno.EINVAL, 'not a regular file')
        if info.st_size > max_bytes:
            raise OSError(errno.EFBIG, f'larger than {max_bytes} bytes')
        chunks, size = [], 0
        while size <= max_bytes:
            chunk = os.read(fd, min(65536, max_bytes + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > max_bytes:
            raise OSError(errno.EFBIG, f'larger than {max_bytes} bytes')
        return b''.join(chunks)
    finally:
        os.close(fd)


def read_env_file(path: str, where: str, errs: errors.ErrorList
                  ) -> Optional[Tuple[str, List[Tuple[str, str]]]]:
    """``(content, [(name, value)])`` of a Docker env file, or None.

    Read on the host (through ``host_root``), only if it is a regular
    file of at most :data:`MAX_ENV_FILE_BYTES`.
    """
    if not path.startswith('/'):
        errs.invalid(where, path, 'env files must be absolute paths (they '
                     'are read by the hook, not by Docker)')
        return None
    if '\x00' in path:
        errs.invalid(where, path, 'must not contain NUL')
        return None
    try:
        content = read_host_file(path, MAX_ENV_FILE_BYTES).decode('utf-8')
    except FileNotFoundError:
        errs.not_found(where, path)
        return None
    except UnicodeDecodeError:
        errs.invalid(where, path, 'cannot read env file: not UTF-8')
        return None
    except OSError as exc:
        errs.invalid(where, path, f'cannot read env file: '
                     f'{exc.strerror or exc}')
        return None
    pairs = parse_env_file(content, where, path, errs)
    return content, pairs


def parse_env_file(content: str, where: str, path: str,
                   errs: errors.ErrorList) -> List[Tuple[str, str]]:
    """Docker CLI ``--env-file`` rules: ``#`` comments, blank lines, K=V."""
    pairs = []
    for number, line in enumerate(content.splitlines(), 1):
        line = line.lstrip()
        if not line or line.startswith('#'):
            continue
        key, sep, value = line.partition('=')
        if not sep or not _ENV_KEY.match(key):
            errs.invalid(where, f'{path}:{number}',
                         'env file lines must be NAME=VALUE (a bare NAME '
                         'would copy the hook\'s own environment)')
            continue
        pairs.append((key, value))
    return pairs


def env_value(value: Any) -> Optional[str]:
    if value is None:
        return ''
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, (str, int, float)):
        return str(value)
    return None


def parse_environment(f: common.Fields, errs: errors.ErrorList
                      ) -> List[Tuple[str, str]]:
    raw = f.raw('environment')
    if raw is None:
        return []
    path = f.p('environment')
    pairs: List[Tuple[str, str]] = []
    if isinstance(raw, Mapping):
        for key, value in raw.items():
            text = env_value(value)
            if not isinstance(key, str) or not _ENV_KEY.match(key):
                errs.invalid(f'{path}[{key}]', str(key),
                             'not a valid environment variable name')
            elif text is None:
                common.wrong_type(errs, f'{path}[{key}]', value, 'a string')
            else:
                pairs.append((key, text))
    elif isinstance(raw, list):
        for i, item in enumerate(raw):
            if not isinstance(item, str):
                common.wrong_type(errs, f'{path}[{i}]', item, 'a string')
                continue
            key, sep, value = item.partition('=')
            if not sep or not _ENV_KEY.match(key):
                errs.invalid(f'{path}[{i}]', item, 'must be NAME=VALUE')
                continue
            pairs.append((key, value))
    else:
        common.wrong_type(errs, path, raw, 'a list of NAME=VALUE or a '
                          'mapping')
    f.keep('environment', [f'{k}={v}' for k, v in pairs])
    return pairs


def merge_env(*sources: List[Tuple[str, str]]) -> Tuple[Tuple[str, str],
                                                         ...]:
    """Later sources win; a name keeps its first position (Docker rule)."""
    merged: Dict[str, str] = {}
    for pairs in sources:
        for key, value in pairs:
            merged[key] = value
    return tuple(merged.items())


def parse_env_files(f: common.Fields, errs: errors.ErrorList
                    ) -> List[Tuple[str, str]]:
    files = f.str_list('env_file', split_string=True)
    pairs: List[Tuple[str, str]] = []
    contents = []
    for i, path in enumerate(files or []):
        where = (f.p('env_file') if isinstance(f.raw('env_file'), str)
                 else f'{f.p("env_file")}[{i}]')
        result = read_env_file(path, where, errs)
        if result is not None:
            contents.append([path, result[0]])
            pairs.extend(result[1])
    f.keep('env_file_content', contents)
    return pairs


def parse_command(f: common.Fields, key: str, errs: errors.ErrorList
                  ) -> Optional[Tuple[str, ...]]:
    raw = f.raw(key)
    if raw is None:
        return None
    path = f.p(key)
    if isinstance(raw, str):
        parts = split_command(raw)
        if parts is None:
            errs.invalid(path, raw, 'unbalanced quotes (a string command is '
                         'split like a POSIX shell would)')
            return None
    elif isinstance(raw, list):
        parts = []
        for i, item in enumerate(raw):
            if isinstance(item, bool) or not isinstance(item, (str, int,
                                                               float)):
                common.wrong_type(errs, f'{path}[{i}]', item, 'a string')
                continue
            parts.append(str(item))
    else:
        common.wrong_type(errs, path, raw, 'a list of strings or a string')
        return None
    f.keep(key, list(parts))
    return tuple(parts)


def parse_volume(item: str, path: str, errs: errors.ErrorList
                 ) -> Optional[model.Mount]:
    parts = item.split(':')
    if len(parts) not in (2, 3) or not parts[0] or not parts[1]:
        errs.invalid(path, item, 'must be SOURCE:/container/path[:OPTIONS] '
                     '(SOURCE an absolute host path or a volume name)')
        return None
    source, target = parts[0], parts[1]
    ok = common.check_abs_path(errs, path, target) if \
        target.startswith('/') else False
    if not target.startswith('/'):
        errs.invalid(path, item, 'the container path must be absolute')
    if source.startswith('/'):
        kind = 'bind'
    elif common.VOLUME_NAME.match(source):
        kind = 'volume'
    else:
        errs.invalid(path, item, 'the source must be an absolute host path '
                     'or a volume name ([a-zA-Z0-9][a-zA-Z0-9_.-]+)')
        ok = False
    opts = parts[2].split(',') if len(parts) == 3 else []
    read_only, propagation, relabel = False, '', ''
    seen = set()
    for opt in opts:
        if opt not in _MOUNT_OPTS:
            errs.unsupported(path, opt, sorted(_MOUNT_OPTS))
            ok = False
            continue
        group = ('mode' if opt in ('ro', 'rw') else
                 'label' if opt in ('z', 'Z') else 'propagation')
        if group in seen:
            errs.invalid(path, item, f'more than one {group} option')
            ok = False
        seen.add(group)
        if opt == 'ro':
            read_only = True
        elif opt in ('z', 'Z'):
            relabel = opt
        elif opt != 'rw':
            propagation = opt
    if not ok:
        return None
    return model.Mount(target=target, source=source, type=kind,
                       read_only=read_only, propagation=propagation,
                       selinux_relabel=relabel)


def parse_volumes(f: common.Fields, errs: errors.ErrorList
                  ) -> Tuple[model.Mount, ...]:
    raw = f.list('volumes')
    mounts: List[model.Mount] = []
    targets: Dict[str, int] = {}
    kept = []
    for i, item in enumerate(raw or []):
        if item == '' or item is None:
            continue  # THT `if:` leaves empty entries
        path = f'{f.p("volumes")}[{i}]'
        if not isinstance(item, str):
            common.wrong_type(errs, path, item, 'a string')
            continue
        kept.append(item)
        mount = parse_volume(item, path, errs)
        if mount is None:
            continue
        mount = dataclasses.replace(mount, origin=path)
        target = mount.target.rstrip('/') or '/'
        if target in targets:
            errs.duplicate(path, mount.target)
            continue
        targets[target] = i
        mounts.append(mount)
    f.keep('volumes', kept)
    return tuple(mounts)


def parse_healthcheck(f: common.Fields, errs: errors.ErrorList
                      ) -> Optional[model.HealthCheck]:
    raw = f.mapping('healthcheck')
    if raw is None:
        return None
    h = common.Fields(raw, f.p('healthcheck'), errs,
                      ('test', 'interval', 'timeout', 'retries',
                       'start_period', 'disable'))
    if h.bool('disable'):
        h.finish()
        f.keep('healthcheck', h.canon)
        return model.HealthCheck(test=('NONE',))
    test = h.raw('test')
    if isinstance(test, str) and test.strip():
        parts: Tuple[str, ...] = ('CMD-SHELL', test)
    elif isinstance(test, list) and test and all(
            isinstance(t, str) for t in test):
        parts = tuple(test) if test[0] in ('CMD', 'CMD-SHELL', 'NONE') \
            else ('CMD',) + tuple(test)
        if parts[0] == 'CMD-SHELL' and len(parts) != 2:
            errs.invalid(h.p('test'), test, 'CMD-SHELL takes one string')
    elif test is None:
        errs.required(h.p('test'))
        parts = ('NONE',)
    else:
        common.wrong_type(errs, h.p('test'), test,
                          'a string or a list of strings')
        parts = ('NONE',)
    h.keep('test', list(parts))
    durations = {}
    for key in ('interval', 'timeout', 'start_period'):
        if h.has(key):
            value = common.parse_duration(h.raw(key))
            if value is None or (value and value < Decimal('0.001')):
                errs.invalid(h.p(key), h.raw(key), 'must be a duration '
                             '(e.g. 30s, 1m30s, 500ms) of at least 1ms')
                continue
            if not common.check_seconds(errs, h.p(key), h.raw(key), value,
                                        common.MAX_PROBE):
                continue
            durations[key] = float(value)
            h.keep(key, str(value.normalize()))
    retries = h.int('retries', 0, minimum=0, maximum=common.INT32_MAX)
    h.finish()
    f.keep('healthcheck', h.canon)
    return model.HealthCheck(test=parts, retries=retries or 0, **durations)


def parse_ulimits(f: common.Fields, errs: errors.ErrorList
                  ) -> Tuple[model.Ulimit, ...]:
    items = f.str_list('ulimit', split_string=True) or []
    out = []
    names = set()
    for i, item in enumerate(items):
        path = (f.p('ulimit') if isinstance(f.raw('ulimit'), str)
                else f'{f.p("ulimit")}[{i}]')
        match = re.match(r'^([a-z]+)=(-?\d+)(?::(-?\d+))?$', item)
        if not match:
            errs.invalid(path, item, 'must be NAME=SOFT[:HARD]')
            continue
        if len(item) > 100:
            errs.invalid(path, item, 'limits must fit in 64 bits')
            continue
        name, soft, hard = match.group(1), int(match.group(2)), \
            int(match.group(3) if match.group(3) is not None
                else match.group(2))
        if not all(-1 <= v <= common.INT64_MAX for v in (soft, hard)):
            errs.invalid(path, item, f'limits must be -1 (unlimited) or '
                         f'between 0 and {common.INT64_MAX}')
            continue
        if name not in ULIMITS:
            errs.unsupported(path, name, ULIMITS)
            continue
        if name in names:
            errs.duplicate(path, name)
            continue
        if soft > hard and hard != -1:
            errs.invalid(path, item, 'soft limit must not exceed hard limit')
            continue
        names.add(name)
        out.append(model.Ulimit(name, soft, hard))
    return tuple(out)


def parse_caps(f: common.Fields, key: str, errs: errors.ErrorList
               ) -> Tuple[str, ...]:
    items = f.str_list(key, split_string=True) or []
    out = []
    for i, item in enumerate(items):
        cap = item.upper()
        if cap.startswith('CAP_'):
            cap = cap[4:]
        if not common.CAPABILITY.match(cap):
            errs.invalid(f'{f.p(key)}[{i}]', item, 'not a capability name')
            continue
        if cap not in out:
            out.append(cap)
    return tuple(out)


def normalise_security_opt(opt: str) -> str:
    """``label:disable`` (deprecated) → ``label=disable``."""
    if opt in ('no-new-privileges', 'no-new-privileges:true',
               'no-new-privileges=true'):
        return 'no-new-privileges'
    if '=' not in opt and ':' in opt:
        key, value = opt.split(':', 1)
        return f'{key}={value}'
    return opt


def parse_security_opt(f: common.Fields, errs: errors.ErrorList
                       ) -> Tuple[str, ...]:
    items = f.str_list('security_opt', split_string=True) or []
    out = []
    for i, item in enumerate(items):
        opt = normalise_security_opt(item)
        key = opt.split('=', 1)[0]
        if key not in ('label', 'apparmor', 'seccomp', 'no-new-privileges',
                       'systempaths'):
            errs.unsupported(f'{f.p("security_opt")}[{i}]', item,
                             ['label=...', 'apparmor=...', 'seccomp=...',
                              'no-new-privileges', 'systempaths=unconfined'])
            continue
        out.append(opt)
    return tuple(out)


def parse_bytes(f: common.Fields, key: str, errs: errors.ErrorList,
                minimum: int = 0) -> Optional[int]:
    if not f.has(key):
        return None
    value = common.parse_docker_bytes(f.raw(key))
    if value is None:
        errs.invalid(f.p(key), f.raw(key), 'must be a size in bytes or '
                     'with a unit (b, k, m, g, t; binary: 1g = 1024m) of '
                     'at most 8 EiB')
        return None
    if value < minimum and not (key == 'memswap_limit' and value == -1):
        errs.invalid(f.p(key), f.raw(key),
                     f'must be at least {minimum} bytes')
        return None
    f.keep(key, value)
    return value


def parse_mode(f: common.Fields, key: str, errs: errors.ErrorList,
               allowed: Tuple[str, ...], container_ok: bool) -> str:
    value = f.str(key)
    if not value:
        return ''
    if value in allowed:
        return value
    if container_ok and value.startswith('container:'):
        if common.check_container_name(errs, f.p(key),
                                       value[len('container:'):], value,
                                       'container:NAME'):
            return value
        return ''
    errs.unsupported(f.p(key), value, list(allowed) + (
        ['container:<name>'] if container_ok else []))
    return ''


def parse_user(f: common.Fields, errs: errors.ErrorList) -> str:
    """``user``: a name or uid, ``[:group]``; a YAML integer is a uid."""
    raw = f.raw('user')
    if isinstance(raw, int) and not isinstance(raw, bool) and raw >= 0:
        f.keep('user', str(raw))
        return str(raw)
    value = f.str('user')
    if value and not re.match(r'^[A-Za-z0-9_.][A-Za-z0-9_.$-]*'
                              r'(:[A-Za-z0-9_.][A-Za-z0-9_.$-]*)?$', value):
        errs.invalid(f.p('user'), value, 'must be USER[:GROUP] (names or '
                     'numeric IDs)')
        return ''
    return value


# -- the docker options, declared once ------------------------------------
#
# Each option of docker_config that is not a Pod concept is declared here:
# its keys, its type and validation (the parser), the Docker API field it
# ends up in (by way of the model field and :mod:`docker_spec`), and its
# export form in the ``tripleo.org/docker-options`` annotation.  The
# docker_config parser, the Pod annotation parser (:func:`extra_options`)
# and :mod:`export` all read this one table; the order of the table is the
# order errors are reported in.

def _p_pid(f, errs):
    return {'pid_mode': parse_mode(f, 'pid', errs, ('host',), True)}


def _p_ipc(f, errs):
    return {'ipc_mode': parse_mode(f, 'ipc', errs,
                                   ('host', 'private', 'shareable'), True)}


def _p_uts(f, errs):
    return {'uts_mode': parse_mode(f, 'uts', errs, ('host',), False)}


def _p_restart(f, errs):
    if not f.has('restart'):
        return {}
    value = f.str('restart')
    if value and not _RESTART.match(value):
        errs.unsupported(f.p('restart'), value,
                         ['no', 'always', 'unless-stopped', 'on-failure[:N]'])
    elif value:
        name, _, count = value.partition(':')
        if int(count or 0) > common.INT32_MAX:
            errs.invalid(f.p('restart'), value, f'the retry count must '
                         f'be at most {common.INT32_MAX}')
        return {'restart_policy': name,
                'restart_max_retries': min(int(count or 0),
                                           common.INT32_MAX)}
    return {}


def _p_hostname(f, errs):
    if not f.has('hostname'):
        return {}
    value = f.str('hostname')
    if value and common.check_subdomain(errs, f.p('hostname'),
                                        value.lower()):
        return {'hostname': value}
    return {}


def _p_volumes_from(f, errs):
    items = f.str_list('volumes_from', split_string=True) or []
    for i, item in enumerate(items):
        common.check_container_name(errs, f'{f.p("volumes_from")}[{i}]',
                                    item.split(':')[0], item,
                                    'NAME[:ro|rw]')
    return {'volumes_from': tuple(items)}


def _p_group_add(f, errs):
    return {'group_add': tuple(
        f.str_list('group_add', split_string=True) or [])}


def _p_extra_hosts(f, errs):
    items = f.str_list('extra_hosts', split_string=True) or []
    for i, item in enumerate(items):
        host, sep, addr = item.partition(':')
        if not sep or not host or not addr:
            errs.invalid(f'{f.p("extra_hosts")}[{i}]', item,
                         'must be HOST:IP')
    return {'extra_hosts': tuple(items)}


def _p_cpuset_cpus(f, errs):
    value = f.str('cpuset_cpus')
    if value == 'all':
        value = ''   # paunch: "all" means no pinning
    elif value and not re.match(r'^\d+(-\d+)?(,\d+(-\d+)?)*$', value):
        errs.invalid(f.p('cpuset_cpus'), value,
                     'must be a CPU list like 0-2,4')
        value = ''
    return {'cpuset_cpus': value}


def _p_exit_codes(f, errs):
    if not f.has('exit_codes'):
        return {}
    raw = f.raw('exit_codes')
    raw = [raw] if isinstance(raw, int) and not isinstance(raw, bool) \
        else raw
    if not isinstance(raw, list) or not raw or not all(
            isinstance(c, int) and not isinstance(c, bool) and
            0 <= c <= 255 for c in raw):
        errs.invalid(f.p('exit_codes'), raw, 'must be a non-empty list '
                     'of exit codes (0-255)')
        return {}
    codes = tuple(sorted(set(raw)))
    f.keep('exit_codes', list(codes))
    return {'exit_codes': codes}


def _p_timeout(f, errs):
    if not f.has('timeout'):
        return {}
    value = common.parse_duration(f.raw('timeout'))
    if value is None or value <= 0:
        errs.invalid(f.p('timeout'), f.raw('timeout'),
                     'must be a positive duration (seconds or 10m)')
    elif common.check_seconds(errs, f.p('timeout'), f.raw('timeout'),
                              value, common.MAX_TIMEOUT):
        f.keep('timeout', int(math.ceil(value)))
        return {'timeout': int(math.ceil(value))}
    return {}


def _p_stop_signal(f, errs):
    value = f.str('stop_signal')
    if value and not re.match(r'^(SIG[A-Z0-9+-]+|[A-Z0-9+-]+|\d+)$', value):
        errs.invalid(f.p('stop_signal'), value, 'not a signal name')
    return {'stop_signal': value}


def _p_healthcheck(f, errs):
    if not f.has('healthcheck'):
        return {}
    if f.raw('healthcheck') == 'image':
        # The image's own HEALTHCHECK (what an absent key means in
        # docker_config; written by the Pod export).
        f.keep('healthcheck', 'image')
        return {'healthcheck': None}
    return {'healthcheck': parse_healthcheck(f, errs)}


def _p_memory(f, errs):
    if f.has('memory') and f.has('mem_limit'):
        errs.forbidden(f.p('memory'), 'give either memory or mem_limit')
    mem = parse_bytes(f, 'memory', errs, MIN_MEMORY)
    return {'mem_limit': parse_bytes(f, 'mem_limit', errs, MIN_MEMORY)
            or mem}


def _p_cpu(f, errs):
    bounds = {'cpu_shares': (2, common.MAX_CPU_SHARES),
              'cpu_quota': (1000, common.MAX_CPU_QUOTA),
              'cpu_period': (common.MIN_CPU_PERIOD, common.MAX_CPU_PERIOD)}
    return {key: f.int(key, None, minimum=low, maximum=high,
                       numeric_string=True)
            for key, (low, high) in bounds.items()}


def _e_mode(attr: str, key: str):
    def export(c: model.Container) -> Dict[str, Any]:
        value = getattr(c, attr)
        # host is the default of a Pod's pid/ipc (hostPID/hostIPC).
        return {key: value} if value and (
            key == 'uts' or value != 'host') else {}
    return export


def _e_restart(c: model.Container) -> Dict[str, Any]:
    if c.restart_policy in ('unless-stopped',) or (
            c.restart_policy == 'on-failure' and c.restart_max_retries):
        return {'restart': c.restart_policy + (
            f':{c.restart_max_retries}' if c.restart_max_retries else '')}
    return {}


def _e_exit_codes(c: model.Container) -> Dict[str, Any]:
    return {'exit_codes': list(c.exit_codes)} if c.exit_codes != (0,) else {}


#: ``DockerOption.api``: every field is sent under its own name, as is.
HOST_CONFIG = 'host_config'
CREATE_CONTAINER = 'create_container'
#: ``DockerOption.export``: the fields under their own names, as is.
AS_IS = 'as is'


@dataclasses.dataclass(frozen=True)
class DockerOption:
    """One docker option.

    ``keys``: its docker_config keys (the first names it; the others are
    read with it).  ``type``: for people.  ``parse(fields, errs)`` → model
    keyword arguments, for the model ``fields`` (of
    :class:`model.Resources` when ``resource``).

    ``api``: what :func:`docker_spec.create_args` sends to Docker:
    :data:`HOST_CONFIG` or :data:`CREATE_CONTAINER` — each field that is
    set, under its own name, as is (:meth:`values`); ``host_config.<arg>``
    or ``create_container.<arg>`` — that argument, in a form of Docker's
    own that ``create_args`` builds; empty — the hook's own, never sent.

    ``export``: its ``tripleo.org/docker-options`` entries
    (:meth:`exported`): :data:`AS_IS` (:meth:`values`), a function of the
    container, or None (:mod:`export` writes a Pod field when one fits,
    else the entry itself).
    """

    keys: Tuple[str, ...]
    type: str
    parse: Any
    fields: Tuple[str, ...]
    api: str
    export: Any = None
    resource: bool = False

    @property
    def name(self) -> str:
        return self.keys[0]

    def values(self, c: model.Container) -> Dict[str, Any]:
        """``{field: value}`` of the fields of ``c`` that are set (not
        None, empty text or an empty tuple); a tuple as a list."""
        source = c.resources if self.resource else c
        out: Dict[str, Any] = {}
        for field in self.fields:
            value = getattr(source, field)
            if value is None or value == '' or value == ():
                continue
            out[field] = list(value) if isinstance(value, tuple) else value
        return out

    def exported(self, c: model.Container) -> Dict[str, Any]:
        """Its ``tripleo.org/docker-options`` entries for ``c`` ({} when
        :mod:`export` writes it itself)."""
        if self.export is AS_IS:
            return self.values(c)
        return self.export(c) if self.export is not None else {}


def _o(keys, type_, parse, fields, api, export=None, resource=False):
    keys = (keys,) if isinstance(keys, str) else tuple(keys)
    fields = (fields,) if isinstance(fields, str) else tuple(fields)
    return DockerOption(keys, type_, parse, fields, api, export, resource)


#: Every docker option a Pod carries in its ``tripleo.org/docker-options``
#: annotation (no Pod equivalent, or a Docker form a Pod field cannot say).
DOCKER_OPTIONS: Tuple[DockerOption, ...] = (
    _o('pid', 'host | container:NAME', _p_pid, 'pid_mode', HOST_CONFIG,
       _e_mode('pid_mode', 'pid')),
    _o('ipc', 'host | private | shareable | container:NAME', _p_ipc,
       'ipc_mode', HOST_CONFIG, _e_mode('ipc_mode', 'ipc')),
    _o('uts', 'host', _p_uts, 'uts_mode', HOST_CONFIG,
       _e_mode('uts_mode', 'uts')),
    _o('restart', 'no | always | unless-stopped | on-failure[:N]',
       _p_restart, ('restart_policy', 'restart_max_retries'),
       'host_config.restart_policy', _e_restart),
    _o('hostname', 'DNS subdomain', _p_hostname, 'hostname',
       CREATE_CONTAINER, AS_IS),
    _o('volumes_from', 'list of NAME[:ro|rw]', _p_volumes_from,
       'volumes_from', HOST_CONFIG, AS_IS),
    _o('remove', 'bool (task: removed after its exit code is read)',
       lambda f, errs: {'auto_remove': f.bool('remove')}, 'auto_remove', '',
       lambda c: {'remove': True} if c.auto_remove else {}),
    _o('log_tag', 'string', lambda f, errs: {'log_tag': f.str('log_tag')},
       'log_tag', 'host_config.log_config', AS_IS),
    _o('ulimit', 'list of NAME=SOFT[:HARD]',
       lambda f, errs: {'ulimits': parse_ulimits(f, errs)}, 'ulimits',
       'host_config.ulimits',
       lambda c: {'ulimit': [f'{u.name}={u.soft}:{u.hard}'
                             for u in c.ulimits]} if c.ulimits else {}),
    _o('group_add', 'list of groups', _p_group_add, 'group_add',
       HOST_CONFIG, AS_IS),
    _o('extra_hosts', 'list of HOST:IP', _p_extra_hosts, 'extra_hosts',
       HOST_CONFIG, AS_IS),
    _o('security_opt', 'list of Docker security options',
       lambda f, errs: {'security_opt': parse_security_opt(f, errs)},
       'security_opt', HOST_CONFIG),
    _o('cpuset_cpus', 'CPU list (0-2,4) | all', _p_cpuset_cpus,
       'cpuset_cpus', HOST_CONFIG, AS_IS, resource=True),
    _o('mem_swappiness', 'int 0-100',
       lambda f, errs: {'mem_swappiness': f.int(
           'mem_swappiness', None, 0, 100, numeric_string=True)},
       'mem_swappiness', HOST_CONFIG, AS_IS, resource=True),
    _o('shm_size', 'bytes (1g, 64m)',
       lambda f, errs: {'shm_size': parse_bytes(f, 'shm_size', errs, 1)},
       'shm_size', HOST_CONFIG, AS_IS, resource=True),
    _o('memswap_limit', 'bytes (at least 6m) | -1',
       lambda f, errs: {'memswap_limit': parse_bytes(
           f, 'memswap_limit', errs, MIN_MEMORY)},
       'memswap_limit', HOST_CONFIG, resource=True),
    _o('mem_reservation', 'bytes',
       lambda f, errs: {'mem_reservation': parse_bytes(
           f, 'mem_reservation', errs)},
       'mem_reservation', HOST_CONFIG, AS_IS, resource=True),
    _o('exit_codes', 'list of 0-255', _p_exit_codes, 'exit_codes', '',
       _e_exit_codes),
    _o('timeout', 'duration (seconds, 10m)', _p_timeout, 'timeout', ''),
    _o('stop_signal', 'signal name or number', _p_stop_signal,
       'stop_signal', CREATE_CONTAINER),
    _o('user', 'USER[:GROUP]',
       lambda f, errs: {'user': parse_user(f, errs)} if f.has('user')
       else {}, 'user', CREATE_CONTAINER),
    _o('healthcheck', 'mapping | image', _p_healthcheck, 'healthcheck',
       'create_container.healthcheck'),
    _o(('memory', 'mem_limit'), 'bytes (at least 6m)', _p_memory,
       'mem_limit', HOST_CONFIG, resource=True),
    _o(('cpu_shares', 'cpu_quota', 'cpu_period'), 'ints', _p_cpu,
       ('cpu_shares', 'cpu_quota', 'cpu_period'), HOST_CONFIG,
       resource=True),
)

#: Options that a Pod can carry in its ``tripleo.org/docker-options``
#: annotation (no Pod equivalent): every key of :data:`DOCKER_OPTIONS`.
POD_EXTRA_KEYS = tuple(k for o in DOCKER_OPTIONS for k in o.keys)


def extra_options(f: common.Fields, errs: errors.ErrorList,
                  keys: Tuple[str, ...]) -> Dict[str, Any]:
    """Container keyword arguments for the options in ``keys``
    (:data:`DOCKER_OPTIONS` order), ``resources`` among them.

    Shared by docker_config and the Pod ``tripleo.org/docker-options``
    annotation.
    """
    kw: Dict[str, Any] = {}
    res: Dict[str, Any] = {}
    for option in DOCKER_OPTIONS:
        if option.name in keys:
            (res if option.resource else kw).update(option.parse(f, errs))
    kw['resources'] = {k: v for k, v in res.items() if v not in (None, '')}
    return kw


def parse_container(name: str, step: int, spec: Any, path: str,
                    errs: errors.ErrorList) -> Optional[model.Container]:
    """One docker_config entry → :class:`model.Container` (or None)."""
    if not isinstance(spec, Mapping):
        common.wrong_type(errs, path, spec, 'a mapping of container options')
        return None
    common.check_container_name(errs, path, name)
    action = spec.get('action')
    is_exec = action == 'exec'
    f = common.Fields(spec, path, errs, EXEC_KEYS if is_exec else RUN_KEYS,
                      ignore_underscore=True)
    f.str('action', choices=('exec', 'run'))
    if f.has('name') and f.raw('name') != name:
        errs.invalid(f.p('name'), f.raw('name'), f'the container name is '
                     f'the key ("{name}"); drop "name" or make it equal')
    start_order = f.int('start_order', 0) or 0
    env_pairs = parse_env_files(f, errs)
    environment = merge_env(env_pairs, parse_environment(f, errs))
    privileged = f.bool('privileged')
    if is_exec:
        user = parse_user(f, errs)
        command = parse_command(f, 'command', errs)
        if command is None or len(command) < 2:
            errs.required(f.p('command'), 'an exec needs the target '
                          'container name and a command: [target, cmd, ...]')
        if command:
            common.check_container_name(errs, f'{f.p("command")}[0]',
                                        command[0])
        kw = extra_options(f, errs, ('exit_codes', 'timeout'))
        kw.pop('resources')
        f.finish()
        target = command[0] if command else ''
        return model.Container(
            name=name, image='', kind=model.Kind.EXEC, step=step,
            start_order=start_order, exec_target=target,
            command=tuple(command[1:]) if command else None,
            environment=environment, user=user, privileged=privileged,
            source_hash=_hash(f.canon), **kw)

    image = f.str('image', required=True)
    if image:
        common.check_image(errs, f.p('image'), image)
    net = f.str('net')
    if net and net != 'host':
        errs.unsupported(f.p('net'), net, ['host'])
    detach = f.bool('detach', True)
    kind = model.Kind.SERVICE if detach else model.Kind.TASK
    command = parse_command(f, 'command', errs)
    entrypoint = parse_command(f, 'entrypoint', errs)
    working_dir = f.str('working_dir')
    if working_dir:
        common.check_abs_path(errs, f.p('working_dir'), working_dir)
    kw = extra_options(f, errs, POD_EXTRA_KEYS)
    res = kw.pop('resources')
    if kind is model.Kind.TASK and kw.get('restart_policy', 'no') != 'no':
        errs.forbidden(f.p('restart'), 'a one-shot (detach: false) '
                       'container is never restarted')
    stop_timeout = None
    if f.has('stop_grace_period'):
        value = common.parse_duration(f.raw('stop_grace_period'))
        if value is None:
            errs.invalid(f.p('stop_grace_period'), f.raw('stop_grace_period'),
                         'must be a duration (10s, 1m30s) or seconds')
        elif common.check_seconds(errs, f.p('stop_grace_period'),
                                  f.raw('stop_grace_period'), value,
                                  common.MAX_GRACE):
            # Docker wants whole seconds (paunch's "10.0" was refused).
            stop_timeout = int(math.ceil(value))
            f.keep('stop_grace_period', stop_timeout)
    labels = _labels(f, errs)
    container = model.Container(
        name=name, image=image, kind=kind, step=step,
        start_order=start_order, entrypoint=entrypoint, command=command,
        environment=environment, working_dir=working_dir,
        # Unlike ``docker run -v``, a missing bind source is an error
        # (paunch refused them too), checked through host_root.
        mounts=tuple(dataclasses.replace(m, must_exist=True)
                     if m.type == 'bind' else m
                     for m in parse_volumes(f, errs)),
        privileged=privileged,
        cap_add=parse_caps(f, 'cap_add', errs),
        cap_drop=parse_caps(f, 'cap_drop', errs),
        resources=model.Resources(**res), stop_timeout=stop_timeout,
        tty=f.bool('tty'), stdin_open=f.bool('interactive'),
        labels=labels,
        host_services=host_services.from_docker_config(f, kind, errs), **kw)
    f.finish()
    return _with_hash(container, f.canon)


def _labels(f: common.Fields, errs: errors.ErrorList
            ) -> Tuple[Tuple[str, str], ...]:
    raw = f.mapping('labels')
    if not raw:
        return ()
    out = []
    for key, value in raw.items():
        path = f'{f.p("labels")}[{key}]'
        if not isinstance(key, str) or not key:
            errs.invalid(path, str(key), 'label keys must be strings')
            continue
        if is_reserved_label(key):
            errs.forbidden(path, 'reserved for the hook\'s own labels')
            continue
        if not isinstance(value, str):
            common.wrong_type(errs, path, value, 'a string')
            continue
        out.append((key, value))
    f.keep('labels', dict(out))
    return tuple(sorted(out))


def is_reserved_label(key: str) -> bool:
    return key in (model.LABEL_MANAGED_BY, model.LABEL_DEPLOYMENT,
                   model.LABEL_CONFIG_ID, model.LABEL_CONTAINER_NAME,
                   model.LABEL_POD) or key.startswith('tripleo-docker-hook')


def _hash(canon: Mapping) -> str:
    from tripleo_docker_hook import definitions
    return definitions.canonical_hash(['docker_config', canon])


def _with_hash(container: model.Container, canon: Mapping
               ) -> model.Container:
    return dataclasses.replace(container, source_hash=_hash(canon))


def parse_steps(data: Any, path: str, errs: errors.ErrorList
                ) -> List[model.Container]:
    """``step_N`` → name → options, or a bare name → options (step 1)."""
    if not isinstance(data, Mapping):
        common.wrong_type(errs, path or 'config', data, 'a mapping')
        return []
    keys = [k for k in data if not (isinstance(k, str) and
                                    k.startswith('_'))]
    stepped = [k for k in keys if isinstance(k, str) and
               k.startswith('step_')]
    if stepped and len(stepped) != len(keys):
        for k in keys:
            if k not in stepped:
                errs.forbidden(f'{path}.{k}' if path else str(k),
                               'mix of step_N keys and container names; '
                               'put containers under a step_N key')
        return []
    steps = {k: data[k] for k in keys} if stepped else {'step_1': {
        k: data[k] for k in keys}}
    out: List[model.Container] = []
    for key in sorted(steps, key=str):
        where = (f'{path}.{key}' if path else key) if stepped else path
        number = key[5:]
        if number not in ('1', '2', '3', '4', '5'):
            errs.unsupported(where, key, [f'step_{n}' for n in range(1, 6)])
            continue
        containers = steps[key]
        if containers is None:
            continue
        if not isinstance(containers, Mapping):
            common.wrong_type(errs, where, containers,
                              'a mapping of container name to options')
            continue
        for name in containers:
            if not isinstance(name, str):
                errs.invalid(where or 'config', str(name),
                             'container names must be strings')
                continue
            if name.startswith('_'):
                continue  # comment
            item_path = f'{where}.{name}' if where else name
            c = parse_container(name, int(number), containers[name],
                                item_path, errs)
            if c is not None:
                out.append(c)
    return out


def docker_config_env_paths(spec: Mapping) -> List[str]:
    """env_file paths of one raw entry (for masking before validation)."""
    raw = spec.get('env_file')
    items = [raw] if isinstance(raw, str) else raw if isinstance(
        raw, list) else []
    return [p for p in items if isinstance(p, str) and os.path.isabs(p)]
