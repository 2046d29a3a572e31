"""The Docker Engine API: the only module that talks to Docker.

It speaks the low-level ``docker.APIClient`` (one HTTP request per call, no
hidden inspects).  What to send comes from :mod:`docker_spec` (pure
model → API arguments); what comes back is turned into
:class:`model.Observed` records here.
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
                self._client = docker.APIClient(
                    base_url=self.url, version=self.version,
                    timeout=self.timeout, max_pool_size=32)
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
        """Reads go over the stdlib when the engine is a unix socket.

        A no-op apply only reads (one container list, one image lookup
        per image); importing docker-py and requests for that costs more
        than the whole rest of the run, so they are imported only when
        something has to change.
        """
        return self.url.startswith('unix://') and self.version != 'auto'

    def _get(self, what: str, path: str, params=None,
             missing_ok: bool = False) -> Tuple[int, Any]:
        return self._request('GET', what, path, params,
                             missing_ok=missing_ok)

    def _request(self, method: str, what: str, path: str, params=None,
                 body: Any = None, missing_ok: bool = False,
                 timeout: Optional[float] = None,
                 raw_body: bool = False,
                 pass_timeout: bool = False) -> Tuple[int, Any]:
        """One Engine API call over the unix socket with the stdlib."""
        import http.client
        import socket

        class Connection(http.client.HTTPConnection):
            def connect(conn):
                conn.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                conn.sock.settimeout(conn.timeout)
                conn.sock.connect(self.url[len('unix://'):])

        url = f'/v{self.version}{path}'
        if params:
            url += '?' + urllib.parse.urlencode(params)
        headers = {}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers['Content-Type'] = 'application/json'
        conn = Connection('localhost', timeout=timeout or self.timeout)
        try:
            conn.request(method, url, body=data, headers=headers)
            response = conn.getresponse()
            raw = response.read()
        except TimeoutError as exc:
            if pass_timeout:
                raise
            raise errors.EngineError(
                f'{what}: no answer from the Docker engine within '
                f'{timeout or self.timeout} s') from exc
        except OSError as exc:
            raise errors.EngineError(
                f'{what}: cannot reach the Docker engine at {self.url}: '
                f'{errors.first_line(exc)}') from exc
        finally:
            conn.close()
        status = response.status
        if status == 404 and missing_ok:
            return status, None
        if raw_body and status < 400:
            return status, raw
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
        body = api_body(kwargs, host) if self._raw_ok else None
        if body is not None:
            _, result = self._request('POST', f'create {name}',
                                      '/containers/create', {'name': name},
                                      body=body)
            return result['Id']
        host_config = self.client.create_host_config(**host)
        result = self._call(f'create {name}', self.client.create_container,
                            host_config=host_config, **kwargs)
        return result['Id']

    def start(self, name_or_id: str) -> None:
        if self._raw_ok:
            self._request('POST', f'start {name_or_id}',
                          f'/containers/{_q(name_or_id)}/start')
            return
        self._call(f'start {name_or_id}', self.client.start, name_or_id)

    def stop(self, name_or_id: str, timeout: Optional[int] = None) -> None:
        """Stop; ``timeout`` None means the container's own StopTimeout."""
        if self._raw_ok:
            params = {} if timeout is None else {'t': str(timeout)}
            # The HTTP call lasts as long as the graceful stop.
            wait = self.timeout + (600 if timeout is None else timeout)
            self._request('POST', f'stop {name_or_id}',
                          f'/containers/{_q(name_or_id)}/stop', params,
                          timeout=wait)
            return
        kwargs = {} if timeout is None else {'timeout': timeout}
        self._call(f'stop {name_or_id}', self.client.stop, name_or_id,
                   **kwargs)

    def remove(self, name_or_id: str, force: bool = True,
               volumes: bool = False) -> None:
        """Remove; a container that is already gone is fine."""
        if self._raw_ok:
            self._request('DELETE', f'remove {name_or_id}',
                          f'/containers/{_q(name_or_id)}',
                          {'force': '1' if force else '0',
                           'v': '1' if volumes else '0'}, missing_ok=True)
            return
        from docker import errors as docker_errors
        try:
            self.client.remove_container(name_or_id, force=force, v=volumes)
        except docker_errors.NotFound:
            pass
        except docker_errors.APIError as exc:
            raise errors.EngineError(f'remove {name_or_id}: '
                                     f'{exc.explanation}') from exc

    def archive(self, name_or_id: str, path: str):
        """A tar stream (iterator of bytes) of ``path`` in a container.

        None when the path does not exist.  Works on stopped containers;
        used to copy rendered config out of throw-away config containers.
        """
        from docker import errors as docker_errors
        try:
            stream, _ = self.client.get_archive(name_or_id, path,
                                               chunk_size=1 << 16)
        except docker_errors.NotFound:
            return None
        except docker_errors.APIError as exc:
            raise errors.EngineError(f'copy {path} out of {name_or_id}: '
                                     f'{exc.explanation}') from exc
        return stream

    def rename(self, name_or_id: str, new_name: str) -> None:
        if self._raw_ok:
            self._request('POST', f'rename {name_or_id}',
                          f'/containers/{_q(name_or_id)}/rename',
                          {'name': new_name})
            return
        self._call(f'rename {name_or_id}', self.client.rename, name_or_id,
                   new_name)

    def wait(self, name_or_id: str, timeout: Optional[float]) -> int:
        """Block until the container exits; its exit code."""
        if self._raw_ok:
            try:
                _, result = self._request(
                    'POST', f'wait for {name_or_id}',
                    f'/containers/{_q(name_or_id)}/wait',
                    timeout=timeout or None, pass_timeout=True)
            except TimeoutError as exc:
                raise errors.DeploymentFailed(
                    f'{name_or_id}: still running after {timeout} s'
                ) from exc
            return int((result or {}).get('StatusCode', -1))
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
        if self._raw_ok:
            _, data = self._request(
                'GET', f'logs {name_or_id}',
                f'/containers/{_q(name_or_id)}/logs',
                {'stdout': '1', 'stderr': '1', 'tail': str(tail)},
                raw_body=True)
            return demux(data or b'').decode('utf-8', 'replace')
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


