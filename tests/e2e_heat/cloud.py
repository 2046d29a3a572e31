"""Talking to the real Heat started by ``tools/heat-services.sh``.

Stack actions and every assertion go through Debian's ``openstack`` client
(python-openstackclient + python-heatclient: ``/usr/bin/openstack``, not a
pyenv ``python3``).  Waiting polls Heat's REST API directly with a Keystone
token (one CLI call costs ~2 s of start-up; a GET costs milliseconds).
"""

import json
import os
import subprocess
import time
import urllib.error
import urllib.request

OPENSTACK = '/usr/bin/openstack'


def read_openrc(path):
    env = {}
    with open(path) as f:
        for line in f:
            if line.startswith('export '):
                key, _, value = line[len('export '):].strip().partition('=')
                env[key] = value
    return env


class Cloud:
    """Admin access to Keystone + Heat on 127.0.0.1."""

    def __init__(self, state_dir):
        self.state_dir = state_dir
        self.creds = read_openrc(os.path.join(state_dir, 'openrc'))
        self.env = dict(os.environ, **self.creds)
        # Debian's client, with Debian's interpreter and modules.
        self.env['PATH'] = '/usr/bin:/bin:/usr/sbin:/sbin'
        for key in ('PYTHONPATH', 'PYTHONHOME', 'VIRTUAL_ENV'):
            self.env.pop(key, None)
        self.keystone = self.creds['OS_AUTH_URL']
        self.heat_port = int(self.creds['TDH_HEAT_PORT'])
        self._token = None
        self._project = None
        self._token_time = 0.0

    # -- the CLI -------------------------------------------------------------
    def cli(self, *args, check=True, timeout=180):
        proc = subprocess.run([OPENSTACK, *args], env=self.env,
                              capture_output=True, text=True,
                              timeout=timeout)
        if check and proc.returncode:
            raise AssertionError('openstack {} failed ({}): {}'.format(
                ' '.join(args), proc.returncode, proc.stderr[-3000:]))
        return proc.stdout

    def cli_json(self, *args):
        return json.loads(self.cli(*args, '-f', 'json'))

    def cli_value(self, *args):
        return self.cli(*args, '-f', 'value').strip()

    # -- REST ----------------------------------------------------------------
    def _auth(self):
        if self._token and time.monotonic() - self._token_time < 1800:
            return
        body = {'auth': {
            'identity': {'methods': ['password'], 'password': {'user': {
                'name': self.creds['OS_USERNAME'],
                'domain': {'name': 'Default'},
                'password': self.creds['OS_PASSWORD']}}},
            'scope': {'project': {'name': self.creds['OS_PROJECT_NAME'],
                                  'domain': {'name': 'Default'}}}}}
        req = urllib.request.Request(
            self.keystone + '/auth/tokens', json.dumps(body).encode(),
            {'Content-Type': 'application/json'})
        with urllib.request.urlopen(req, timeout=30) as resp:
            self._token = resp.headers['X-Subject-Token']
            self._project = json.load(resp)['token']['project']['id']
        self._token_time = time.monotonic()

    def get(self, path):
        """GET ``/v1/<project>/<path>`` of Heat's API, as JSON."""
        self._auth()
        url = f'http://127.0.0.1:{self.heat_port}/v1/{self._project}/{path}'
        req = urllib.request.Request(url, headers={
            'X-Auth-Token': self._token, 'Accept': 'application/json'})
        with urllib.request.urlopen(req, timeout=30) as resp:
            return json.load(resp)

    def stack(self, ident):
        """``name/id`` → the stack document (status, reason, outputs)."""
        return self.get(f'stacks/{ident}')['stack']

    def resource(self, ident, name):
        return self.get(f'stacks/{ident}/resources/{name}')['resource']

    def metadata(self, ident, name):
        return self.get(f'stacks/{ident}/resources/{name}/metadata')[
            'metadata']

    def wait_stack(self, ident, action, timeout, since=None):
        """Wait for ``<action>_COMPLETE``/``_FAILED``; return the stack.

        ``since``: the ``updated_time`` of the previous action, so a stack
        still showing the last action's status is not taken as done.
        """
        deadline = time.monotonic() + timeout
        while True:
            try:
                stack = self.stack(ident)
            except urllib.error.HTTPError as exc:
                if action == 'DELETE' and exc.code == 404:
                    return {'stack_status': 'DELETE_COMPLETE'}
                raise
            status = stack['stack_status']
            fresh = since is None or stack.get('updated_time') != since
            if fresh and status in (f'{action}_COMPLETE', f'{action}_FAILED'):
                return stack
            if time.monotonic() > deadline:
                raise AssertionError(
                    f'{ident}: still {status} after {timeout} s '
                    f'({stack.get("stack_status_reason")})')
            time.sleep(0.5)

    def wait_resource(self, ident, name, status, timeout):
        deadline = time.monotonic() + timeout
        while True:
            res = self.resource(ident, name)
            if res['resource_status'] == status:
                return res
            if time.monotonic() > deadline or \
                    res['resource_status'].endswith('FAILED'):
                raise AssertionError(f'{ident} {name}: {res}')
            time.sleep(0.3)

    def node_credentials(self, ident, server='server'):
        """What os-collect-config's heat collector needs (server metadata)."""
        heat = self.metadata(ident, server)['os-collect-config']['heat']
        return heat

    def deployment_id(self, ident, name):
        return self.resource(ident, name)['physical_resource_id']
