"""A batching producer of driftstream events for Python prediction services (confluent-kafka)."""

from __future__ import annotations

import threading
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple, Union

from confluent_kafka import KafkaError, KafkaException, Producer

from .events import Timestamp, ground_truth_event, inference_event
from .wire import AvroWireEncoder, SchemaRegistry, encode_json, load_schema

COMPRESSIONS = ("none", "gzip", "snappy", "lz4", "zstd")


class EmitFailed(RuntimeError):
    """Kafka did not accept some events; `errors` holds the broker errors, `events` how many events."""

    def __init__(self, errors: List[KafkaError]):
        self.errors = errors
        self.events = len(errors)
        self.retriable = all(e.retriable() for e in errors)
        super().__init__(f"{len(errors)} event(s) were not delivered: {errors[0].str()}")


class InferenceEmitter:
    """Validates, encodes and sends inference and ground-truth events, keyed by modelId.

    Events are Avro in the Confluent wire format (schemas registered under `<topic>-value` on
    first use) or JSON. The Kafka client batches them: up to `batch_size` events per batch, a
    partial batch waits at most `linger_ms`. `emit` returns the eventId as soon as the event is
    queued; it waits only while `max_buffered_events` are unacknowledged. `flush()` waits for
    every acknowledgement and raises EmitFailed for events Kafka refused; `close()` flushes.

        with InferenceEmitter("kafka:9092", registry_url="http://registry:8081/apis/ccompat/v7") as em:
            event_id = em.emit("credit-risk", {"age": 42, "region": "north"}, score=0.81, prediction="1")
            em.emit_ground_truth(event_id, "credit-risk", "1")
    """

    def __init__(
        self,
        brokers: Union[str, List[str]],
        *,
        registry_url: Optional[str] = None,
        registry_auth: Optional[Tuple[str, str]] = None,
        topic: str = "inference-events",
        ground_truth_topic: str = "ground-truth-events",
        format: str = "avro",
        compression: str = "none",
        batch_size: int = 500,
        linger_ms: int = 20,
        max_buffered_events: int = 100_000,
        acks: str = "all",
        kafka_config: Optional[Mapping[str, Any]] = None,
        on_error: Optional[Callable[[KafkaError], None]] = None,
    ):
        if format not in ("avro", "json"):
            raise ValueError(f"format: expected avro or json, got {format!r}")
        if compression not in COMPRESSIONS:
            raise ValueError(f"compression: expected one of {', '.join(COMPRESSIONS)}, got {compression!r}")
        if format == "avro" and not registry_url:
            raise ValueError("registry_url is required for the avro format")
        self.topics = {"inference": topic, "groundTruth": ground_truth_topic}
        self.format = format
        self._registry = SchemaRegistry(registry_url, registry_auth) if format == "avro" else None
        self._encoders: Dict[str, AvroWireEncoder] = {}
        conf: Dict[str, Any] = {
            "bootstrap.servers": brokers if isinstance(brokers, str) else ",".join(brokers),
            "compression.type": compression,
            "batch.num.messages": batch_size,
            "linger.ms": linger_ms,
            "queue.buffering.max.messages": max_buffered_events,
            "acks": acks,
            # Keyed records land where the Java client and driftstream's own emitter put them.
            "partitioner": "murmur2_random",
        }
        if acks == "all":
            conf["enable.idempotence"] = True
        conf.update(kafka_config or {})
        self._producer = Producer(conf)
        self._errors: List[KafkaError] = []
        self._lock = threading.Lock()
        self._on_error = on_error
        self._closed = False
        self.emitted = 0
        self.delivered = 0

    def __enter__(self) -> "InferenceEmitter":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def emit(
        self,
        model_id: str,
        features: Mapping[str, Any],
        *,
        score: Optional[float] = None,
        prediction: Union[None, float, int, str] = None,
        model_version: Optional[str] = None,
        event_id: Optional[str] = None,
        timestamp: Timestamp = None,
        attributes: Optional[Mapping[str, str]] = None,
    ) -> str:
        """Queues one inference event; returns its eventId (a random UUID unless given)."""
        event = inference_event(
            model_id, features, score=score, prediction=prediction, model_version=model_version,
            event_id=event_id, timestamp=timestamp, attributes=attributes,
        )
        self._send("inference", "InferenceEvent", event)
        return event["eventId"]

    def emit_ground_truth(self, event_id: str, model_id: str, label: Union[float, int, str, bool], *, timestamp: Timestamp = None) -> str:
        """Queues the true outcome of the inference `event_id`."""
        self._send("groundTruth", "GroundTruthEvent", ground_truth_event(event_id, model_id, label, timestamp=timestamp))
        return event_id

    def flush(self, timeout: float = 30.0) -> None:
        """Sends everything queued, waits for the acknowledgements, raises EmitFailed for refused events."""
        left = self._producer.flush(timeout)
        if left > 0:
            raise TimeoutError(f"{left} event(s) still unacknowledged after {timeout} s")
        with self._lock:
            errors, self._errors = self._errors, []
        if errors:
            raise EmitFailed(errors)

    def close(self, timeout: float = 30.0) -> None:
        if self._closed:
            return
        self._closed = True
        self.flush(timeout)

    def _value(self, kind: str, schema_name: str, event: Dict[str, Any]) -> bytes:
        if self._registry is None:
            return encode_json(event)
        encoder = self._encoders.get(kind)
        if encoder is None:
            schema = load_schema(schema_name)
            encoder = AvroWireEncoder(schema, self._registry.register(f"{self.topics[kind]}-value", schema))
            self._encoders[kind] = encoder
        return encoder.encode(event)

    def _send(self, kind: str, schema_name: str, event: Dict[str, Any]) -> None:
        if self._closed:
            raise RuntimeError("the emitter is closed")
        value = self._value(kind, schema_name, event)
        while True:
            try:
                self._producer.produce(self.topics[kind], value=value, key=event["modelId"].encode("utf-8"), on_delivery=self._delivered)
                break
            except BufferError:
                # Backpressure: the local queue is full; serve acknowledgements until there is room.
                self._producer.poll(0.05)
        self.emitted += 1
        self._producer.poll(0)

    def _delivered(self, err: Optional[KafkaError], _msg: Any) -> None:
        if err is None:
            self.delivered += 1
            return
        with self._lock:
            self._errors.append(err)
        if self._on_error is not None:
            try:
                self._on_error(err)
            except Exception:  # a failing callback must not break the delivery bookkeeping
                pass


__all__ = ["InferenceEmitter", "EmitFailed", "COMPRESSIONS", "KafkaException"]
