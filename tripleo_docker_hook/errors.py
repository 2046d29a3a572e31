"""Errors with field paths, formatted the way Kubernetes reports them.

Validation collects every problem before failing, so an operator fixes a
template in one round: ``spec.containers[0].volumeMounts[1].name: Not found:
"data"``.
"""

import dataclasses
import json
from typing import Any, List, Optional

#: Sentinel: the error carries no value.
NO_VALUE = object()


class HookError(Exception):
    """Base class; ``status`` becomes ``deploy_status_code``."""

    status = 1


@dataclasses.dataclass(frozen=True)
class FieldError:
    """One problem at one field path.

    Printed as ``<path>: <type>[: <value>][: <detail>]``.
    """

    path: str
    type: str
    value: Any = NO_VALUE
    detail: str = ''

    def __str__(self) -> str:
        return self.format()

    def format(self, masker=None) -> str:
        """The message; with a :class:`~tripleo_docker_hook.masking.Masker`
        the quoted value is masked *before* it is cut to
        :data:`QUOTE_CHARS` (masking the cut text would miss a secret
        whose tail the cut removed, and show its head)."""
        parts = [f'{self.path}: {self.type}' if self.path else self.type]
        if self.value is not NO_VALUE:
            parts.append(preview(self.value, QUOTE_CHARS, masker))
        if self.detail:
            parts.append(self.detail)
        return ': '.join(parts)


#: Most characters of a value quoted in an error message.
QUOTE_CHARS = 200


def preview(value: Any, limit: int = QUOTE_CHARS, masker=None) -> str:
    """JSON-like text of ``value``, at most about ``limit`` characters.

    Never serialises more than it prints: a value may be a huge (or, from
    a YAML alias, shared) structure, and error formatting must stay bounded
    (issue 11: a 10^7-leaf ``exit_codes`` took 32 s to format).

    With ``masker``, every string is masked whole before anything is cut:
    a cut can then only split ``***`` or text that is not a secret.
    """
    # A secret starting before the cut ends within this many characters.
    window = limit + 1 + (masker.longest if masker is not None else 0)
    out: List[str] = []
    size = 0
    # Iterative walk: (value, depth); strings in ``out`` are emitted as is.
    stack: List[Any] = [value]
    while stack and size <= limit:
        item = stack.pop()
        if isinstance(item, _Raw):
            text = item.text
        elif isinstance(item, str):
            if masker is not None:
                item = masker.mask(item[:window])
            text = json.dumps(item[:limit + 1])
        elif isinstance(item, bool):
            text = 'true' if item else 'false'
        elif item is None:
            text = 'null'
        elif isinstance(item, int):
            text = str(item) if item.bit_length() < 700 else \
                f'<integer of {item.bit_length()} bits>'
        elif isinstance(item, float):
            text = repr(item)
        elif isinstance(item, dict):
            parts: List[Any] = [_Raw('{')]
            for i, (key, val) in enumerate(item.items()):
                if i * 4 > limit:
                    parts.append(_Raw(', ...'))
                    break
                parts += [_Raw(', ' if i else ''), str(key), _Raw(': '), val]
            parts.append(_Raw('}'))
            stack.extend(reversed(parts))
            continue
        elif isinstance(item, (list, tuple)):
            parts = [_Raw('[')]
            for i, val in enumerate(item):
                if i * 3 > limit:
                    parts.append(_Raw(', ...'))
                    break
                parts += [_Raw(', ' if i else ''), val]
            parts.append(_Raw(']'))
            stack.extend(reversed(parts))
            continue
        else:
            text = str(item)[:window]
            text = json.dumps((masker.mask(text) if masker is not None
                               else text)[:limit + 1])
        if masker is not None and not isinstance(item, (_Raw, str)):
            text = masker.mask(text)    # a number may be a secret too
        out.append(text)
        size += len(text)
    text = ''.join(out)
    if size > limit or stack:
        text = text[:limit] + '...'
    return text


class _Raw:
    __slots__ = ('text',)

    def __init__(self, text: str):
        self.text = text


class ValidationError(HookError):
    """The definitions are invalid; nothing on the host was changed."""

    status = 2
    #: Errors printed at most; the rest are counted.
    MAX_SHOWN = 200

    def __init__(self, errors: List[FieldError], secrets=()):
        self.errors = list(errors)
        #: Values found while failing that must be masked (for example
        #: inputs without a valid name).
        self.secrets = frozenset(secrets)
        super().__init__(self.message)

    def lines(self, masker=None) -> List[str]:
        """One line per error (at most :data:`MAX_SHOWN`); pass the run's
        masker so quoted values are masked before they are cut."""
        shown = [e.format(masker) for e in self.errors[:self.MAX_SHOWN]]
        rest = len(self.errors) - len(shown)
        if rest > 0:
            shown.append(f'... and {rest} more errors')
        return shown

    @property
    def message(self) -> str:
        return '\n'.join(self.lines())


class ErrorList:
    """Collects :class:`FieldError` objects while a parser walks a document."""

    def __init__(self) -> None:
        self.errors: List[FieldError] = []

    def add(self, path: str, type_: str, value: Any = NO_VALUE,
            detail: str = '') -> None:
        self.errors.append(FieldError(path, type_, value, detail))

    def required(self, path: str, detail: str = '') -> None:
        self.add(path, 'Required value', detail=detail)

    def invalid(self, path: str, value: Any, detail: str = '') -> None:
        self.add(path, 'Invalid value', value, detail)

    def unsupported(self, path: str, value: Any, supported) -> None:
        self.add(path, 'Unsupported value', value, 'supported values: ' +
                 ', '.join(json.dumps(s) for s in supported))

    def forbidden(self, path: str, detail: str) -> None:
        self.add(path, 'Forbidden', detail=detail)

    def duplicate(self, path: str, value: Any) -> None:
        self.add(path, 'Duplicate value', value)

    def not_found(self, path: str, value: Any) -> None:
        self.add(path, 'Not found', value)

    def __bool__(self) -> bool:
        return bool(self.errors)

    def raise_if_any(self) -> None:
        if self.errors:
            raise ValidationError(self.errors)


class EngineError(HookError):
    """The Docker engine refused or failed an operation.

    Raised as one of the subclasses below, by condition, so callers
    decide on the type rather than on message text.  ``status_code`` is
    the Engine API's HTTP status (0 when no response arrived).
    """

    status = 1

    def __init__(self, message: str = '', status_code: int = 0):
        super().__init__(message)
        self.status_code = status_code


class EngineNotFound(EngineError):
    """No such container or image (HTTP 404)."""


class EngineConflict(EngineError):
    """The request conflicts with the container's state or a name in use
    (HTTP 409)."""


class EngineTimeout(EngineError):
    """No answer within the client timeout of the call."""


class EngineUnreachable(EngineError):
    """The engine's socket or address cannot be reached."""


class EngineFailed(EngineError):
    """Any other refusal or failure (4xx/5xx, malformed answer)."""


class DeploymentFailed(HookError):
    """Applying the plan failed (a task exited badly, a start timed out...)."""

    status = 1


class LockTimeout(HookError):
    """Another apply held the host lock for longer than ``lock_timeout``."""

    status = 3


def first_line(exc: Optional[BaseException]) -> str:
    return str(exc).splitlines()[0] if exc and str(exc) else repr(exc)
