#!/usr/bin/env python3
"""Run the hook once and print every Engine API round trip it made.

``python bench/engine_trace.py <tripleo-docker-hook script>`` with the
heat-config document on stdin: the hook runs in this process (as its
console script would), every request it sends to the engine (docker-py's
and the hook's own stdlib reads) is timed, and the timeline goes to stderr
after the answer::

    ms start  ms took  thread        request
       41.2      2.1  MainThread    GET /containers/json
       45.0     70.3  ThreadPool-0  POST /containers/create

Used by ``bench/profile_hook.py --trace`` to count round trips and see
which ones are on the critical path.
"""

import os
import runpy
import sys
import threading
import time

START = time.monotonic()
EVENTS = []
_LOCK = threading.Lock()


def _record(method, url, began):
    took = time.monotonic() - began
    path = url.split('/v1.', 1)[-1]
    path = path.split('/', 1)[-1] if path != url else url
    with _LOCK:
        EVENTS.append(((began - START) * 1000, took * 1000,
                       threading.current_thread().name, method,
                       '/' + path.split('?', 1)[0].lstrip('/')))


def _patch():
    from tripleo_docker_hook import engine

    raw = engine._unix_get

    def unix_get(socket_path, url, timeout):
        began = time.monotonic()
        try:
            return raw(socket_path, url, timeout)
        finally:
            _record('GET', url, began)
    engine._unix_get = unix_get

    prop = engine.Engine.client

    def client(self):
        c = prop.fget(self)
        if not getattr(c, '_tdh_traced', False):
            request = c.request

            def traced(method, url, *args, **kwargs):
                began = time.monotonic()
                try:
                    return request(method, url, *args, **kwargs)
                finally:
                    _record(method, url, began)
            c.request = traced
            c._tdh_traced = True
        return c
    engine.Engine.client = property(client)


def main():
    script = sys.argv[1]
    sys.argv = [script] + sys.argv[2:]
    _patch()
    code = 0
    try:
        runpy.run_path(script, run_name='__main__')
    except SystemExit as exc:
        code = exc.code or 0
    end = (time.monotonic() - START) * 1000
    out = os.fdopen(os.dup(2), 'w')
    out.write(f'{"ms start":>9} {"ms took":>8}  {"thread":<24} request\n')
    for began, took, thread, method, path in sorted(EVENTS):
        out.write(f'{began:9.1f} {took:8.1f}  {thread:<24} {method} '
                  f'{path}\n')
    out.write(f'{len(EVENTS)} round trips; process (after interpreter '
              f'start) {end:.1f} ms\n')
    heavy = [m for m in ('docker', 'requests', 'oslo_config.cfg',
                         'oslo_log.log') if m in sys.modules]
    none = 'none of docker-py, oslo.config, oslo.log'
    out.write(f'loaded: {", ".join(heavy) or none}\n')
    out.flush()
    return code


if __name__ == '__main__':
    sys.exit(main())
