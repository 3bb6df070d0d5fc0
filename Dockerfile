# poll in a container, run by compose.yaml beside Redis (see docs/deploy.md).
#   docker compose build     (or: docker build -t poll .)
# pip reads its index from the build arguments, so a mirror or a local index
# builds it without the internet:
#   docker compose build --build-arg PIP_INDEX_URL=http://mirror.example/simple

FROM python:3.11-slim-bookworm AS build
ARG PIP_INDEX_URL
ARG PIP_EXTRA_INDEX_URL
ARG PIP_TRUSTED_HOST
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY poll ./poll
COPY templates ./templates
COPY static ./static
COPY locale ./locale
RUN python -m venv /opt/poll && /opt/poll/bin/pip install .

FROM python:3.11-slim-bookworm
COPY --from=build /opt/poll /opt/poll
# A user of its own, never root; /data holds the token (and the SQLite store, if used).
RUN groupadd --system --gid 10001 poll \
    && useradd --system --uid 10001 --gid poll --home-dir /data --no-create-home poll \
    && mkdir /data && chown poll:poll /data && chmod 0700 /data
COPY sessions.yaml /etc/poll/sessions.yaml
# The sample session's deck and logo, which its script names beside it.
COPY examples/gemengde-wijken/deck.pdf examples/gemengde-wijken/logo.svg /etc/poll/examples/gemengde-wijken/
ENV PATH=/opt/poll/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    POLL_HOST=0.0.0.0 \
    POLL_PORT=8000 \
    POLL_DATA_DIR=/data \
    POLL_SESSIONS=/etc/poll/sessions.yaml \
    POLL_STORE=sqlite:////data/poll.db
USER 10001:10001
WORKDIR /data
VOLUME /data
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]
ENTRYPOINT ["poll"]
CMD ["serve"]
