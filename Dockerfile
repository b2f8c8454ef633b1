# Dockerfile builds idpool's container image: one static binary in an
# otherwise empty image, run as the unprivileged 65532:65532, its state in
# the /data volume, configured through IDPOOL_* variables (README.md).
#
#   docker build -t idpool:dev .
#   podman build --format docker -t idpool:dev .
#   docker run -p 4591:4591 -v idpool-data:/data idpool:dev
#
# (--format docker for podman and buildah: the OCI image format has no
# HEALTHCHECK, so they would drop it.)
#
# Without a registry to pull the Go image from, scripts/image builds the same
# image from a binary built on the host: it runs the final stage below with
# the build stage's /out laid out in a local directory. So the final stage
# must take files only from the build stage's /out, and only with
# COPY --from=build /out/... on one line each.

ARG GO_VERSION=1.26

FROM golang:${GO_VERSION} AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
# A static binary (no cgo: the SQLite driver is pure Go), without the
# builder's paths; then what else the image needs, made here because an
# empty image has no shell to make it: /data for the state, /tmp for
# SQLite's temporary files, and the CA certificates with which verify mode
# fetches the providers' keys over https.
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/idpool ./cmd/idpool \
	&& mkdir -p /out/data /out/tmp /out/etc/ssl/certs \
	&& cp /etc/ssl/certs/ca-certificates.crt /out/etc/ssl/certs/ca-certificates.crt

FROM scratch
ARG VERSION=dev
LABEL org.opencontainers.image.title="idpool" \
	org.opencontainers.image.description="Amazon Cognito Identity API server" \
	org.opencontainers.image.licenses="MIT" \
	org.opencontainers.image.version="${VERSION}"
COPY --from=build /out/etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
# COPY of a directory copies what it holds, so the mode of /data and /tmp
# is the builder's default (0755): they belong to the user to be writable.
COPY --from=build --chown=65532:65532 /out/tmp /tmp
COPY --from=build --chown=65532:65532 /out/data /data
COPY --from=build /out/idpool /idpool
# Numeric, so that runtimes can tell it is not root without an /etc/passwd.
USER 65532:65532
ENV IDPOOL_LISTEN=0.0.0.0:4591 \
	IDPOOL_DATA_DIR=/data
EXPOSE 4591
VOLUME ["/data"]
# The probe gives up after 3s by itself and says why (idpool healthcheck -h).
HEALTHCHECK --interval=10s --timeout=5s --start-period=10s --retries=3 CMD ["/idpool", "healthcheck"]
ENTRYPOINT ["/idpool"]
CMD ["serve"]
