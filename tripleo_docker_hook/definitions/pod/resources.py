"""Container resources (cgroup CPU and memory settings) and the liveness
probe (Docker's one health check)."""

from decimal import Decimal
from typing import Any, Dict, List, Mapping, Optional, Tuple

from tripleo_docker_hook import errors
from tripleo_docker_hook import model
from tripleo_docker_hook.definitions import common
from tripleo_docker_hook.definitions import docker_config
from tripleo_docker_hook.definitions import quantity


def resources(raw: Any, path: str, errs: errors.ErrorList
              ) -> Tuple[Dict[str, Any], Dict[str, Decimal]]:
    """cgroup settings and the parsed values (for resourceFieldRef)."""
    if raw is None:
        return {}, {}
    if not isinstance(raw, Mapping):
        common.wrong_type(errs, path, raw, 'a mapping')
        return {}, {}
    f = common.Fields(raw, path, errs, ('limits', 'requests', 'claims'))
    if f.has('claims'):
        errs.forbidden(f.p('claims'), 'not supported')
    values: Dict[str, Decimal] = {}
    for group in ('limits', 'requests'):
        items = f.mapping(group) or {}
        for key, value in items.items():
            p = f'{f.p(group)}[{key}]'
            if key not in ('cpu', 'memory'):
                errs.unsupported(p, key, ['cpu', 'memory'])
                continue
            try:
                q = quantity.parse(value)
            except quantity.QuantityError as exc:
                errs.invalid(p, value if isinstance(value, str) else
                             str(value), str(exc))
                continue
            if q < 0:
                errs.invalid(p, str(value), 'must be greater than or equal '
                             'to 0')
                continue
            values[f'{group}.{key}'] = q
    f.finish()
    for key in ('cpu', 'memory'):
        lim, req = values.get(f'limits.{key}'), values.get(f'requests.{key}')
        if lim is not None and req is not None and req > lim:
            errs.invalid(f'{path}.requests[{key}]', str(req),
                         f'must be less than or equal to {key} limit')
        if req is None and lim is not None:
            values[f'requests.{key}'] = lim   # Kubernetes defaulting
    res: Dict[str, Any] = {}
    cpu_req = values.get('requests.cpu')
    if cpu_req is not None:
        # The kubelet clamps shares to the kernel's range the same way.
        res['cpu_shares'] = min(common.MAX_CPU_SHARES, max(
            2, quantity.milli(cpu_req) * 1024 // 1000))
    cpu_lim = values.get('limits.cpu')
    if cpu_lim is not None:
        res['cpu_quota'] = max(1000, quantity.milli(cpu_lim) * 100)
        res['cpu_period'] = 100000
        if res['cpu_quota'] > common.MAX_CPU_QUOTA:
            errs.invalid(f'{path}.limits[cpu]', str(cpu_lim), f'must be at '
                         f'most {common.MAX_CPU_QUOTA // 100000} CPUs')
    mem_lim = values.get('limits.memory')
    if mem_lim is not None:
        mem = quantity.whole(mem_lim)
        if mem < docker_config.MIN_MEMORY:
            errs.invalid(f'{path}.limits[memory]', str(mem_lim),
                         'Docker needs a memory limit of at least 6Mi')
        res['mem_limit'] = mem
        res['memswap_limit'] = mem
    return res, values


def probe(raw: Any, path: str, errs: errors.ErrorList
          ) -> Optional[model.HealthCheck]:
    """``livenessProbe`` (exec only) → a Docker health check."""
    if not isinstance(raw, Mapping):
        common.wrong_type(errs, path, raw, 'a mapping')
        return None
    f = common.Fields(raw, path, errs, (
        'exec', 'initialDelaySeconds', 'periodSeconds', 'timeoutSeconds',
        'successThreshold', 'failureThreshold', 'httpGet', 'tcpSocket',
        'grpc', 'terminationGracePeriodSeconds'))
    for key in ('httpGet', 'tcpSocket', 'grpc'):
        if f.has(key):
            errs.forbidden(f.p(key), 'only exec probes map to a Docker '
                           'health check')
    if f.has('terminationGracePeriodSeconds'):
        errs.forbidden(f.p('terminationGracePeriodSeconds'), 'not supported')
    delay = f.int('initialDelaySeconds', 0, minimum=0,
                  maximum=common.MAX_PROBE)
    period = f.int('periodSeconds', 10, minimum=1, maximum=common.MAX_PROBE)
    timeout = f.int('timeoutSeconds', 1, minimum=1,
                    maximum=common.MAX_PROBE)
    f.int('successThreshold', 1, minimum=1, maximum=1)
    failure = f.int('failureThreshold', 3, minimum=1,
                    maximum=common.INT32_MAX)
    ex = f.mapping('exec')
    command: List[str] = []
    if ex is None:
        if not any(f.has(k) for k in ('httpGet', 'tcpSocket', 'grpc')):
            errs.required(path, 'must specify a handler type')
    else:
        ef = common.Fields(ex, f.p('exec'), errs, ('command',))
        command = ef.str_list('command') or []
        if not command:
            errs.required(ef.p('command'))
        ef.finish()
    f.finish()
    if not command:
        return None
    return model.HealthCheck(test=('CMD',) + tuple(command),
                             interval=float(period), timeout=float(timeout),
                             retries=failure or 3,
                             start_period=float(delay))
