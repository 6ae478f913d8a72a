"""The Confluent wire format (magic byte 0, 4-byte schema id, Avro binary) over a Confluent-API schema registry."""
import io
import json
import os
import struct
import urllib.request

import avro.io
import avro.schema

CONTENT_TYPE = "application/vnd.schemaregistry.v1+json"


class Registry:
    """A small Confluent-API registry client: schemas by id (cached) and registration under a subject."""

    def __init__(self, url, timeout=10.0):
        self.url = url.rstrip("/")
        self.timeout = timeout
        self._by_id = {}

    def _call(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode("utf-8")
        request = urllib.request.Request(self.url + path, data=data, method=method,
                                         headers={"Accept": CONTENT_TYPE, "Content-Type": CONTENT_TYPE})
        with urllib.request.urlopen(request, timeout=self.timeout) as reply:
            return json.loads(reply.read().decode("utf-8"))

    def schema(self, schema_id):
        """The Avro schema with a global id."""
        if schema_id not in self._by_id:
            reply = self._call("GET", "/schemas/ids/%d" % schema_id)
            self._by_id[schema_id] = avro.schema.parse(reply["schema"])
        return self._by_id[schema_id]

    def register(self, subject, schema_json):
        """Registers a schema (JSON text) under a subject; returns its id (idempotent)."""
        reply = self._call("POST", "/subjects/%s/versions" % urllib.request.quote(subject, safe=""),
                           {"schema": schema_json})
        self._by_id.setdefault(reply["id"], avro.schema.parse(schema_json))
        return reply["id"]


def decode(registry, value):
    """Decodes one record value: a dict, read with the writer schema the id names."""
    if value is None or len(value) < 5 or value[0] != 0:
        raise ValueError("not the Confluent Avro wire format")
    (schema_id,) = struct.unpack(">I", value[1:5])
    schema = registry.schema(schema_id)
    return avro.io.DatumReader(schema, schema).read(avro.io.BinaryDecoder(io.BytesIO(value[5:])))


def encode(schema_id, schema, record):
    """Encodes a dict with a (parsed) schema in the wire format."""
    out = io.BytesIO()
    out.write(b"\x00" + struct.pack(">I", schema_id))
    avro.io.DatumWriter(schema).write(record, avro.io.BinaryEncoder(out))
    return out.getvalue()


def request_schema(schema_dir=None):
    """GenerationRequest's schema as one self-contained JSON text (SamplerSpec inlined), from the project's .avsc files.

    schema_dir defaults to the repository's schemas/src/main/avro next to this client.
    """
    if schema_dir is None:
        here = os.path.dirname(os.path.abspath(__file__))
        schema_dir = os.path.join(here, "..", "..", "..", "schemas", "src", "main", "avro")
    with open(os.path.join(schema_dir, "GenerationRequest.avsc")) as f:
        request = json.load(f)
    with open(os.path.join(schema_dir, "SamplerSpec.avsc")) as f:
        sampler = json.load(f)
    for field in request["fields"]:
        if field["name"] == "sampler":
            field["type"] = ["null", sampler]
    return json.dumps(request)
