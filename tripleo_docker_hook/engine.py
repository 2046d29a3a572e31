"""The Docker Engine API: the only module that talks to Docker.

Every change (create, start, stop, remove, rename, wait, exec, pull, copy)
goes through docker-py's low-level ``docker.APIClient``: one HTTP request
per call, no hidden inspects.  What to send comes from :mod:`docker_spec`
(pure model → API arguments); what comes back is turned into
:class:`model.Observed` records here.

The two reads a no-op apply needs (one container list, one image lookup per
image) are plain ``GET`` requests made with the standard library when the
engine is a unix socket: importing docker-py and requests costs more than
the whole rest of a no-op, so they are imported only when something has to
change.

Errors are typed by condition (:class:`errors.EngineNotFound`,
``EngineConflict``, ``EngineTimeout``, ``EngineUnreachable``,
``EngineFailed``; all :class:`errors.EngineError`), never left for callers
to recognise by message text.  Every call has an explicit client timeout;
the calls that wait on the server (stop, wait, remove of a running
container) get one above their server-side bound, so a long
``stop_grace_period`` is never cut short by the client.

The engine may be Docker or podman's Docker-compatible API service; what
differs between them is absorbed by :mod:`engine_compat` (see there), so
callers see Docker's answers from both.
"""

import json
import os
import re
import threading
import time
import urllib.parse
from typing import Any, Dict, List, Mapping, Optional, Tuple

from tripleo_docker_hook import docker_spec
from tripleo_docker_hook import engine_compat
from tripleo_docker_hook import errors
from tripleo_docker_hook import model

DEFAULT_URL = 'unix:///var/run/docker.sock'
_CLIENT_LOCK = threading.Lock()
_EXITED = re.compile(r'^Exited \((-?\d+)\)')
_HEALTH = re.compile(r'\((healthy|unhealthy|health: starting)\)')
#: Docker's stop timeout of a container created without StopTimeout.
DEFAULT_STOP_TIMEOUT = 10
#: Seconds the daemon may take to kill a container (SIGKILL, then waiting
#: for the exit) on a forced remove, on top of ``docker_timeout``.
KILL_BOUND = 30
#: Pull retries: exponential back-off, seconds (1, 2, 4, 8, 10, 10...).
PULL_BACKOFF = 1.0
PULL_BACKOFF_MAX = 10.0
#: Registry answers that no retry can fix (daemon errors keep the text).
_FINAL_PULL = ('not found', 'denied', 'unauthorized', 'manifest unknown',
               'does not exist', 'invalid reference')
_BY_STATUS = {404: errors.EngineNotFound, 409: errors.EngineConflict}


def error_for_status(message: str, status_code: int) -> errors.EngineError:
    """The typed error for an Engine API answer with ``status_code``
    (podman's 500 for a conflict counts as 409: engine_compat)."""
    cls = _BY_STATUS.get(engine_compat.status_code(status_code, message),
                         errors.EngineFailed)
    return cls(message, status_code)


def pull_is_transient(exc: BaseException) -> bool:
    """Whether a failed pull is worth another attempt.

    Timeouts, an unreachable engine and server-side failures (5xx: the
    registry could not be reached) are; a missing image, a denied or
    malformed reference are not (4xx, or the registry's own words).
    """
    if isinstance(exc, (errors.EngineTimeout, errors.EngineUnreachable)):
        return True
    if not isinstance(exc, errors.EngineFailed):
        return False
    if exc.status_code and exc.status_code < 500:
        return False
    text = str(exc).lower()
    return not any(s in text for s in _FINAL_PULL)


def observed_from_list(entry: Mapping[str, Any]) -> model.Observed:
    """A ``GET /containers/json`` entry as :class:`model.Observed`."""
    status = entry.get('Status') or ''
    exit_code = None
    match = _EXITED.match(status)
    if match:
        exit_code = int(match.group(1))
    health = ''
    match = _HEALTH.search(status)
    if match:
        health = match.group(1).replace('health: ', '')
    names = entry.get('Names') or ['']
    return model.Observed(
        id=entry['Id'], name=names[0].lstrip('/'),
        image_id=entry.get('ImageID', ''), state=entry.get('State', ''),
        labels=entry.get('Labels') or {}, exit_code=exit_code,
        health=health, created=int(entry.get('Created') or 0),
        image=entry.get('Image', ''))


