"""Docker or podman: the engine differences :mod:`engine` absorbs.

podman (4.3 and later) serves a Docker-compatible Engine API
(``podman system service``) that docker-py drives unchanged, so the hook
talks to both through the same calls.  The answers differ where an
idempotent hook looks, so everything here is a pure function from what the
engine said to what :mod:`plan` and :mod:`apply` expect from Docker:

* **which engine** — every podman answer carries a ``Libpod-Api-Version``
  header (and ``Server: Libpod/…``), so the first answer tells; Docker
  never pays an extra request for the question;
* **container list** — podman's Docker-compatible list has no health in
  ``Status``, so on podman the libpod list (same filters, one call) is
  read instead: its states are libpod's (``configured``, ``stopped``,
  ``stopping``), its image IDs lack the ``sha256:`` prefix, its names the
  leading ``/``; :func:`observed_from_libpod` maps them to Docker's;
* **errors by condition** — podman answers 500 where Docker answers 409
  (a name in use, removing a running container); :func:`status_code`
  gives the condition's Docker status;
* **health checks** — podman 4.3 schedules checks as systemd timers;
  without systemd they never run and a container stays ``starting``
  forever.  :class:`HealthSchedule` says when a check is due, on Docker's
  schedule (first ``interval`` after the start, then every ``interval``),
  and the engine runs it through the libpod endpoint while it waits for
  ``healthy``;
* **inspect documents** — podman reports the image as
  ``localhost/<name>``, adds ``container=podman`` to the env, spells binds
  (``rw,rprivate,rbind``), ulimits (``RLIMIT_NOFILE``) and stop signals
  (``"2"``) its own way and answers ``[]`` for null;
  :func:`docker_view` gives Docker's form.

What the plan compares is the hook's own labels and the image ID, which
both engines report alike (podman keeps Docker's image ID on ``podman
load``); the differences of inspect documents (extra env vars, bind
options, ``RLIMIT_*`` ulimit names, numeric stop signals, ``[]`` for
``null``) never reach the plan, which is why a re-sent unchanged
deployment keeps every container on both engines.  Inspect documents are
still given in Docker's form (:func:`docker_view`) for everyone who reads
them (config rendering, ``ctl``, tests).
"""

import signal
from typing import Any, Dict, Mapping, Optional

from tripleo_docker_hook import model

DOCKER = 'docker'
PODMAN = 'podman'

#: libpod's API prefix for the calls the Docker API has no equivalent of.
LIBPOD_PREFIX = '/v4.0.0/libpod'

#: libpod container states → Docker's (the rest are spelled alike).
_LIBPOD_STATES = {
    'configured': 'created',   # created, never initialised
    'initialized': 'created',  # runtime prepared, not started
    'stopped': 'exited',       # exited, cleanup not yet done
    'stopping': 'running',     # Docker reports running until it exits
    'unknown': 'dead',
}

#: podman's 500 messages that Docker answers with 409 Conflict.
_CONFLICTS = (
    'is already in use',           # create: name in use
    'already in use',
    'container state improper',    # remove of a running container
    'cannot remove container',
    # remove of a container others still join (issue 17: the plan sets
    # it aside, see plan.Action.retire_as)
    'has dependent containers which must be removed before it',
)

#: Docker's default health check interval, seconds.
DEFAULT_HEALTH_INTERVAL = 30.0


def kind_from_headers(headers: Mapping[str, str]) -> str:
    """``'podman'`` or ``'docker'`` from any Engine API answer's headers.

    Args:
        headers: HTTP response headers (any mapping; case-insensitive
            lookups are done here).
    """
    lowered = {str(k).lower(): str(v) for k, v in headers.items()}
    if 'libpod-api-version' in lowered or \
            lowered.get('server', '').lower().startswith('libpod'):
        return PODMAN
    return DOCKER


