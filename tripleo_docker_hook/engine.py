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
"""

import json
import os
import re
import threading
import urllib.parse
from typing import Any, Dict, List, Mapping, Optional, Tuple

from tripleo_docker_hook import docker_spec
from tripleo_docker_hook import errors
from tripleo_docker_hook import model

DEFAULT_URL = 'unix:///var/run/docker.sock'
_CLIENT_LOCK = threading.Lock()
_EXITED = re.compile(r'^Exited \((-?\d+)\)')
_HEALTH = re.compile(r'\((healthy|unhealthy|health: starting)\)')


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
        health=health, created=int(entry.get('Created') or 0))


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
    for it.
    """

    def __init__(self, url: Optional[str] = None, version: str = '1.41',
                 timeout: int = 120):
        self.url = url or os.environ.get('DOCKER_HOST') or DEFAULT_URL
        self.version = version
        self.timeout = timeout
        self._client = None

    @classmethod
    def from_conf(cls, conf) -> 'Engine':
        return cls(conf.docker_url, conf.docker_api_version,
                   conf.docker_timeout)

    @property
    def client(self):
        # Worker threads of a level may ask for the client at once.
        with _CLIENT_LOCK:
            if self._client is None:
                import docker
                try:
                    # version "auto" asks the engine at once.
                    self._client = docker.APIClient(
                        base_url=self.url, version=self.version,
                        timeout=self.timeout, max_pool_size=32)
                except docker.errors.DockerException as exc:
                    raise errors.EngineError(
                        f'cannot reach the Docker engine at {self.url} '
                        f'(docker_api_version={self.version}): '
                        f'{errors.first_line(exc)}') from exc
        return self._client

    def _call(self, what: str, func, *args, **kwargs):
        from docker import errors as docker_errors
        import requests
        try:
            return func(*args, **kwargs)
        except docker_errors.APIError as exc:
            detail = exc.explanation or str(exc)
            if isinstance(detail, bytes):
                detail = detail.decode('utf-8', 'replace')
            raise errors.EngineError(f'{what}: {detail}') from exc
        except (requests.exceptions.ConnectionError,
                docker_errors.DockerException) as exc:
            raise errors.EngineError(
                f'{what}: cannot reach the Docker engine at {self.url}: '
                f'{errors.first_line(exc)}') from exc

    # -- reading ----------------------------------------------------------
    def list_containers(self, deployment: Optional[str] = None
                        ) -> List[model.Observed]:
        """Every container on the host, ours and foreign, in one call.

        Foreign ones are needed to report name clashes; ours carry all
        the state planning needs (labels, image ID, state, exit code).
        With ``deployment``, only that deployment's managed containers
        (used to poll freshly started ones).
        """
        filters = None
        if deployment is not None:
            from tripleo_docker_hook import MANAGED_BY
            filters = {'label': [
                f'{model.LABEL_MANAGED_BY}={MANAGED_BY}',
                f'{model.LABEL_DEPLOYMENT}={deployment}']}
        if self._raw_ok:
            params = {'all': '1'}
            if filters:
                params['filters'] = json.dumps(filters)
            _, entries = self._get('list containers', '/containers/json',
                                   params)
        else:
            entries = self._call('list containers', self.client.containers,
                                 all=True, filters=filters)
        return [observed_from_list(e) for e in entries]

    def image_id(self, ref: str) -> Optional[str]:
        """The local image ID ``ref`` resolves to, or None if absent."""
        if self._raw_ok:
            status, data = self._get(
                f'inspect image {ref}',
                '/images/' + urllib.parse.quote(ref, safe='/:@') + '/json',
                missing_ok=True)
            return None if status == 404 else data.get('Id')
        from docker import errors as docker_errors
        try:
            return self.client.inspect_image(ref)['Id']
        except docker_errors.ImageNotFound:
            return None
        except docker_errors.APIError as exc:
            if exc.status_code == 404:
                return None
            raise errors.EngineError(f'inspect image {ref}: '
                                     f'{exc.explanation}') from exc

    # -- lean reads -------------------------------------------------------
    @property
    def _raw_ok(self) -> bool:
        """Reads go over the stdlib when the engine is a unix socket."""
        return self.url.startswith('unix://') and self.version != 'auto'

    def _get(self, what: str, path: str, params=None,
             missing_ok: bool = False) -> Tuple[int, Any]:
        """One ``GET`` over the unix socket with the standard library.

        A plain HTTP/1.0 request (the engine answers without chunking and
        closes): ``http.client`` alone, with the ``email`` parsers it
        imports, costs ~10 ms of a ~60 ms no-op run.
        """
        url = f'/v{self.version}{path}'
        if params:
            url += '?' + urllib.parse.urlencode(params)
        try:
            status, raw = _unix_get(self.url[len('unix://'):], url,
                                    self.timeout)
        except OSError as exc:
            raise errors.EngineError(
                f'{what}: cannot reach the Docker engine at {self.url}: '
                f'{errors.first_line(exc)}') from exc
        if status == 404 and missing_ok:
            return status, None
        try:
            result = json.loads(raw) if raw else None
        except ValueError:
            result = None
        if status >= 400:
            detail = result.get('message') if isinstance(result, dict) \
                else raw.decode('utf-8', 'replace')
            raise errors.EngineError(f'{what}: {detail}')
        return status, result

    def inspect(self, name_or_id: str) -> Dict[str, Any]:
        return self._call(f'inspect {name_or_id}',
                          self.client.inspect_container, name_or_id)

    # -- images -----------------------------------------------------------
    def pull(self, ref: str) -> str:
        repo, tag = _split_ref(ref)
        self._call(f'pull {ref}', self.client.pull, repo, tag=tag)
        image = self.image_id(ref)
        if image is None:
            raise errors.EngineError(f'pull {ref}: image still missing')
        return image

    # -- containers -------------------------------------------------------
    def create(self, container: model.Container, name: str,
               labels: Mapping[str, str]) -> str:
        kwargs, host = docker_spec.create_args(container, name, labels)
        host_config = self.client.create_host_config(**host)
        result = self._call(f'create {name}', self.client.create_container,
                            host_config=host_config, **kwargs)
        return result['Id']

    def start(self, name_or_id: str) -> None:
        self._call(f'start {name_or_id}', self.client.start, name_or_id)

    def stop(self, name_or_id: str, timeout: Optional[int] = None) -> None:
        """Stop; ``timeout`` None means the container's own StopTimeout."""
        kwargs = {} if timeout is None else {'timeout': timeout}
        self._call(f'stop {name_or_id}', self.client.stop, name_or_id,
                   **kwargs)

    def remove(self, name_or_id: str, force: bool = True,
               volumes: bool = False) -> None:
        """Remove; a container that is already gone is fine."""
        from docker import errors as docker_errors
        try:
            self.client.remove_container(name_or_id, force=force, v=volumes)
        except docker_errors.NotFound:
            pass
        except docker_errors.APIError as exc:
            raise errors.EngineError(f'remove {name_or_id}: '
                                     f'{exc.explanation}') from exc

    def archive(self, name_or_id: str, path: str):
        """A tar stream of ``path`` in a container: an iterator of bytes
        with ``close()``; None when the path does not exist.

        Works on stopped containers; used to copy rendered config out of
        throw-away config containers.  Close it when done: an unread
        stream keeps the daemon busy and blocks removing the container.
        """
        from docker import errors as docker_errors
        client = self.client
        try:
            res = client._get(client._url('/containers/{0}/archive',
                                          name_or_id),
                              params={'path': path}, stream=True)
            client._raise_for_status(res)
        except docker_errors.NotFound:
            return None
        except docker_errors.APIError as exc:
            raise errors.EngineError(f'copy {path} out of {name_or_id}: '
                                     f'{exc.explanation}') from exc
        return _Stream(res)

    def bind_sources(self) -> Optional[List[str]]:
        """Host paths bind-mounted by any container (running or not):
        what must not be removed from under them.  None when the engine
        does not report mounts in its list (then nothing may be
        removed)."""
        if self._raw_ok:
            _, entries = self._get('list containers', '/containers/json',
                                   {'all': '1'})
        else:
            entries = self._call('list containers', self.client.containers,
                                 all=True)
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
        self._call(f'rename {name_or_id}', self.client.rename, name_or_id,
                   new_name)

    def wait(self, name_or_id: str, timeout: Optional[float]) -> int:
        """Block until the container exits; its exit code."""
        import requests
        try:
            result = self.client.wait(name_or_id, timeout=timeout)
        except requests.exceptions.ReadTimeout as exc:
            raise errors.DeploymentFailed(
                f'{name_or_id}: still running after {timeout} s') from exc
        except requests.exceptions.ConnectionError as exc:
            # urllib3 reports some read timeouts as connection errors.
            if 'timed out' in str(exc).lower():
                raise errors.DeploymentFailed(
                    f'{name_or_id}: still running after {timeout} s'
                ) from exc
            raise
        return int(result.get('StatusCode', -1))

    def logs(self, name_or_id: str, tail: int = 200) -> str:
        data = self._call(f'logs {name_or_id}', self.client.logs,
                          name_or_id, stdout=True, stderr=True, tail=tail)
        return data.decode('utf-8', 'replace') if isinstance(
            data, bytes) else str(data)

    def exec_run(self, name_or_id: str, command: List[str], user: str = '',
                 privileged: bool = False,
                 environment: Optional[List[str]] = None,
                 timeout: Optional[float] = None
                 ) -> Tuple[int, str, str]:
        """Run a command in a running container.

        Returns ``(exit code, output, container id)``.  The Engine API
        cannot kill an exec, so the timeout abandons it (a daemon thread
        keeps reading) and fails the step.
        """
        import threading
        created = self._call(
            f'exec in {name_or_id}', self.client.exec_create, name_or_id,
            command, user=user, privileged=privileged,
            environment=environment or None)
        box: Dict[str, Any] = {}

        def run():
            try:
                box['output'] = self._call(f'exec in {name_or_id}',
                                           self.client.exec_start,
                                           created['Id'])
            except BaseException as exc:  # re-raised in the caller
                box['error'] = exc

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        thread.join(timeout)
        if thread.is_alive():
            raise errors.DeploymentFailed(
                f'exec in {name_or_id}: still running after {timeout} s')
        if 'error' in box:
            raise box['error']
        info = self._call(f'exec in {name_or_id}', self.client.exec_inspect,
                          created['Id'])
        output = box.get('output')
        text = output.decode('utf-8', 'replace') if isinstance(
            output, bytes) else str(output or '')
        code = info.get('ExitCode')
        return (-1 if code is None else int(code)), text, \
            info.get('ContainerID', '')


#: Largest engine answer read over the lean path (a listing of ~30 000
#: containers); more is refused rather than buffered.
MAX_RESPONSE_BYTES = 64 << 20


def _unix_get(socket_path: str, url: str, timeout: float
              ) -> Tuple[int, bytes]:
    """(status, body) of ``GET url`` over HTTP/1.0 on a unix socket;
    raises OSError (timeouts included) and on a malformed answer."""
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
    headers = head.lower()
    if b'\r\ntransfer-encoding: chunked' in headers:
        body = _dechunk(body)
    return int(fields[1]), body


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
