"""One keep-alive HTTP connection to the server, used by the delivery thread only.

http.client over one socket that stays open between batches. A request that
fails on a connection kept from an earlier request (the server may have
closed it meanwhile) is tried once more on a fresh connection before the
failure is reported; any failure closes the connection, so the next request
starts afresh. Failures are reported as exceptions (OSError or
http.client.HTTPException); HTTP answers, whatever their status, as values.
"""

import http.client
import socket
import urllib.parse

_VERSION = "0.1.0"


class Answer:
    __slots__ = ("status", "headers", "body")

    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers  # lower-case names
        self.body = body


class Transport:
    def __init__(self, url, api_key, timeout):
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("url must be http://host[:port] or https://host[:port], not %r" % url)
        self._https = parts.scheme == "https"
        self._host = parts.hostname
        self._port = parts.port or (443 if self._https else 80)
        self._prefix = parts.path.rstrip("/")
        self._timeout = timeout
        self._conn = None
        self._used = False  # the connection has answered a request already
        self._headers = {"User-Agent": "observability-python/" + _VERSION}
        if api_key:
            self._headers["Authorization"] = "Bearer " + api_key

    def _connect(self):
        if self._https:
            conn = http.client.HTTPSConnection(self._host, self._port, timeout=self._timeout)
        else:
            conn = http.client.HTTPConnection(self._host, self._port, timeout=self._timeout)
        conn.connect()
        conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._conn = conn
        self._used = False

    def request(self, method, path, body=None, headers=None, timeout=None):
        """Sends one request and reads the whole answer. `timeout` (seconds)
        caps this request below the configured timeout."""
        all_headers = dict(self._headers)
        if headers:
            all_headers.update(headers)
        for attempt in (0, 1):
            reused = self._conn is not None and self._used
            try:
                if self._conn is None:
                    self._connect()
                self._conn.sock.settimeout(min(self._timeout, timeout) if timeout is not None else self._timeout)
                self._conn.request(method, self._prefix + path, body=body, headers=all_headers)
                response = self._conn.getresponse()
                data = response.read()
                self._used = True
                answer = Answer(response.status, {k.lower(): v for k, v in response.getheaders()}, data)
                if response.will_close:
                    self.close()
                return answer
            except (OSError, http.client.HTTPException) as e:
                self.close()
                if attempt == 0 and reused and not isinstance(e, TimeoutError):
                    if hasattr(body, "seek"):
                        body.seek(0)
                    continue
                raise
        raise AssertionError("unreachable")

    def close(self):
        if self._conn is not None:
            try:
                self._conn.close()
            finally:
                self._conn = None
