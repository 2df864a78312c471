# The project's Nix build: the same image as ci/build-eif, from the same pinned inputs.
#
#   nix build .#eif          result/enclave.eif, result/manifest.json, result/pcr.json
#   nix build .#pcrs         result (pcr.json only)
#   nix run .#verify -- --rpc URL --deployment FILE     is this image registered and live?
#   nix flake check          tests, the pins agree, the image assembles twice to the same bytes
#   nix build --rebuild .#kernel .#enclave-binaries .#eif   every step built again and compared
#   nix develop              a shell with the project's tools
#
# Needs Nix >= 2.18 (nixos-25.11's minimum). ci/nix-check runs Debian bookworm's Nix 2.8, which
# can check only what evaluates without nixpkgs (parse, lock, lib.pins, lib.storeNames).
#
# One source of truth for the pins. Nothing here repeats a value that ci/ pins: the flake reads
#   ci/pins/sources.txt            every download (linux-source-6.12 and ca-certificates .debs) by
#                                  sha256, with its live-pool and snapshot.debian.org URLs
#   ci/kernel.d/linux-source.sha256  the kernel source tarball's sha256 inside the .deb
#   ci/kernel.d/nitro.config       the configuration fragment on top of `make tinyconfig`
#   ci/kernel.d/*.patch            our kernel patches, applied in name order
#   Cargo.lock                     every crate, with its crates.io checksum
#   rust-toolchain.toml            the Rust release (rust-overlay's fromRustupToolchainFile)
#   enclave/image.json             the image recipe: ramdisk entries, modes, cmd, env, cmdline file
#   enclave/app/rootfs/            the application's configuration
# The one value the flake adds is `caBundleSha256` (the bundle made from the pinned .deb);
# ci/nix-check recomputes it with ci/ca-bundle.
#
# Which PCRs are registered: those of ci/build-eif, built with the pinned Debian bookworm
# toolchain (rust-toolchain.toml, ci/pins/toolchain.txt). This flake runs the same recipe
# (`eif-builder image --recipe enclave/image.json`) on the same pinned inputs, but with nixpkgs'
# gcc, binutils and static glibc, so its kernel (PCR0, PCR1) and static binaries (PCR0, PCR2)
# differ from ci/build-eif's. Its image is therefore marked unregistrable in its manifest
# (`Unregistrable`), and `verify` answers for the image this flake builds only.
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
      firstWord = s: builtins.head (builtins.match "([^ \t\n]+).*" s);
      # ci/pins/sources.txt: NAME SHA256 SIZE URL..., one download a line.
      sources = map
        (l:
          let w = builtins.filter (x: builtins.isString x && x != "") (builtins.split "[ \t]+" l);
          in { name = builtins.elemAt w 0; sha256 = builtins.elemAt w 1; size = builtins.elemAt w 2;
               urls = builtins.genList (i: builtins.elemAt w (i + 3)) (builtins.length w - 3); })
        (lines ./ci/pins/sources.txt);
      # The one pin of a Debian package (PKG_VERSION_ARCH.deb), as ci/fetch --package finds it.
      sourceOf = pkg: let m = builtins.filter (src: builtins.match "${pkg}_.*" src.name != null) sources;
        in if builtins.length m == 1 then builtins.head m else throw "want one pin for ${pkg} in ci/pins/sources.txt";
      versionOf = pkg: builtins.elemAt (builtins.match "${pkg}_([^_]+)_.*" (sourceOf pkg).name) 0;
      # Store path names allow only [A-Za-z0-9+._?=-]: Debian versions carry `~` (and `:`).
      storeSafe = builtins.replaceStrings [ "~" ":" ] [ "-" "-" ];
      pins = {
        linuxSourceVersion = versionOf "linux-source-6.12";
        linuxSourceDeb = sourceOf "linux-source-6.12";
        linuxSourceSha256 = firstWord (builtins.readFile ./ci/kernel.d/linux-source.sha256);
        caCertificatesVersion = versionOf "ca-certificates";
        caCertificatesDeb = sourceOf "ca-certificates";
        kernelConfig = ./ci/kernel.d/nitro.config;
        # Our kernel patches, applied in name order as ci/kernel applies them.
        kernelPatches = map (n: ./ci/kernel.d + "/${n}") (builtins.sort builtins.lessThan
          (builtins.filter (n: builtins.match ".*\\.patch" n != null)
            (builtins.attrNames (builtins.readDir ./ci/kernel.d))));
        rustVersion = (builtins.fromTOML (builtins.readFile ./rust-toolchain.toml)).toolchain.channel;
        # sha256 of /usr/share/ca-certificates/mozilla/*.crt concatenated in sorted path order, as
        # ci/build-eif writes /etc/ssl/certs/ca-certificates.crt (checked by ci/nix-check).
        caBundleSha256 = "a3413a37a8e09cc21b2c11c9ffb23d92d2fc9d1933c9e7617f5c4fba4f72d37d";
      };
      # Every store path name derived from the pins (checked by ci/nix-check: a name with a
      # character Nix refuses fails evaluation on every machine).
      storeNames = [
        (storeSafe pins.linuxSourceDeb.name)
        (storeSafe pins.caCertificatesDeb.name)
        "linux-source-6.12.tar.xz"
        "nitro-kernel-${storeSafe pins.linuxSourceVersion}"
        "ca-certificates-${storeSafe pins.caCertificatesVersion}.crt"
      ];

      system = "x86_64-linux";
      pkgs = import nixpkgs { inherit system; overlays = [ rust-overlay.overlays.default ]; };
      inherit (pkgs) lib;

      rust = pkgs.rust-bin.fromRustupToolchainFile ./rust-toolchain.toml;
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
          # As ci/build-eif: no `danger-*` feature (dev NSM, skipped heartbeat) in an image binary.
          preBuild = lib.optionalString static ''
            if cargo tree --offline --locked -q -e normal,features ${lib.concatMapStringsSep " " (p: "-p ${p}") packages} | grep -o 'danger-[a-z-]*'; then
              echo "the image's dependency graph enables a danger-* feature" >&2; exit 1
            fi
          '';
          doCheck = false;
          # nixpkgs' Rust builder embeds the dependency list (cargo-auditable) by default; the
          # image's binaries carry only what cargo builds.
          auditable = false;
          SOURCE_DATE_EPOCH = toString (self.lastModified or 0);
          postInstall = lib.optionalString static ''
            for b in $out/bin/*; do
              if ${pkgs.binutils}/bin/readelf -l "$b" | grep -q 'Requesting program interpreter'; then
                echo "$b is dynamically linked" >&2; exit 1
              fi
            done
          '';
        } // extra);

      # A pinned download (ci/pins/sources.txt): Nix tries its URLs in order (the live Debian
      # pool, then snapshot.debian.org) and accepts only the pinned sha256, as ci/fetch does.
      fetchPinned = src: pkgs.fetchurl { name = storeSafe src.name; inherit (src) urls sha256; };
      # A file extracted from a pinned .deb.
      fromDeb = { name, deb, extract }: pkgs.runCommand name { nativeBuildInputs = [ pkgs.dpkg ]; } ''
        dpkg-deb -x ${fetchPinned deb} root
        ${extract}
      '';

      # --- the kernel: Debian's pinned source tarball, the same recipe as ci/kernel -------------
      linuxSource = fromDeb {
        name = "linux-source-6.12.tar.xz";
        deb = pins.linuxSourceDeb;
        extract = ''
          mv root/usr/src/linux-source-6.12.tar.xz "$out"
          echo "${pins.linuxSourceSha256}  $out" | sha256sum -c - # ci/kernel.d/linux-source.sha256
        '';
      };

      kernel = pkgs.stdenv.mkDerivation {
        pname = "nitro-kernel";
        version = storeSafe pins.linuxSourceVersion;
        src = linuxSource;
        # As nixpkgs' own kernel builder: the compiler wrapper's hardening flags (stack protector,
        # fortify, PIE...) must not reach the kernel; ci/kernel's gcc adds none.
        hardeningDisable = [ "all" ];
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

      # Mozilla roots from the pinned ca-certificates .deb, concatenated in sorted path order (as
      # ci/ca-bundle), checked against caBundleSha256.
      caBundle = fromDeb {
        name = "ca-certificates-${storeSafe pins.caCertificatesVersion}.crt";
        deb = pins.caCertificatesDeb;
        extract = ''
          (cd root && find usr/share/ca-certificates/mozilla -name '*.crt' -print0 | LC_ALL=C sort -z | xargs -0 cat) > "$out"
          echo "${pins.caBundleSha256}  $out" | sha256sum -c -
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

      # --- the image: the recipe enclave/image.json, as ci/build-eif runs it ----------------------
      mkEif = name: { kernel, enclave-binaries }: pkgs.runCommand name { nativeBuildInputs = [ eif-builder ]; } ''
        mkdir -p $out
        # The image's configuration must be one its application accepts (as ci/build-eif checks).
        ${enclave-binaries}/bin/enclave-app --check-config --config ${src}/enclave/app/rootfs/etc/enclave-app.json
        SOURCE_DATE_EPOCH=${toString (self.lastModified or 0)} eif-builder image \
          --recipe ${src}/enclave/image.json \
          --source-root ${src} \
          --input kernel=${kernel}/bzImage \
          --input enclave-init=${enclave-binaries}/bin/enclave-init \
          --input enclave-app=${enclave-binaries}/bin/enclave-app \
          --input ca-bundle=${caBundle} \
          --ramdisk-dir $out \
          --version ${builtins.substring 0 12 revision} \
          --source-revision ${revision} \
          --cargo-lock ${./Cargo.lock} \
          --toolchain rustc=${pins.rustVersion} \
          --toolchain gcc=${pkgs.stdenv.cc.cc.version} \
          --toolchain linux-source=${pins.linuxSourceVersion} \
          --toolchain ca-certificates=${pins.caCertificatesVersion} \
          --unregistrable "built by the Nix flake with nixpkgs' C toolchain and static glibc, not the pinned Debian ones (ci/pins/toolchain.txt): register the PCRs of ci/build-eif" \
          --kernel-version "$(cat ${kernel}/kernel.release)" \
          --output $out/enclave.eif > $out/manifest.json
        eif-builder pcrs $out/enclave.eif > $out/pcr.json
      '';
      eif = mkEif "enclave-eif" { inherit kernel enclave-binaries; };
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
      lib.storeNames = storeNames;

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
          packages = [ "nitro-pcrs" "transport-addr" "eif-builder" "nitro-attestation" "host-proxy" "pcr-registry" "matching-engine" "marketplace-bindings" ];
          extra = {
            doCheck = true;
            cargoTestFlags = [ "-p" "nitro-pcrs" "-p" "transport-addr" "-p" "eif-builder" "-p" "nitro-attestation" "-p" "host-proxy" "-p" "pcr-registry" "-p" "matching-engine" "-p" "marketplace-bindings" ];
          };
        };
        # Every step built a second time, as separate derivations (the kernel and the binaries
        # too, not only the image assembly), must give the same EIF bytes.
        reproducible =
          let
            again = drv: drv.overrideAttrs (_: { rebuildOf = drv.name; });
            second = mkEif "enclave-eif-again" { kernel = again kernel; enclave-binaries = again enclave-binaries; };
          in
          pkgs.runCommand "eif-reproducible" { } ''
            a=$(sha256sum < ${eif}/enclave.eif); b=$(sha256sum < ${second}/enclave.eif)
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
