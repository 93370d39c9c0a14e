"""Emits synthetic inference events (and their labels) with the Python emitter.

    python3 examples/emit_events.py --brokers 127.0.0.1:9092 --topic inference-events \\
        --registry http://127.0.0.1:8081/apis/ccompat/v7 --format avro --compression zstd --count 1000

The events have 8 numeric features f0..f7 (standard normal), two categorical ones c0 (a-d) and
c1 (x-z), and a score that depends on f1. Prints one JSON line with what was emitted and delivered.
"""

import argparse
import json
import math
import os
import random
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from driftstream_client import InferenceEmitter  # noqa: E402


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--brokers", default="127.0.0.1:9092")
    p.add_argument("--registry", default=None, help="schema registry URL (Avro only)")
    p.add_argument("--topic", default="inference-events")
    p.add_argument("--ground-truth-topic", default="ground-truth-events")
    p.add_argument("--format", choices=("avro", "json"), default="avro")
    p.add_argument("--compression", default="none")
    p.add_argument("--count", type=int, default=1000)
    p.add_argument("--model", default="credit-risk")
    p.add_argument("--labels", action="store_true", help="also emit a ground-truth event for every inference")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--prefix", default="py", help="eventId prefix")
    a = p.parse_args()

    r = random.Random(a.seed)
    started = time.time()
    with InferenceEmitter(a.brokers, registry_url=a.registry, topic=a.topic, ground_truth_topic=a.ground_truth_topic,
                          format=a.format, compression=a.compression) as emitter:
        for i in range(a.count):
            features = {f"f{k}": r.gauss(0, 1) for k in range(8)}
            features["c0"] = r.choice("abcd")
            features["c1"] = r.choice("xyz")
            score = 1 / (1 + math.exp(-features["f1"]))
            event_id = emitter.emit(a.model, features, score=score, prediction="1" if score >= 0.5 else "0",
                                    model_version="v1", event_id=f"{a.prefix}-{i}", attributes={"client": "python"})
            if a.labels:
                emitter.emit_ground_truth(event_id, a.model, "1" if r.random() < score else "0")
        emitter.flush()
        print(json.dumps({"emitted": emitter.emitted, "delivered": emitter.delivered, "seconds": round(time.time() - started, 3)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
