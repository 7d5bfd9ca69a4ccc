"""Generated protobuf/gRPC stubs of the omniroute.v1 API (scripts/gen_protos.py)."""
