# Build: docker build -t weft .
# Run:   docker run -p 8080:8080 -v weft-data:/data weft
FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock build.rs ./
COPY src ./src
COPY migrations ./migrations
COPY static ./static
COPY weft.example.toml ./
# The function order the release link uses (build.rs).
COPY bench/weft.order ./bench/
RUN cargo build --release --locked

FROM debian:bookworm-slim
# Federation's outbound client checks other servers' certificates against the system roots.
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/*
RUN useradd --system --home /data weft && mkdir -p /data && chown weft /data
COPY --from=build /src/target/release/weft /usr/local/bin/weft
USER weft
VOLUME /data
EXPOSE 8080
ENV WEFT_DATA=/data WEFT_BIND=0.0.0.0:8080
ENTRYPOINT ["weft"]
CMD ["serve"]
