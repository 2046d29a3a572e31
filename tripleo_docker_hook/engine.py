"""The Docker Engine API: the only module that talks to Docker.

It speaks the low-level ``docker.APIClient`` (one HTTP request per call, no
hidden inspects) and converts between the engine's JSON and the model:
:func:`create_args` turns a :class:`model.Container` into the keyword
arguments of ``create_container`` (a pure function, unit-tested), and
:meth:`Engine.list_containers` returns :class:`model.Observed` records.
Every container runs with host networking.
"""

import os
import re
from typing import Any, Dict, List, Mapping, Optional, Tuple

from tripleo_docker_hook import errors
from tripleo_docker_hook import model

DEFAULT_URL = 'unix:///var/run/docker.sock'
_EXITED = re.compile(r'^Exited \((-?\d+)\)')
_HEALTH = re.compile(r'\((healthy|unhealthy|health: starting)\)')


def _nanoseconds(seconds: float) -> int:
    return int(round(seconds * 1_000_000_000))


def healthcheck_args(check: model.HealthCheck) -> Dict[str, Any]:
    args: Dict[str, Any] = {'test': list(check.test)}
    if check.interval:
        args['interval'] = _nanoseconds(check.interval)
    if check.timeout:
        args['timeout'] = _nanoseconds(check.timeout)
    if check.retries:
        args['retries'] = check.retries
    if check.start_period:
        args['start_period'] = _nanoseconds(check.start_period)
    return args


def bind_string(mount: model.Mount) -> str:
    """``src:dst[:opts]`` for the legacy ``Binds`` list.

    Binds (not the Mount API) because they carry SELinux relabel options
    and behave like ``docker run -v``, which docker_config templates expect.
    """
    opts = ['ro' if mount.read_only else 'rw']
    if mount.propagation:
        opts.append(mount.propagation)
    if mount.selinux_relabel:
        opts.append(mount.selinux_relabel)
    return f'{mount.source}:{mount.target}:{",".join(opts)}'


def create_args(container: model.Container, name: str,
                labels: Mapping[str, str]) -> Tuple[Dict[str, Any],
                                                    Dict[str, Any]]:
    """Arguments of ``create_container`` and ``create_host_config``.

    Returns ``(container_kwargs, host_config_kwargs)``.  Pure: tested
    without an engine.
    """
    binds = [bind_string(m) for m in container.mounts
             if m.type in ('bind', 'volume')]
    tmpfs = {m.target: ('ro' if m.read_only else '')
             for m in container.mounts if m.type == 'tmpfs'}
    host: Dict[str, Any] = {'network_mode': 'host'}
    if binds:
        host['binds'] = binds
    if tmpfs:
        host['tmpfs'] = tmpfs
    if container.privileged:
        host['privileged'] = True
    for key in ('pid_mode', 'ipc_mode', 'uts_mode'):
        value = getattr(container, key)
        if value:
            host[key] = value
    if container.cap_add:
        host['cap_add'] = list(container.cap_add)
    if container.cap_drop:
        host['cap_drop'] = list(container.cap_drop)
    if container.security_opt:
        host['security_opt'] = list(container.security_opt)
    if container.read_only:
        host['read_only'] = True
    if container.group_add:
        host['group_add'] = list(container.group_add)
    if container.extra_hosts:
        host['extra_hosts'] = list(container.extra_hosts)
    if container.kind is model.Kind.SERVICE and \
            container.restart_policy != 'no':
        policy: Dict[str, Any] = {'Name': container.restart_policy}
        if container.restart_policy == 'on-failure' and \
                container.restart_max_retries:
            policy['MaximumRetryCount'] = container.restart_max_retries
        host['restart_policy'] = policy
    res = container.resources
    for key in ('cpu_shares', 'cpu_quota', 'cpu_period', 'mem_limit',
                'memswap_limit', 'mem_reservation', 'shm_size',
                'oom_score_adj'):
        value = getattr(res, key)
        if value is not None:
            host[key] = value
    if res.cpuset_cpus:
        host['cpuset_cpus'] = res.cpuset_cpus
    if container.ulimits:
        host['ulimits'] = [{'Name': u.name, 'Soft': u.soft, 'Hard': u.hard}
                           for u in container.ulimits]
    if container.log_tag:
        host['log_config'] = {'Type': 'json-file',
                              'Config': {'tag': container.log_tag}}

    kwargs: Dict[str, Any] = {
        'image': container.image,
        'name': name,
        'labels': dict(labels),
        'detach': True,
    }
    if container.entrypoint is not None:
        kwargs['entrypoint'] = list(container.entrypoint)
    if container.command is not None:
        kwargs['command'] = list(container.command)
    if container.environment:
        kwargs['environment'] = [f'{k}={v}' for k, v in
                                 container.environment]
    if container.working_dir:
        kwargs['working_dir'] = container.working_dir
    if container.user:
        kwargs['user'] = container.user
    if container.healthcheck is not None:
        kwargs['healthcheck'] = healthcheck_args(container.healthcheck)
    if container.stop_timeout is not None:
        kwargs['stop_timeout'] = container.stop_timeout
    if container.stop_signal:
        kwargs['stop_signal'] = container.stop_signal
    if container.tty:
        kwargs['tty'] = True
    if container.stdin_open:
        kwargs['stdin_open'] = True
    return kwargs, host


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
        if self._client is None:
            import docker
            self._client = docker.APIClient(
                base_url=self.url, version=self.version,
                timeout=self.timeout)
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
    def list_containers(self) -> List[model.Observed]:
        """Every container on the host, ours and foreign, in one call.

        Foreign ones are needed to report name clashes; ours carry all
        the state planning needs (labels, image ID, state, exit code).
        """
        entries = self._call('list containers', self.client.containers,
                             all=True)
        return [observed_from_list(e) for e in entries]

    def image_id(self, ref: str) -> Optional[str]:
        """The local image ID ``ref`` resolves to, or None if absent."""
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
        kwargs, host = create_args(container, name, labels)
        host_config = self.client.create_host_config(**host)
        result = self._call(f'create {name}', self.client.create_container,
                            host_config=host_config, **kwargs)
        return result['Id']

    def start(self, name_or_id: str) -> None:
        self._call(f'start {name_or_id}', self.client.start, name_or_id)

    def stop(self, name_or_id: str, timeout: Optional[int] = None) -> None:
        kwargs = {} if timeout is None else {'timeout': timeout}
        self._call(f'stop {name_or_id}', self.client.stop, name_or_id,
                   **kwargs)

    def remove(self, name_or_id: str, force: bool = True) -> None:
        from docker import errors as docker_errors
        try:
            self.client.remove_container(name_or_id, force=force, v=False)
        except docker_errors.NotFound:
            pass
        except docker_errors.APIError as exc:
            raise errors.EngineError(f'remove {name_or_id}: '
                                     f'{exc.explanation}') from exc

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
                 environment: Optional[List[str]] = None) -> Tuple[int, str]:
        """Run a command in a running container; ``(exit code, output)``."""
        created = self._call(
            f'exec in {name_or_id}', self.client.exec_create, name_or_id,
            command, user=user, privileged=privileged,
            environment=environment or None)
        output = self._call(f'exec in {name_or_id}', self.client.exec_start,
                            created['Id'])
        info = self._call(f'exec in {name_or_id}', self.client.exec_inspect,
                          created['Id'])
        text = output.decode('utf-8', 'replace') if isinstance(
            output, bytes) else str(output or '')
        return int(info.get('ExitCode') or 0), text


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