def status_code(status: int, message: str) -> int:
    """The Docker status of an error answer: podman's 500 for a conflict
    (name in use, container running) becomes Docker's 409.

    Args:
        status: the HTTP status the engine answered.
        message: its error message.
    """
    if status == 500 and any(s in (message or '') for s in _CONFLICTS):
        return 409
    return status


def image_id(value: Optional[str]) -> str:
    """Image IDs as Docker writes them: ``sha256:<hex>`` ('' stays '')."""
    value = value or ''
    if value and ':' not in value:
        return 'sha256:' + value
    return value


def image_name(value: Optional[str]) -> str:
    """An image name as Docker reports it: podman qualifies local images
    (``localhost/tdh/busybox:latest`` for ``tdh/busybox:latest``)."""
    value = value or ''
    if value.startswith('localhost/'):
        return value[len('localhost/'):]
    return value


def state(value: str) -> str:
    """A libpod container state as the Docker state of the same thing."""
    return _LIBPOD_STATES.get(value, value)


def epoch(value: Any) -> int:
    """An RFC 3339 time with nanoseconds (libpod's ``Created``, inspect's
    ``StartedAt``) → epoch seconds; 0 when absent or unreadable."""
    if isinstance(value, (int, float)):
        return int(value)
    if not value:
        return 0
    text = str(value)
    if text.endswith('Z'):
        text = text[:-1] + '+00:00'
    main, dot, rest = text.partition('.')
    if dot:  # fromisoformat of 3.9/3.10 takes at most 6 fraction digits
        digits = ''.join(ch for ch in rest if ch.isdigit())
        rest = digits[:6] + rest[len(digits):]
        text = f'{main}.{rest}'
    try:
        import datetime  # only podman answers need it
        return int(datetime.datetime.fromisoformat(text).timestamp())
    except ValueError:
        return 0
    # (whole seconds: enough for planning and for health schedules)


def observed_from_libpod(entry: Mapping[str, Any]) -> model.Observed:
    """A ``GET /libpod/containers/json`` entry as Docker would report it.

    ``Status`` of a libpod entry is the health status ('' without a
    check); ``ExitCode`` counts only once the container exited.
    """
    st = state(entry.get('State') or '')
    exit_code = None
    if st in ('exited', 'dead') and entry.get('Exited', st == 'exited'):
        exit_code = int(entry.get('ExitCode') or 0)
    health = entry.get('Status') or ''
    if health not in ('starting', 'healthy', 'unhealthy'):
        health = ''
    names = entry.get('Names') or ['']
    return model.Observed(
        id=entry.get('Id') or entry.get('ID') or '',
        name=names[0].lstrip('/'),
        image_id=image_id(entry.get('ImageID')), state=st,
        labels=entry.get('Labels') or {}, exit_code=exit_code,
        health=health, created=epoch(entry.get('Created')),
        image=image_name(entry.get('Image')))


def _bind(bind: str) -> str:
    """podman's ``src:dst:rw,rprivate,rbind`` → Docker's ``src:dst:rw``.

    podman spells out ``rbind`` and its default propagation ``rprivate``;
    Docker keeps the options as given."""
    parts = bind.split(':')
    if len(parts) < 3:
        return bind
    opts = [o for o in parts[2].split(',')
            if o not in ('rbind', 'rprivate')]
    return ':'.join(parts[:2] + ([','.join(opts)] if opts else []))


def ulimit_name(name: str) -> str:
    """``RLIMIT_NOFILE`` (podman) → ``nofile`` (Docker)."""
    name = name or ''
    if name.upper().startswith('RLIMIT_'):
        name = name[len('RLIMIT_'):]
    return name.lower()


def stop_signal(value: Any) -> Optional[str]:
    """``Config.StopSignal`` as Docker reports it: podman answers numbers
    (``"2"``, ``"15"`` for the default), Docker the name given or null."""
    if value in (None, '', 0, '0'):
        return None
    text = str(value)
    if text.isdigit():
        try:
            name = signal.Signals(int(text)).name
        except ValueError:
            return text
        return None if name == 'SIGTERM' else name
    return text


