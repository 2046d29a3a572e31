#!/usr/bin/python3
"""A stand-in for Nova's compute API, for Heat's DELETE of a DeployedServer.

Heat asks Nova whether the server of a software deployment still exists
before it completes the deployment's DELETE action, even when the server is
an ``OS::Heat::DeployedServer`` that Nova never knew (real-heat.md,
pitfall 1).  This answers exactly the two requests novaclient makes: the
version document at ``/v2.1`` and ``/v2.1/servers/<id>`` (ACTIVE).

Usage: fake-nova.py PORT   (listens on 127.0.0.1 only; stdlib only)
"""

import http.server
import json
import sys

VERSION = {'version': {'id': 'v2.1', 'status': 'CURRENT', 'version': '2.1',
                       'min_version': '2.1', 'links': []}}


class Handler(http.server.BaseHTTPRequestHandler):
    def _answer(self, code, body):
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        path = self.path.split('?', 1)[0].rstrip('/')
        parts = path.split('/')
        if path in ('', '/v2.1'):
            self._answer(200, VERSION)
        elif len(parts) == 4 and parts[1] == 'v2.1' and parts[2] == 'servers':
            self._answer(200, {'server': {'id': parts[3],
                                          'status': 'ACTIVE'}})
        elif len(parts) == 5 and parts[1] == 'v2.1' and parts[3] == 'servers':
            # /v2.1/<project>/servers/<id>
            self._answer(200, {'server': {'id': parts[4],
                                          'status': 'ACTIVE'}})
        else:
            self._answer(404, {'itemNotFound': {'code': 404,
                                                'message': path}})

    def log_message(self, fmt, *args):
        sys.stderr.write('fake-nova: ' + fmt % args + '\n')


def main():
    port = int(sys.argv[1])
    server = http.server.ThreadingHTTPServer(('127.0.0.1', port), Handler)
    server.serve_forever()


if __name__ == '__main__':
    main()
