"""The benchmark harness: builds the model, starts each server, drives it with wrk, reports."""
