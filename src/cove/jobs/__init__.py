"""Long-running jobs (training, ...): each runs in its own subprocess with a kept log,
driven by a control-plane state machine."""
