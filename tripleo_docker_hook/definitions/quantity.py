"""Kubernetes resource quantities, parsed exactly with :mod:`decimal`.

Grammar (``k8s.io/apimachinery/pkg/api/resource/quantity.go``)::

    <quantity>       ::= <signedNumber><suffix>
    <suffix>         ::= <binarySI> | <decimalExponent> | <decimalSI>
    <binarySI>       ::= Ki | Mi | Gi | Ti | Pi | Ei
    <decimalSI>      ::= n | u | m | "" | k | M | G | T | P | E
    <decimalExponent>::= "e" <signedNumber> | "E" <signedNumber>

So ``1K`` and ``1KB`` are invalid, ``1E`` is 10^18 and ``1E3`` is 1000.
Values are rounded **up** to milli precision, as the API server does.
"""

import math
import re
from decimal import Decimal, localcontext
from typing import Any, Optional

_QUANTITY = re.compile(
    r'^([+-]?(?:\d+(?:\.\d*)?|\.\d+))'
    r'(Ki|Mi|Gi|Ti|Pi|Ei|[eE][+-]?\d+|n|u|m|k|M|G|T|P|E|)$')
_BINARY = {'Ki': 1, 'Mi': 2, 'Gi': 3, 'Ti': 4, 'Pi': 5, 'Ei': 6}
_DECIMAL = {'n': -9, 'u': -6, 'm': -3, '': 0, 'k': 3, 'M': 6, 'G': 9,
            'T': 12, 'P': 15, 'E': 18}
#: Kubernetes refuses values that do not fit an int64 of milli-units.
_MAX = Decimal(2) ** 63 - 1


class QuantityError(ValueError):
    pass


def parse(value: Any) -> Decimal:
    """The exact value of a quantity (string, or a YAML int/float)."""
    if isinstance(value, bool):
        raise QuantityError('must be a quantity string or number')
    if isinstance(value, int):
        text = str(value)
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise QuantityError('must be finite')
        text = repr(value)
        if 'e' in text or 'E' in text:
            # Python writes 1e+20; that is also valid quantity grammar.
            text = text.replace('e+', 'e')
    elif isinstance(value, str):
        text = value
    else:
        raise QuantityError('must be a quantity string or number')
    match = _QUANTITY.match(text)
    if not match:
        raise QuantityError('quantities must match the regular expression '
                            "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'")
    number, suffix = match.groups()
    with localcontext() as ctx:
        ctx.prec = 100
        base = Decimal(number)
        if suffix in _BINARY:
            result = base * (Decimal(1024) ** _BINARY[suffix])
        elif suffix in _DECIMAL:
            result = base.scaleb(_DECIMAL[suffix])
        else:
            exponent = int(suffix[1:])
            if abs(exponent) > 30:
                raise QuantityError('exponent out of range')
            result = base.scaleb(exponent)
        if abs(result) > _MAX:
            raise QuantityError('value out of range')
        # Round up (away from zero for positives) to milli precision.
        milli = result * 1000
        rounded = Decimal(math.ceil(milli)) / 1000
        return rounded


def milli(value: Decimal) -> int:
    """Milli-units, rounded up (CPU: millicores)."""
    return int(math.ceil(value * 1000))


def whole(value: Decimal) -> int:
    """Whole units, rounded up (memory: bytes)."""
    return int(math.ceil(value))


def canonical(value: Decimal) -> str:
    """A stable text for hashing: ``1000m``, ``1``, ``1Gi`` all normalise."""
    normal = value.normalize()
    text = format(normal, 'f')
    return text


def try_parse(value: Any) -> Optional[Decimal]:
    try:
        return parse(value)
    except QuantityError:
        return None
