"""Shared validation helpers: field readers, name formats, durations.

Every check appends to an :class:`errors.ErrorList` instead of raising, so
one run reports every problem of a document.
"""

import difflib
import math
import re
from decimal import Decimal, InvalidOperation
from typing import (Any, Dict, Iterable, Iterator, List, Mapping,
                    Optional, Sequence, Tuple)

from tripleo_docker_hook import errors

DNS1123_LABEL = re.compile(r'^[a-z0-9]([-a-z0-9]*[a-z0-9])?$')
DNS1123_SUBDOMAIN = re.compile(
    r'^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$')
QUALIFIED_NAME = re.compile(r'^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$')
ENV_NAME = re.compile(r'^[-._a-zA-Z][-._a-zA-Z0-9]*$')
#: moby ``daemon/names.go`` validContainerNamePattern without its optional
#: leading ``/`` (the API's form, never a name a definition writes); match
#: it with :func:`check_container_name` (``fullmatch``: ``$`` would let a
#: trailing newline through).
CONTAINER_NAME = re.compile(r'[a-zA-Z0-9][a-zA-Z0-9_.-]+')
CONTAINER_NAME_RULE = '[a-zA-Z0-9][a-zA-Z0-9_.-]+'
VOLUME_NAME = re.compile(r'^[a-zA-Z0-9][a-zA-Z0-9_.-]+$')
PORT_NAME = re.compile(r'^[a-z0-9]([a-z0-9-]*[a-z0-9])?$')
CAPABILITY = re.compile(r'^[A-Z][A-Z0-9_]*$')

# docker/distribution reference grammar (reference/regexp.go), written so
# that Python's backtracking engine runs in linear time: Go's RE2 does
# whatever the pattern, but the grammar's ``[-]*`` separator may be empty,
# making ``[a-z0-9]+(?:[-]*[a-z0-9]+)*`` an exponential ``(a+)+`` here (an
# ``image`` of 40 letters and a ``!`` took hours).  ``-+`` accepts the
# same names.
_COMPONENT = r'[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*'
_DOMAIN_PART = r'(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])'
_DOMAIN = (rf'(?:{_DOMAIN_PART}(?:\.{_DOMAIN_PART})*|\[[0-9a-fA-F:]+\])'
           r'(?::[0-9]+)?')
_TAG = r'[\w][\w.-]{0,127}'
_DIGEST = (r'[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*'
           r':[0-9a-fA-F]{32,}')
IMAGE_REF = re.compile(
    rf'^(?:{_DOMAIN}/)?{_COMPONENT}(?:/{_COMPONENT})*'
    rf'(?::{_TAG})?(?:@{_DIGEST})?$')

#: Bounds of what Docker, the kernel and Python can take; refused at
#: validation so that nothing fails after a side effect (issue 11: a task
#: ``timeout: "100000000000h"`` started the container, then died with
#: OverflowError leaving it running, on every apply).
INT64_MAX = 2 ** 63 - 1
INT32_MAX = 2 ** 31 - 1
#: Task, exec and Pod ``activeDeadlineSeconds`` timeouts (7 days).
MAX_TIMEOUT = 7 * 24 * 3600
#: Stop grace periods (``stop_grace_period``, Pod
#: ``terminationGracePeriodSeconds``): one hour.  A stop longer than that
#: holds the host lock and every other deployment of the node.
MAX_GRACE = 3600
#: Health check interval, timeout and start period (one day).
MAX_PROBE = 24 * 3600
#: Linux ``cpu.shares`` range (kernel ``MAX_SHARES``; Docker passes it on).
MAX_CPU_SHARES = 262144
#: CFS period range Docker accepts (1 ms to 1 s) and the largest quota we
#: pass (1024 CPUs at a 1 s period).
MIN_CPU_PERIOD, MAX_CPU_PERIOD = 1000, 1000000
MAX_CPU_QUOTA = 1024 * 1000000

LABEL_DETAIL = ("a lowercase RFC 1123 label must consist of lower case "
                "alphanumeric characters or '-', and must start and end with "
                "an alphanumeric character (e.g. 'my-name',  or '123-abc')")
SUBDOMAIN_DETAIL = ("a lowercase RFC 1123 subdomain must consist of lower "
                    "case alphanumeric characters, '-' or '.', and must start "
                    "and end with an alphanumeric character (e.g. "
                    "'example.com')")


