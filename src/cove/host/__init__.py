"""Host facilities for running untrusted code (model instances, jobs): the namespace
sandbox each one runs in and the cgroup limits that bound its CPU, memory and processes."""
