"""Inference and ground-truth events, validated as the detector validates them.

The fields follow schemas/InferenceEvent.avsc and schemas/GroundTruthEvent.avsc; JSON carries the
same fields. A bad event raises EventInvalid naming the field, so it never reaches the topic.
"""

from __future__ import annotations

import datetime as _dt
import math
import uuid
from typing import Any, Dict, Mapping, Optional, Union

FeatureValue = Union[None, float, int, str, bool]
Timestamp = Union[None, int, float, _dt.datetime]

# Epoch milliseconds between 2000 and 2200: seconds or microseconds sent by mistake fall outside.
_MIN_MS = 946_684_800_000
_MAX_MS = 7_258_118_400_000
_MAX_ID = 256
_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)


class EventInvalid(ValueError):
    """An event that the detector would dead-letter; the message names the field."""


def _millis(ts: Timestamp) -> int:
    if ts is None:
        return int(_dt.datetime.now(_dt.timezone.utc).timestamp() * 1000)
    if isinstance(ts, _dt.datetime):
        if ts.tzinfo is None:
            raise EventInvalid("timestamp: a datetime needs a time zone")
        # Integer arithmetic: float seconds times 1000 can land a millisecond off.
        return (ts - _EPOCH) // _dt.timedelta(milliseconds=1)
    if isinstance(ts, bool) or not isinstance(ts, (int, float)) or not math.isfinite(ts):
        raise EventInvalid(f"timestamp: expected epoch milliseconds, got {ts!r}")
    ms = int(ts)
    if not _MIN_MS <= ms <= _MAX_MS:
        raise EventInvalid(f"timestamp: {ms} is not epoch milliseconds between 2000 and 2200")
    return ms


def _ident(name: str, value: Any) -> str:
    if not isinstance(value, str) or not 1 <= len(value) <= _MAX_ID:
        raise EventInvalid(f"{name}: expected a string of 1-{_MAX_ID} characters, got {value!r}")
    return value


def _feature(name: str, value: Any) -> FeatureValue:
    if value is None or isinstance(value, (str, bool)):
        return value
    if isinstance(value, (int, float)):
        if not math.isfinite(value):
            raise EventInvalid(f"features.{name}: {value!r} is not a finite number")
        # Integers go as doubles: the Avro union has no int branch, and the detector treats both alike.
        return float(value)
    raise EventInvalid(f"features.{name}: expected a number, string, boolean or None, got {type(value).__name__}")


def inference_event(
    model_id: str,
    features: Mapping[str, Any],
    *,
    score: Optional[float] = None,
    prediction: Union[None, float, int, str] = None,
    model_version: Optional[str] = None,
    event_id: Optional[str] = None,
    timestamp: Timestamp = None,
    attributes: Optional[Mapping[str, str]] = None,
) -> Dict[str, Any]:
    """An InferenceEvent as a dict (the Avro record and the JSON object alike)."""
    if not isinstance(features, Mapping):
        raise EventInvalid("features: expected a mapping of feature name to value")
    if score is not None:
        if isinstance(score, bool) or not isinstance(score, (int, float)) or not math.isfinite(score):
            raise EventInvalid(f"score: expected a finite number or None, got {score!r}")
        score = float(score)
    if prediction is not None and not isinstance(prediction, str):
        if isinstance(prediction, bool) or not isinstance(prediction, (int, float)) or not math.isfinite(prediction):
            raise EventInvalid(f"prediction: expected a string, a finite number or None, got {prediction!r}")
        prediction = float(prediction)
    attrs = dict(attributes or {})
    for k, v in attrs.items():
        if not isinstance(v, str):
            raise EventInvalid(f"attributes.{k}: expected a string, got {type(v).__name__}")
    if model_version is not None and not isinstance(model_version, str):
        raise EventInvalid(f"modelVersion: expected a string or None, got {model_version!r}")
    return {
        "eventId": _ident("eventId", event_id if event_id is not None else str(uuid.uuid4())),
        "modelId": _ident("modelId", model_id),
        "modelVersion": model_version,
        "timestamp": _millis(timestamp),
        "features": {str(k): _feature(str(k), v) for k, v in features.items()},
        "prediction": prediction,
        "score": score,
        "attributes": attrs,
    }


def ground_truth_event(event_id: str, model_id: str, label: Union[float, int, str, bool], *, timestamp: Timestamp = None) -> Dict[str, Any]:
    """A GroundTruthEvent: the true outcome of the inference `event_id`."""
    if isinstance(label, bool) or isinstance(label, str):
        pass
    elif isinstance(label, (int, float)) and math.isfinite(label):
        label = float(label)
    else:
        raise EventInvalid(f"label: expected a finite number, string or boolean, got {label!r}")
    return {"eventId": _ident("eventId", event_id), "modelId": _ident("modelId", model_id), "timestamp": _millis(timestamp), "label": label}
