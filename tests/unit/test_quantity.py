"""Kubernetes quantity grammar, exactly (Decimal, rounding up to milli)."""

from decimal import Decimal

import pytest

from tripleo_docker_hook.definitions import quantity


@pytest.mark.parametrize('text,value', [
    ('1', '1'), ('0', '0'), ('100m', '0.1'), ('0.1m', '0.001'),
    ('1.0001', '1.001'), ('1e3', '1000'), ('1E3', '1000'), ('1e-3', '0.001'),
    ('1E', '1000000000000000000'), ('1k', '1000'), ('1M', '1000000'),
    ('1G', '1000000000'), ('1T', '1e12'), ('1P', '1e15'), ('1Ki', '1024'),
    ('1Mi', '1048576'), ('1.5Gi', '1610612736'), ('1Ti', str(1024 ** 4)),
    ('1Pi', str(1024 ** 5)), ('1Ei', str(1024 ** 6)), ('.5', '0.5'),
    ('5.', '5'), ('+1', '1'), ('-1', '-1'), ('500u', '0.001'),
    ('1n', '0.001'), (2, '2'), (0.5, '0.5'), (1e3, '1000'),
])
def test_valid(text, value):
    assert quantity.parse(text) == Decimal(value)


@pytest.mark.parametrize('text', [
    '1K', '1KB', '1kb', '1 Mi', 'Mi', '', '1.2.3', '1mi', '1e', 'e3',
    '1Gb', 'one', '1e1000', True, None, [1], float('inf'),
])
def test_invalid(text):
    with pytest.raises(quantity.QuantityError):
        quantity.parse(text)


def test_rounding_and_units():
    assert quantity.milli(quantity.parse('0.1m')) == 1
    assert quantity.milli(quantity.parse('1.5')) == 1500
    assert quantity.whole(quantity.parse('1.0001')) == 2
    assert quantity.canonical(quantity.parse('1000m')) == \
        quantity.canonical(quantity.parse('1'))
    assert quantity.try_parse('1K') is None
