"""The gateway: dispatch of each request by signing name through authentication and
authorization to its service, and the frames services are built on."""
