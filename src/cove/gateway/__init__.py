"""The gateway: listeners, HTTP/1.1 connections, and dispatch of each request
through authentication and authorization to the service that handles it."""
