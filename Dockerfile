# vitrine as a container: `vitrine serve` on PostgreSQL, configured by environment variables.
#
#   docker build -t vitrine .
#   docker run -p 8080:8080 \
#     -e VITRINE_DATABASE__URL=postgres://vitrine@db.example.org/vitrine \
#     -e VITRINE_SERVER__PUBLIC_URL=https://oai.example.org \
#     -e VITRINE_DOMAINS__ULB__REPOSITORY_IDENTIFIER=digital.ulb.example.org \
#     -e VITRINE_DOMAINS__ULB__ADMIN_EMAILS='["digital@ulb.example.org"]' \
#     vitrine
#
# Any other command runs the same way, e.g. `docker run … vitrine domain add ulb --name ULB`.

# Build stage: the release binary (the rules, the crosswalk and the example configuration
# are compiled into it).
FROM rust:1-slim-bookworm AS build
RUN apt-get update \
    && apt-get install -y --no-install-recommends libxml2-dev libxslt1-dev pkg-config \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin vitrine

# Run stage: the binary, its shared libraries and an unprivileged user.
FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends libxml2 libxslt1.1 ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --home-dir /var/lib/vitrine --create-home --uid 10001 vitrine
COPY --from=build /src/target/release/vitrine /usr/local/bin/vitrine
USER 10001
WORKDIR /var/lib/vitrine
ENV VITRINE_SERVER__BIND=0.0.0.0:8080
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/vitrine"]
CMD ["serve"]
