"""Container environment: ``env`` (values, ``$(VAR)`` expansion,
``valueFrom``), ``envFrom``, and the ConfigMap and Secret documents of the
same input they read (there is no API server)."""

import socket
from decimal import Decimal
from typing import Any, Dict, List, Mapping, Optional, Tuple

from tripleo_docker_hook import errors
from tripleo_docker_hook.definitions import common
from tripleo_docker_hook.definitions import quantity
from tripleo_docker_hook.definitions.pod import metadata


def expand(text: str, env: Mapping[str, str]) -> str:
    """Kubernetes ``$(VAR)`` expansion (forked golang ``expansion``).

    ``$$`` is an escaped ``$``; unknown or unterminated references stay as
    written.
    """
    out: List[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == '$' and i + 1 < len(text):
            nxt = text[i + 1]
            if nxt == '$':
                out.append('$')
                i += 2
                continue
            if nxt == '(':
                end = text.find(')', i + 2)
                if end == -1:
                    out.append(text[i:])
                    break
                name = text[i + 2:end]
                if name in env:
                    out.append(env[name])
                else:
                    out.append(text[i:end + 1])
                i = end + 1
                continue
        out.append(ch)
        i += 1
    return ''.join(out)


def _object(info: metadata.PodInfo, kind: str, ref: Any, path: str,
            errs: errors.ErrorList, cpath: str
            ) -> Tuple[Optional[Mapping[str, str]], bool]:
    """``(data, optional)`` of a ConfigMap/Secret reference."""
    if not isinstance(ref, Mapping):
        common.wrong_type(errs, path, ref, 'a mapping')
        return None, True
    f = common.Fields(ref, path, errs, ('name', 'key', 'optional'))
    name = f.str('name', required=True)
    optional = f.bool('optional')
    f.finish()
    data = info.objects.get((kind, info.namespace, name)) if name else None
    if name and data is None and not optional:
        errs.add(f.p('name'), 'Not found', name,
                 f'no {kind} of that name in namespace "{info.namespace}" '
                 'in the input (there is no API server)')
    if data is not None:
        used = info.used.setdefault(cpath, {})
        used[f'{kind}/{name}'] = dict(data)
    return data, optional


def environment(f: common.Fields, errs: errors.ErrorList,
                info: metadata.PodInfo, cname: str,
                values: Dict[str, Decimal], cpath: str
                ) -> List[Tuple[str, str]]:
    """A container's ``envFrom`` then ``env`` (later entries win), as
    ``(name, value)`` pairs; ``values`` are its parsed resources (for
    ``resourceFieldRef``), ``cpath`` its path (to record what it read)."""
    env: Dict[str, str] = {}
    # envFrom first; env entries override (Kubernetes order).
    for p, item in f.mappings('envFrom'):
        ef = common.Fields(item, p, errs, ('configMapRef', 'secretRef',
                                           'prefix'))
        prefix = ef.str('prefix')
        given = [k for k in ('configMapRef', 'secretRef') if ef.has(k)]
        ef.finish()
        if len(given) != 1:
            errs.invalid(p, '', 'must specify exactly one of configMapRef '
                         'and secretRef')
            continue
        kind = 'ConfigMap' if given[0] == 'configMapRef' else 'Secret'
        data, _ = _object(info, kind, item[given[0]], ef.p(given[0]), errs,
                          cpath)
        for key in sorted(data or {}):
            name = prefix + key
            if common.ENV_NAME.match(name):
                env[name] = data[key]
    for p, item in f.mappings('env'):
        ef = common.Fields(item, p, errs, ('name', 'value', 'valueFrom'))
        name = ef.str('name', required=True)
        if name and not common.check_env_name(errs, ef.p('name'), name):
            name = ''
        if ef.has('value') and ef.has('valueFrom'):
            errs.invalid(ef.p('valueFrom'), '', 'may not be specified when '
                         '`value` is not empty')
        value: Optional[str] = ''
        if ef.has('valueFrom'):
            value = _value_from(ef, errs, info, cname, values, cpath)
        elif ef.has('value'):
            raw_value = ef.raw('value')
            if not isinstance(raw_value, str):
                common.wrong_type(errs, ef.p('value'), raw_value,
                                  'a string')
            else:
                value = expand(raw_value, env)
        ef.finish()
        if name and value is not None:
            env[name] = value
    return list(env.items())


def _value_from(f: common.Fields, errs: errors.ErrorList,
                info: metadata.PodInfo,
                cname: str, values: Dict[str, Decimal],
                cpath: str = '') -> Optional[str]:
    """The value, or None for a missing optional ConfigMap/Secret key."""
    src = f.mapping('valueFrom') or {}
    p = f.p('valueFrom')
    keys = ('fieldRef', 'resourceFieldRef', 'configMapKeyRef',
            'secretKeyRef', 'fileKeyRef')
    given = [k for k in src if k in keys]
    sf = common.Fields(src, p, errs, keys)
    sf.finish()
    if len(given) != 1:
        errs.invalid(p, '', 'must have exactly one source')
        return ''
    kind = given[0]
    body = src[kind]
    bp = f'{p}.{kind}'
    if kind == 'fileKeyRef':
        errs.forbidden(bp, 'not supported')
        return ''
    if kind in ('configMapKeyRef', 'secretKeyRef'):
        okind = 'ConfigMap' if kind == 'configMapKeyRef' else 'Secret'
        data, optional = _object(info, okind, body, bp, errs, cpath)
        key = body.get('key') if isinstance(body, Mapping) else None
        if not isinstance(key, str) or not key:
            errs.required(f'{bp}.key')
            return ''
        if data is None:
            return None
        if key not in data:
            if optional:
                return None
            errs.add(f'{bp}.key', 'Not found', key,
                     f'no such key in {okind} "{body.get("name")}"')
            return ''
        return data[key]
    if not isinstance(body, Mapping):
        common.wrong_type(errs, bp, body, 'a mapping')
        return ''
    if kind == 'fieldRef':
        bf = common.Fields(body, bp, errs, ('fieldPath', 'apiVersion'))
        field = bf.str('fieldPath', required=True)
        bf.str('apiVersion', choices=('v1',))
        bf.finish()
        simple = {'metadata.name': info.name,
                  'metadata.namespace': info.namespace,
                  'metadata.uid': info.uid,
                  'spec.serviceAccountName': ''}
        if field in simple:
            return simple[field]
        if field == 'spec.nodeName':
            return socket.gethostname()
        for prefix, mapping in (('metadata.labels', info.labels),
                                ('metadata.annotations', info.annotations)):
            if field.startswith(prefix + "['") and field.endswith("']"):
                return mapping.get(field[len(prefix) + 2:-2], '')
        if field:
            errs.unsupported(bf.p('fieldPath'), field, [
                'metadata.name', 'metadata.namespace', 'metadata.uid',
                "metadata.labels['<KEY>']", "metadata.annotations['<KEY>']",
                'spec.nodeName', 'spec.serviceAccountName'])
        return ''
    bf = common.Fields(body, bp, errs, ('containerName', 'resource',
                                        'divisor'))
    other = bf.str('containerName')
    resource = bf.str('resource', required=True, choices=(
        'limits.cpu', 'limits.memory', 'requests.cpu', 'requests.memory'))
    divisor = Decimal(1)
    if bf.has('divisor'):
        parsed = quantity.try_parse(bf.raw('divisor'))
        if parsed is None or parsed <= 0:
            errs.invalid(bf.p('divisor'), str(bf.raw('divisor')),
                         'must be a positive quantity')
        else:
            divisor = parsed
    bf.finish()
    if other and other != cname:
        errs.forbidden(bf.p('containerName'), 'only the container itself')
        return ''
    if not resource:
        return ''
    value = values.get(resource)
    if value is None:
        errs.required(bf.p('resource'), f'{resource} is not set for this '
                      'container (there is no node allocatable to fall back '
                      'to)')
        return ''
    import math
    return str(int(math.ceil(value / divisor)))


def is_object(data: Any) -> bool:
    return isinstance(data, Mapping) and data.get('kind') in ('ConfigMap',
                                                              'Secret')


def parse_object(data: Mapping, path: str, errs: errors.ErrorList
                 ) -> Optional[Tuple[Tuple[str, str, str], Dict[str, str]]]:
    """A ConfigMap or Secret document: ``((kind, namespace, name), data)``.

    Only its ``data`` (Secret: base64, and ``stringData``) is used, by
    ``env[].valueFrom`` and ``envFrom`` of Pods in the same input.
    """
    import base64
    import binascii
    kind = data['kind']
    keys = ('apiVersion', 'kind', 'metadata', 'data', 'immutable') + (
        ('stringData', 'type') if kind == 'Secret' else ('binaryData',))
    f = common.Fields(data, path, errs, keys)
    if data.get('apiVersion') != 'v1':
        errs.unsupported(f.p('apiVersion'), data.get('apiVersion'), ['v1'])
    meta = f.mapping('metadata') or {}
    mf = common.Fields(meta, f.p('metadata'), errs, metadata.METADATA_KEYS)
    name = mf.str('name', required=True)
    if name:
        common.check_subdomain(errs, mf.p('name'), name)
    namespace = mf.str('namespace', 'default')
    if namespace:
        common.check_label(errs, mf.p('namespace'), namespace)
    metadata.string_map(mf, 'labels', errs, label_values=True)
    metadata.string_map(mf, 'annotations', errs)
    mf.str('uid')
    mf.finish()
    f.bool('immutable')
    f.str('type')
    if f.has('binaryData'):
        errs.forbidden(f.p('binaryData'), 'not supported: environment '
                       'values are text')
    out: Dict[str, str] = {}
    for group in ('data', 'stringData'):
        if group not in keys:
            continue
        for key, value in (f.mapping(group) or {}).items():
            p = f'{f.p(group)}[{key}]'
            if not isinstance(key, str) or not key or len(key) > 253 or \
                    not all(c.isalnum() or c in '-._' for c in key):
                errs.invalid(p, str(key), "a valid config key must consist "
                             "of alphanumeric characters, '-', '_' or '.'")
                continue
            if not isinstance(value, str):
                common.wrong_type(errs, p, value, 'a string')
                continue
            if kind == 'Secret' and group == 'data':
                try:
                    value = base64.b64decode(value, validate=True).decode(
                        'utf-8')
                except (binascii.Error, ValueError):
                    errs.invalid(p, '<secret>', 'not base64 of UTF-8 text')
                    continue
            out[key] = value
    f.finish()
    if not name:
        return None
    return (kind, namespace or 'default', name), out


def secret_values(data: Any) -> List[str]:
    """Values of a raw Secret document, decoded, for masking."""
    import base64
    out: List[str] = []
    if not (isinstance(data, Mapping) and data.get('kind') == 'Secret'):
        return out
    for group in ('data', 'stringData'):
        values = data.get(group)
        if not isinstance(values, Mapping):
            continue
        for value in values.values():
            if isinstance(value, (int, float)) and not isinstance(
                    value, bool):
                value = str(value)   # invalid, but masked in the error
            if not isinstance(value, str):
                continue
            out.append(value)
            if group == 'data':
                try:
                    out.append(base64.b64decode(value).decode('utf-8'))
                except Exception:  # noqa: BLE001 - best effort masking
                    pass
    return out