class _Stream:
    """The body of a streamed response, closable before its end."""

    def __init__(self, response, chunk_size: int = 1 << 16):
        self._response = response
        self._chunk_size = chunk_size

    def __iter__(self):
        return self._response.iter_content(self._chunk_size, False)

    def close(self) -> None:
        self._response.close()


class Engine:
    """A thin, typed facade over ``docker.APIClient``.

    docker-py is imported lazily: ``--validate`` and unit tests never pay
    for it.  ``timeout`` (seconds, ``docker_timeout``) is the client
    timeout of a call that does not wait on the server; waiting calls add
    their server-side bound to it.
    """

    def __init__(self, url: Optional[str] = None, version: str = '1.41',
                 timeout: int = 120):
        self.url = url or os.environ.get('DOCKER_HOST') or DEFAULT_URL
        self.version = version
        self.timeout = timeout
        self._client = None
        #: 'docker' or 'podman' once an answer told (engine_compat).
        self._kind: Optional[str] = None
        self._health = engine_compat.HealthSchedule()
        self._health_interval: Dict[str, float] = {}
        self._started: Dict[str, float] = {}

    @classmethod
    def from_conf(cls, conf) -> 'Engine':
        return cls(conf.docker_url, conf.docker_api_version,
                   conf.docker_timeout)

    @property
    def client(self):
        # Threads of one start_order group may ask for it at once.
        with _CLIENT_LOCK:
            if self._client is None:
                import docker
                try:
                    # version "auto" asks the engine at once.
                    self._client = docker.APIClient(
                        base_url=self.url, version=self.version,
                        timeout=self.timeout, max_pool_size=32)
                except docker.errors.DockerException as exc:
                    silent = 'timed out' in str(exc).lower()
                    raise (errors.EngineTimeout if silent else
                           errors.EngineUnreachable)(
                        f'cannot reach the Docker engine at {self.url} '
                        f'(docker_api_version={self.version}): '
                        f'{errors.first_line(exc)}') from exc
        return self._client

    def _call(self, what: str, method: str, *args, **kwargs):
        """``self.client.<method>(*args, **kwargs)``, errors typed."""
        try:
            return getattr(self.client, method)(*args, **kwargs)
        except Exception as exc:
            typed = self._typed(what, exc)
            if typed is exc:
                raise
            raise typed from exc

    def _typed(self, what: str, exc: BaseException) -> BaseException:
        """docker-py / requests exception → :class:`errors.EngineError`."""
        from docker import errors as docker_errors
        import requests
        if isinstance(exc, errors.HookError):
            return exc
        if isinstance(exc, docker_errors.APIError):
            detail = exc.explanation or str(exc)
            if isinstance(detail, bytes):
                detail = detail.decode('utf-8', 'replace')
            return error_for_status(f'{what}: {detail}',
                                    exc.status_code or 0)
        if isinstance(exc, requests.exceptions.Timeout) or (
                isinstance(exc, requests.exceptions.ConnectionError) and
                'timed out' in str(exc).lower()):
            # urllib3 reports a read timeout in a body as a connection
            # error "Read timed out".
            return errors.EngineTimeout(
                f'{what}: no answer from the Docker engine within the '
                f'client timeout ({errors.first_line(exc)})')
        if isinstance(exc, requests.exceptions.ConnectionError) or (
                isinstance(exc, OSError) and not isinstance(
                    exc, requests.exceptions.RequestException)) or (
                isinstance(exc, docker_errors.DockerException) and
                'connection' in str(exc).lower()):
            return errors.EngineUnreachable(
                f'{what}: cannot reach the Docker engine at {self.url}: '
                f'{errors.first_line(exc)}')
        if isinstance(exc, (docker_errors.DockerException,
                            requests.exceptions.RequestException,
                            ValueError)):
            # a malformed answer
            return errors.EngineFailed(f'{what}: {errors.first_line(exc)}')
        return exc

    # -- reading ----------------------------------------------------------
    def list_containers(self, deployment: Optional[str] = None
                        ) -> List[model.Observed]:
        """Every container on the host, ours and foreign, in one call.

        Foreign ones are needed to report name clashes; ours carry all
        the state planning needs (labels, image ID, state, exit code).

        Args:
            deployment: only that deployment's managed containers (used to
                poll freshly started ones).
        Returns:
            One :class:`model.Observed` per container.
        Raises:
            errors.EngineError: a subclass, by condition.
        """
        filters = None
        if deployment is not None:
            from tripleo_docker_hook import MANAGED_BY
            filters = {'label': [
                f'{model.LABEL_MANAGED_BY}={MANAGED_BY}',
                f'{model.LABEL_DEPLOYMENT}={deployment}']}
        if self._kind != engine_compat.PODMAN:
            if self._raw_ok:
                params = {'all': '1'}
                if filters:
                    params['filters'] = json.dumps(filters)
                _, entries = self._get('list containers',
                                       '/containers/json', params)
            else:
                entries = self._call('list containers', 'containers',
                                     all=True, filters=filters)
            if self.kind != engine_compat.PODMAN:
                return [observed_from_list(e) for e in entries]
        # podman's Docker list has no health: read libpod's (one call).
        observed = self._podman_list(filters)
        if deployment is not None and self._drive_health(observed):
            observed = self._podman_list(filters)
        return observed

    # -- podman -----------------------------------------------------------
    @property
    def kind(self) -> str:
        """``'docker'`` or ``'podman'``: known from the first answer (its
        headers), else asked with one ``/_ping``."""
        if self._kind is None:
            if self._raw_ok:
                self._get('ping', '/_ping', raw=True)
            else:
                response = self._call('ping', '_get',
                                      self.client.base_url + '/_ping')
                self._kind = engine_compat.kind_from_headers(
                    response.headers)
        return self._kind or engine_compat.DOCKER

    def _libpod_get(self, what: str, path: str, params=None,
                    missing_ok: bool = False) -> Tuple[int, Any]:
        """``GET`` of a libpod-only endpoint (podman)."""
        if self._raw_ok:
            return self._get(what, path, params, missing_ok=missing_ok,
                             prefix=engine_compat.LIBPOD_PREFIX)
        response = self._call(
            what, '_get',
            self.client.base_url + engine_compat.LIBPOD_PREFIX + path,
            params=params)
        if response.status_code == 404 and missing_ok:
            return 404, None
        try:
            data = response.json()
        except ValueError:
            data = None
        if response.status_code >= 400:
            detail = data.get('message') if isinstance(data, dict) \
                else response.text
            raise error_for_status(f'{what}: {detail}', response.status_code)
        return response.status_code, data

    def _podman_list(self, filters) -> List[model.Observed]:
        params = {'all': 'true'}
        if filters:
            params['filters'] = json.dumps(filters)
        _, entries = self._libpod_get('list containers', '/containers/json',
                                      params)
        return [engine_compat.observed_from_libpod(e)
                for e in entries or ()]

    def _drive_health(self, observed: List[model.Observed]) -> bool:
        """Run the due health checks of containers still ``starting``.

        podman 4.3 runs health checks from systemd timers only; without
        systemd a container never leaves ``starting``.  While the hook
        waits for a start, it runs them itself on Docker's schedule
        (:class:`engine_compat.HealthSchedule`).  True when one ran.
        """
        ran = False
        for o in observed:
            if o.state != 'running' or o.health != 'starting':
                continue
            interval = self._health_interval.get(o.id)
            if interval is None:
                info = self.inspect(o.id)
                check = (info.get('Config') or {}).get('Healthcheck') or {}
                interval = (check.get('Interval') or 0) / 1e9
                self._health_interval[o.id] = interval
                self._started[o.id] = engine_compat.epoch(
                    (info.get('State') or {}).get('StartedAt'))
            if not self._health.due(o.id, interval, self._started[o.id],
                                    time.time()):
                continue
            self._libpod_get(f'health check of {o.name}',
                             f'/containers/{o.id}/healthcheck',
                             missing_ok=True)
            self._health.ran(o.id, interval, time.time())
            ran = True
        return ran

    def image_id(self, ref: str) -> Optional[str]:
        """The local image ID ``ref`` resolves to.

        Args:
            ref: an image reference (``repo[:tag][@digest]``).
        Returns:
            The image ID, or None when the image is not present.
        Raises:
            errors.EngineError: any failure but "no such image".
        """
        if self._raw_ok:
            status, data = self._get(
                f'inspect image {ref}',
                '/images/' + urllib.parse.quote(ref, safe='/:@') + '/json',
                missing_ok=True)
            return None if status == 404 else data.get('Id')
        try:
            return self._call(f'inspect image {ref}', 'inspect_image',
                              ref)['Id']
        except errors.EngineNotFound:
            return None

    # -- lean reads -------------------------------------------------------
    @property
    def _raw_ok(self) -> bool:
        """Reads go over the stdlib when the engine is a unix socket."""
        return self.url.startswith('unix://') and self.version != 'auto'

    def _get(self, what: str, path: str, params=None,
             missing_ok: bool = False, prefix: Optional[str] = None,
             raw: bool = False) -> Tuple[int, Any]:
        """One ``GET`` over the unix socket with the standard library.

        A plain HTTP/1.0 request (the engine answers without chunking and
        closes): ``http.client`` alone, with the ``email`` parsers it
        imports, costs ~10 ms of a ~60 ms no-op run.  ``prefix`` replaces
        the API version prefix (libpod's endpoints); ``raw`` sends ``path``
        unversioned and returns the body as bytes.  The first answer's
        headers tell which engine this is.
        """
        url = path if raw else (prefix or f'/v{self.version}') + path
        if params:
            url += '?' + urllib.parse.urlencode(params)
        try:
            status, body, headers = _unix_get(self.url[len('unix://'):],
                                              url, self.timeout)
        except TimeoutError as exc:
            raise errors.EngineTimeout(
                f'{what}: no answer from the Docker engine within '
                f'{self.timeout} s') from exc
        except OSError as exc:
            raise errors.EngineUnreachable(
                f'{what}: cannot reach the Docker engine at {self.url}: '
                f'{errors.first_line(exc)}') from exc
        if self._kind is None:
            self._kind = engine_compat.kind_from_headers(headers)
        if status == 404 and missing_ok:
            return status, None
        if raw and status < 400:
            return status, body
        try:
            result = json.loads(body) if body else None
        except ValueError:
            result = None
        if status >= 400:
            detail = result.get('message') if isinstance(result, dict) \
                else body.decode('utf-8', 'replace')
            raise error_for_status(f'{what}: {detail}', status)
        return status, result

    def inspect(self, name_or_id: str) -> Dict[str, Any]:
        """``GET /containers/{id}/json``.

        Args:
            name_or_id: container name or ID.
        Returns:
            The Engine API's container document, in Docker's form on
            podman too (:func:`engine_compat.docker_view`).
        Raises:
            errors.EngineNotFound: no such container.
            errors.EngineError: any other failure.
        """
        info = self._call(f'inspect {name_or_id}', 'inspect_container',
                          name_or_id)
        if self.kind == engine_compat.PODMAN:
            engine_compat.docker_view(info)
        return info

    # -- images -----------------------------------------------------------
    def pull(self, ref: str, retries: int = 0) -> str:
        """Pull ``ref``; THE retry policy of every pull (services' images
        and config images alike).

        Transient failures (see :func:`pull_is_transient`) are retried
        with exponential back-off (1 s doubling, at most 10 s apart);
        config images were pulled with retries since LP#1715136.

        Args:
            ref: image reference.
            retries: extra attempts after the first (``pull_retries``).
        Returns:
            The pulled image's local ID.
        Raises:
            errors.EngineError: the last attempt's error (a final one at
                once).
        """
        import tenacity
        retrying = tenacity.Retrying(
            stop=tenacity.stop_after_attempt(max(0, retries) + 1),
            wait=tenacity.wait_exponential(multiplier=PULL_BACKOFF,
                                           max=PULL_BACKOFF_MAX),
            retry=tenacity.retry_if_exception(pull_is_transient),
            reraise=True)
        return retrying(self._pull_once, ref)

    def _pull_once(self, ref: str) -> str:
        """One ``POST /images/create``, as docker-py's ``pull`` sends it
        (with the same registry auth header), but with a client timeout:
        docker-py waits forever.  The timeout bounds the silence between
        two progress messages (``docker_timeout``), not the whole pull, so
        a large image is never cut short and a hung registry is."""
        from docker import auth
        repo, tag = _split_ref(ref)
        client = self.client
        what = f'pull {ref}'
        try:
            headers = {}
            header = auth.get_config_header(
                client, auth.resolve_repository_name(repo)[0])
            if header:
                headers['X-Registry-Auth'] = header
            res = client._post(client._url('/images/create'),
                               params={'fromImage': repo, 'tag': tag},
                               headers=headers, stream=True,
                               timeout=self.timeout)
            client._raise_for_status(res)
            progress = list(client._stream_helper(res, decode=True))
        except Exception as exc:
            typed = self._typed(what, exc)
            if typed is exc:
                raise
            raise typed from exc
        # A failure after the stream started arrives as an "error" item
        # of a 200 answer.
        for item in reversed(progress):
            if isinstance(item, dict) and item.get('error'):
                raise errors.EngineFailed(f'pull {ref}: {item["error"]}')
        image = self.image_id(ref)
        if image is None:
            raise errors.EngineFailed(f'pull {ref}: image still missing')
        return image

    # -- containers -------------------------------------------------------
    def create(self, container: model.Container, name: str,
               labels: Mapping[str, str]) -> str:
        """Create (not start) ``container`` under ``name``.

        Args:
            container: what to run (translated by :mod:`docker_spec`).
            name: the Docker name (the definition's, or a temporary one).
            labels: every label, the hook's own included.
        Returns:
            The new container's ID.
        Raises:
            errors.EngineConflict: the name is in use.
            errors.EngineNotFound: the image is missing.
            errors.EngineError: any other failure.
        """
        kwargs, host = docker_spec.create_args(container, name, labels)
        host_config = self._call(f'create {name}', 'create_host_config',
                                 **host)
        result = self._call(f'create {name}', 'create_container',
                            host_config=host_config, **kwargs)
        return result['Id']

    def start(self, name_or_id: str) -> None:
        """Start a created or stopped container (a running one: no-op).

        Raises:
            errors.EngineNotFound: no such container.
            errors.EngineError: any other failure (bad mount, user...).
        """
        self._call(f'start {name_or_id}', 'start', name_or_id)

    def stop_timeout(self, name_or_id: str) -> int:
        """The container's own stop timeout (``StopTimeout``), seconds.

        Raises:
            errors.EngineNotFound: no such container.
        """
        config = self.inspect(name_or_id).get('Config') or {}
        value = config.get('StopTimeout')
        return DEFAULT_STOP_TIMEOUT if value is None else int(value)

    def stop(self, name_or_id: str, timeout: Optional[int] = None,
             engine_default: bool = False) -> None:
        """Stop: the stop signal, then SIGKILL after ``timeout`` seconds.

        The client waits ``timeout`` + ``docker_timeout`` seconds, so a
        long grace period is honoured (the server-side bound is what is
        passed as ``t``; docker-py's default assumed 10 s).

        Args:
            name_or_id: container name or ID.
            timeout: seconds before SIGKILL; None means the container's own
                ``StopTimeout`` (``stop_grace_period``), read first unless
                ``engine_default`` says it has none.
            engine_default: the container was created without a
                ``StopTimeout`` (its stop-timeout label says so): Docker
                then waits :data:`DEFAULT_STOP_TIMEOUT` seconds, no inspect
                needed; podman's default comes from its containers.conf,
                so there it is still read.
        Raises:
            errors.EngineNotFound: no such container.
            errors.EngineTimeout: no answer within the bound.
            errors.EngineError: any other failure.
        """
        if timeout is None:
            if engine_default and self.kind != engine_compat.PODMAN:
                timeout = DEFAULT_STOP_TIMEOUT
            else:
                timeout = self.stop_timeout(name_or_id)
        self._call(f'stop {name_or_id}', 'stop', name_or_id,
                   timeout=int(timeout))

    def remove(self, name_or_id: str, force: bool = True,
               volumes: bool = False) -> None:
        """Remove; a container that is already gone is fine.

        A forced remove of a running container kills it: the client waits
        ``docker_timeout`` + :data:`KILL_BOUND` seconds.

        Args:
            name_or_id: container name or ID.
            force: kill a running container first (SIGKILL, no grace).
            volumes: also remove its anonymous volumes (never binds or
                named volumes).
        Raises:
            errors.EngineConflict: running and not ``force``, or being
                removed already.
            errors.EngineTimeout: no answer within the bound.
            errors.EngineError: any other failure.
        """
        client = self.client
        what = f'remove {name_or_id}'
        try:
            # docker-py's remove_container has no timeout argument; this
            # is its own request with an explicit one.
            res = client._delete(
                client._url('/containers/{0}', name_or_id),
                params={'v': volumes, 'link': False, 'force': force},
                timeout=self.timeout + KILL_BOUND)
            client._raise_for_status(res)
        except Exception as exc:
            typed = self._typed(what, exc)
            if isinstance(typed, errors.EngineNotFound):
                return
            raise typed from exc

    def archive(self, name_or_id: str, path: str):
        """A tar stream of ``path`` in a (possibly stopped) container.

        Used to copy rendered config out of throw-away config containers.
        Close it when done: an unread stream keeps the daemon busy and
        blocks removing the container.

        Args:
            name_or_id: container name or ID.
            path: absolute path inside the container.
        Returns:
            An iterator of bytes with ``close()``, or None when the path
            does not exist.
        Raises:
            errors.EngineError: any other failure, typed by condition.
        """
        client = self.client
        try:
            res = client._get(client._url('/containers/{0}/archive',
                                          name_or_id),
                              params={'path': path}, stream=True,
                              timeout=self.timeout)
            client._raise_for_status(res)
        except Exception as exc:
            typed = self._typed(f'copy {path} out of {name_or_id}', exc)
            if isinstance(typed, errors.EngineNotFound):
                return None
            if typed is exc:
                raise
            raise typed from exc
        return _Stream(res)

    def bind_sources(self) -> Optional[List[str]]:
        """Host paths bind-mounted by any container (running or not):
        what must not be removed from under them.

        Returns:
            The sources, or None when the engine does not report mounts in
            its list (then nothing may be removed).
        Raises:
            errors.EngineError: a subclass, by condition.
        """
        if self._raw_ok:
            _, entries = self._get('list containers', '/containers/json',
                                   {'all': '1'})
        else:
            entries = self._call('list containers', 'containers', all=True)
        sources = []
        for entry in entries:
            mounts = entry.get('Mounts')
            if not isinstance(mounts, list):
                return None
            for m in mounts:
                if not isinstance(m, dict):
                    return None
                if m.get('Type') == 'bind' and m.get('Source'):
                    sources.append(m['Source'])
        return sources

    def rename(self, name_or_id: str, new_name: str) -> None:
        """Rename a container.

        Raises:
            errors.EngineConflict: ``new_name`` is taken.
            errors.EngineError: any other failure.
        """
        self._call(f'rename {name_or_id}', 'rename', name_or_id, new_name)

    def wait(self, name_or_id: str, timeout: float) -> int:
        """Block until the container exits.

        Args:
            name_or_id: container name or ID.
            timeout: seconds to wait (the client timeout of the call; the
                server waits as long as the container runs).
        Returns:
            The exit code.
        Raises:
            errors.EngineTimeout: still running after ``timeout`` seconds.
            errors.EngineError: any other failure.
        """
        try:
            result = self._call(f'wait for {name_or_id}', 'wait',
                                name_or_id, timeout=timeout)
        except errors.EngineTimeout as exc:
            raise errors.EngineTimeout(
                f'{name_or_id}: still running after {timeout} s') from exc
        return int(result.get('StatusCode', -1))

    def logs(self, name_or_id: str, tail: int = 200) -> str:
        """The container's last ``tail`` lines of stdout and stderr.

        Raises:
            errors.EngineError: a subclass, by condition.
        """
        data = self._call(f'logs {name_or_id}', 'logs',
                          name_or_id, stdout=True, stderr=True, tail=tail)
        return data.decode('utf-8', 'replace') if isinstance(
            data, bytes) else str(data)

    def exec_run(self, name_or_id: str, command: List[str], user: str = '',
                 privileged: bool = False,
                 environment: Optional[List[str]] = None,
                 timeout: Optional[float] = None
                 ) -> Tuple[int, str, str]:
        """Run a command in a running container.

        The Engine API cannot kill an exec, so the timeout abandons it (a
        daemon thread keeps reading) and fails the step.

        Args:
            name_or_id: the running container.
            command: argv.
            user, privileged, environment: as ``docker exec``.
            timeout: seconds; None waits as long as it runs.
        Returns:
            ``(exit code, output, container id)``.
        Raises:
            errors.EngineTimeout: still running after ``timeout`` seconds.
            errors.EngineError: the exec could not be created or run.
        """
        import threading
        created = self._call(
            f'exec in {name_or_id}', 'exec_create', name_or_id,
            command, user=user, privileged=privileged,
            environment=environment or None)
        box: Dict[str, Any] = {}

        def run():
            try:
                box['output'] = self._exec_tail(name_or_id, created['Id'])
            except BaseException as exc:  # re-raised in the caller
                box['error'] = exc

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        thread.join(timeout)
        if thread.is_alive():
            raise errors.EngineTimeout(
                f'exec in {name_or_id}: still running after {timeout} s')
        if 'error' in box:
            raise box['error']
        info = self._call(f'exec in {name_or_id}', 'exec_inspect',
                          created['Id'])
        output = box.get('output')
        text = output.decode('utf-8', 'replace') if isinstance(
            output, bytes) else str(output or '')
        code = info.get('ExitCode')
        return (-1 if code is None else int(code)), text, \
            info.get('ContainerID', '')

    def _exec_tail(self, name_or_id: str, exec_id: str) -> bytes:
        """An exec's output, streamed: only its last
        :data:`MAX_EXEC_OUTPUT_BYTES` are kept (``exec_start`` without a
        stream buffered all of it: an exec printing without end grew the
        hook's memory until the OOM killer came).  The head is replaced by
        a line saying how much was dropped."""
        what = f'exec in {name_or_id}'
        stream = self._call(what, 'exec_start', exec_id, stream=True)
        tail = bytearray()
        dropped = 0
        try:
            for chunk in stream:
                tail += chunk
                if len(tail) > 2 * MAX_EXEC_OUTPUT_BYTES:
                    cut = len(tail) - MAX_EXEC_OUTPUT_BYTES
                    del tail[:cut]
                    dropped += cut
        except Exception as exc:
            raise self._typed(what, exc) from exc
        finally:
            close = getattr(stream, 'close', None)
            if close is not None:   # a stream's response is ours to close
                try:
                    close()
                except Exception:
                    pass
        if len(tail) > MAX_EXEC_OUTPUT_BYTES:
            cut = len(tail) - MAX_EXEC_OUTPUT_BYTES
            del tail[:cut]
            dropped += cut
        head = f'[... {dropped} bytes cut ...]\n'.encode() if dropped \
            else b''
        return head + bytes(tail)


    # -- operator commands (tripleo-docker-hook-ctl) -------------------------
    def logs_stream(self, name_or_id: str, tail: Optional[int] = None,
                    follow: bool = False):
        """A container's stdout and stderr as they come (``logs`` of the
        ctl).

        Args:
            name_or_id: the container.
            tail: only the last lines; None means all.
            follow: keep reading; the iterator ends when the container
                stops.
        Returns:
            An iterator of ``bytes`` chunks.
        Raises:
            errors.EngineError: a subclass, by condition (NotFound for an
                unknown container).
        """
        return self._call(f'logs {name_or_id}', 'logs',
                          name_or_id, stdout=True, stderr=True, stream=True,
                          follow=follow,
                          tail='all' if tail is None else tail)

    def exec_stream(self, name_or_id: str, command: List[str],
                    user: str = ''):
        """Start a command in a running container (``exec`` of the ctl).

        Args:
            name_or_id: the container.
            command: argv.
            user: run as this user; '' is the container's.
        Returns:
            ``(chunks, exit_code)``: ``chunks`` yields ``(stdout bytes,
            stderr bytes)`` pairs (either may be None); ``exit_code()``,
            called once they are exhausted, gives the command's status.
        Raises:
            errors.EngineError: a subclass, by condition (Conflict for a
                container that is not running).
        """
        created = self._call(f'exec in {name_or_id}', 'exec_create',
                             name_or_id, command, user=user)
        chunks = self._call(f'exec in {name_or_id}', 'exec_start',
                            created['Id'], stream=True, demux=True)

        def exit_code() -> int:
            info = self._call(f'exec in {name_or_id}', 'exec_inspect',
                              created['Id'])
            code = info.get('ExitCode')
            return -1 if code is None else int(code)
        return chunks, exit_code

    def exec_terminal(self, name_or_id: str, command: List[str],
                      user: str = ''):
        """Start a command in a running container on a pseudo-terminal,
        with its standard input attached (``docker exec -it``; the ctl's
        ``exec`` when its standard input is a terminal).

        Args:
            name_or_id: the container.
            command: argv.
            user: run as this user; '' is the container's.
        Returns:
            ``(sock, resize, exit_code)``: ``sock`` a connected socket
            (blocking, no timeout: a session lasts as long as the user
            wants) whose reads are the terminal's output and writes its
            input, raw (a terminal has no stream headers);
            ``resize(rows, cols)``; ``exit_code()`` once ``sock`` is at
            its end.
        Raises:
            errors.EngineError: a subclass, by condition (Conflict for a
                container that is not running).
        """
        what = f'exec in {name_or_id}'
        created = self._call(what, 'exec_create', name_or_id, command,
                             user=user, stdin=True, tty=True)
        sock = self._call(what, 'exec_start', created['Id'], tty=True,
                          socket=True)
        raw = getattr(sock, '_sock', sock)
        raw.settimeout(None)

        def resize(rows: int, cols: int) -> None:
            self._call(what, 'exec_resize', created['Id'], height=rows,
                       width=cols)

        def exit_code() -> int:
            info = self._call(what, 'exec_inspect', created['Id'])
            code = info.get('ExitCode')
            return -1 if code is None else int(code)
        return raw, resize, exit_code

    def attach_terminal(self, name_or_id: str):
        """Attach to a created (not yet started) container made with a
        terminal and open stdin (``docker run -it``).

        Returns:
            ``(sock, resize)``: ``sock`` a connected blocking socket (reads:
            the terminal's output; writes: its input);
            ``resize(rows, cols)`` (once the container runs).
        Raises:
            errors.EngineError: a subclass, by condition.
        """
        what = f'attach to {name_or_id}'
        sock = self._call(what, 'attach_socket', name_or_id, params={
            'stdin': 1, 'stdout': 1, 'stderr': 1, 'stream': 1})
        raw = getattr(sock, '_sock', sock)
        raw.settimeout(None)

        def resize(rows: int, cols: int) -> None:
            self._call(what, 'resize', name_or_id, height=rows, width=cols)
        return raw, resize


