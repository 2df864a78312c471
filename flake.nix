# The project's Nix build: the same image as ci/build-eif, from the same pinned inputs.
#
#   nix build .#eif          result/enclave.eif, result/manifest.json, result/pcr.json
#   nix build .#pcrs         result (pcr.json only)
#   nix run .#verify -- --rpc URL --deployment FILE     is this image registered and live?
#   nix flake check          tests, the pins agree, the image assembles twice to the same bytes
#   nix build --rebuild .#kernel .#enclave-binaries .#eif   every step built again and compared
#   nix develop              a shell with the project's tools
#
# One source of truth for the pins. Nothing here repeats a value that ci/ pins: the flake reads
#   ci/pins/debian.txt             linux-source-6.12 and ca-certificates versions (which .deb files)
#   ci/kernel.d/linux-source.sha256  the kernel source tarball's sha256 (the fixed-output hash below)
#   ci/kernel.d/nitro.config       the configuration fragment on top of `make tinyconfig`
#   ci/kernel.d/*.patch            our kernel patches, applied in name order
#   ci/kernel.d/cmdline            the kernel command line
#   Cargo.lock                     every crate, with its crates.io checksum
#   Cargo.toml                     rust-version (the toolchain, from rust-overlay)
#   enclave/app/rootfs/            the application's configuration
# The one value the flake adds is `caBundleSha256`: apt checks the ca-certificates .deb against
# Debian's signed index, Nix needs a content hash; ci/nix-check recomputes it from the pinned package.
#
# What is the same as ci/build-eif, and what is not. The recipe is the same (static binaries with
# `--locked`, tinyconfig + fragment with fixed KBUILD_* values, sorted cpio ramdisks with mtime 0,
# the same eif-builder invocation), and so are the inputs above. The C toolchain is not: nixpkgs'
# gcc/binutils differ from Debian bookworm's, and nixpkgs' static glibc from Debian's, so the kernel
# (PCR0, PCR1) and the static binaries (PCR0, PCR2) built here differ from ci/build-eif's, while
# each build is reproducible on its own (`checks.reproducible`). `verify` therefore answers for the
# image this flake builds: register the PCRs of the build you ship, and rebuild with the same tool.
{
  description = "Reproducible AWS Nitro Enclave image and toolchain for a TEE proof marketplace";

  inputs = {
    nixpkgs.url = "github:NixOS/nixpkgs/nixos-25.11";
    rust-overlay = {
      url = "github:oxalica/rust-overlay";
      inputs.nixpkgs.follows = "nixpkgs";
    };
  };

  outputs = { self, nixpkgs, rust-overlay }:
    let
      # --- pins, read from the files ci/ uses (builtins only: evaluates without nixpkgs) -------
      lines = file: builtins.filter (l: builtins.isString l && l != "" && builtins.substring 0 1 l != "#")
        (builtins.split "\n" (builtins.readFile file));
      debianPins = builtins.listToAttrs (map
        (l:
          let m = builtins.match "([^=]+)=(.+)" l;
          in { name = builtins.elemAt m 0; value = builtins.elemAt m 1; })
        (lines ./ci/pins/debian.txt));
      firstWord = s: builtins.head (builtins.match "([^ \t\n]+).*" s);
      pins = {
        linuxSourceVersion = debianPins."linux-source-6.12";
        linuxSourceSha256 = firstWord (builtins.readFile ./ci/kernel.d/linux-source.sha256);
        caCertificatesVersion = debianPins."ca-certificates";
        kernelConfig = ./ci/kernel.d/nitro.config;
        # Our kernel patches, applied in name order as ci/kernel applies them.
        kernelPatches = map (n: ./ci/kernel.d + "/${n}") (builtins.sort builtins.lessThan
          (builtins.filter (n: builtins.match ".*\\.patch" n != null)
            (builtins.attrNames (builtins.readDir ./ci/kernel.d))));
        cmdline = ./ci/kernel.d/cmdline;
        rustVersion =
          let v = (builtins.fromTOML (builtins.readFile ./Cargo.toml)).workspace.package.rust-version;
          in if builtins.match "[0-9]+\\.[0-9]+" v != null then "${v}.0" else v;
        # sha256 of /usr/share/ca-certificates/mozilla/*.crt concatenated in sorted path order, as
        # ci/build-eif writes /etc/ssl/certs/ca-certificates.crt (checked by ci/nix-check).
        caBundleSha256 = "a3413a37a8e09cc21b2c11c9ffb23d92d2fc9d1933c9e7617f5c4fba4f72d37d";
      };
      # Debian pool path of a package version (an epoch never appears in file names).
      debUrl = dir: name: version:
        let
          noEpoch = let m = builtins.match "[0-9]+:(.*)" version; in if m == null then version else builtins.head m;
          escaped = builtins.replaceStrings [ "~" "+" ] [ "%7e" "%2b" ] noEpoch;
        in "https://deb.debian.org/debian/pool/main/${dir}/${name}_${escaped}_all.deb";

      system = "x86_64-linux";
      pkgs = import nixpkgs { inherit system; overlays = [ rust-overlay.overlays.default ]; };
      inherit (pkgs) lib;

      rust = pkgs.rust-bin.stable.${pins.rustVersion}.minimal;
      rustPlatform = pkgs.makeRustPlatform { cargo = rust; rustc = rust; };
      revision = self.rev or "dirty";
      # The source: the git tree without build outputs and the Solidity dependencies.
      src = lib.cleanSourceWith {
        src = self;
        filter = path: type:
          let rel = lib.removePrefix (toString self + "/") (toString path);
          in !(lib.hasPrefix "target" rel || lib.hasPrefix "out" rel || lib.hasPrefix ".tools" rel
            || lib.hasPrefix "contracts/node_modules" rel || lib.hasPrefix "contracts/out" rel);
      };

      # One workspace build per set of packages; --locked against Cargo.lock.
      workspacePackage = { pname, packages, static ? false, extra ? { } }:
        rustPlatform.buildRustPackage ({
          inherit pname src;
          version = (builtins.fromTOML (builtins.readFile ./Cargo.toml)).workspace.package.version;
          cargoLock.lockFile = ./Cargo.lock;
          cargoBuildFlags = lib.concatMap (p: [ "-p" p ]) packages;
          nativeBuildInputs = [ pkgs.pkg-config pkgs.cmake pkgs.perl pkgs.go ];
          buildInputs = [ pkgs.openssl ] ++ lib.optional static pkgs.glibc.static;
          # Static, like ci/build-eif's `-C target-feature=+crt-static` (no program interpreter).
          RUSTFLAGS = lib.optionalString static "-C target-feature=+crt-static";
          doCheck = false;
          SOURCE_DATE_EPOCH = toString (self.lastModified or 0);
          postInstall = lib.optionalString static ''
            for b in $out/bin/*; do
              if ${pkgs.binutils}/bin/readelf -l "$b" | grep -q 'Requesting program interpreter'; then
                echo "$b is dynamically linked" >&2; exit 1
              fi
            done
          '';
        } // extra);

      # A file made from a pinned Debian .deb, as a fixed-output derivation: whatever the download
      # path, the result must have the given sha256 (the same hash the ci/ scripts check).
      fromDeb = { name, dir, package, version, sha256, extract }: pkgs.stdenvNoCC.mkDerivation {
        inherit name;
        outputHashMode = "flat";
        outputHashAlgo = "sha256";
        outputHash = sha256;
        nativeBuildInputs = [ pkgs.curl pkgs.dpkg ];
        SSL_CERT_FILE = "${pkgs.cacert}/etc/ssl/certs/ca-bundle.crt";
        url = debUrl dir package version;
        buildCommand = ''
          curl -fsSL "$url" -o package.deb
          dpkg-deb -x package.deb root
          ${extract}
        '';
      };

      # --- the kernel: Debian's pinned source tarball, the same recipe as ci/kernel -------------
      linuxSource = fromDeb {
        name = "linux-source-6.12.tar.xz";
        dir = "l/linux";
        package = "linux-source-6.12";
        version = pins.linuxSourceVersion;
        sha256 = pins.linuxSourceSha256; # ci/kernel.d/linux-source.sha256, checked by ci/kernel too
        extract = ''mv root/usr/src/linux-source-6.12.tar.xz "$out"'';
      };

      kernel = pkgs.stdenv.mkDerivation {
        pname = "nitro-kernel";
        version = pins.linuxSourceVersion;
        src = linuxSource;
        nativeBuildInputs = with pkgs; [ flex bison bc elfutils perl python3 ];
        KBUILD_BUILD_TIMESTAMP = "Thu Jan  1 00:00:00 UTC 1970";
        KBUILD_BUILD_USER = "enclave";
        KBUILD_BUILD_HOST = "reproducible";
        KBUILD_BUILD_VERSION = "1";
        LC_ALL = "C";
        TZ = "UTC";
        unpackPhase = ''
          tar -xJf "$src"
          cd linux-source-6.12
          patchShebangs scripts
        '';
        # ci/kernel.d/*.patch, in name order (stdenv's patchPhase: `patch -p1` in the source tree).
        patches = pins.kernelPatches;
        configurePhase = ''
          make -s ARCH=x86_64 LOCALVERSION= tinyconfig
          scripts/kconfig/merge_config.sh -m -O . .config ${pins.kernelConfig}
          make -s ARCH=x86_64 LOCALVERSION= olddefconfig
          # Every line of the fragment must hold in the resolved configuration (as ci/kernel checks).
          while read -r line; do
            case "$line" in
              CONFIG_*=*) grep -qx "$line" .config || { echo "not in .config: $line" >&2; exit 1; } ;;
              "# CONFIG_"*" is not set") opt=''${line#\# }; opt=''${opt%% *}
                ! grep -q "^$opt=" .config || { echo "set in .config: $line" >&2; exit 1; } ;;
            esac
          done < ${pins.kernelConfig}
        '';
        buildPhase = ''
          make -s ARCH=x86_64 LOCALVERSION= -j$NIX_BUILD_CORES bzImage
        '';
        installPhase = ''
          mkdir -p $out
          cp arch/x86/boot/bzImage $out/bzImage
          cp .config $out/bzImage.config
          make -s ARCH=x86_64 LOCALVERSION= kernelrelease > $out/kernel.release
        '';
      };

      # Mozilla roots from the pinned ca-certificates .deb, concatenated in sorted path order.
      caBundle = fromDeb {
        name = "ca-certificates-${pins.caCertificatesVersion}.crt";
        dir = "c/ca-certificates";
        package = "ca-certificates";
        version = pins.caCertificatesVersion;
        sha256 = pins.caBundleSha256;
        extract = ''
          find root/usr/share/ca-certificates/mozilla -name '*.crt' -print0 | LC_ALL=C sort -z | xargs -0 cat > "$out"
        '';
      };

      eif-builder = workspacePackage { pname = "eif-builder"; packages = [ "eif-builder" ]; };
      host-proxy = workspacePackage { pname = "host-proxy"; packages = [ "host-proxy" ]; };
      pcr-registry = workspacePackage { pname = "pcr-registry"; packages = [ "pcr-registry" ]; };
      enclave-binaries = workspacePackage {
        pname = "enclave-binaries";
        packages = [ "enclave-init" "enclave-app" ];
        static = true;
      };

      # --- the image: the same steps as ci/build-eif 4/5 and 5/5 --------------------------------
      mkEif = name: pkgs.runCommand name { nativeBuildInputs = [ eif-builder ]; } ''
        stage=$TMPDIR/stage
        mkdir -p $stage/bootstrap/dev $stage/customer/rootfs $out
        install -m 0755 ${enclave-binaries}/bin/enclave-init $stage/bootstrap/init
        root=$stage/customer/rootfs
        mkdir -p $root/app $root/dev $root/proc $root/sys $root/tmp $root/run $root/etc/ssl/certs
        install -m 0755 ${enclave-binaries}/bin/enclave-app $root/app/enclave-app
        install -m 0644 ${./enclave/app/rootfs/etc/enclave-app.json} $root/etc/enclave-app.json
        install -m 0644 ${caBundle} $root/etc/ssl/certs/ca-certificates.crt
        printf '%s\n' /app/enclave-app --config /etc/enclave-app.json > $stage/customer/cmd
        printf '%s\n' RUST_BACKTRACE=0 > $stage/customer/env
        SOURCE_DATE_EPOCH=0 eif-builder ramdisk --root $stage/bootstrap --output $out/bootstrap.cpio
        SOURCE_DATE_EPOCH=0 eif-builder ramdisk --root $stage/customer --output $out/customer.cpio
        SOURCE_DATE_EPOCH=${toString (self.lastModified or 0)} eif-builder build \
          --kernel ${kernel}/bzImage \
          --cmdline-file ${pins.cmdline} \
          --ramdisk $out/bootstrap.cpio \
          --ramdisk $out/customer.cpio \
          --name enclave \
          --version ${builtins.substring 0 12 revision} \
          --source-revision ${revision} \
          --cargo-lock ${./Cargo.lock} \
          --toolchain rustc=${pins.rustVersion} \
          --toolchain gcc=${pkgs.stdenv.cc.cc.version} \
          --toolchain linux-source=${pins.linuxSourceVersion} \
          --toolchain ca-certificates=${pins.caCertificatesVersion} \
          --kernel-version "$(cat ${kernel}/kernel.release)" \
          --output $out/enclave.eif > $out/manifest.json
        eif-builder pcrs $out/enclave.eif > $out/pcr.json
      '';
      eif = mkEif "enclave-eif";
      pcrs = pkgs.runCommand "enclave-pcrs.json" { } "cp ${eif}/pcr.json $out";

      verify = pkgs.writeShellApplication {
        name = "verify";
        runtimeInputs = [ pcr-registry ];
        text = ''
          # Measures the image this flake builds and asks the on-chain registry about it.
          #   nix run .#verify -- --rpc URL --deployment FILE [--json]
          echo "image: ${eif}/enclave.eif (revision ${revision})" >&2
          cat ${eif}/pcr.json >&2
          exec pcr-registry verify-eif ${eif}/enclave.eif "$@"
        '';
      };
    in
    {
      # Pure data (no nixpkgs needed): what ci/nix-check evaluates offline.
      lib.pins = pins;

      packages.${system} = {
        inherit eif-builder host-proxy pcr-registry enclave-binaries kernel eif pcrs;
        linux-source = linuxSource;
        ca-bundle = caBundle;
        default = eif;
      };

      apps.${system} = {
        verify = { type = "app"; program = "${verify}/bin/verify"; };
        default = self.apps.${system}.verify;
      };

      checks.${system} = {
        # The workspace's unit and black-box tests (those needing anvil, qemu or forge run in ci/).
        tests = workspacePackage {
          pname = "workspace-tests";
          packages = [ "eif-builder" "nitro-attestation" "host-proxy" "pcr-registry" "matching-engine" ];
          extra = {
            doCheck = true;
            cargoTestFlags = [ "-p" "eif-builder" "-p" "nitro-attestation" "-p" "host-proxy" "-p" "pcr-registry" "-p" "matching-engine" ];
          };
        };
        # The image assembled a second time (same kernel and binaries) must give the same bytes.
        # The whole chain is checked by rebuilding every derivation and comparing with the
        # first build: `nix build --rebuild .#kernel .#enclave-binaries .#eif`.
        reproducible = pkgs.runCommand "eif-reproducible" { } ''
          a=$(sha256sum < ${eif}/enclave.eif); b=$(sha256sum < ${mkEif "enclave-eif-again"}/enclave.eif)
          [ "$a" = "$b" ] || { echo "two builds differ: $a vs $b" >&2; exit 1; }
          echo "$a" > $out
        '';
        # The manifest records the pinned versions the image was built from.
        pins-agree = pkgs.runCommand "pins-agree" { nativeBuildInputs = [ pkgs.jq ]; } ''
          grep -q '${pins.linuxSourceVersion}' ${eif}/manifest.json
          grep -q '${pins.caCertificatesVersion}' ${eif}/manifest.json
          touch $out
        '';
      };

      devShells.${system}.default = pkgs.mkShell {
        # ci/bootstrap still installs the exact pinned versions (Foundry and solc from npm lock
        # files, nitro-cli from crates.io); this shell provides what it and ci/ scripts call.
        packages = [ rust pkgs.nodejs pkgs.jq pkgs.qemu pkgs.cpio pkgs.socat pkgs.flex pkgs.bison
          pkgs.bc pkgs.elfutils pkgs.openssl pkgs.pkg-config pkgs.cmake pkgs.python3 pkgs.git ];
      };
    };
}
