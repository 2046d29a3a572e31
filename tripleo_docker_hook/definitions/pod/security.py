"""Pod and container security contexts → Docker user, privileges,
capabilities and security options (SELinux, seccomp, AppArmor)."""

import dataclasses
from typing import Any, List, Mapping, Optional, Tuple

from tripleo_docker_hook import errors
from tripleo_docker_hook.definitions import common
from tripleo_docker_hook.definitions import docker_config


@dataclasses.dataclass(frozen=True)
class PodSecurity:
    """``spec.securityContext``: the defaults of every container."""

    run_as_user: Optional[int] = None
    run_as_group: Optional[int] = None
    run_as_non_root: bool = False
    #: ``supplementalGroups``, as Docker ``group_add`` entries.
    group_add: Tuple[str, ...] = ()
    #: ``seLinuxOptions``, ``seccompProfile``, ``appArmorProfile`` as
    #: written: name → (value, field path), read by :func:`security`.
    profiles: Mapping[str, Tuple[Any, str]] = dataclasses.field(
        default_factory=dict)


@dataclasses.dataclass(frozen=True)
class ContainerSecurity:
    """A container's security context, in Docker's terms."""

    privileged: bool
    #: Docker ``user``: ``uid[:gid]`` or empty (the image's).
    user: str
    cap_add: Tuple[str, ...]
    cap_drop: Tuple[str, ...]
    security_opt: Tuple[str, ...]
    read_only: bool


def pod_security(sf: common.Fields, errs: errors.ErrorList) -> PodSecurity:
    """``spec.securityContext``: defaults for every container, plus the
    supplemental groups as ``group_add``."""
    raw = sf.mapping('securityContext')
    if not raw:
        return PodSecurity()
    f = common.Fields(raw, sf.p('securityContext'), errs, (
        'runAsUser', 'runAsGroup', 'runAsNonRoot', 'supplementalGroups',
        'seLinuxOptions', 'seccompProfile', 'appArmorProfile', 'fsGroup',
        'sysctls', 'fsGroupChangePolicy', 'windowsOptions',
        'supplementalGroupsPolicy', 'seLinuxChangePolicy'))
    for key in ('fsGroup', 'fsGroupChangePolicy', 'windowsOptions',
                'supplementalGroupsPolicy', 'seLinuxChangePolicy'):
        if f.has(key):
            errs.forbidden(f.p(key), 'not supported: host paths are not '
                           'chowned or relabelled')
    if f.has('sysctls'):
        errs.forbidden(f.p('sysctls'), 'not supported: with host networking '
                       'namespaced sysctls would change the host')
    user = f.int('runAsUser', None, 0, 2147483647)
    group = f.int('runAsGroup', None, 0, 2147483647)
    non_root = f.bool('runAsNonRoot') if f.has('runAsNonRoot') else False
    groups = f.list('supplementalGroups') or []
    gids = []
    for i, g in enumerate(groups):
        if isinstance(g, bool) or not isinstance(g, int) or not \
                0 <= g <= 2147483647:
            errs.invalid(f'{f.p("supplementalGroups")}[{i}]', g,
                         'must be a group ID (0-2147483647)')
        else:
            gids.append(str(g))
    profiles = {key: (f.raw(key), f.p(key)) for key in (
        'seLinuxOptions', 'seccompProfile', 'appArmorProfile') if f.has(key)}
    f.finish()
    return PodSecurity(user, group, non_root, tuple(gids), profiles)


