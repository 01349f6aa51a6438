"""A model's CustomAttributes cannot shape the InvokeEndpoint response's headers.

Finding (issue "Contain untrusted model code", part 6): a non-Latin-1 character in the
CustomAttributes a model returns hung the connection, and CR/LF could inject headers.
AWS page checked: SageMaker Runtime API, InvokeEndpoint, response CustomAttributes: "The
value must consist of no more than 1024 visible US-ASCII characters as specified in
Section 3.3.6. Field Value Components of the Hypertext Transfer Protocol (HTTP/1.1)."
Cove keeps a valid value and drops one that breaks that rule (and logs it).
"""

from __future__ import annotations

import json
from pathlib import Path

from models import delete, deploy, pack, sklearn_model, upload

SCRIPT = """
import json, os, joblib

def model_fn(model_dir):
    return joblib.load(os.path.join(model_dir, "model.joblib"))

def input_fn(body, content_type):
    return json.loads(body)["attrs"]

def predict_fn(attrs, model):
    return attrs

def output_fn(attrs, accept, context):
    context.set_custom_attributes(attrs)
    return "{}", "application/json"
"""
CASES = {
    "trace=abc-123": "trace=abc-123",  # valid: forwarded verbatim
    "a\r\nX-Injected: yes": None,
    "caf\u00e9": None,  # Latin-1 but not US-ASCII
    "\u20ac": None,  # not even Latin-1: this one hung the connection
    "x" * 1025: None,
}


def test_model_custom_attributes_are_validated(server, tmp_path: Path) -> None:
    url = upload(server, pack(sklearn_model(tmp_path / "attrs", SCRIPT)))
    name = deploy(server, "sklearn", url)
    rt = server.client("sagemaker-runtime")
    try:
        for attrs, expected in CASES.items():
            resp = rt.invoke_endpoint(EndpointName=name, Body=json.dumps({"attrs": attrs}),
                                      ContentType="application/json")
            headers = resp["ResponseMetadata"]["HTTPHeaders"]
            assert "x-injected" not in headers
            assert resp.get("CustomAttributes") == expected, attrs[:20]
    finally:
        delete(server, name)
