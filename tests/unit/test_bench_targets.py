"""The benchmark's targets table (bench/targets.py): pure checks on
medians, so a target cannot silently stop being judged."""

import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', '..',
                                'bench'))
import targets  # noqa: E402


def judge(scenario, medians, touched=None):
    def get(s, tool):
        return medians.get((s, tool))
    return targets.judge(scenario, get, touched or {})


@pytest.mark.parametrize('tdh,met', [(0.04, True), (0.05, False)])
def test_plain_noop_is_only_compared_with_compose(tdh, met):
    medians = {('noop_20', 'tdh'): tdh, ('noop_20', 'compose'): 0.045}
    assert judge('noop_20', medians) == ('≤compose', met)
    del medians[('noop_20', 'compose')]
    assert judge('noop_20', medians) == ('', None)


@pytest.mark.parametrize('scenario', ['noop_50', 'noop_newid_50'])
def test_noop_50_needs_0_3_s_paunch_and_compose(scenario):
    medians = {(scenario, 'tdh'): 0.2, (scenario, 'paunch'): 3.0,
               (scenario, 'compose'): 0.25}
    text, met = judge(scenario, medians)
    assert text == '≤0.3 s, ≥10× faster than paunch; ≤compose' and met
    medians[(scenario, 'compose')] = 0.15
    assert judge(scenario, medians)[1] is False
    medians[(scenario, 'compose')] = 0.25
    medians[(scenario, 'paunch')] = 1.0
    assert judge(scenario, medians)[1] is False


def test_fresh_needs_floor_ratio_and_compose():
    medians = {('fresh_20', 'tdh'): 1.1, ('fresh_20', 'floor'): 1.0,
               ('fresh_20', 'compose'): 1.2}
    assert judge('fresh_20', medians)[1] is True
    medians[('fresh_20', 'tdh')] = 1.16
    assert judge('fresh_20', medians)[1] is False
    del medians[('fresh_20', 'floor')]
    assert judge('fresh_20', medians)[1] is False


def test_change_one_allows_one_list_round_trip_over_compose():
    medians = {('change1_20', 'tdh'): 0.52, ('change1_20', 'floor'): 0.4,
               ('change1_20', 'compose'): 0.5, ('noop_20', 'floor'): 0.03}
    text, met = judge('change1_20', medians, {'tdh': [1, 1]})
    assert text.endswith('≤compose+30 ms') and met
    assert judge('change1_20', medians, {'tdh': [1, 2]})[1] is False
    assert judge('change1_20', medians, {})[1] is False


def test_render_targets():
    medians = {('render_1_slowest', 'tdh'): 3.0, ('restart_5', 'floor'): 0.5,
               ('render_hiera1_4x20', 'tdh'): 4.0,
               ('noop_20', 'tdh'): 0.1, ('render_4', 'tdh'): 5.0,
               ('render_noop_4x20', 'tdh'): 0.14}
    assert judge('render_hiera1_4x20', medians)[1] is True
    medians[('render_hiera1_4x20', 'tdh')] = 4.2
    assert judge('render_hiera1_4x20', medians)[1] is False
    assert judge('render_noop_4x20', medians)[1] is True
    medians[('render_noop_4x20', 'tdh')] = 0.16
    assert judge('render_noop_4x20', medians)[1] is False
    assert judge('render_4', medians)[1] is False


def test_info_and_untargeted_rows():
    assert judge('startup', {('startup', 'tdh'): 0.1}) == (
        'info (floor: python + docker-py + 1 list)', None)
    assert judge('restart_5', {('restart_5', 'floor'): 0.5}) == ('', None)
    assert judge('render1_bench_a', {('render1_bench_a', 'tdh'): 1}) == (
        '', None)
