"""SageMaker Runtime (rest-json): InvokeEndpoint."""
