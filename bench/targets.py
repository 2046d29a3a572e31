"""The targets of issues 6 and 14 as a table: which scenario, what it
promises, and the check on the run's medians.

A check gets ``m``: ``m.tdh``, ``m.paunch``, ``m.compose``, ``m.floor`` are
this scenario's medians (None when that tool did not run),
``m.get(scenario, tool)`` any other median and ``m.touched`` the
containers each tool's change touched per repetition.  A row may add
``≤compose`` (issue 14): then the check must also hold ``tdh ≤ compose +
allowance`` whenever compose ran.
"""

import collections


class Medians:
    def __init__(self, scenario, get, touched):
        self.scenario = scenario
        self.get = get
        self.touched = touched

    def __getattr__(self, tool):
        return self.get(self.scenario, tool)


def _noop_list(m):
    """The safe replace's one extra round trip: the label-filtered list
    that checks the new container runs before the old one is removed;
    priced at the floor's one list call of this N."""
    return m.get(m.scenario.replace('change1_', 'noop_'), 'floor') or 0.0


def _fresh(m):
    ok = m.floor is not None and m.tdh <= 1.15 * m.floor
    return ok and (m.paunch is None or m.paunch >= 3 * m.tdh)


def _noop_50(m):
    return m.tdh <= 0.3 and (m.paunch is None or m.paunch >= 10 * m.tdh)


def _change1(m):
    counts = m.touched.get('tdh') or []
    return (m.floor is not None and m.tdh <= m.floor + 0.3 and
            bool(counts) and all(c == 1 for c in counts))


def _render_noop(m):
    plain, full = m.get('noop_20', 'tdh'), m.get('render_4', 'tdh')
    return (plain is not None and full is not None and
            m.tdh <= 1.5 * plain and full >= 10 * m.tdh)


def _render_hiera1(m):
    single = m.get('render_1_slowest', 'tdh')
    restart = m.get('restart_5', 'floor')
    return (single is not None and restart is not None and
            m.tdh <= 1.2 * single + restart)


def _render_4(m):
    single = m.get('render_1_slowest', 'tdh')
    return single is not None and m.tdh <= 1.5 * single


Target = collections.namedtuple(
    'Target', 'match text check vs_compose allowance',
    defaults=(False, None))

#: First match wins; ``match`` is a scenario name, or a prefix ending in _.
TARGETS = (
    Target('noop_50', '≤0.3 s, ≥10× faster than paunch', _noop_50, True),
    Target('noop_newid_50', '≤0.3 s, ≥10× faster than paunch', _noop_50,
           True),
    Target('noop_', '', lambda m: True, True),  # only ≤compose
    Target('fresh_', '≤1.15×floor, ≥3× faster than paunch', _fresh, True),
    Target('change1_', '≤floor (stop+rm+create+start)+0.3 s, 1 touched',
           _change1, True, _noop_list),
    # The floor stops in parallel; a serial tool needs about N × one stop,
    # far above floor + the 0.3 s allowed for start-up.
    Target('delete_', 'parallel stops: ≤floor+0.3 s',
           lambda m: m.floor is not None and m.tdh <= m.floor + 0.3, True),
    Target('startup', 'info (floor: python + docker-py + 1 list)', None),
    Target('render_4', '≤1.5×slowest single', _render_4),
    Target('render_noop_4x20', '≤1.5×noop_20, ≥10× faster than render_4',
           _render_noop),
    Target('render_hiera1_4x20', '≤1.2×render_1_slowest+restart_5',
           _render_hiera1),
)


def find(scenario):
    for target in TARGETS:
        if (scenario == target.match or target.match.endswith('_') and
                scenario.startswith(target.match)):
            return target
    return None


def judge(scenario, get, touched):
    """(target text, met?) for a scenario; met is None without a target."""
    m = Medians(scenario, get, touched)
    target = find(scenario)
    if m.tdh is None or target is None or target.check is None:
        return (target.text if target and m.tdh is not None else ''), None
    text, ok = target.text, bool(target.check(m))
    if target.vs_compose and m.compose is not None:
        extra = target.allowance(m) if target.allowance else 0.0
        suffix = f'≤compose+{extra * 1000:.0f} ms' if extra else '≤compose'
        text = f'{text}; {suffix}' if text else suffix
        ok = ok and m.tdh <= m.compose + extra
    elif not text:
        return '', None  # a plain no-op has only the compose target
    return text, ok
