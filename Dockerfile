# Spout in a container: built with the Swift toolchain, run on slim Debian with only libmicrohttpd's and SQLite's
# runtime libraries. Topics, retained messages and tails are kept in the volume at /var/lib/spout.
#
#   docker build -t spout .
#
# It binds every interface, so it refuses to start without tokens (protected mode). Either give it a secret:
#   openssl rand -base64 48 > secret.txt
#   docker run -p 8080:8080 -v spout-data:/var/lib/spout -v "$PWD/secret.txt:/run/secrets/spout:ro" \
#       -e SPOUT_AUTH_SECRET=/run/secrets/spout -v /var/log/app:/logs:ro -e SPOUT_ALLOW_ROOT=/logs spout
#   docker run --rm -v "$PWD/secret.txt:/s:ro" spout token --secret /s --subscribe '*' --ttl 12h
# or, on a network you trust, say so:
#   docker run -p 8080:8080 -v spout-data:/var/lib/spout -e SPOUT_NO_AUTH=1 spout

FROM swift:6.3.1-bookworm AS build
RUN apt-get update \
    && apt-get install -y --no-install-recommends libmicrohttpd-dev libsqlite3-dev pkg-config \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Resolve dependencies in their own layer, so that a source change does not fetch them again.
COPY Package.swift ./
RUN swift package resolve
COPY Sources ./Sources
RUN swift build -c release --product spout --static-swift-stdlib \
    && install -D -m 0755 "$(swift build -c release --show-bin-path)/spout" /out/spout

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends libmicrohttpd12 libsqlite3-0 \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin spout \
    && install -d -o spout -g spout -m 0700 /var/lib/spout
COPY --from=build /out/spout /usr/local/bin/spout
COPY public /usr/share/spout/public
COPY openapi.yaml /usr/share/spout/openapi.yaml
ENV SPOUT_HOST=0.0.0.0 \
    SPOUT_PORT=8080 \
    SPOUT_PUBLIC_DIR=/usr/share/spout/public \
    SPOUT_OPENAPI_FILE=/usr/share/spout/openapi.yaml \
    SPOUT_DATA_DIR=/var/lib/spout
VOLUME /var/lib/spout
USER spout
EXPOSE 8080
# bash's /dev/tcp keeps the image free of curl.
HEALTHCHECK --interval=30s --timeout=3s --start-period=5s --retries=3 \
    CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/${SPOUT_PORT}; printf 'GET /healthz HTTP/1.0\\r\\n\\r\\n' >&3; head -n 1 <&3 | grep -q ' 200 '"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/spout"]
CMD ["serve"]
