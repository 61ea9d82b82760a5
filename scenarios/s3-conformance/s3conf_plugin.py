"""pytest plugin loaded by run.sh (-p s3conf_plugin): a per-test time limit.

The suite has no timeouts of its own and botocore waits 60 s per read; one request the server
never answers would otherwise stall the whole run. SIGALRM fails the test instead.
"""
import os
import signal

import botocore.endpoint
import pytest

_LIMIT = int(os.environ.get("S3CONF_TEST_TIMEOUT", "120"))

# A stuck response should cost seconds, not a minute per retry.
botocore.endpoint.DEFAULT_TIMEOUT = min(botocore.endpoint.DEFAULT_TIMEOUT, 30)


class TestTimeout(Exception):
    pass


def _on_alarm(signum, frame):
    raise TestTimeout("test exceeded %d s (S3CONF_TEST_TIMEOUT)" % _LIMIT)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    previous = signal.signal(signal.SIGALRM, _on_alarm)
    signal.alarm(_LIMIT)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
