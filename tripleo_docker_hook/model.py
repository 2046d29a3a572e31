"""The validated deployment model: what every step after parsing sees.

Pods and TripleO ``docker_config`` both parse into these frozen dataclasses
(see :mod:`tripleo_docker_hook.definitions`).  Nothing here talks to Docker or
the file system; values are already checked, defaulted and normalised, so
planning and applying never re-validate.
"""

import dataclasses
import enum
import itertools
from typing import Dict, Mapping, Optional, Tuple

# Labels set on every managed container.  Labels are immutable in Docker:
# any change to them means a recreate, so only stable facts go here.
LABEL_MANAGED_BY = 'managed_by'
LABEL_DEPLOYMENT = 'deployment'          # deployment name (stable identity)
LABEL_CONFIG_ID = 'config_id'            # Heat derived config id (info only)
LABEL_CONTAINER_NAME = 'container_name'  # name in the definition
LABEL_HASH = 'tripleo-docker-hook.hash'  # change-detection hash
LABEL_STEP = 'tripleo-docker-hook.step'
LABEL_KIND = 'tripleo-docker-hook.kind'
#: The container's own stop timeout (``StopTimeout``, seconds) as it was
#: created, or :data:`STOP_TIMEOUT_DEFAULT` when it has none: a stop or a
#: DELETE needs no inspect to learn it.  Not part of the container hash.
LABEL_STOP_TIMEOUT = 'tripleo-docker-hook.stop-timeout'
STOP_TIMEOUT_DEFAULT = 'default'
LABEL_POD = 'io.kubernetes.pod.name'


class Kind(str, enum.Enum):
    """How a container is run."""

    SERVICE = 'service'  # long-running, detached
    TASK = 'task'        # one-shot: run to completion, check exit code
    EXEC = 'exec'        # one-shot command inside another running container


@dataclasses.dataclass(frozen=True)
class Mount:
    """One mount.  ``source`` is a host path for binds, a name for volumes."""

    target: str
    source: str = ''
    type: str = 'bind'              # 'bind' | 'volume' | 'tmpfs'
    read_only: bool = False
    propagation: str = ''           # '' (engine default) | 'rslave' | ...
    selinux_relabel: str = ''       # '' | 'z' | 'Z' (docker_config only)
    #: kubelet hostPath type, checked (and for *OrCreate created) on the host
    #: right before the container is created.
    host_path_type: str = ''
    #: Pod input: the name of the Pod volume mounted (``volumeMounts[].name``,
    #: not a Docker volume) and the mount's ``subPath``.  ``source`` is then
    #: ``<hostPath.path>/<subPath>``; the hostPath type applies to the
    #: volume root (``source`` without the sub path).
    pod_volume: str = ''
    sub_path: str = ''
    #: tmpfs only: size in bytes (``emptyDir.sizeLimit``).
    tmpfs_size: Optional[int] = None
    #: docker_config binds: the source must exist on the host (Docker
    #: would create a missing one as an empty directory).
    must_exist: bool = False
    #: Where the mount was written (``step_3.nova.volumes[2]``), for errors.
    origin: str = ''

    @property
    def volume_root(self) -> str:
        """The host path the hostPath type check applies to."""
        if self.sub_path and self.source.endswith('/' + self.sub_path):
            return self.source[:-len(self.sub_path) - 1] or '/'
        return self.source


@dataclasses.dataclass(frozen=True)
class HealthCheck:
    """Docker health check; ``test == ('NONE',)`` disables the image's."""

    test: Tuple[str, ...]
    interval: float = 0.0       # seconds; 0 = engine default
    timeout: float = 0.0
    retries: int = 0
    start_period: float = 0.0


@dataclasses.dataclass(frozen=True)
class Ulimit:
    name: str
    soft: int
    hard: int


