"""gRPC servicers of the router: they only translate protobuf <-> engine calls."""
