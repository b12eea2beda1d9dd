# syntax=docker/dockerfile:1
# The one image of Bekhedmetkom: every service, its worker, its migrations and the gateway.
# Build from the repository root: `make image` (docker build -t bekhedmetkom:<version> .).
# What runs is chosen by the command, e.g. `serve intake`, `work intake`, `migrate intake`,
# or `python -m gateway` (see deploy/k8s). tests/deploy/test_dockerfile.py holds it to the rules
# of deploy/RUNBOOK.md: multi-stage, slim, pinned, non-root fixed UID, no compilers at run time.

ARG PYTHON_IMAGE=python:3.11.14-slim-bookworm

# --- build: compile what has no wheel, into a virtual environment copied whole later ----------
FROM ${PYTHON_IMAGE} AS build

RUN apt-get update \
 && apt-get install --yes --no-install-recommends gcc libc6-dev \
 && rm -rf /var/lib/apt/lists/*

ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
WORKDIR /src
COPY pyproject.toml requirements.lock ./
COPY shared/__init__.py shared/__init__.py
COPY gateway/__init__.py gateway/__init__.py
COPY services/__init__.py services/__init__.py
# The run-time dependencies of pyproject.toml at the versions of requirements.lock (the lock
# also pins the test tools, which stay out). The project itself is then removed again: its code
# runs from /app, laid out as in the repository, so every data file a service reads (seed data,
# templates, migrations) is where the code expects it.
RUN /opt/venv/bin/pip install --constraint requirements.lock . \
 && /opt/venv/bin/pip uninstall --yes bekhedmetkom

# --- run: the interpreter, the environment and the code; nothing that compiles ---------------
FROM ${PYTHON_IMAGE} AS run

# A fixed UID/GID: the Kubernetes manifests name the same numbers (runAsUser, runAsGroup).
RUN groupadd --system --gid 10001 bekhedmetkom \
 && useradd --system --uid 10001 --gid 10001 --no-create-home \
      --home-dir /nonexistent --shell /usr/sbin/nologin bekhedmetkom

COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY shared shared
COPY gateway gateway
COPY services services
# Bytecode compiled now, since the root filesystem is read-only at run time. The code stays
# owned by root: the service's user can read it, never change it.
RUN python -m compileall -q /app

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONFAULTHANDLER=1 \
    TMPDIR=/tmp \
    BKH_HOST=0.0.0.0 \
    BKH_PORT=8080

USER 10001:10001
EXPOSE 8080
ENTRYPOINT ["python", "-m"]
CMD ["gateway"]
