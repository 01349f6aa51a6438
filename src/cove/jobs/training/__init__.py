"""Training jobs: the SageMaker CreateTrainingJob family and the built-in algorithms
(linear-learner, xgboost) they run."""
