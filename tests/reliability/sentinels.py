"""Sentinel secrets: unique strings that must never appear anywhere the
hook writes outside the places that need them (a container's own
environment, its env file, the rendered config of its volume).

Each carries characters that JSON-escaping changes (a quote, a non-ASCII
letter), so a masker that looks only for the raw value misses it.
"""

import json

PASSWORD = 'Snt-Pässwörd"7f3a'
SIGNAL_URL = ('http://127.0.0.1:1/v1/AUTH_x/c/o?temp_url_sig='
              'Snt-Sig-4b2e9d&temp_url_expires=2147483647')
TOKEN = 'Snt-Token-é-91c0'
JSON_SECRET = 'Snt-JsonLeaf-\\-c3d4'
ENV = 'Snt-EnvValue-8e7f-long'
ENV_FILE = 'Snt-EnvFile-"q"-6a5b'
SECRET = 'Snt-K8sSecret-2d1c'
SECRET_NUMBER = 987654321012
HIERA = 'Snt-Hiera-Pw-0f9e'
TASK_OUTPUT = 'Snt-TaskEnv-3344'

#: Credential inputs of every kind heat-config hands over.
INPUTS = (
    {'name': 'deploy_password', 'value': PASSWORD, 'type': 'String'},
    {'name': 'deploy_signal_id', 'value': SIGNAL_URL, 'type': 'String'},
    {'name': 'service_token', 'value': TOKEN, 'type': 'String'},
    {'name': 'db_credentials', 'type': 'Json',
     'value': {'user': 'keystone', 'password': JSON_SECRET}},
)

ALL = (PASSWORD, 'Snt-Sig-4b2e9d', TOKEN, JSON_SECRET, ENV, ENV_FILE, SECRET,
       str(SECRET_NUMBER), HIERA, TASK_OUTPUT, 'Null-Named-Sentinel-5e1b')


def forms(secret: str):
    """Every way the secret can be written in text."""
    whole = {secret, json.dumps(secret)[1:-1], repr(secret)[1:-1],
             json.dumps(json.dumps(secret))[3:-3]}
    out = set(whole)
    # A cut keeps at least 12 characters of it: look for pieces too, of
    # every form (an error quote is cut after JSON-escaping).
    for form in whole:
        if len(form) > 14:
            out.update({form[:12], form[-12:]})
    return sorted(out)


def scan(text: str):
    """The sentinel forms found in ``text``."""
    return [form for s in ALL for form in forms(s) if form in text]
