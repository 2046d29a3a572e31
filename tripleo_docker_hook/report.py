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
            for line in exc.lines():
                self.error(line)
        else:
            self.fail(str(exc), getattr(exc, 'status', 1) or 1)

    def _text(self, lines: List[str]) -> str:
        text = self.masker.mask('\n'.join(lines) + ('\n' if lines else ''))
        data = text.encode('utf-8', 'replace')
        if len(data) <= self.max_bytes:
            return text
        cut = len(data) - self.max_bytes
        tail = data[cut:].decode('utf-8', 'ignore')
        return TRUNCATED.format(cut) + tail

    def answer(self, declared: Optional[list] = None) -> Dict[str, Any]:
        """The signal body: deploy_* plus the declared outputs we know."""
        result: Dict[str, Any] = {}
        for output in declared or ():
            if output.error_output:
                if self.status:
                    result[output.name] = self.masker.mask(
                        '\n'.join(self.stderr))
            elif output.name in self.outputs:
                value = self.outputs[output.name]
                result[output.name] = (self.masker.mask(value)
                                       if isinstance(value, str) else value)
        result['deploy_stdout'] = self._text(self.stdout)
        result['deploy_stderr'] = self._text(self.stderr)
        result['deploy_status_code'] = self.status
        return result

    def dumps(self, declared: Optional[list] = None) -> str:
        return json.dumps(self.answer(declared), sort_keys=True)


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