def security(raw: Any, path: str, errs: errors.ErrorList,
             pod_sc: PodSecurity) -> ContainerSecurity:
    """A container's ``securityContext`` over the Pod's defaults."""
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        common.wrong_type(errs, path, raw, 'a mapping')
        raw = {}
    f = common.Fields(raw, path, errs, (
        'privileged', 'runAsUser', 'runAsGroup', 'runAsNonRoot',
        'capabilities', 'readOnlyRootFilesystem', 'allowPrivilegeEscalation',
        'seLinuxOptions', 'seccompProfile', 'appArmorProfile', 'procMount',
        'windowsOptions'))
    if f.has('windowsOptions'):
        errs.forbidden(f.p('windowsOptions'), 'Linux host')
    f.str('procMount', choices=('Default',))
    privileged = f.bool('privileged')
    user = f.int('runAsUser', pod_sc.run_as_user, 0, 2147483647)
    group = f.int('runAsGroup', pod_sc.run_as_group, 0, 2147483647)
    non_root = f.bool('runAsNonRoot', pod_sc.run_as_non_root)
    user_text = ''
    if user is not None:
        user_text = str(user) + (f':{group}' if group is not None else '')
    elif group is not None:
        errs.forbidden(f.p('runAsGroup'), 'runAsGroup needs runAsUser '
                       '(Docker user uid:gid)')
    if non_root:
        if user is None:
            errs.forbidden(f.p('runAsNonRoot'), 'needs a numeric runAsUser '
                           'here: the image user is not checked')
        elif user == 0:
            errs.forbidden(f.p('runAsNonRoot'), 'runAsUser is 0 (root)')
    caps = f.mapping('capabilities') or {}
    cf = common.Fields(caps, f.p('capabilities'), errs, ('add', 'drop'))
    cap_add = docker_config.parse_caps(cf, 'add', errs)
    cap_drop = docker_config.parse_caps(cf, 'drop', errs)
    cf.finish()
    security_opt: List[str] = []
    ape = f.raw('allowPrivilegeEscalation')
    if ape is not None:
        f.bool('allowPrivilegeEscalation')
        if ape is False:
            if privileged:
                errs.invalid(f.p('allowPrivilegeEscalation'), False,
                             'cannot set allowPrivilegeEscalation to false '
                             'and privileged to true')
            if 'SYS_ADMIN' in cap_add:
                errs.invalid(f.p('allowPrivilegeEscalation'), False,
                             'cannot set allowPrivilegeEscalation to false '
                             'and capabilities.Add CAP_SYS_ADMIN')
            security_opt.append('no-new-privileges')
    se = f.raw('seLinuxOptions')
    se_path = f.p('seLinuxOptions')
    if se is None and 'seLinuxOptions' in pod_sc.profiles:
        se, se_path = pod_sc.profiles['seLinuxOptions']
    if se is not None:
        if not isinstance(se, Mapping):
            common.wrong_type(errs, se_path, se, 'a mapping')
        else:
            sf = common.Fields(se, se_path, errs,
                               ('user', 'role', 'type', 'level'))
            for key in ('user', 'role', 'type', 'level'):
                value = sf.str(key)
                if value:
                    security_opt.append(f'label={key}:{value}')
            sf.finish()
    seccomp = f.raw('seccompProfile')
    sc_path = f.p('seccompProfile')
    if seccomp is None and 'seccompProfile' in pod_sc.profiles:
        seccomp, sc_path = pod_sc.profiles['seccompProfile']
    security_opt.extend(_profile(seccomp, sc_path, errs, 'seccomp'))
    apparmor = f.raw('appArmorProfile')
    aa_path = f.p('appArmorProfile')
    if apparmor is None and 'appArmorProfile' in pod_sc.profiles:
        apparmor, aa_path = pod_sc.profiles['appArmorProfile']
    if apparmor is not None:
        security_opt.extend(_profile(apparmor, aa_path, errs, 'apparmor'))
    read_only = f.bool('readOnlyRootFilesystem')
    f.finish()
    return ContainerSecurity(privileged, user_text, cap_add, cap_drop,
                             tuple(security_opt), read_only)


def _profile(raw: Any, path: str, errs: errors.ErrorList,
             what: str) -> List[str]:
    """seccompProfile / appArmorProfile → security options."""
    if raw is None:
        # Kubernetes' default is Unconfined seccomp (dockershim did this).
        return ['seccomp=unconfined'] if what == 'seccomp' else []
    if not isinstance(raw, Mapping):
        common.wrong_type(errs, path, raw, 'a mapping')
        return []
    f = common.Fields(raw, path, errs, ('type', 'localhostProfile'))
    kind = f.str('type', required=True,
                 choices=('RuntimeDefault', 'Unconfined', 'Localhost'))
    local = f.str('localhostProfile')
    f.finish()
    if kind == 'Localhost':
        if not local:
            errs.required(f.p('localhostProfile'))
            return []
        if what == 'seccomp':
            errs.forbidden(f.p('localhostProfile'), 'Localhost seccomp '
                           'profiles are not supported')
            return []
        return [f'apparmor={local}']
    if local:
        errs.forbidden(f.p('localhostProfile'), 'only with type Localhost')
    if kind == 'Unconfined':
        return [f'{what}=unconfined']
    return []
