"""Where a new instance of a model in a VPC goes: over the AZs of the model's subnets,
round robin (SageMaker spreads an endpoint's instances over AZs for availability: SageMaker
DG, "Give SageMaker AI hosted endpoints access to resources in your Amazon VPC",
https://docs.aws.amazon.com/sagemaker/latest/dg/host-vpc.html), its subnets within an AZ
taking turns."""

from __future__ import annotations

from cove.runtime.vpc import spread

SUBNETS = [("s-a1", "a"), ("s-b1", "b"), ("s-a2", "a"), ("s-c1", "c")]


def test_instances_go_round_robin_over_the_azs_in_the_order_the_subnets_name_them() -> None:
    placed: list[str] = []
    order = []
    for _ in range(6):
        first = spread(SUBNETS, placed)[0]
        order.append(first)
        placed.append(dict(SUBNETS)[first])
    assert order == ["s-a1", "s-b1", "s-c1", "s-a2", "s-b1", "s-c1"]


def test_an_azs_other_subnets_are_the_fallbacks_and_a_lost_instance_is_replaced_there() -> None:
    assert spread(SUBNETS, []) == ["s-a1", "s-a2"]  # tried in turn when one has no room
    assert spread(SUBNETS, ["a"]) == ["s-b1"]
    assert spread(SUBNETS, ["a", "b", "c", "a", "b"]) == ["s-c1"]
    assert spread(SUBNETS, ["a", "c"]) == ["s-b1"]  # after a scale-in, the AZ that lost one