def _q(name_or_id: str) -> str:
    return urllib.parse.quote(name_or_id, safe='')


#: create_host_config keyword → Engine API HostConfig field, for the keys
#: docker_spec produces.  Checked against docker-py's own translation in
#: tests/unit/test_engine_body.py; any other key falls back to docker-py.
HOST_FIELDS = {
    'network_mode': 'NetworkMode', 'binds': 'Binds', 'tmpfs': 'Tmpfs',
    'privileged': 'Privileged', 'pid_mode': 'PidMode',
    'ipc_mode': 'IpcMode', 'uts_mode': 'UTSMode', 'cap_add': 'CapAdd',
    'cap_drop': 'CapDrop', 'security_opt': 'SecurityOpt',
    'read_only': 'ReadonlyRootfs', 'group_add': 'GroupAdd',
    'extra_hosts': 'ExtraHosts', 'volumes_from': 'VolumesFrom',
    'auto_remove': 'AutoRemove', 'restart_policy': 'RestartPolicy',
    'cpu_shares': 'CpuShares', 'cpu_quota': 'CpuQuota',
    'cpu_period': 'CpuPeriod', 'cpuset_cpus': 'CpusetCpus',
    'mem_limit': 'Memory', 'memswap_limit': 'MemorySwap',
    'mem_reservation': 'MemoryReservation', 'shm_size': 'ShmSize',
    'oom_score_adj': 'OomScoreAdj', 'mem_swappiness': 'MemorySwappiness',
    'ulimits': 'Ulimits', 'log_config': 'LogConfig',
}
CONFIG_FIELDS = {
    'image': 'Image', 'hostname': 'Hostname', 'entrypoint': 'Entrypoint',
    'command': 'Cmd', 'environment': 'Env', 'working_dir': 'WorkingDir',
    'user': 'User', 'stop_timeout': 'StopTimeout',
    'stop_signal': 'StopSignal', 'tty': 'Tty', 'stdin_open': 'OpenStdin',
    'labels': 'Labels',
}
HEALTH_FIELDS = {'test': 'Test', 'interval': 'Interval',
                 'timeout': 'Timeout', 'retries': 'Retries',
                 'start_period': 'StartPeriod'}
_PLAIN = (str, int, float, bool, list, dict)


def api_body(kwargs: Mapping[str, Any], host: Mapping[str, Any]
             ) -> Optional[Dict[str, Any]]:
    """``POST /containers/create`` body for docker_spec's arguments.

    None when an argument is not one this translation knows (or not plain
    data): the caller then lets docker-py translate.  Saves importing
    docker-py and requests (most of a small change's run time).
    """
    if kwargs.get('detach') is not True:
        return None
    body: Dict[str, Any] = {}
    for key, value in kwargs.items():
        if key in ('name', 'detach'):
            continue
        if key == 'healthcheck':
            if not isinstance(value, dict) or \
                    not set(value) <= set(HEALTH_FIELDS):
                return None
            body['Healthcheck'] = {HEALTH_FIELDS[k]: v
                                   for k, v in value.items()}
        elif key in CONFIG_FIELDS and isinstance(value, _PLAIN):
            body[CONFIG_FIELDS[key]] = value
        else:
            return None
    if isinstance(body.get('Cmd'), str) or \
            isinstance(body.get('Entrypoint'), str) or \
            isinstance(body.get('Env'), dict):
        return None
    host_config: Dict[str, Any] = {}
    for key, value in host.items():
        if key not in HOST_FIELDS or not isinstance(value, _PLAIN):
            return None
        if key == 'group_add':
            value = [str(g) for g in value]
        elif key in ('extra_hosts', 'volumes_from', 'binds') and \
                not isinstance(value, list):
            return None
        elif key in ('mem_limit', 'memswap_limit', 'mem_reservation',
                     'shm_size') and not isinstance(value, int):
            return None
        host_config[HOST_FIELDS[key]] = value
    body['HostConfig'] = host_config
    body.update(AttachStdin=False, AttachStdout=False, AttachStderr=False,
                StdinOnce=False)
    return body


def demux(data: bytes) -> bytes:
    """Payload of a multiplexed log stream (8-byte frame headers), in
    order; a TTY container's raw stream is returned as is."""
    out = []
    i = 0
    while i + 8 <= len(data):
        kind, size = data[i], int.from_bytes(data[i + 4:i + 8], 'big')
        if kind not in (0, 1, 2) or data[i + 1:i + 4] != b'\0\0\0':
            return data  # not multiplexed
        out.append(data[i + 8:i + 8 + size])
        i += 8 + size
    if i != len(data):
        return data
    return b''.join(out)
