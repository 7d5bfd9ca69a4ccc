"""gRPC plumbing shared by the router and the sidecar: server construction, health, reflection,
and the single place where domain errors become gRPC status codes (STYLE habit 6).

Neither service's protobuf messages are imported here; servicers register themselves through
the callbacks passed to `build_server`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from concurrent import futures
from typing import Any

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from omniroute.errors import (
    Aborted,
    FailedPrecondition,
    InvalidArgument,
    NetworkFileError,
    NotFound,
    OmnirouteError,
    ResourceExhausted,
    Unavailable,
)

log = logging.getLogger(__name__)

_STATUS_OF: tuple[tuple[type[OmnirouteError], grpc.StatusCode], ...] = (
    (InvalidArgument, grpc.StatusCode.INVALID_ARGUMENT),
    (NetworkFileError, grpc.StatusCode.INVALID_ARGUMENT),
    (NotFound, grpc.StatusCode.NOT_FOUND),
    (FailedPrecondition, grpc.StatusCode.FAILED_PRECONDITION),
    (ResourceExhausted, grpc.StatusCode.RESOURCE_EXHAUSTED),
    (Unavailable, grpc.StatusCode.UNAVAILABLE),
    (Aborted, grpc.StatusCode.ABORTED),
)


def status_of(error: OmnirouteError) -> grpc.StatusCode:
    """The gRPC status code for a domain error."""
    for kind, code in _STATUS_OF:
        if isinstance(error, kind):
            return code
    return grpc.StatusCode.INTERNAL


def _abort(context: grpc.ServicerContext, error: Exception) -> None:
    if isinstance(error, OmnirouteError):
        context.abort(status_of(error), str(error))
    log.exception("unexpected error in handler")
    context.abort(grpc.StatusCode.INTERNAL, f"internal error: {type(error).__name__}")


def _guard_unary(behavior: Callable[..., Any]) -> Callable[..., Any]:
    def guarded(request: Any, context: grpc.ServicerContext) -> Any:
        try:
            return behavior(request, context)
        except Exception as error:
            if isinstance(error, grpc.RpcError) or _already_aborted(context):
                raise
            _abort(context, error)
            raise  # unreachable: abort raises

    return guarded


def _guard_stream(behavior: Callable[..., Iterator[Any]]) -> Callable[..., Iterator[Any]]:
    def guarded(request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
        try:
            yield from behavior(request, context)
        except Exception as error:
            if isinstance(error, grpc.RpcError) or _already_aborted(context):
                raise
            _abort(context, error)

    return guarded


def _already_aborted(context: grpc.ServicerContext) -> bool:
    # context.abort raises a bare Exception after setting the status; let it propagate as is.
    code = context.code() if hasattr(context, "code") else None
    return code is not None and code != grpc.StatusCode.OK


class ErrorStatusInterceptor(grpc.ServerInterceptor):  # type: ignore[type-arg]
    """Maps omniroute's domain errors to status codes, and anything else to INTERNAL."""

    def intercept_service(self, continuation: Callable[[Any], Any],
                          handler_call_details: Any) -> Any:
        handler = continuation(handler_call_details)
        if handler is None:
            return None
        if handler.unary_unary:
            return grpc.unary_unary_rpc_method_handler(
                _guard_unary(handler.unary_unary), handler.request_deserializer,
                handler.response_serializer)
        if handler.unary_stream:
            return grpc.unary_stream_rpc_method_handler(
                _guard_stream(handler.unary_stream), handler.request_deserializer,
                handler.response_serializer)
        if handler.stream_unary:
            return grpc.stream_unary_rpc_method_handler(
                _guard_unary(handler.stream_unary), handler.request_deserializer,
                handler.response_serializer)
        return grpc.stream_stream_rpc_method_handler(
            _guard_stream(handler.stream_stream), handler.request_deserializer,
            handler.response_serializer)


def unimplemented(context: grpc.ServicerContext, rpc: str, issue: str) -> None:
    """Answer UNIMPLEMENTED for an RPC of the contract whose implementation has not landed."""
    context.abort(grpc.StatusCode.UNIMPLEMENTED,
                  f"{rpc} is part of the v1 contract but not implemented yet ({issue})")


class Server:
    """A gRPC server with health and reflection, NOT_SERVING until `mark_serving`."""

    def __init__(self, *, bind: str, service_names: Iterable[str],
                 register: Iterable[Callable[[grpc.Server], None]], max_workers: int = 16,
                 options: Iterable[tuple[str, Any]] = ()) -> None:
        self.grpc_server = grpc.server(
            futures.ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="rpc"),
            interceptors=[ErrorStatusInterceptor()],
            options=list(options),
        )
        self.service_names = tuple(service_names)
        # experimental_non_blocking keeps health answers flowing while a handler thread is busy.
        self.health = health.HealthServicer(experimental_non_blocking=True)
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self.grpc_server)
        for add in register:
            add(self.grpc_server)
        reflection.enable_server_reflection(
            (*self.service_names, health.SERVICE_NAME, reflection.SERVICE_NAME), self.grpc_server)
        self.port = self.grpc_server.add_insecure_port(bind)
        if self.port == 0:
            raise OSError(f"cannot bind gRPC server to {bind}")
        for name in ("", *self.service_names):
            self.health.set(name, health_pb2.HealthCheckResponse.NOT_SERVING)

    def start(self) -> None:
        self.grpc_server.start()

    def mark_serving(self) -> None:
        """Report SERVING: call only once state is loaded and kernels are compiled."""
        for name in ("", *self.service_names):
            self.health.set(name, health_pb2.HealthCheckResponse.SERVING)

    def stop(self, grace_s: float = 5.0) -> None:
        self.health.enter_graceful_shutdown()
        self.grpc_server.stop(grace_s).wait()

    def wait(self) -> None:
        self.grpc_server.wait_for_termination()
