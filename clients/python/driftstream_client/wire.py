"""Avro in the Confluent wire format, with schemas registered over the registry's REST API.

Magic byte 0, the schema id as a 4-byte big-endian integer, then the Avro binary body; the schema
is registered under `<topic>-value` (TopicNameStrategy), as Confluent's and Apicurio's serializers
do. Works with Apicurio Registry under /apis/ccompat/v7 and with Confluent Schema Registry.
"""

from __future__ import annotations

import base64
import datetime as _dt
import io
import json
import struct
import threading
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Dict, Mapping, Optional, Tuple

import avro.io
import avro.schema

_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)
SCHEMA_DIR = Path(__file__).resolve().parent / "schemas"


class RegistryError(RuntimeError):
    """The registry refused a schema or could not be reached."""


def load_schema(name: str) -> str:
    """The text of a driftstream schema (InferenceEvent, GroundTruthEvent)."""
    return (SCHEMA_DIR / f"{name}.avsc").read_text(encoding="utf-8")


class SchemaRegistry:
    """A minimal client of the Confluent-compatible REST API: register a subject's schema, cache its id."""

    def __init__(self, url: str, auth: Optional[Tuple[str, str]] = None, timeout: float = 10.0):
        self.url = url.rstrip("/")
        self.timeout = timeout
        self._auth = "Basic " + base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode() if auth else None
        self._ids: Dict[Tuple[str, str], int] = {}
        self._lock = threading.Lock()

    def register(self, subject: str, schema: str) -> int:
        key = (subject, schema)
        with self._lock:
            if key in self._ids:
                return self._ids[key]
        body = json.dumps({"schema": schema}).encode()
        req = urllib.request.Request(f"{self.url}/subjects/{urllib.request.quote(subject, safe='')}/versions", data=body, method="POST")
        req.add_header("Content-Type", "application/vnd.schemaregistry.v1+json")
        if self._auth:
            req.add_header("Authorization", self._auth)
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as res:
                schema_id = int(json.load(res)["id"])
        except urllib.error.HTTPError as err:
            raise RegistryError(f"registry refused the schema of {subject}: HTTP {err.code} {err.read()[:300]!r}") from err
        except (urllib.error.URLError, OSError) as err:
            raise RegistryError(f"cannot reach the schema registry at {self.url}: {err}") from err
        with self._lock:
            self._ids[key] = schema_id
        return schema_id


class AvroWireEncoder:
    """Encodes records of one schema in the Confluent wire format."""

    def __init__(self, schema: str, schema_id: int):
        self.schema_id = schema_id
        self._writer = avro.io.DatumWriter(avro.schema.parse(schema))
        self._prefix = struct.pack(">bI", 0, schema_id)

    def encode(self, record: Mapping[str, Any]) -> bytes:
        buf = io.BytesIO()
        buf.write(self._prefix)
        ts = record.get("timestamp")
        if isinstance(ts, int):
            # The Avro library takes timestamp-millis as a datetime; built from integer ms, it is exact.
            record = {**record, "timestamp": _EPOCH + _dt.timedelta(milliseconds=ts)}
        self._writer.write(record, avro.io.BinaryEncoder(buf))
        return buf.getvalue()


def decode_wire(value: bytes, schema: str) -> Tuple[int, Any]:
    """(schema id, record) of a wire-format value, for tests and tools."""
    if len(value) < 5 or value[0] != 0:
        raise ValueError("not the Confluent wire format (magic byte 0, 4-byte schema id)")
    (schema_id,) = struct.unpack(">I", value[1:5])
    reader = avro.io.DatumReader(avro.schema.parse(schema))
    return schema_id, reader.read(avro.io.BinaryDecoder(io.BytesIO(value[5:])))


def encode_json(record: Mapping[str, Any]) -> bytes:
    """The JSON form: a UTF-8 object, which the detector recognises by its first byte `{`."""
    return json.dumps(record, separators=(",", ":"), allow_nan=False).encode("utf-8")
