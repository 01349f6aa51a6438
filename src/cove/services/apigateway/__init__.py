"""The API Gateway API (rest-json) and the invoke URLs of deployed stages."""