def _empty(value: Any) -> Any:
    return None if value in ([], '') else value


def docker_view(info: Dict[str, Any]) -> Dict[str, Any]:
    """A podman container inspect document in Docker's shape, in place.

    Changes only what differs in form, never in meaning: the image name
    without ``localhost/``, no ``container=podman`` variable, binds and
    ulimits and stop signal spelled as Docker does, ``[]`` as null,
    ``Mounts[].Mode`` from ``RW``, no health record without a check, a
    disabled check (``NONE``) without podman's default timings.
    Left as podman reports them (they differ in meaning, see the docs):
    ``CapDrop`` (podman's default capability set is smaller), tmpfs
    options, ``IpcMode``/``PidMode``, ``NetworkSettings``.
    """
    config = info.get('Config') or {}
    host = info.get('HostConfig') or {}
    if config.get('Image'):
        config['Image'] = image_name(config['Image'])
    if config.get('Env'):
        config['Env'] = [e for e in config['Env'] if e != 'container=podman']
    if 'StopSignal' in config:
        config['StopSignal'] = stop_signal(config['StopSignal'])
    check = config.get('Healthcheck')
    if isinstance(check, dict) and check.get('Test') == ['NONE']:
        config['Healthcheck'] = {'Test': ['NONE']}  # podman adds defaults
    for key in ('Entrypoint', 'OnBuild'):
        if key in config:
            config[key] = _empty(config[key])
    if host.get('Binds'):
        host['Binds'] = [_bind(b) for b in host['Binds']]
    if 'Ulimits' in host:
        host['Ulimits'] = [dict(u, Name=ulimit_name(u.get('Name', '')))
                           for u in host['Ulimits'] or ()] or None
    for key in ('CapAdd', 'Dns', 'DnsOptions', 'DnsSearch', 'ExtraHosts',
                'GroupAdd', 'SecurityOpt', 'Devices'):
        if key in host:
            host[key] = _empty(host[key])
    log_config = host.get('LogConfig')
    if isinstance(log_config, dict) and log_config.get('Config') is None:
        log_config['Config'] = {}
    for mount in info.get('Mounts') or ():
        if mount.get('Type') == 'bind' and not mount.get('Mode'):
            mode = 'rw' if mount.get('RW') else 'ro'
            prop = mount.get('Propagation')
            mount['Mode'] = mode if prop in (None, '', 'rprivate') \
                else f'{mode},{prop}'
    state = info.get('State') or {}
    health = state.get('Health')
    if isinstance(health, dict) and not health.get('Status'):
        state['Health'] = None
    return info


class HealthSchedule:
    """When the hook itself must run a container's health check.

    Docker runs the first check ``interval`` after the start and then
    every ``interval``; podman without systemd runs none.  The engine asks
    :meth:`due` on each poll and records each run with :meth:`ran`.  All
    times are epoch seconds (``time.time()``).
    """

    def __init__(self):
        self._next: Dict[str, float] = {}

    def due(self, container_id: str, interval: float, started: float,
            now: float) -> bool:
        """Whether the check of ``container_id`` should run at ``now``.

        Args:
            container_id: the container.
            interval: seconds between checks (0: Docker's 30 s default).
            started: when the container started; libpod rounds it down to
                whole seconds, so one second is added and no check runs
                before ``interval`` has passed.
            now: the current time.
        """
        interval = interval or DEFAULT_HEALTH_INTERVAL
        return now >= self._next.get(container_id,
                                     started + 1 + interval)

    def ran(self, container_id: str, interval: float, now: float) -> None:
        """Record a run at ``now``: the next is ``interval`` later."""
        self._next[container_id] = now + (interval or
                                          DEFAULT_HEALTH_INTERVAL)
