# Nix flake: not written yet.
#
# It will expose the same reproducible build as ci/build-eif (packages eif-builder, host-proxy,
# pcr-registry, the static enclave binaries, the Nitro kernel, eif and pcrs; an app `verify` that
# rebuilds and compares with the on-chain registry) pinned to the same source hashes and kernel
# config. Until then, ci/build-eif is the reproducible build.
{
  description = "Reproducible AWS Nitro Enclave image and toolchain for a TEE proof marketplace (flake not written yet; use ci/build-eif)";
  outputs = { self }: { };
}
