"""Built-in training algorithms, each a module with HYPERPARAMETERS, CHANNELS and train()."""
