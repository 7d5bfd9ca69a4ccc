# syntax=docker/dockerfile:1
# Multi-stage: dependencies are built into a virtual env in the first stage, and only that env
# and the source are copied into the slim runtime image.

FROM python:3.11-slim AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /src
RUN python -m venv /opt/omniroute
# Dependency layer first: it changes only when pyproject.toml does.
COPY pyproject.toml README.md ./
RUN mkdir -p src/omniroute && touch src/omniroute/__init__.py \
    && /opt/omniroute/bin/pip install . \
    && /opt/omniroute/bin/pip uninstall -y omniroute
# Then the source.
COPY src ./src
RUN /opt/omniroute/bin/pip install --no-deps .

FROM python:3.11-slim AS runtime
# Compiled kernels are kept in the kernel cache (engine/kernel_cache.py); the app user must be
# able to write it. Mount a volume there to keep them across container restarts.
ENV PATH=/opt/omniroute/bin:$PATH \
    OMNIROUTE_KERNEL_CACHE=/var/cache/omniroute/kernels \
    PYTHONUNBUFFERED=1
RUN useradd --system --uid 10001 --home-dir /var/lib/omniroute --create-home omniroute \
    && mkdir -p /var/cache/omniroute/kernels \
    && chown -R omniroute /var/cache/omniroute
COPY --from=build /opt/omniroute /opt/omniroute
USER omniroute
WORKDIR /var/lib/omniroute
# 50051 router gRPC, 50052 sync sidecar gRPC, 9464 Prometheus metrics.
EXPOSE 50051 50052 9464
# Through the standard gRPC health service: SERVING only once kernels are compiled.
HEALTHCHECK --interval=10s --timeout=5s --start-period=120s --retries=3 \
    CMD ["omniroute", "health", "--target", "127.0.0.1:50051"]
ENTRYPOINT ["omniroute"]
CMD ["serve", "--host", "0.0.0.0", "--state", "/var/lib/omniroute/state"]
