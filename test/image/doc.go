// Package image checks idpool's container image without running a
// container (which these machines cannot): the Dockerfile declares what
// the image must be; scripts/image builds that image offline with buildah
// or podman, and the tests read the built image back (its configuration
// and its one layer, from a docker-archive export), check every setting
// and file, and run the binary it ships on the host. They also read
// examples/compose.yaml and check that the replicas it describes agree.
//
// Building needs buildah or podman; without either the image test skips,
// except under CI=true, where it fails. The images it makes are removed.
package image