class SafeErrorList(errors.ErrorList):
    """An :class:`errors.ErrorList` for arbitrary user data: values print
    through :func:`errors.preview`, bounded whatever their size or type."""

    def add(self, path: str, type_: str, value: Any = errors.NO_VALUE,
            detail: str = '') -> None:
        super().add(str(path), type_, value, detail)


def type_name(value: Any) -> str:
    if value is None:
        return 'null'
    if isinstance(value, bool):
        return 'boolean'
    if isinstance(value, (int, float)):
        return 'number'
    if isinstance(value, str):
        return 'string'
    if isinstance(value, Mapping):
        return 'object'
    if isinstance(value, (list, tuple)):
        return 'array'
    return type(value).__name__


def wrong_type(errs: errors.ErrorList, path: str, value: Any,
               expected: str) -> None:
    errs.invalid(path, value if isinstance(value, (str, int, float, bool))
                 else type_name(value),
                 f'must be {expected}, not {type_name(value)}')


def check_label(errs: errors.ErrorList, path: str, value: str) -> bool:
    if len(value) > 63:
        errs.add(path, 'Too long', value, 'must be no more than 63 '
                 'characters')
        return False
    if not DNS1123_LABEL.match(value):
        errs.invalid(path, value, LABEL_DETAIL)
        return False
    return True


def check_subdomain(errs: errors.ErrorList, path: str, value: str) -> bool:
    if len(value) > 253:
        errs.add(path, 'Too long', value, 'must be no more than 253 '
                 'characters')
        return False
    if not DNS1123_SUBDOMAIN.match(value):
        errs.invalid(path, value, SUBDOMAIN_DETAIL)
        return False
    return True


def check_image(errs: errors.ErrorList, path: str, value: str) -> bool:
    if value != value.strip():
        errs.invalid(path, value, 'must not have leading or trailing '
                     'whitespace')
        return False
    if len(value) > 255 or not IMAGE_REF.match(value):
        errs.invalid(path, value, 'not a valid image reference '
                     '([registry/]name[:tag][@digest], lower-case name)')
        return False
    return True


def check_env_name(errs: errors.ErrorList, path: str, value: str) -> bool:
    if not ENV_NAME.match(value) or value in ('.', '..') or \
            value.startswith('..'):
        errs.invalid(path, value, "a valid environment variable name must "
                     "consist of alphabetic characters, digits, '_', '-', "
                     "or '.', and must not start with a digit")
        return False
    return True


def check_container_name(errs: errors.ErrorList, path: str, name: Any,
                         value: Any = None, form: str = '') -> bool:
    """A field naming a container (its own name, ``pid``/``ipc:
    container:NAME``, ``volumes_from``, an exec target): Docker's rule.

    Checked at validation so that a bad name is an error before any change,
    not a failed create at apply after earlier containers changed (issue:
    ``pid: "container:bad name!"`` passed ``validate``).  ``value`` is the
    field's whole value when ``name`` is part of it, ``form`` how that value
    is written (``container:NAME``, ``NAME[:ro|rw]``).  The name itself is
    not repeated in the detail: the quoted value is masked, the detail not.
    """
    if isinstance(name, str) and CONTAINER_NAME.fullmatch(name):
        return True
    rule = f'a valid Docker container name ({CONTAINER_NAME_RULE})'
    if value is None:
        errs.invalid(path, name, f'not {rule}')
    else:
        errs.invalid(path, value, f'must be {form}, NAME {rule}')
    return False


def check_qualified_key(errs: errors.ErrorList, path: str,
                        key: str) -> bool:
    """Label/annotation key: ``[prefix/]name`` (Kubernetes rules)."""
    prefix, _, name = key.rpartition('/')
    ok = bool(name) and len(name) <= 63 and bool(QUALIFIED_NAME.match(name))
    if prefix and not (len(prefix) <= 253 and
                       DNS1123_SUBDOMAIN.match(prefix)):
        ok = False
    if not ok:
        errs.invalid(path, key, "name part must consist of alphanumeric "
                     "characters, '-', '_' or '.', and must start and end "
                     "with an alphanumeric character, with an optional DNS "
                     "subdomain prefix and '/'")
    return ok


