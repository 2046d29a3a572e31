"""Offline checks of definition files, masked like the hook's answer.

``tripleo-docker-hook --validate`` and the ctl's ``validate`` and ``plan``
print what a template author wrote back to a terminal or a CI log: values
of credential inputs, environment values, ``env_file`` contents and Secret
data are masked exactly as in ``deploy_stderr`` (issue 11: they were not).
The CLI calls :func:`validate_files` and :func:`plan_file`; both print
nothing unmasked and return the exit status.
"""

import json
import sys
from typing import Any, Callable, List, Optional, Tuple

from tripleo_docker_hook import errors
from tripleo_docker_hook.masking import Masker


def read(path: str) -> str:
    if path == '-':
        return sys.stdin.read()
    with open(path, encoding='utf-8') as f:
        return f.read()


def items_of(text: str, label: str) -> List[Tuple[str, Any, frozenset]]:
    """``(label, config, secrets)`` for a definition file's text: a bare
    config, a heat-config item, or a list of heat-config items."""
    from tripleo_docker_hook import document
    from tripleo_docker_hook import loading
    try:
        docs = loading.yaml_load_all(text)
    except errors.ValidationError:
        return [(label, text, frozenset())]  # parse() reports it
    data = docs[0] if len(docs) == 1 else None

    def item(i_label: str, raw: dict) -> Tuple[str, Any, frozenset]:
        secrets = set()
        for inp in raw.get('inputs') or ():
            if isinstance(inp, dict) and (
                    not isinstance(inp.get('name'), str) or
                    document.is_secret_input(inp['name'])):
                secrets.update(document.secret_values(inp))
        return i_label, raw['config'], frozenset(secrets)

    def is_item(raw: Any) -> bool:
        return isinstance(raw, dict) and 'config' in raw and 'group' in raw

    if isinstance(data, list) and data and all(map(is_item, data)):
        return [item(f'{label}[{i}] ({raw.get("name", "")})', raw)
                for i, raw in enumerate(data)]
    if is_item(data):
        return [item(label, data)]
    return [(label, text, frozenset())]


def validate_config(config: Any, masker: Masker,
                    host_root: Optional[str] = None) -> List[str]:
    """Masked lines about one config: its errors, or one ``OK (...)``."""
    from tripleo_docker_hook import definitions
    from tripleo_docker_hook import hostpath
    masker.add_environment(definitions.environment_values(
        config, host_root or '/'))
    try:
        deployment = definitions.parse(config, host_root or '/')
        if host_root:
            hostpath.checked(deployment, host_root)
    except errors.ValidationError as exc:
        masker.add(exc.secrets)
        return [masker.mask(line) for line in exc.lines(masker)]
    return [f'OK ({len(deployment.containers)} containers in '
            f'{len(deployment.steps)} steps)']


def validate_files(files: List[str], host_root: Optional[str] = None,
                   out: Callable[[str], None] = print) -> int:
    """``validate``: 0 when every file is valid, else 2; prints one masked
    line per error (``FILE: path: Type: value: detail``) or ``FILE: OK``.

    ``--host`` among ``files`` (the hook's ``--validate`` argv) checks
    hostPath types on this host, read-only, like ``host_root='/'``.
    """
    if '--host' in files:
        files = [f for f in files if f != '--host']
        host_root = host_root or '/'
    status = 0
    for path in files:
        masker = Masker()
        try:
            items = items_of(read(path), path)
        except (OSError, UnicodeDecodeError) as exc:
            out(f'{path}: cannot read: {exc}')
            status = 2
            continue
        for label, config, secrets in items:
            masker.add(secrets)
            lines = validate_config(config, masker, host_root)
            if not lines[0].startswith('OK ('):
                status = 2
            for line in lines:
                out(f'{label}: {line}')
    return status


def plan_file(path: str, name: Optional[str], conf, as_json: bool = False
              ) -> Tuple[int, str]:
    """``plan``: ``(status, masked text)`` of a dry run of a heat-config
    item (or a bare config with ``name``); errors are masked too."""
    from tripleo_docker_hook import deploy
    from tripleo_docker_hook import document
    from tripleo_docker_hook.report import Report
    masker = Masker()
    report = Report(masker, max_bytes=1 << 30)
    try:
        items = items_of(read(path), path)
        for _, _, secrets in items:
            masker.add(secrets)
        raw = document_data(path, name)
        doc = document.parse(raw)
        masker.add(doc.secrets)
        if doc.action != 'DELETE':
            deploy.parse(doc, masker, conf)   # errors before the engine
        plan = deploy.dry_run(doc, conf, report, masker)
    except errors.HookError as exc:
        report.fail_with(exc)
        return report.status, report.answer()['deploy_stderr']
    if as_json:
        return 0, masker.mask(json.dumps(plan.to_data(), indent=2,
                                         sort_keys=True))
    lines = [plan.summary()] + [f'  {line}' for line in plan.describe()]
    return 0, masker.mask('\n'.join(lines))


def document_data(path: str, name: Optional[str] = None) -> dict:
    """A heat-config item (JSON/YAML), or a bare config with ``name``."""
    from tripleo_docker_hook import loading
    text = read(path)
    docs = loading.yaml_load_all(text)
    data = docs[0] if len(docs) == 1 else None
    if not (isinstance(data, dict) and 'config' in data and 'id' in data):
        if not name:
            raise errors.ValidationError([errors.FieldError(
                'name', 'Required value', detail=f'{path} holds a bare '
                'config: give the deployment name with --name')])
        data = {'id': 'manual', 'name': name, 'config': text}
    elif name:
        data = dict(data, name=name)
    return data
