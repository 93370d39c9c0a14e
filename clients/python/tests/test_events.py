import datetime as dt
import json
import struct
import unittest

from driftstream_client import EventInvalid, decode_wire, encode_json, ground_truth_event, inference_event, load_schema
from driftstream_client.wire import AvroWireEncoder

TS = 1_764_900_000_123


class InferenceEventTest(unittest.TestCase):
    def test_fills_id_and_time_and_keeps_feature_types(self):
        ev = inference_event("credit-risk", {"age": 42, "ratio": 0.5, "region": "north", "vip": True, "gap": None}, score=0.8, prediction=1)
        self.assertEqual(len(ev["eventId"]), 36)
        now = dt.datetime.now(dt.timezone.utc).timestamp() * 1000
        self.assertLess(abs(ev["timestamp"] - now), 5_000)
        self.assertEqual(ev["features"], {"age": 42.0, "ratio": 0.5, "region": "north", "vip": True, "gap": None})
        self.assertIsInstance(ev["features"]["age"], float)
        self.assertIs(ev["features"]["vip"], True)
        self.assertEqual(ev["prediction"], 1.0)

    def test_rejects_what_the_detector_dead_letters(self):
        cases = [
            (dict(model_id="", features={}), "modelId"),
            (dict(model_id="m", features={"x": float("nan")}), "features.x"),
            (dict(model_id="m", features={"x": [1]}), "features.x"),
            (dict(model_id="m", features={}, timestamp=1_764_900_000), "timestamp"),  # seconds, not ms
            (dict(model_id="m", features={}, timestamp=dt.datetime(2026, 1, 1)), "timestamp"),  # naive datetime
            (dict(model_id="m", features={}, score=True), "score"),
            (dict(model_id="m", features={}, attributes={"segment": 3}), "attributes.segment"),
            (dict(model_id="m" * 257, features={}), "modelId"),
        ]
        for kwargs, field in cases:
            with self.subTest(field=field, kwargs=kwargs):
                with self.assertRaises(EventInvalid) as cm:
                    inference_event(**kwargs)
                self.assertTrue(str(cm.exception).startswith(field), str(cm.exception))

    def test_datetime_timestamp_is_exact_milliseconds(self):
        when = dt.datetime(2026, 12, 5, 8, 0, 0, 123000, tzinfo=dt.timezone.utc)
        self.assertEqual(inference_event("m", {}, timestamp=when)["timestamp"], 1_796_457_600_123)


class GroundTruthEventTest(unittest.TestCase):
    def test_label_types(self):
        self.assertIs(ground_truth_event("e", "m", True, timestamp=TS)["label"], True)
        self.assertEqual(ground_truth_event("e", "m", 1, timestamp=TS)["label"], 1.0)
        self.assertEqual(ground_truth_event("e", "m", "fraud", timestamp=TS)["label"], "fraud")
        with self.assertRaises(EventInvalid):
            ground_truth_event("e", "m", None, timestamp=TS)
        with self.assertRaises(EventInvalid):
            ground_truth_event("", "m", 1, timestamp=TS)


class WireFormatTest(unittest.TestCase):
    def test_confluent_header_and_round_trip(self):
        schema = load_schema("InferenceEvent")
        ev = inference_event("m", {"a": 1.5, "b": "x", "c": False, "d": None}, score=0.25, prediction="1", timestamp=TS, attributes={"segment": "web"})
        value = AvroWireEncoder(schema, 4242).encode(ev)
        self.assertEqual(value[0], 0)
        self.assertEqual(struct.unpack(">I", value[1:5])[0], 4242)
        schema_id, back = decode_wire(value, schema)
        self.assertEqual(schema_id, 4242)
        self.assertEqual(int(back["timestamp"].timestamp() * 1000), TS)
        # Union branches survive: a boolean is not written as the double 0.0, a string stays a string.
        self.assertIs(back["features"]["c"], False)
        self.assertEqual(back["features"], {"a": 1.5, "b": "x", "c": False, "d": None})
        self.assertEqual({k: back[k] for k in ("eventId", "modelId", "score", "prediction", "attributes")},
                         {k: ev[k] for k in ("eventId", "modelId", "score", "prediction", "attributes")})

    def test_ground_truth_round_trip(self):
        schema = load_schema("GroundTruthEvent")
        for label in (True, 0.0, "fraud"):
            with self.subTest(label=label):
                _, back = decode_wire(AvroWireEncoder(schema, 1).encode(ground_truth_event("e", "m", label, timestamp=TS)), schema)
                self.assertEqual(back["label"], label)
                self.assertIs(type(back["label"]), type(label))

    def test_json_is_an_object_without_nan(self):
        value = encode_json(inference_event("m", {"a": 1}, timestamp=TS))
        self.assertEqual(value[:1], b"{")
        self.assertEqual(json.loads(value)["timestamp"], TS)
        with self.assertRaises(ValueError):
            encode_json({"x": float("nan")})


if __name__ == "__main__":
    unittest.main()
