"""Seed 004 end to end: train SageMaker's built-in linear learner on the breast-cancer data,
deploy it behind a 2-instance endpoint, and put the seed's front door before it: its Lambda
function (seed004/lambda_function.py, verbatim) under a role allowed only
sagemaker:InvokeEndpoint, behind an API Gateway REST API `BreastCancerPrediction` whose
`predictbreastcancer` POST is integrated with the function, deployed to a `test` stage;
then POST the seed's body to the invoke URL, as the seed's client does.

Uses boto3 only. Where to send requests comes from the environment, e.g. after
`eval "$(cove env)"` (AWS_ENDPOINT_URL, credentials, AWS_DEFAULT_REGION).

    python examples/breast_cancer.py            # train, deploy, invoke; leave it running
    python examples/breast_cancer.py --cleanup  # ... then delete what it created
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import io
import json
import sys
import time
import zipfile
from pathlib import Path
from urllib.parse import urlsplit

import boto3
import numpy as np
from botocore.exceptions import ClientError
from sklearn.datasets import load_breast_cancer

# The validation row from the seed; its answer there is "B".
SEED_ROW = (
    "13.49,22.3,86.91,561.0,0.08752,0.07697999999999999,0.047510000000000004,"
    "0.033839999999999995,0.1809,0.057179999999999995,0.2338,1.3530000000000002,1.735,20.2,"
    "0.004455,0.013819999999999999,0.02095,0.01184,0.01641,0.001956,15.15,31.82,99.0,698.8,"
    "0.1162,0.1711,0.2282,0.1282,0.2871,0.06917000000000001"
)
PREFIX = "sagemaker/DEMO-breast-cancer-prediction"
# Account that publishes the built-in linear-learner image in a few regions.
IMAGE_ACCOUNTS = {
    "us-east-1": "382416733822",
    "us-east-2": "404615174143",
    "us-west-2": "174872318107",
    "eu-west-1": "438346466558",
}
ROLE = "arn:aws:iam::000000000000:role/cove"
FUNCTION_CODE = Path(__file__).parent / "seed004" / "lambda_function.py"
# The seed's role policy for the function, exactly.
SEED_POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Sid": "VisualEditor0", "Effect": "Allow",
                   "Action": "sagemaker:InvokeEndpoint", "Resource": "*"}],
}
LAMBDA_TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                   "Action": "sts:AssumeRole"}],
}


def step(message: str) -> None:
    print(f"\n==> {message}", flush=True)


def info(message: str) -> None:
    print(f"    {message}", flush=True)


def split_data(seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """80/20 train/validation split; rows are `label, 30 features`, malignant = 1."""
    data = load_breast_cancer()
    labels = 1 - data.target  # scikit-learn codes malignant as 0; the seed's model uses 1
    rows = np.column_stack([labels, data.data])
    rng = np.random.default_rng(seed)
    rows = rows[rng.permutation(len(rows))]
    cut = int(0.8 * len(rows))
    return rows[:cut], rows[cut:]


def to_csv(rows: np.ndarray) -> bytes:
    out = io.StringIO()
    np.savetxt(out, rows, delimiter=",", fmt="%.17g")
    return out.getvalue().encode()


def ensure_bucket(s3, bucket: str, region: str) -> None:  # type: ignore[no-untyped-def]
    try:
        if region == "us-east-1":
            s3.create_bucket(Bucket=bucket)
        else:
            s3.create_bucket(
                Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": region}
            )
        info(f"created bucket s3://{bucket}")
    except ClientError as exc:
        if exc.response["Error"]["Code"] not in ("BucketAlreadyOwnedByYou",
                                                  "BucketAlreadyExists"):
            raise
        info(f"using existing bucket s3://{bucket}")


def wait_for_training(sm, name: str) -> dict:  # type: ignore[no-untyped-def]
    """Poll DescribeTrainingJob, printing each secondary status as it starts."""
    seen = 0
    while True:
        job = sm.describe_training_job(TrainingJobName=name)
        transitions = job.get("SecondaryStatusTransitions", [])
        for t in transitions[seen:]:
            info(f"{t['Status']:<12} {t.get('StatusMessage', '')}")
        seen = len(transitions)
        if job["TrainingJobStatus"] in ("Completed", "Failed", "Stopped"):
            return job
        time.sleep(1)


def wait_for_endpoint(sm, name: str) -> dict:  # type: ignore[no-untyped-def]
    last = None
    while True:
        endpoint = sm.describe_endpoint(EndpointName=name)
        status = endpoint["EndpointStatus"]
        if status != last:
            info(f"endpoint {name}: {status}")
            last = status
        if status in ("InService", "Failed"):
            return endpoint
        time.sleep(1)


def predicted_label(body: bytes) -> str:
    """What the seed's Lambda does with the endpoint's answer."""
    result = json.loads(body.decode())
    pred = int(result["predictions"][0]["predicted_label"])
    return "M" if pred == 1 else "B"


def run(args: argparse.Namespace) -> int:
    session = boto3.session.Session()
    region = session.region_name or "us-east-1"
    s3 = session.client("s3")
    sm = session.client("sagemaker")
    runtime = session.client("sagemaker-runtime")
    stamp = time.strftime("%Y%m%d-%H%M%S")
    job_name = f"{args.name}-{stamp}"
    print(f"Cove breast-cancer walkthrough (seed 004) against {sm.meta.endpoint_url}")

    step("Split scikit-learn's breast-cancer data (569 rows, 30 features, malignant = 1)")
    train, validation = split_data()
    info(f"train: {len(train)} rows, validation: {len(validation)} rows")

    step(f"Upload train/validation CSVs to s3://{args.bucket}/{PREFIX}/")
    ensure_bucket(s3, args.bucket, region)
    for channel, rows in (("train", train), ("validation", validation)):
        key = f"{PREFIX}/{channel}/linear_{channel}.data"
        s3.put_object(Bucket=args.bucket, Key=key, Body=to_csv(rows))
        info(f"s3://{args.bucket}/{key}")

    image = f"{IMAGE_ACCOUNTS.get(region, IMAGE_ACCOUNTS['us-east-1'])}.dkr.ecr.{region}" \
            ".amazonaws.com/linear-learner:1"
    step(f"Train the built-in linear learner: training job {job_name}")
    info(f"image {image}")

    def channel(name: str) -> dict:
        return {
            "ChannelName": name,
            "ContentType": "text/csv",
            "DataSource": {"S3DataSource": {
                "S3DataType": "S3Prefix",
                "S3Uri": f"s3://{args.bucket}/{PREFIX}/{name}/",
                "S3DataDistributionType": "FullyReplicated",
            }},
        }

    sm.create_training_job(
        TrainingJobName=job_name,
        AlgorithmSpecification={"TrainingImage": image, "TrainingInputMode": "File"},
        RoleArn=ROLE,
        HyperParameters={"predictor_type": "binary_classifier", "feature_dim": "30"},
        InputDataConfig=[channel("train"), channel("validation")],
        OutputDataConfig={"S3OutputPath": f"s3://{args.bucket}/{PREFIX}/output"},
        ResourceConfig={"InstanceType": "ml.m5.large", "InstanceCount": 1,
                        "VolumeSizeInGB": 10},
        StoppingCondition={"MaxRuntimeInSeconds": 3600},
    )
    job = wait_for_training(sm, job_name)
    if job["TrainingJobStatus"] != "Completed":
        print(f"Training {job['TrainingJobStatus']}: {job.get('FailureReason')}",
              file=sys.stderr)
        return 1
    metrics = {m["MetricName"]: m["Value"] for m in job.get("FinalMetricDataList", [])}
    accuracy = metrics.get("validation:binary_classification_accuracy", float("nan"))
    artifact = job["ModelArtifacts"]["S3ModelArtifacts"]
    info(f"model: {artifact}")
    info(f"billable seconds: {job.get('BillableTimeInSeconds')}")
    print(f"Validation accuracy: {accuracy:.4f}", flush=True)

    step(f"Deploy: model, endpoint config and 2-instance endpoint {args.endpoint_name}")
    sm.create_model(
        ModelName=job_name,
        ExecutionRoleArn=ROLE,
        PrimaryContainer={"Image": image, "ModelDataUrl": artifact},
    )
    info(f"model {job_name}")
    sm.create_endpoint_config(
        EndpointConfigName=job_name,
        ProductionVariants=[{
            "VariantName": "AllTraffic",
            "ModelName": job_name,
            "InstanceType": "ml.m5.large",
            "InitialInstanceCount": 2,
        }],
    )
    info(f"endpoint config {job_name}")
    previous_config = None
    try:
        previous_config = sm.describe_endpoint(EndpointName=args.endpoint_name)[
            "EndpointConfigName"]
        sm.update_endpoint(EndpointName=args.endpoint_name, EndpointConfigName=job_name)
        info("the endpoint exists: updating it to the new model")
    except ClientError as exc:
        if "Could not find endpoint" not in str(exc):
            raise
        sm.create_endpoint(EndpointName=args.endpoint_name, EndpointConfigName=job_name)
    endpoint = wait_for_endpoint(sm, args.endpoint_name)
    if endpoint["EndpointStatus"] != "InService":
        print(f"Endpoint failed: {endpoint.get('FailureReason')}", file=sys.stderr)
        return 1
    if previous_config and previous_config != job_name:
        _delete_config_and_model(sm, previous_config)

    step("Invoke it with the seed's row, as the seed's Lambda does")
    response = runtime.invoke_endpoint(
        EndpointName=args.endpoint_name, ContentType="text/csv", Body=SEED_ROW
    )
    body = response["Body"].read()
    info(f"response ({response['ContentType']}): {body.decode()}")
    print(f"Prediction for the seed's row: {predicted_label(body)}", flush=True)

    step("Score the whole validation set through the endpoint (one CSV request)")
    response = runtime.invoke_endpoint(
        EndpointName=args.endpoint_name,
        ContentType="text/csv",
        Body=to_csv(validation[:, 1:]),
    )
    predictions = json.loads(response["Body"].read())["predictions"]
    labels = np.array([p["predicted_label"] for p in predictions])
    info(f"endpoint accuracy on {len(labels)} validation rows: "
         f"{np.mean(labels == validation[:, 0]):.4f}")

    malignant = validation[(validation[:, 0] == 1) & (validation[:, 1] > 20)][0, 1:]
    front_door(session, args, region, ",".join(repr(float(v)) for v in malignant))

    if args.cleanup:
        cleanup_front_door(session, args)
        cleanup(sm, s3, args, job_name)
    else:
        step("Done; the endpoint keeps serving")
        info(f"delete everything with: python {sys.argv[0]} --cleanup")
    return 0


def front_door(session, args: argparse.Namespace, region: str, malignant_row: str) -> None:  # type: ignore[no-untyped-def]
    iam, lam, apigw = session.client("iam"), session.client("lambda"), session.client("apigateway")
    account = session.client("sts").get_caller_identity()["Account"]
    step(f"A role for the function with the seed's policy only: {args.function_name}-role")
    role = f"{args.function_name}-role"
    with contextlib.suppress(iam.exceptions.EntityAlreadyExistsException):
        iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps(LAMBDA_TRUST))
    iam.put_role_policy(RoleName=role, PolicyName="invoke-endpoint",
                        PolicyDocument=json.dumps(SEED_POLICY))
    role_arn = f"arn:aws:iam::{account}:role/{role}"

    step(f"The seed's Lambda function, verbatim, zipped as lambda_function.py: "
         f"{args.function_name}")
    package = io.BytesIO()
    with zipfile.ZipFile(package, "w") as archive:
        archive.writestr("lambda_function.py", FUNCTION_CODE.read_text())
    with contextlib.suppress(lam.exceptions.ResourceNotFoundException):
        lam.delete_function(FunctionName=args.function_name)  # a previous run's
    function = lam.create_function(
        FunctionName=args.function_name, Runtime="python3.11", Role=role_arn,
        Handler="lambda_function.lambda_handler", Code={"ZipFile": package.getvalue()},
        Environment={"Variables": {"ENDPOINT_NAME": args.endpoint_name}}, Timeout=30,
    )  # fmt: skip
    lam.get_waiter("function_active_v2").wait(FunctionName=args.function_name)
    info(f"{function['FunctionArn']} (Active)")

    step("API Gateway: REST API BreastCancerPrediction, POST /predictbreastcancer -> Lambda")
    api = apigw.create_rest_api(name="BreastCancerPrediction")["id"]
    root = next(r["id"] for r in apigw.get_resources(restApiId=api)["items"] if r["path"] == "/")
    resource = apigw.create_resource(restApiId=api, parentId=root,
                                     pathPart="predictbreastcancer")["id"]
    common = {"restApiId": api, "resourceId": resource, "httpMethod": "POST"}
    apigw.put_method(**common, authorizationType="NONE")
    apigw.put_integration(
        **common, type="AWS", integrationHttpMethod="POST",
        uri=f"arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/"
            f"{function['FunctionArn']}/invocations",
    )  # fmt: skip
    apigw.put_method_response(**common, statusCode="200")
    apigw.put_integration_response(**common, statusCode="200")  # the default response
    # what the console does on "Add permission": API Gateway may invoke the function
    lam.add_permission(
        FunctionName=args.function_name, StatementId=f"apigateway-{api}",
        Action="lambda:InvokeFunction", Principal="apigateway.amazonaws.com",
        SourceArn=f"arn:aws:execute-api:{region}:{account}:{api}/*/POST/predictbreastcancer",
    )  # fmt: skip
    apigw.create_deployment(restApiId=api, stageName="test")
    endpoint = urlsplit(apigw.meta.endpoint_url)
    host = f"{api}.execute-api.localhost"  # Cove's invoke URLs: the host names the API
    url = f"http://{host}:{endpoint.port}/test/predictbreastcancer"
    info(f"invoke URL {url}")

    step("POST the seed's body to the invoke URL, as the seed's client does")
    info(f"curl -s -X POST {url} -d '{{\"data\": \"{SEED_ROW[:24]}...\"}}'")
    address, port = endpoint.hostname or "127.0.0.1", endpoint.port or 80
    answer = _post(address, port, host, "/test/predictbreastcancer", {"data": SEED_ROW})
    print(f"API answer for the seed's row: {answer}", flush=True)
    answer = _post(address, port, host, "/test/predictbreastcancer", {"data": malignant_row})
    print(f"API answer for a malignant row: {answer}", flush=True)
    args.api_id = api


def _post(address: str, port: int, host: str, path: str, body: dict) -> str:
    """POST JSON to an invoke URL; the Host header names the API (curl resolves
    `*.localhost` itself; Python's resolver may not, so connect to the address)."""
    conn = http.client.HTTPConnection(address, port, timeout=60)
    try:
        conn.request("POST", path, json.dumps(body), {"Host": f"{host}:{port}",
                                                      "Content-Type": "application/json"})
        response = conn.getresponse()
        text = response.read().decode()
    finally:
        conn.close()
    if response.status != 200:
        raise RuntimeError(f"the API answered {response.status}: {text}")
    return text


def cleanup_front_door(session, args: argparse.Namespace) -> None:  # type: ignore[no-untyped-def]
    step("Clean up the front door: REST API, function and its role")
    apigw, lam, iam = session.client("apigateway"), session.client("lambda"), session.client("iam")
    if getattr(args, "api_id", None):
        apigw.delete_rest_api(restApiId=args.api_id)
        info(f"deleted REST API {args.api_id}")
    with contextlib.suppress(lam.exceptions.ResourceNotFoundException):
        lam.delete_function(FunctionName=args.function_name)
        info(f"deleted function {args.function_name}")
    role = f"{args.function_name}-role"
    with contextlib.suppress(iam.exceptions.NoSuchEntityException):
        iam.delete_role_policy(RoleName=role, PolicyName="invoke-endpoint")
        iam.delete_role(RoleName=role)
        info(f"deleted role {role}")


def _delete_config_and_model(sm, name: str) -> None:  # type: ignore[no-untyped-def]
    for call, key in ((sm.delete_endpoint_config, "EndpointConfigName"),
                      (sm.delete_model, "ModelName")):
        with contextlib.suppress(ClientError):  # already gone
            call(**{key: name})


def cleanup(sm, s3, args: argparse.Namespace, job_name: str) -> None:  # type: ignore[no-untyped-def]
    step("Clean up: endpoint, endpoint config, model and the uploaded data")
    sm.delete_endpoint(EndpointName=args.endpoint_name)
    info(f"deleted endpoint {args.endpoint_name}")
    _delete_config_and_model(sm, job_name)
    info(f"deleted endpoint config and model {job_name}")
    paginator = s3.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=args.bucket, Prefix=PREFIX):
        for obj in page.get("Contents", []):
            s3.delete_object(Bucket=args.bucket, Key=obj["Key"])
    info(f"deleted s3://{args.bucket}/{PREFIX}/")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0].replace("\n", " "),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--bucket", default="cove-breast-cancer-demo",
                        help="bucket for the training and validation data")
    parser.add_argument("--name", default="linear-learner-breast-cancer",
                        help="prefix of the training job, model and endpoint config names")
    parser.add_argument("--endpoint-name",
                        default="linear-learner-breast-cancer-prediction-endpoint",
                        help="the endpoint to create (or update in place)")
    parser.add_argument("--function-name", default="breast-cancer-prediction",
                        help="the Lambda function (and, with -role, its role) to create")
    parser.add_argument("--cleanup", action="store_true",
                        help="delete the endpoint, config, model and data at the end")
    try:
        return run(parser.parse_args())
    except KeyboardInterrupt:
        print("\nInterrupted; what was created so far stays (rerun with --cleanup to remove it).")
        return 130


if __name__ == "__main__":
    sys.exit(main())
