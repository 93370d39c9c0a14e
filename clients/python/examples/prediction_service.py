"""An example prediction service that reports every prediction to driftstream.

FastAPI when it is installed (Debian: python3-fastapi python3-uvicorn), run with

    DRIFTSTREAM_KAFKA_BROKERS=127.0.0.1:9092 \\
    DRIFTSTREAM_SCHEMA_REGISTRY_URL=http://127.0.0.1:8081/apis/ccompat/v7 \\
    python3 -m uvicorn prediction_service:app --app-dir clients/python/examples --port 8000

POST /predict {"features": {...}} answers {"eventId", "score", "prediction"} and emits the
InferenceEvent; POST /feedback {"eventId", "label"} emits the GroundTruthEvent. The emitter
batches in the background, so a request never waits for Kafka.
"""

import math
import os
import sys
from typing import Any, Dict

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from fastapi import FastAPI, HTTPException  # noqa: E402

from driftstream_client import EventInvalid, InferenceEmitter  # noqa: E402

MODEL_ID = os.environ.get("MODEL_ID", "credit-risk")
MODEL_VERSION = "2026-12-01"

app = FastAPI(title="credit-risk prediction service")
emitter: InferenceEmitter


@app.on_event("startup")
def start_emitter() -> None:
    global emitter
    registry = os.environ.get("DRIFTSTREAM_SCHEMA_REGISTRY_URL")
    emitter = InferenceEmitter(
        os.environ.get("DRIFTSTREAM_KAFKA_BROKERS", "127.0.0.1:9092"),
        registry_url=registry,
        format="avro" if registry else "json",
        topic=os.environ.get("DRIFTSTREAM_INFERENCE_TOPIC", "inference-events"),
        ground_truth_topic=os.environ.get("DRIFTSTREAM_GROUND_TRUTH_TOPIC", "ground-truth-events"),
        compression=os.environ.get("DRIFTSTREAM_KAFKA_COMPRESSION", "lz4"),
    )


@app.on_event("shutdown")
def stop_emitter() -> None:
    emitter.close()


def predict_score(features: Dict[str, Any]) -> float:
    """The model: a logistic function of f1 (a stand-in for a real one)."""
    return 1 / (1 + math.exp(-float(features.get("f1", 0.0))))


@app.post("/predict")
def predict(body: Dict[str, Any]) -> Dict[str, Any]:
    features = body.get("features")
    if not isinstance(features, dict):
        raise HTTPException(status_code=400, detail="features: expected an object")
    try:
        score = predict_score(features)
    except (TypeError, ValueError):
        raise HTTPException(status_code=400, detail="features.f1: expected a number")
    prediction = "1" if score >= 0.5 else "0"
    try:
        event_id = emitter.emit(MODEL_ID, features, score=score, prediction=prediction, model_version=MODEL_VERSION,
                                event_id=body.get("requestId"), attributes={"channel": str(body.get("channel", "api"))})
    except EventInvalid as err:
        raise HTTPException(status_code=400, detail=str(err))
    return {"eventId": event_id, "score": score, "prediction": prediction}


@app.post("/feedback")
def feedback(body: Dict[str, Any]) -> Dict[str, Any]:
    try:
        emitter.emit_ground_truth(str(body.get("eventId", "")), MODEL_ID, body.get("label"))
    except EventInvalid as err:
        raise HTTPException(status_code=400, detail=str(err))
    return {"ok": True}


@app.post("/flush")
def flush() -> Dict[str, Any]:
    """Waits until every event so far is acknowledged (for tests and graceful drains)."""
    emitter.flush()
    return {"emitted": emitter.emitted, "delivered": emitter.delivered}
