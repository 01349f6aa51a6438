"""The image registry and the instance-type catalog."""

from __future__ import annotations

from pathlib import Path

import pytest

from cove.host.instance_types import UnknownInstanceType, catalog, lookup, profile_for
from cove.runtime.images import UnsupportedImage, resolve


@pytest.mark.parametrize(
    ("image", "stack"),
    [
        (
            "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3",
            "scikit-learn",
        ),
        (
            "662702820516.dkr.ecr.eu-north-1.amazonaws.com/sagemaker-scikit-learn:0.23-1",
            "scikit-learn",
        ),
        ("683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1", "xgboost"),
        ("811284229777.dkr.ecr.us-east-1.amazonaws.com/xgboost:1", "xgboost"),
        ("382416733822.dkr.ecr.us-east-1.amazonaws.com/linear-learner:1", "linear-learner"),
        ("sklearn", "scikit-learn"),
        ("scikit-learn", "scikit-learn"),
        ("xgboost:1.7-1", "xgboost"),
        ("linear-learner", "linear-learner"),
    ],
)
def test_known_images(image: str, stack: str) -> None:
    assert resolve(image).stack == stack


def test_linear_learner_maps_to_its_module() -> None:
    assert resolve("linear-learner").module == "cove.instance.serving.linear_learner"


@pytest.mark.parametrize(
    ("image", "why"),
    [
        (
            "763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-inference:2.1-cpu-py310",
            "PyTorch serving is not available",
        ),
        (
            "123456789012.dkr.ecr.us-east-1.amazonaws.com/my-own-model:latest",
            "repository 'my-own-model'",
        ),
        ("docker.io/library/nginx", "neither a SageMaker image URI"),
        ("/no/such/executable", "no executable file"),
    ],
)
def test_images_cove_cannot_run(image: str, why: str) -> None:
    with pytest.raises(UnsupportedImage) as err:
        resolve(image)
    assert f"Image {image} is not one Cove can run" in str(err.value)
    assert why in str(err.value)


def test_local_executables(tmp_path: Path) -> None:
    exe = tmp_path / "server"
    exe.write_text("#!/bin/sh\n")
    with pytest.raises(UnsupportedImage, match="not executable"):
        resolve(str(exe))
    exe.chmod(0o755)
    for image in (str(exe), f"file://{exe}", f"local:{exe}"):
        assert resolve(image).executable == exe


def test_catalog_has_real_types() -> None:
    m5 = lookup("ml.m5.large")
    assert (m5.vcpus, m5.memory_gib) == (2, 8) and m5.price_per_hour > 0
    families = {name.split(".")[1] for name in catalog()}
    assert {"t2", "m4", "m5", "m6i", "c5", "c6i", "r5", "g4dn", "g5", "p3", "inf1"} <= families
    with pytest.raises(UnknownInstanceType, match="ml.nope.large"):
        lookup("ml.nope.large")


def test_profile_caps_cpus_at_the_host() -> None:
    import os

    host = len(os.sched_getaffinity(0))
    big = profile_for(lookup("ml.m5.24xlarge"), 0)
    assert len(big.cpus) == host
    assert big.thread_env()["OMP_NUM_THREADS"] == str(host)
    small = profile_for(lookup("ml.t2.medium"), 1)
    assert len(small.cpus) == min(2, host) and small.memory_bytes == 4 * 1024**3
