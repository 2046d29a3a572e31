"""The heat-config deployment document: one item fed on stdin.

See ``shared/reference/hook-contract.md`` §2: ``id`` changes on every Heat
action, ``name`` is stable, ``inputs`` is a list of ``{name, value, ...}``
including the derived ``deploy_*`` inputs, ``options`` may be null and
``config`` is a mapping or a YAML/JSON string.
"""

import dataclasses
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


#: Longest deployment name: it names a directory in ``state_dir`` (quoted,
#: so up to three bytes a character) and every container's label.
MAX_NAME_BYTES = 255


def _input_items(raw: Mapping) -> List[Tuple[int, Any]]:
    items = raw.get('inputs')
    return list(enumerate(items)) if isinstance(items, list) else []


def _name_text(value: Any) -> Optional[str]:
    """A name field as heat-config coerces it: strings and integers."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return None
    return str(value)


def identity(raw: Any) -> str:
    """The deployment's name: THE identity rule, used by the hook and by
    the ``configure.d`` cleanup alike (so neither can flap the other).

    ``name`` (a string or an integer, as Heat's String coercion gives), else
    the value of the **last** ``deploy_resource_name`` input (Heat appends
    its derived inputs after the declared ones).  Raises
    :class:`errors.ValidationError` when no valid name can be decided.
    """
    errs = errors.ErrorList()
    if not isinstance(raw, Mapping):
        errs.invalid('', type(raw).__name__, 'the deployment must be a JSON '
                     'object')
        errs.raise_if_any()
    value = raw.get('name')
    where = 'name'
    name = None
    if value is not None and value != '':
        name = _name_text(value)
        if name is None:
            errs.invalid('name', value, 'must be a string')
    else:
        for i, item in _input_items(raw):
            if isinstance(item, Mapping) and \
                    item.get('name') == 'deploy_resource_name':
                where = f'inputs[{i}].value'
                name = _name_text(item.get('value', item.get('default')))
        if name is None and where != 'name':
            errs.invalid(where, '<value>', 'must be a string')
    if not errs and not name:
        errs.required('name', 'the deployment name identifies its '
                      'containers across Heat actions')
    elif name:
        from tripleo_docker_hook import state
        if len(state.dirname(name).encode()) > MAX_NAME_BYTES:
            errs.add(where, 'Too long', detail=f'{len(name)} characters; '
                     f'the name names a directory in state_dir and must '
                     f'fit in {MAX_NAME_BYTES} bytes once quoted')
        elif any(ord(c) < 32 or ord(c) == 127 for c in name):
            errs.invalid(where, name, 'must not hold control characters')
    errs.raise_if_any()
    return name


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
    secrets = set()
    raw_inputs = raw.get('inputs')
    if raw_inputs is None:
        raw_inputs = []
    if not isinstance(raw_inputs, list):
        errs.invalid('inputs', type(raw_inputs).__name__, 'must be a list')
        raw_inputs = []
    for i, item in enumerate(raw_inputs):
        if not isinstance(item, Mapping) or not isinstance(
                item.get('name'), str):
            # Without a name nothing says it is not a credential: mask
            # every value it holds, and never quote it.
            secrets.update(secret_values(item))
            errs.invalid(f'inputs[{i}]', '<input>', 'must be an object with '
                         'a string "name"')
            continue
        inputs[item['name']] = item.get('value', item.get('default'))

    for key, value in inputs.items():
        if is_secret_input(key):
            secrets.update(secret_values(value))

    try:
        name = identity(raw)
    except errors.ValidationError as exc:
        errs.errors.extend(exc.errors)
        name = ''

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

    if errs:
        raise errors.ValidationError(errs.errors, secrets=secrets)
    return Document(id=doc_id, name=name, group=group, action=action,
                    inputs=inputs, outputs=tuple(outputs), options=options,
                    config=raw.get('config'), secrets=frozenset(secrets))


#: Largest deployment document read from stdin.
MAX_DOCUMENT_BYTES = 32 * 1024 * 1024


def decode(data: bytes) -> str:
    """Stdin bytes → text; raises :class:`errors.ValidationError`."""
    if len(data) > MAX_DOCUMENT_BYTES:
        raise errors.ValidationError([errors.FieldError(
            '', 'Too long', detail=f'the deployment document is larger '
            f'than {MAX_DOCUMENT_BYTES} bytes')])
    try:
        return data.decode('utf-8')
    except UnicodeDecodeError as exc:
        raise errors.ValidationError([errors.FieldError(
            '', 'Invalid value', detail=f'stdin is not UTF-8 (byte '
            f'{exc.start})')]) from None


def loads(text: str) -> Document:
    from tripleo_docker_hook import loading
    return parse(loading.json_loads(text, '', 'JSON'))


def options_timeout(doc: Document, key: str) -> Optional[int]:
    """A positive timeout in ``options`` (seconds), at most 7 days;
    None when absent or unusable (inf, NaN, negative, a string)."""
    value = doc.options.get(key)
    if isinstance(value, (int, float)) and not isinstance(value, bool) \
            and 0 < value < float('inf'):
        return int(min(value, 7 * 24 * 3600))
    return None