def check_abs_path(errs: errors.ErrorList, path: str, value: str) -> bool:
    if not value.startswith('/'):
        errs.invalid(path, value, 'must be an absolute path')
        return False
    if '\x00' in value:
        errs.invalid(path, value, 'must not contain NUL')
        return False
    return True


def has_dotdot(value: str) -> bool:
    return '..' in value.split('/')


_DURATION_PART = re.compile(r'(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)')
_UNITS = {'ns': Decimal('1e-9'), 'us': Decimal('1e-6'),
          'µs': Decimal('1e-6'), 'ms': Decimal('0.001'), 's': Decimal(1),
          'm': Decimal(60), 'h': Decimal(3600)}


def check_seconds(errs: errors.ErrorList, path: str, raw: Any,
                  value: Decimal, maximum: int) -> bool:
    """Refuse a duration beyond ``maximum`` seconds (see :data:`MAX_TIMEOUT`
    and friends); True when within bounds."""
    if value > maximum:
        errs.invalid(path, raw, f'must be at most {maximum} seconds '
                     f'({_human(maximum)})')
        return False
    return True


def _human(seconds: int) -> str:
    for unit, size in (('days', 86400), ('hours', 3600), ('minutes', 60)):
        if seconds >= size and seconds % size == 0:
            return f'{seconds // size} {unit}'
    return f'{seconds} s'


def parse_duration(value: Any) -> Optional[Decimal]:
    """Go duration (``1m30s``, ``10s``, ``500ms``) or a number of seconds.

    None when invalid or negative.  Callers bound the result with
    :func:`check_seconds`.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        if isinstance(value, float) and not math.isfinite(value):
            return None
        if isinstance(value, int) and value.bit_length() > 64:
            return None
        return Decimal(str(value)) if value >= 0 else None
    if not isinstance(value, str) or not value or len(value) > 100:
        return None
    text = value.strip()
    try:
        number = Decimal(text)
    except InvalidOperation:
        number = None
    if number is not None:
        return number if number.is_finite() and number >= 0 else None
    pos, total = 0, Decimal(0)
    while pos < len(text):
        match = _DURATION_PART.match(text, pos)
        if not match:
            return None
        total += Decimal(match.group(1)) * _UNITS[match.group(2)]
        pos = match.end()
    return total


_MEM = re.compile(r'^(\d+(?:\.\d+)?)\s*([bkmgtp]?)b?$', re.IGNORECASE)
_MEM_UNITS = {'': 1, 'b': 1, 'k': 1 << 10, 'm': 1 << 20, 'g': 1 << 30,
              't': 1 << 40, 'p': 1 << 50}


def parse_docker_bytes(value: Any) -> Optional[int]:
    """Docker CLI memory size (``512m``, ``1G``, ``1gb``; binary units)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 <= value <= INT64_MAX else None
    if not isinstance(value, str) or len(value) > 100:
        return None
    match = _MEM.match(value.strip())
    if not match:
        return None
    result = int(Decimal(match.group(1)) *
                 _MEM_UNITS[match.group(2).lower()])
    return result if result <= INT64_MAX else None


