"""The heat-config deployment document: one item fed on stdin.

See ``shared/reference/hook-contract.md`` §2: ``id`` changes on every Heat
action, ``name`` is stable, ``inputs`` is a list of ``{name, value, ...}``
including the derived ``deploy_*`` inputs, ``options`` may be null and
``config`` is a mapping or a YAML/JSON string.
"""

import dataclasses
import json
import re
from typing import Any, Dict, FrozenSet, List, Mapping, Optional, Tuple

from tripleo_docker_hook import errors

ACTIONS = ('CREATE', 'UPDATE', 'DELETE', 'SUSPEND', 'RESUME')

#: Inputs that are credentials whatever their name says.
CREDENTIAL_INPUTS = frozenset({
    'deploy_password', 'deploy_signal_id', 'deploy_auth_url_token',
    'deploy_queue_id', 'deploy_user_id', 'deploy_username',
    'deploy_project_id'})

#: Input names that look like secrets.
SECRET_NAME = re.compile(
    r'(pass(word|wd|phrase)?|secret|token|credential|private|api_?key|'
    r'signal_id|auth)', re.IGNORECASE)


@dataclasses.dataclass(frozen=True)
class Output:
    name: str
    error_output: bool = False


@dataclasses.dataclass(frozen=True)
class Document:
    """What the hook needs from a heat-config item, checked."""

    id: str
    name: str
    group: str
    action: str
    inputs: Mapping[str, Any]
    outputs: Tuple[Output, ...]
    options: Mapping[str, Any]
    config: Any
    secrets: FrozenSet[str]

    @property
    def server_id(self) -> str:
        return str(self.inputs.get('deploy_server_id') or '')

    @property
    def stack_id(self) -> str:
        return str(self.inputs.get('deploy_stack_id') or '')

    @property
    def resource_name(self) -> str:
        return str(self.inputs.get('deploy_resource_name') or '')


def is_secret_input(name: str) -> bool:
    return name in CREDENTIAL_INPUTS or bool(SECRET_NAME.search(name))


def secret_values(value: Any) -> List[str]:
    """All string leaves of an input value (a Json input may nest)."""
    if value is None or isinstance(value, bool):
        return []
    if isinstance(value, (str, int, float)):
        text = str(value)
        return [text] if text else []
    if isinstance(value, Mapping):
        return [s for v in value.values() for s in secret_values(v)]
    if isinstance(value, (list, tuple)):
        return [s for v in value for s in secret_values(v)]
    return [str(value)]


def parse(raw: Any) -> Document:
    """Check and normalise a decoded heat-config item.

    Raises :class:`errors.ValidationError` naming every bad field.
    """
    errs = errors.ErrorList()
    if not isinstance(raw, Mapping):
        errs.invalid('', type(raw).__name__, 'the deployment must be a JSON '
                     'object')
        errs.raise_if_any()

    def text(key: str, required: bool = True) -> str:
        value = raw.get(key)
        if value is None or value == '':
            if required:
                errs.required(key)
            return ''
        if not isinstance(value, (str, int)) or isinstance(value, bool):
            errs.invalid(key, value, 'must be a string')
            return ''
        return str(value)

    doc_id = text('id')
    group = text('group', required=False)
    inputs: Dict[str, Any] = {}
    raw_inputs = raw.get('inputs')
    if raw_inputs is None:
        raw_inputs = []
    if not isinstance(raw_inputs, list):
        errs.invalid('inputs', type(raw_inputs).__name__, 'must be a list')
        raw_inputs = []
    for i, item in enumerate(raw_inputs):
        if not isinstance(item, Mapping) or not isinstance(
                item.get('name'), str):
            errs.invalid(f'inputs[{i}]', item, 'must be an object with a '
                         'string "name"')
            continue
        inputs[item['name']] = item.get('value', item.get('default'))

    secrets = set()
    for key, value in inputs.items():
        if is_secret_input(key):
            secrets.update(secret_values(value))

    # name falls back like Heat does: deployment name, else resource name.
    name = text('name', required=False) or str(
        inputs.get('deploy_resource_name') or '')
    if not name:
        errs.required('name', 'the deployment name identifies its '
                      'containers across Heat actions')

    action = str(inputs.get('deploy_action') or 'CREATE').upper()
    if action not in ACTIONS:
        errs.unsupported('inputs.deploy_action', action, ACTIONS)

    outputs = []
    raw_outputs = raw.get('outputs') or []
    if not isinstance(raw_outputs, list):
        errs.invalid('outputs', type(raw_outputs).__name__, 'must be a list')
        raw_outputs = []
    for i, item in enumerate(raw_outputs):
        if isinstance(item, Mapping) and isinstance(item.get('name'), str):
            outputs.append(Output(item['name'],
                                  bool(item.get('error_output'))))
        else:
            errs.invalid(f'outputs[{i}]', item, 'must be an object with a '
                         'string "name"')

    options = raw.get('options')
    if options is None:
        options = {}
    if not isinstance(options, Mapping):
        errs.invalid('options', type(options).__name__,
                     'must be an object or null')
        options = {}

    errs.raise_if_any()
    return Document(id=doc_id, name=name, group=group, action=action,
                    inputs=inputs, outputs=tuple(outputs), options=options,
                    config=raw.get('config'), secrets=frozenset(secrets))


def loads(text: str) -> Document:
    try:
        raw = json.loads(text)
    except ValueError as exc:
        raise errors.ValidationError([errors.FieldError(
            '', 'Invalid value', detail=f'stdin is not a JSON document: '
            f'{exc}')]) from None
    return parse(raw)


def options_timeout(doc: Document, key: str) -> Optional[int]:
    value = doc.options.get(key)
    if isinstance(value, (int, float)) and not isinstance(value, bool) \
            and value > 0:
        return int(value)
    return None