#: Most bytes of an exec's output kept (its tail); the report shows at most
#: the last 16 KiB of it, masked first, so a secret straddling this cut is
#: far from what is shown.
MAX_EXEC_OUTPUT_BYTES = 1 << 20


#: Largest engine answer read over the lean path (a listing of ~30 000
#: containers); more is refused rather than buffered.
MAX_RESPONSE_BYTES = 64 << 20


def _unix_get(socket_path: str, url: str, timeout: float
              ) -> Tuple[int, bytes, Dict[str, str]]:
    """(status, body, headers) of ``GET url`` over HTTP/1.0 on a unix
    socket; raises OSError (timeouts included) and on a malformed
    answer."""
    import socket
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        sock.connect(socket_path)
        sock.sendall(f'GET {url} HTTP/1.0\r\nHost: docker\r\n\r\n'
                     .encode('ascii'))
        chunks, size = [], 0
        while True:
            data = sock.recv(1 << 16)
            if not data:
                break
            size += len(data)
            if size > MAX_RESPONSE_BYTES:
                raise OSError(f'answer larger than {MAX_RESPONSE_BYTES} '
                              'bytes')
            chunks.append(data)
    raw = b''.join(chunks)
    head, sep, body = raw.partition(b'\r\n\r\n')
    fields = head.split(b'\r\n', 1)[0].split()
    if not sep or len(fields) < 2 or not fields[0].startswith(b'HTTP/') \
            or not fields[1].isdigit():
        raise OSError(f'malformed HTTP answer: {head[:80]!r}')
    headers = {}
    for line in head.split(b'\r\n')[1:]:
        key, _, value = line.decode('latin-1').partition(':')
        headers[key.strip().lower()] = value.strip()
    if headers.get('transfer-encoding', '').lower() == 'chunked':
        body = _dechunk(body)
    return int(fields[1]), body, headers


def _dechunk(body: bytes) -> bytes:
    """Chunked transfer coding (RFC 9112 §7.1), should an engine use it
    even for HTTP/1.0."""
    out, pos = [], 0
    while True:
        end = body.find(b'\r\n', pos)
        if end < 0:
            raise OSError('truncated chunked answer')
        try:
            size = int(body[pos:end].split(b';', 1)[0], 16)
        except ValueError:
            raise OSError('malformed chunked answer') from None
        if size == 0:
            return b''.join(out)
        start = end + 2
        out.append(body[start:start + size])
        pos = start + size + 2


def _split_ref(ref: str) -> Tuple[str, Optional[str]]:
    """``repo[:tag][@digest]`` → ``(repo, tag or digest)``."""
    if '@' in ref:
        repo, digest = ref.split('@', 1)
        return repo, digest
    slash = ref.rfind('/')
    colon = ref.rfind(':')
    if colon > slash:
        return ref[:colon], ref[colon + 1:]
    return ref, 'latest'
