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
        parts = [f'{self.path}: {self.type}' if self.path else self.type]
        if self.value is not NO_VALUE:
            parts.append(_quote(self.value))
        if self.detail:
            parts.append(self.detail)
        return ': '.join(parts)


def _quote(value: Any) -> str:
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if value is None:
        return 'null'
    if isinstance(value, (int, float)):
        return str(value)
    return json.dumps(value, sort_keys=True, default=str)[:200]


class ValidationError(HookError):
    """The definitions are invalid; nothing on the host was changed."""

    status = 2

    def __init__(self, errors: List[FieldError]):
        self.errors = list(errors)
        super().__init__(self.message)

    @property
    def message(self) -> str:
        return '\n'.join(str(e) for e in self.errors)


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
    """The Docker engine refused or failed an operation."""

    status = 1


class DeploymentFailed(HookError):
    """Applying the plan failed (a task exited badly, a start timed out...)."""

    status = 1


class LockTimeout(HookError):
    """Another apply held the host lock for longer than ``lock_timeout``."""

    status = 3


def first_line(exc: Optional[BaseException]) -> str:
    return str(exc).splitlines()[0] if exc and str(exc) else repr(exc)
