"""The CloudWatch Logs API (json 1.1): log groups, streams and events."""
