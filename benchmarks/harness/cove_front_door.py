"""Cove behind seed 004's front door (issue #13's row): POST through an API Gateway invoke
URL, whose non-proxy Lambda integration runs a warm function that calls InvokeEndpoint
with boto3 and returns the model's answer. Beside the `cove` row (direct InvokeEndpoint)
it shows what the two extra hops cost. `start` returns the function's cold start: from
CreateFunction's answer (the package unpacked, the function Active) to the first answer
through the API, whose worker starts then (interpreter, boto3 import, the handler's
client).
"""

from __future__ import annotations

import io
import json
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from harness.cove import NAME, REGION, Cove
from harness.model import Artifact
from harness.targets import first_number, send
from harness.wrk import HttpRequest

FUNCTION = "bench-front-door"
# The seed's handler, minus its prints and label mapping: the model's answer passes back.
HANDLER = '''import os
import boto3

runtime = boto3.client("sagemaker-runtime")


def lambda_handler(event, context):
    answer = runtime.invoke_endpoint(EndpointName=os.environ["ENDPOINT_NAME"],
                                     ContentType="text/csv", Body=event["data"])
    return answer["Body"].read().decode()
'''
TRUST = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
         "Principal": {"Service": "lambda.amazonaws.com"}}]}  # fmt: skip
INVOKE = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Resource": "*",
          "Action": "sagemaker:InvokeEndpoint"}]}  # fmt: skip


class CoveFrontDoor(Cove):
    name, role = "cove-apigw", "cove-apigw"

    def start(self, artifact: Artifact, work: Path) -> float:
        super().start(artifact, work)
        iam = self._client("iam", self._data_dir)
        iam.create_role(RoleName=FUNCTION, AssumeRolePolicyDocument=json.dumps(TRUST))
        iam.put_role_policy(RoleName=FUNCTION, PolicyName="invoke",
                            PolicyDocument=json.dumps(INVOKE))
        package = io.BytesIO()
        with zipfile.ZipFile(package, "w") as archive:
            archive.writestr("lambda_function.py", HANDLER)
        lam = self._client("lambda", self._data_dir)
        function = lam.create_function(
            FunctionName=FUNCTION, Runtime="python3.11", Handler="lambda_function.lambda_handler",
            Role=f"arn:aws:iam::000000000000:role/{FUNCTION}", Code={"ZipFile": package.getvalue()},
            Environment={"Variables": {"ENDPOINT_NAME": NAME}}, Timeout=30,
        )  # fmt: skip
        lam.get_waiter("function_active_v2").wait(
            FunctionName=FUNCTION, WaiterConfig={"Delay": 0.05, "MaxAttempts": 400}
        )
        created = time.monotonic()
        apigw = self._client("apigateway", self._data_dir)
        api = apigw.create_rest_api(name="BenchFrontDoor")["id"]
        root = apigw.get_resources(restApiId=api)["items"][0]["id"]
        resource = apigw.create_resource(restApiId=api, parentId=root, pathPart="predict")["id"]
        common = {"restApiId": api, "resourceId": resource, "httpMethod": "POST"}
        apigw.put_method(**common, authorizationType="NONE")
        apigw.put_integration(
            **common, type="AWS", integrationHttpMethod="POST",
            uri=f"arn:aws:apigateway:{REGION}:lambda:path/2015-03-31/functions/"
                f"{function['FunctionArn']}/invocations",
        )  # fmt: skip
        apigw.put_method_response(**common, statusCode="200")
        apigw.put_integration_response(**common, statusCode="200")
        lam.add_permission(FunctionName=FUNCTION, StatementId="apigateway",
                           Action="lambda:InvokeFunction", Principal="apigateway.amazonaws.com",
                           SourceArn=f"arn:aws:execute-api:{REGION}:000000000000:{api}/*")
        apigw.create_deployment(restApiId=api, stageName="bench")
        self._api = api
        self._artifact = artifact
        configured = time.monotonic() - created
        started = time.monotonic()
        status, body = send(self.request(), timeout=30)
        cold = time.monotonic() - started
        if status != 200:
            raise RuntimeError(f"the invoke URL answered {status}: {body[:300]!r}")
        self._configured_s = configured
        return cold

    def request(self) -> HttpRequest:
        body = json.dumps({"data": self._artifact.csv_row.decode()}).encode()
        return HttpRequest("POST", "/bench/predict", {"Content-Type": "application/json"},
                           body, "127.0.0.1", self.port,
                           name=f"{self._api}.execute-api.localhost")

    def verify(self, artifact: Artifact) -> None:
        super(Cove, self).verify(artifact)  # the invoke URL's answer, not boto3's
        self._settle()

    def _settle(self, width: int = 8, fast_s: float = 0.1, timeout_s: float = 120.0) -> None:
        """The check's concurrent copies started workers whose cold starts (boto3's import)
        still run on the server's CPU: wait until `width` requests at once all answer fast,
        so the timed runs measure warm workers, as the row means to."""
        deadline = time.monotonic() + timeout_s
        with ThreadPoolExecutor(width) as pool:
            while time.monotonic() < deadline:
                def timed(_: int) -> float:
                    started = time.monotonic()
                    send(self.request(), timeout=30)
                    return time.monotonic() - started

                if max(pool.map(timed, range(width))) < fast_s:
                    return
        raise RuntimeError(f"the function's workers were not warm after {timeout_s:.0f} s")

    def prediction(self, body: bytes) -> float:
        return first_number(json.loads(body).encode())  # the function returned a string

    def describe(self) -> str:
        return f"{super().describe()}; API and permission set up in {self._configured_s:.2f} s"
