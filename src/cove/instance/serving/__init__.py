"""Serving stacks: how an instance loads a model directory and answers invocations."""
