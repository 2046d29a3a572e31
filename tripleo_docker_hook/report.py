"""The one JSON object the hook answers with (hook-contract.md §5).

``deploy_stdout`` is a concise account of what was done; ``deploy_stderr``
holds warnings and errors; both are masked and capped (the head is cut) so
the signal stays below Heat's 1 MiB limit and heat-config-notify's 950000
byte trimming path, which crashes on Python 3, is never reached.
"""

import json
import logging
from typing import Any, Dict, List, Optional

from tripleo_docker_hook.masking import Masker

TRUNCATED = '[... {} bytes cut ...]\n'
#: The whole answer, JSON-encoded, stays below this: Heat refuses bodies
#: over 1 MiB (``max_json_body_size``) and heat-config-notify's trimming,
#: which crashes on Python 3, starts at 950000 bytes (hook-contract.md §9).
MAX_ANSWER_BYTES = 900000


def _json_size(value: Any) -> int:
    return len(json.dumps(value).encode('utf-8'))


def cut_head(text: str, max_json_bytes: int) -> str:
    """The tail of ``text`` whose JSON encoding (escapes included) fits in
    ``max_json_bytes``, behind a marker saying how much was cut."""
    if len(text) <= max_json_bytes and _json_size(text) <= max_json_bytes:
        return text
    # Every character takes at least one byte: no longer tail can fit.
    low, high = 0, min(len(text), max_json_bytes)
    while low < high:   # the longest tail that fits, marker included
        mid = (low + high + 1) // 2
        tail = text[len(text) - mid:]
        if _json_size(TRUNCATED.format(len(text) - mid) + tail) <= \
                max_json_bytes:
            low = mid
        else:
            high = mid - 1
    marker = TRUNCATED.format(len(text) - low)
    if _json_size(marker) > max_json_bytes:
        return ''
    return marker + text[len(text) - low:]


class Report:
    """Collects what the run has to tell Heat."""

    def __init__(self, masker: Masker, max_bytes: int = 262144):
        self.masker = masker
        self.max_bytes = max_bytes
        self.stdout: List[str] = []
        self.stderr: List[str] = []
        self.outputs: Dict[str, Any] = {}
        self.status = 0

    def info(self, line: str) -> None:
        self.stdout.append(line)

    def error(self, line: str) -> None:
        self.stderr.append(line)

    def fail(self, line: str, status: int = 1) -> None:
        self.error(line)
        if not self.status:
            self.status = status

    def fail_with(self, exc) -> None:
        """Record a :class:`errors.HookError`: its status and its lines."""
        from tripleo_docker_hook import errors
        if isinstance(exc, errors.ValidationError):
            self.masker.add(exc.secrets)
            self.fail('invalid deployment:', exc.status)
            for line in exc.lines(self.masker):
                self.error(line)
        else:
            self.fail(str(exc), getattr(exc, 'status', 1) or 1)

    def _text(self, lines: List[str]) -> str:
        return self._value('\n'.join(lines) + ('\n' if lines else ''))

    def _value(self, value: Any, limit: Optional[int] = None) -> str:
        """Masked, then capped at ``limit`` (default ``max_bytes``; the
        head is cut): masking first, so no piece of a secret straddling
        the cut can show."""
        limit = self.max_bytes if limit is None else limit
        if not isinstance(value, str):
            value = json.dumps(value, sort_keys=True, default=str)
        text = self.masker.mask(value)
        data = text.encode('utf-8', 'replace')
        if len(data) <= limit:
            return text
        cut = len(data) - limit
        tail = data[cut:].decode('utf-8', 'ignore')
        return TRUNCATED.format(cut) + tail

    def answer(self, declared: Optional[list] = None) -> Dict[str, Any]:
        """The signal body: deploy_* plus the declared outputs we know.

        Every value is masked and capped at ``max_bytes``; the whole body
        at :data:`MAX_ANSWER_BYTES` (the longest values are cut first;
        outputs that still do not fit are dropped, ``error_output`` ones
        last, since they are what marks the deployment FAILED).
        """
        result: Dict[str, Any] = {}
        error_text = None
        present = [o for o in declared or () if o.name not in (
            'deploy_stdout', 'deploy_stderr', 'deploy_status_code') and (
                (o.error_output and self.status) or
                (not o.error_output and o.name in self.outputs))]
        # Each value's share of the answer, so nothing huge is ever built.
        limit = min(self.max_bytes, MAX_ANSWER_BYTES // (len(present) + 2))
        for output in present:
            if output.error_output:
                if error_text is None:
                    error_text = self._value('\n'.join(self.stderr), limit)
                result[output.name] = error_text
            else:
                result[output.name] = self._value(self.outputs[output.name],
                                                  limit)
        result['deploy_stdout'] = self._text(self.stdout)
        result['deploy_stderr'] = self._text(self.stderr)
        result['deploy_status_code'] = self.status
        return _fit(result, {o.name for o in declared or ()
                             if o.error_output})

    def dumps(self, declared: Optional[list] = None) -> str:
        return json.dumps(self.answer(declared), sort_keys=True)


def _fit(result: Dict[str, Any], error_outputs) -> Dict[str, Any]:
    """Shrink ``result`` below :data:`MAX_ANSWER_BYTES`."""
    total = _json_size(result)
    if total <= MAX_ANSWER_BYTES:
        return result
    # Equal shares of what the keys and the status leave, the longest
    # texts cut to their share.
    texts = [k for k, v in result.items() if isinstance(v, str)]
    overhead = _json_size({k: '' for k in texts}) + 64
    share = max(0, (MAX_ANSWER_BYTES - overhead) // max(1, len(texts)))
    for key in texts:
        result[key] = cut_head(result[key], share)
    if _json_size(result) <= MAX_ANSWER_BYTES:
        return result
    # Too many outputs for any share to hold: drop outputs, keeping the
    # error outputs (with a one-line value) and deploy_*.
    kept = {k: v for k, v in result.items() if k.startswith('deploy_')}
    size = _json_size(kept)
    note = 'failed; see deploy_stderr'
    for key in sorted(error_outputs & set(result)):
        size += _json_size(key) + _json_size(note) + 4
        if size > MAX_ANSWER_BYTES:
            break
        kept[key] = note
    return kept


class ReportHandler(logging.Handler):
    """Copies warnings and errors of the run's log into ``deploy_stderr``."""

    def __init__(self, report: Report):
        super().__init__(level=logging.WARNING)
        self.report = report

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.report.error(f'{record.levelname}: {record.getMessage()}')
        except Exception:
            self.handleError(record)
