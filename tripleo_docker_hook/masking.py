"""Masking of secrets in everything the hook prints or logs.

Heat stores ``deploy_stdout``/``deploy_stderr`` as stack attributes readable
by anyone who can read the stack, and logs end up in bug reports; peers
leaked passwords through both (``shared/reference/peers.md`` §3.6).  One
:class:`Masker` per run holds every secret value and is applied to every
text leaving the process.
"""

import json
import logging
import re
from typing import Iterable, List, Optional

MASK = '***'

#: Environment variable names whose values are secret whatever their length.
SECRET_KEY = re.compile(
    r'(PASS|SECRET|TOKEN|CREDENTIAL|PRIVATE|API_?KEY|AUTH|_KEY$|^KEY)',
    re.IGNORECASE)

#: Other environment values are masked from this length on; shorter ones
#: (``1``, ``True``, ``info``) would turn unrelated output into asterisks.
MIN_ENV_VALUE_LEN = 6


#: Command-line options whose value is a secret (``--db-password X``,
#: ``--token=X``): an option name holding one of these words.  Two linear
#: scans, not one ``^--?[\w.-]*(word)[\w.-]*$`` pattern, which backtracks
#: quadratically (a 64 KiB argument took 7 s, a 32 MiB one days).
_OPTION = re.compile(r'--?[\w.-]*$')
_SECRET_WORD = re.compile(
    r'pass(word|wd)?|secret|token|credential|api[_-]?key', re.IGNORECASE)


def secret_option(name: str) -> bool:
    """Is ``name`` a command-line option whose value is a secret?"""
    return _OPTION.match(name) is not None and \
        _SECRET_WORD.search(name) is not None


def argv_secrets(command) -> List[str]:
    """Values of secret-looking options in a command (list or string)."""
    if isinstance(command, str):
        command = command.split()
    if not isinstance(command, list):
        return []
    found = []
    words = [w for w in command if isinstance(w, str)]
    for i, word in enumerate(words):
        name, eq, value = word.partition('=')
        if not secret_option(name):
            continue
        if eq:
            found.append(value)
        elif i + 1 < len(words) and not words[i + 1].startswith('-'):
            found.append(words[i + 1])
    return [v for v in found if v]


class Masker:
    """Replaces every known secret in a text by ``***``."""

    def __init__(self, secrets: Iterable[str] = ()):
        self._secrets = set()
        self._pattern: Optional[re.Pattern] = None
        self.add(secrets)

    def add(self, secrets: Iterable[str]) -> None:
        """Mask each secret and every encoding it can be printed in: error
        messages quote values JSON-escaped (``é`` → ``\\u00e9``, ``"`` →
        ``\\"``), logs may use ``repr``; a secret of several lines is
        also masked line by line (output is cut and prefixed by line)."""
        new = set()
        for s in secrets:
            if not isinstance(s, str) or not s.strip():
                continue
            new.update(encodings(s))
        new = {s for s in new if s.strip()}
        if new - self._secrets:
            self._secrets |= new
            # Longest first so a secret containing another is masked whole.
            ordered = sorted(self._secrets, key=len, reverse=True)
            self._pattern = re.compile('|'.join(map(re.escape, ordered)))

    def add_environment(self, environment: Iterable) -> None:
        """Treat a container's environment values as secrets."""
        self.add(value for key, value in environment
                 if value and (SECRET_KEY.search(key)
                               or len(value) >= MIN_ENV_VALUE_LEN))

    def mask(self, text: str) -> str:
        if not text or self._pattern is None:
            return text
        return self._pattern.sub(MASK, text)

    @property
    def longest(self) -> int:
        """Length of the longest form masked (0 without secrets): text
        cut at least this far after a position holds any secret starting
        there whole."""
        return max(map(len, self._secrets), default=0)

    def __contains__(self, item: str) -> bool:
        return item in self._secrets


def encodings(secret: str) -> List[str]:
    """``secret`` as it may appear in text we print."""
    forms = {secret,
             json.dumps(secret)[1:-1],
             json.dumps(secret, ensure_ascii=False)[1:-1],
             repr(secret)[1:-1]}
    lines = [line for line in secret.splitlines() if len(line.strip()) >= 4]
    if len(lines) > 1:
        forms.update(lines)
    return sorted(forms)


class MaskingFilter(logging.Filter):
    """Logging filter that masks the fully formatted message of a record."""

    def __init__(self, masker: Masker):
        super().__init__()
        self.masker = masker

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string must not kill the run
            message = str(record.msg)
        record.msg = self.masker.mask(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(
                record.exc_info)
        if record.exc_text:
            record.exc_text = self.masker.mask(record.exc_text)
        record.exc_info = None
        return True


def masked_container(container):
    """A :class:`model.Container` with its secrets replaced by ``***``:
    values of secret-looking environment variables and of secret-looking
    command-line options (entrypoint, command, health check).  For what
    an operator prints from the definitions kept on a host (``print-cmd``,
    ``export DEPLOYMENT``) without ``--show-secrets``."""
    import dataclasses
    secrets = []
    check = container.healthcheck
    for words in (container.entrypoint, container.command,
                  check.test if check else None):
        secrets += argv_secrets(list(words or ()))
    secrets += [v for k, v in container.environment if SECRET_KEY.search(k)]
    masker = Masker(secrets)

    def words(values):
        return None if values is None else tuple(masker.mask(w)
                                                 for w in values)
    changes = {
        'environment': tuple(
            (k, MASK if SECRET_KEY.search(k) else masker.mask(v))
            for k, v in container.environment),
        'entrypoint': words(container.entrypoint),
        'command': words(container.command)}
    if check is not None:
        changes['healthcheck'] = dataclasses.replace(
            check, test=words(check.test))
    return dataclasses.replace(container, **changes)


def masked_deployment(deployment):
    """:func:`masked_container` applied to every container."""
    import dataclasses
    return dataclasses.replace(deployment, steps=tuple(
        dataclasses.replace(step, containers=tuple(
            masked_container(c) for c in step.containers))
        for step in deployment.steps))