@dataclasses.dataclass(frozen=True)
class Resources:
    """cgroup settings, already converted to Docker's units."""

    cpu_shares: Optional[int] = None
    cpu_quota: Optional[int] = None
    cpu_period: Optional[int] = None
    cpuset_cpus: str = ''
    mem_limit: Optional[int] = None          # bytes
    memswap_limit: Optional[int] = None      # bytes
    mem_reservation: Optional[int] = None    # bytes
    shm_size: Optional[int] = None           # bytes
    oom_score_adj: Optional[int] = None
    mem_swappiness: Optional[int] = None


@dataclasses.dataclass(frozen=True)
class Container:
    """One container (or one-shot task / exec) of a deployment.

    ``name`` is the Docker container name: the docker_config key, or for
    Pods ``<pod>-<container>`` (``pod``/``pod_container`` keep the parts).
    ``source_hash`` is a hash of the canonical, user-supplied definition
    (plus the content of env files and ConfigMap/Secret data it reads, and
    for Pods the Pod fields that affect it, and the schema version); the
    config rendering folds in the config volumes it mounts.
    """

    name: str
    image: str
    kind: Kind = Kind.SERVICE
    step: int = 1
    start_order: int = 0
    entrypoint: Optional[Tuple[str, ...]] = None   # None = image default
    command: Optional[Tuple[str, ...]] = None      # None = image default
    environment: Tuple[Tuple[str, str], ...] = ()  # ordered (name, value)
    working_dir: str = ''
    user: str = ''
    mounts: Tuple[Mount, ...] = ()
    privileged: bool = False
    pid_mode: str = ''              # '' | 'host' | 'container:<name>'
    ipc_mode: str = ''              # '' | 'host' | 'shareable' | ...
    uts_mode: str = ''              # '' | 'host'
    cap_add: Tuple[str, ...] = ()
    cap_drop: Tuple[str, ...] = ()
    security_opt: Tuple[str, ...] = ()
    read_only: bool = False
    group_add: Tuple[str, ...] = ()
    # 'no' | 'always' | 'on-failure' | 'unless-stopped'
    restart_policy: str = 'no'
    restart_max_retries: int = 0
    stop_timeout: Optional[int] = None  # seconds
    stop_signal: str = ''
    healthcheck: Optional[HealthCheck] = None  # None = image default
    resources: Resources = Resources()
    ulimits: Tuple[Ulimit, ...] = ()
    labels: Tuple[Tuple[str, str], ...] = ()   # user labels, sorted
    tty: bool = False
    stdin_open: bool = False
    extra_hosts: Tuple[str, ...] = ()
    log_tag: str = ''
    pull_policy: str = 'IfNotPresent'  # 'Always' | 'IfNotPresent' | 'Never'
    exit_codes: Tuple[int, ...] = (0,)  # TASK / EXEC: accepted exit codes
    exec_target: str = ''           # EXEC: name of the container to run in
    timeout: Optional[int] = None   # TASK / EXEC: seconds; None = option
    pod: str = ''                   # Pod name, for Pod input and export
    source_hash: str = ''
    #: Pod input: the container's name inside its Pod (``name`` is the
    #: Docker name, ``<pod>-<container>`` unless annotated).
    pod_container: str = ''
    hostname: str = ''
    volumes_from: Tuple[str, ...] = ()
    #: ``remove: true``.  Never sent as Docker's AutoRemove (the hook owns
    #: removal): a one-shot task's container is removed after its exit
    #: code and output are collected and recorded; a service's is
    #: removed by the hook when it is replaced or deleted, as always.
    auto_remove: bool = False
    #: Pod input: an init container (runs to completion before the app
    #: containers of its Pod).
    init: bool = False
    #: Host systemd units this container replaces (a baremetal node's
    #: packaged service): stopped and disabled before it first starts, see
    #: :mod:`tripleo_docker_hook.host_units`.  Not part of ``source_hash``:
    #: claiming a unit never recreates the container.
    host_services: Tuple[str, ...] = ()
    #: Set by the config rendering: ``(label, hash)`` of every config
    #: volume / Kolla file this container mounts (``config volume
    #: keystone``), so a plan can say which one changed.  Not hashed.
    config_hashes: Tuple[Tuple[str, str], ...] = ()

    @property
    def env(self) -> Dict[str, str]:
        return dict(self.environment)

    @property
    def is_one_shot(self) -> bool:
        return self.kind is not Kind.SERVICE

    @property
    def depends_on(self) -> Tuple[Tuple[str, str], ...]:
        """``(field, container name)`` of every field naming another
        container: ``pid``/``ipc: container:<name>`` and ``volumes_from``.

        Such a container joins the other's namespaces or volumes as they
        are when it is created: it must be recreated after the other one.
        """
        out = []
        for field, value in (('pid', self.pid_mode), ('ipc', self.ipc_mode),
                             ('uts', self.uts_mode)):
            if value.startswith('container:'):
                out.append((field, value[len('container:'):]))
        for i, item in enumerate(self.volumes_from):
            out.append((f'volumes_from[{i}]', item.split(':')[0]))
        return tuple(out)


