"""The Lambda API (rest-json): functions, versions, aliases, permissions, Invoke."""
