"""The one piece of GCS that fake-gcs-server lacks and delta-rs needs, in front of it.

delta-rs' object_store writes GCS objects through the XML API (`PUT /bucket/object`, with
`x-goog-if-generation-match: 0` for a create); fake-gcs-server 1.56 implements only the JSON
API's uploads and answers such a PUT with 400 "invalid uploadType"
(fsouza/fake-gcs-server#331). Real GCS takes both. This adapter turns each such PUT into the
JSON API's media upload of the same object with the same precondition, and answers as the XML
API would (ETag and x-goog-generation headers, 412 when the object exists). fake-gcs-server's
XML listing also ignores `start-after` (delta-rs lists the log from its last version and then
finds versions it already has: "Invalid table version"): the adapter drops those keys. Every
other request is forwarded unchanged. Tributary talks to fake-gcs-server directly.

It runs as its own process (`python gcs_xml_adapter.py http://host:port` prints its endpoint and
serves until killed): deltalake holds the GIL in some blocking calls, so a server thread inside
the test process would wait for the very request it is meant to answer.
"""

import http.client
import http.server
import json
import sys
import urllib.parse
import xml.etree.ElementTree as ET


def serve(upstream):
    """The adapter's server for `upstream` (http://host:port), bound to a free loopback port."""
    up = urllib.parse.urlsplit(upstream)

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def _body(self):
            n = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(n) if n else b""

        def _send(self, status, headers, body):
            self.send_response(status)
            # A HEAD answer's Content-Length is the object's size, not its (empty) body's.
            keep_length = self.command == "HEAD"
            skip = {"transfer-encoding", "connection"} | (set() if keep_length else {"content-length"})
            for k, v in headers:
                if k.lower() not in skip:
                    self.send_header(k, v)
            if not keep_length:
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def _upstream(self, method, path, body, headers):
            c = http.client.HTTPConnection(up.hostname, up.port, timeout=60)
            try:
                c.request(method, path, body=body, headers=headers)
                r = c.getresponse()
                return r.status, r.getheaders(), r.read()
            finally:
                c.close()

        def _forward(self):
            body = self._body()
            headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
            self._send(*self._upstream(self.command, self.path, body, headers))

        def do_PUT(self):
            split = urllib.parse.urlsplit(self.path)
            bucket, _, name = split.path.lstrip("/").partition("/")
            if split.query or not name:
                return self._forward()
            # object_store percent-encodes every non-alphanumeric character, the bucket's "-" too.
            bucket = urllib.parse.unquote(bucket)
            body = self._body()
            params = {"uploadType": "media", "name": urllib.parse.unquote(name)}
            match = self.headers.get("x-goog-if-generation-match")
            if match is not None:
                params["ifGenerationMatch"] = match
            path = f"/upload/storage/v1/b/{urllib.parse.quote(bucket, safe='')}/o?{urllib.parse.urlencode(params)}"
            ctype = self.headers.get("Content-Type") or "application/octet-stream"
            status, headers, answer = self._upstream("POST", path, body, {"Content-Type": ctype})
            if status == 200:
                obj = json.loads(answer)
                return self._send(200, [("ETag", f'"{obj.get("etag", "")}"'), ("x-goog-generation", str(obj.get("generation", "")))], b"")
            if status == 412:
                xml = b"<?xml version='1.0' encoding='UTF-8'?><Error><Code>PreconditionFailed</Code><Message>At least one of the pre-conditions you specified did not hold.</Message></Error>"
                return self._send(412, [("Content-Type", "application/xml")], xml)
            return self._send(status, headers, answer)

        def do_GET(self):
            split = urllib.parse.urlsplit(self.path)
            query = urllib.parse.parse_qs(split.query)
            after = query.get("start-after", [None])[0]
            if query.get("list-type") != ["2"] or after is None:
                return self._forward()
            headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection", "accept-encoding")}
            status, answer_headers, answer = self._upstream("GET", self.path, None, headers)
            if status != 200:
                return self._send(status, answer_headers, answer)
            root = ET.fromstring(answer)
            for c in root.findall("Contents"):
                if c.findtext("Key") <= after:
                    root.remove(c)
            count = root.find("KeyCount")
            if count is not None:
                count.text = str(len(root.findall("Contents")))
            return self._send(200, [("Content-Type", "application/xml")], ET.tostring(root, encoding="utf-8", xml_declaration=True))

        do_HEAD = do_POST = do_DELETE = _forward

    return http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)


if __name__ == "__main__":
    server = serve(sys.argv[1])
    print(f"http://127.0.0.1:{server.server_address[1]}", flush=True)
    server.serve_forever()
