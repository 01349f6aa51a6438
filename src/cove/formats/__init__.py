"""Model and data formats shared by training and serving: the linear-learner model file,
RecordIO-protobuf records."""