@dataclasses.dataclass(frozen=True)
class Step:
    """Containers of one step, sorted by ``(start_order, name)``."""

    number: int
    containers: Tuple[Container, ...]

    def groups(self) -> Tuple[Tuple[Container, ...], ...]:
        """The step's ``start_order`` groups (containers sharing a
        ``start_order``), in order.

        Containers of one group may be acted on in parallel; a group starts
        only when the previous one is done.
        """
        return tuple(tuple(group) for _, group in itertools.groupby(
            self.containers, key=lambda c: c.start_order))


@dataclasses.dataclass(frozen=True)
class PuppetConfig:
    """One config volume to render with puppet (entries already merged)."""

    config_volume: str
    step_config: str
    config_image: str
    puppet_tags: Tuple[str, ...] = ()
    volumes: Tuple[Mount, ...] = ()
    privileged: bool = False


@dataclasses.dataclass(frozen=True)
class KollaConfigFile:
    source: str
    dest: str
    owner: str = ''
    perm: str = ''
    merge: bool = False
    preserve_properties: bool = False
    optional: bool = False


@dataclasses.dataclass(frozen=True)
class KollaPermission:
    path: str
    owner: str
    perm: str = ''
    recurse: bool = False


@dataclasses.dataclass(frozen=True)
class KollaConfig:
    """One Kolla ``config.json``; ``path`` is absolute on the host."""

    path: str
    command: str
    config_files: Tuple[KollaConfigFile, ...] = ()
    permissions: Tuple[KollaPermission, ...] = ()


@dataclasses.dataclass(frozen=True)
class Deployment:
    """Everything one deployment asks for, validated."""

    steps: Tuple[Step, ...] = ()
    puppet_config: Tuple[PuppetConfig, ...] = ()
    kolla_config: Tuple[KollaConfig, ...] = ()
    #: 'docker_config' or 'pod': which language the input was written in.
    source_format: str = 'docker_config'

    @property
    def containers(self) -> Tuple[Container, ...]:
        return tuple(c for s in self.steps for c in s.containers)

    def container(self, name: str) -> Optional[Container]:
        for c in self.containers:
            if c.name == name:
                return c
        return None


@dataclasses.dataclass(frozen=True)
class Observed:
    """A container as the engine reports it in one list call."""

    id: str
    name: str
    image_id: str
    state: str                  # 'running', 'exited', 'created', ...
    labels: Mapping[str, str]
    exit_code: Optional[int] = None
    health: str = ''            # '', 'starting', 'healthy', 'unhealthy'
    created: int = 0
    image: str = ''             # the reference it was created from

    @property
    def managed(self) -> bool:
        from tripleo_docker_hook import MANAGED_BY
        return self.labels.get(LABEL_MANAGED_BY) == MANAGED_BY

    @property
    def container_name(self) -> str:
        return self.labels.get(LABEL_CONTAINER_NAME, '')

    @property
    def deployment(self) -> str:
        return self.labels.get(LABEL_DEPLOYMENT, '')
