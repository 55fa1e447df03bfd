# syntax=docker/dockerfile:1
# The campaign backend's image: one image for every process of the Procfile (compose.yaml
# runs each). Build: `docker build -t campaign .`; docs/operations.md, "Containers".

# Build stage: compilers and headers, for any dependency without a wheel; makes wheels of
# the product (its gettext catalogues compiled by setup.py) and of everything it needs.
FROM python:3.11-slim AS build
RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential libpq-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY pyproject.toml setup.py README.md ./
COPY campaign campaign
COPY events events
COPY workers workers
COPY migrations migrations
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

# Final stage: the slim Python image, the wheels installed, no compiler, a user without a
# login shell or root rights; the Procfile beside the code, for platforms that read it.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PORT=5000 \
    VAR_DIR=/var/lib/campaign
RUN groupadd --system --gid 10001 campaign \
    && useradd --system --uid 10001 --gid campaign --home-dir /app --shell /usr/sbin/nologin campaign \
    && mkdir -p /app /var/lib/campaign \
    && chown campaign:campaign /var/lib/campaign
RUN --mount=type=bind,from=build,source=/wheels,target=/wheels \
    pip install --no-cache-dir --no-index --find-links=/wheels urgent-action-campaigns
WORKDIR /app
COPY Procfile ./
# Numeric, so an orchestrator can tell it is not root without reading /etc/passwd.
USER 10001:10001
EXPOSE 5000
CMD ["sh", "-c", "exec gunicorn --config python:campaign.gunicorn_config --bind 0.0.0.0:${PORT:-5000} --workers ${WEB_CONCURRENCY:-2} --threads 4 'campaign.wsgi:app'"]
