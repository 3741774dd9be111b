# plinth's container image, for running `plinth drift` and `plinth apply` inside a cluster
# (see ci/kubernetes/ and docs/apply.md, "Running in the cluster").
#
#   docker build -t registry.example.invalid/plinth:0.1.0 .
#
# Two stages: the build stage compiles the `plinth` binary with the toolchain the project
# pins (rust-version in Cargo.toml) from Cargo.lock as it is (`--locked`); the runtime stage
# is distroless (glibc and CA certificates, no shell, no package manager) and runs as a
# numeric non-root user. Nothing is written outside /tmp (HOME and TMPDIR point there): run
# it with a read-only root file system and an emptyDir at /tmp. Pin both base images by
# digest in your registry.

FROM docker.io/library/rust:1.95.0-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --package plinth --bin plinth \
    && install -D -m 0755 target/release/plinth /out/plinth

FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /out/plinth /usr/local/bin/plinth
ENV HOME=/tmp \
    TMPDIR=/tmp
WORKDIR /tmp
USER 65532:65532
ENTRYPOINT ["plinth"]
