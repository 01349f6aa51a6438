"""Restarting `cove server` on the same data dir loses nothing: InService endpoints come
back under the same names and ARNs and answer invocations as soon as it says it serves."""

from __future__ import annotations

import json

from hosting import (
    PREDICTION,
    create_config,
    create_model,
    invoke,
    upload_sklearn_model,
    wait_in_service,
)


def test_in_service_endpoint_survives_a_restart(make_server, tmp_path) -> None:
    srv = make_server()
    sm = srv.client("sagemaker")
    url = upload_sklearn_model(srv, tmp_path)
    create_model(sm, "restart-model", url)
    create_config(sm, "restart-config", ("AllTraffic", "restart-model", 2))
    arn = sm.create_endpoint(EndpointName="Survivor", EndpointConfigName="restart-config")[
        "EndpointArn"
    ]
    before = wait_in_service(sm, "Survivor")
    assert json.loads(invoke(srv, "Survivor")["Body"].read()) == PREDICTION
    # what was deployed keeps being served even when its definitions are gone
    sm.delete_endpoint_config(EndpointConfigName="restart-config")
    sm.delete_model(ModelName="restart-model")
    assert srv.stop() == []  # no instance process outlives the server

    again = make_server(data_dir=srv.data_dir)
    sm = again.client("sagemaker")
    after = sm.describe_endpoint(EndpointName="Survivor")
    assert after["EndpointStatus"] == "InService"
    assert after["EndpointArn"] == arn == before["EndpointArn"]
    assert after["EndpointName"] == "Survivor"
    assert after["CreationTime"] == before["CreationTime"]
    assert after["ProductionVariants"][0]["CurrentInstanceCount"] == 2
    reply = invoke(again, "Survivor")  # right away: start-up waited for the fleet
    assert json.loads(reply["Body"].read()) == PREDICTION
    names = [e["EndpointName"] for e in sm.list_endpoints()["Endpoints"]]
    assert names == ["Survivor"]
    sm.delete_endpoint(EndpointName="Survivor")
