"""The bottom layer: the HTTP/1.1 server (limits, timeouts, streaming bodies) and the
request and response types every layer above shares."""
