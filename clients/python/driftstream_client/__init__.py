"""Python producers of driftstream events: an emitter for prediction services and labelling jobs."""

from .events import EventInvalid, ground_truth_event, inference_event
from .wire import AvroWireEncoder, RegistryError, SchemaRegistry, decode_wire, encode_json, load_schema

__all__ = [
    "EventInvalid",
    "inference_event",
    "ground_truth_event",
    "AvroWireEncoder",
    "SchemaRegistry",
    "RegistryError",
    "decode_wire",
    "encode_json",
    "load_schema",
    "InferenceEmitter",
    "EmitFailed",
]


def __getattr__(name: str):
    # The emitter needs confluent-kafka; the event and wire helpers do not.
    if name in ("InferenceEmitter", "EmitFailed", "COMPRESSIONS"):
        from . import emitter

        return getattr(emitter, name)
    raise AttributeError(name)