class Fields:
    """Reads one mapping field by field, recording errors and a canonical
    copy of what the user supplied (the input of ``source_hash``).

    ``known`` names every accepted key; :meth:`finish` reports the others.
    """

    def __init__(self, data: Mapping, path: str, errs: errors.ErrorList,
                 known: Iterable[str], ignore_underscore: bool = False):
        self.data = data
        self.path = path
        self.errs = errs
        self.known = list(known)
        self.ignore_underscore = ignore_underscore
        self.canon: Dict[str, Any] = {}

    def p(self, key: str) -> str:
        return f'{self.path}.{key}' if self.path else key

    def has(self, key: str) -> bool:
        return key in self.data and self.data[key] is not None

    def raw(self, key: str, default: Any = None) -> Any:
        value = self.data.get(key)
        return default if value is None else value

    def keep(self, key: str, value: Any) -> Any:
        """Record the normalised value of a supplied key for the hash."""
        if value not in (None, '', [], {}, ()):
            self.canon[key] = value
        return value

    def str(self, key: str, default: str = '', required: bool = False,
            choices: Optional[Sequence[str]] = None) -> str:
        value = self.data.get(key)
        if value is None or value == '':
            if required:
                self.errs.required(self.p(key))
            return default
        if not isinstance(value, str):
            wrong_type(self.errs, self.p(key), value, 'a string')
            return default
        if choices is not None and value not in choices:
            self.errs.unsupported(self.p(key), value, choices)
            return default
        return self.keep(key, value)

    def bool(self, key: str, default: bool = False) -> bool:
        value = self.data.get(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            wrong_type(self.errs, self.p(key), value, 'a boolean')
            return default
        self.canon[key] = value
        return value

    def int(self, key: str, default: Optional[int] = None,
            minimum: Optional[int] = None, maximum: Optional[int] = None,
            numeric_string: bool = False) -> Optional[int]:
        value = self.data.get(key)
        if value is None:
            return default
        if numeric_string and isinstance(value, str) and \
                re.match(r'^-?\d{1,30}$', value.strip()):
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            wrong_type(self.errs, self.p(key), value, 'an integer')
            return default
        # Every integer is bounded: nothing below may overflow Docker's
        # int64 fields (or Python's C conversions) after a side effect.
        if maximum is None:
            maximum = INT64_MAX
        if minimum is None:
            minimum = -INT64_MAX
        if value < minimum or value > maximum:
            bounds = (f'at least {minimum}' if maximum == INT64_MAX and
                      minimum > -INT64_MAX else f'between {minimum} and '
                      f'{maximum}')
            self.errs.invalid(self.p(key), value, f'must be {bounds}')
            return default
        self.canon[key] = value
        return value

    def str_list(self, key: str, split_string: bool = False
                 ) -> Optional[List[str]]:
        value = self.data.get(key)
        if value is None:
            return None
        if split_string and isinstance(value, str):
            value = [value]
        if not isinstance(value, list):
            wrong_type(self.errs, self.p(key), value, 'a list of strings')
            return None
        out = []
        for i, item in enumerate(value):
            if not isinstance(item, str):
                wrong_type(self.errs, f'{self.p(key)}[{i}]', item,
                           'a string')
                continue
            out.append(item)
        self.keep(key, list(out))
        return out

    def mapping(self, key: str) -> Optional[Mapping]:
        value = self.data.get(key)
        if value is None:
            return None
        if not isinstance(value, Mapping):
            wrong_type(self.errs, self.p(key), value, 'a mapping')
            return None
        return value

    def list(self, key: str) -> Optional[list]:
        value = self.data.get(key)
        if value is None:
            return None
        if not isinstance(value, list):
            wrong_type(self.errs, self.p(key), value, 'a list')
            return None
        return value

    def mappings(self, key: str) -> Iterator[Tuple[str, Mapping]]:
        """``(path, item)`` of each item of the list ``key`` that is a
        mapping; any other item is reported as the wrong type."""
        for i, item in enumerate(self.list(key) or []):
            path = f'{self.p(key)}[{i}]'
            if isinstance(item, Mapping):
                yield path, item
            else:
                wrong_type(self.errs, path, item, 'a mapping')

    def finish(self) -> None:
        for key in self.data:
            if not isinstance(key, str):
                self.errs.invalid(self.path or '<root>', key,
                                  'keys must be strings')
                continue
            if key in self.known:
                continue
            if self.ignore_underscore and key.startswith('_'):
                continue
            hint = difflib.get_close_matches(key, self.known, 1)
            detail = 'unknown field' + (f'; did you mean "{hint[0]}"?'
                                        if hint else '')
            self.errs.add(self.p(key), 'Forbidden', detail=detail)


def canonical(value: Any) -> Any:
    """Sorted, empty-dropped, JSON-safe copy of user data for hashing."""
    if isinstance(value, Mapping):
        out = {}
        for k in sorted(value, key=str):
            v = canonical(value[k])
            if v in (None, '', [], {}):
                continue
            out[str(k)] = v
        return out
    if isinstance(value, (list, tuple)):
        return [canonical(v) for v in value]
    if isinstance(value, float):
        return int(value) if value.is_integer() else repr(value)
    if isinstance(value, Decimal):
        return str(value.normalize())
    if isinstance(value, (str, int, bool)) or value is None:
        return value
    return str(value)
