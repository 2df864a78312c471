#!/usr/bin/env node
// A `solc` command-line front for the solcjs (WebAssembly) compiler, for forge.
//
// forge cannot download native solc here, so ci/bootstrap installs the npm `solc`
// package (pinned in ci/tools/package-lock.json) and writes a wrapper per version
// that runs this file. forge only needs two calls:
//   solc --version                      -> "Version: X.Y.Z+commit.H.Emscripten.clang"
//   solc --standard-json [--base-path P] [--include-path P]... [--allow-paths A,B]
//                                       -> standard JSON in on stdin, out on stdout
// Imports that forge did not already inline are read from disk, relative to the
// base path and include paths, never outside them (like solc's own file reader).
"use strict";

const fs = require("fs");
const path = require("path");

function fail(msg) {
  process.stderr.write(`solc-shim: ${msg}\n`);
  process.exit(1);
}

const solcModule = process.env.SOLC_SHIM_MODULE;
if (!solcModule) fail("SOLC_SHIM_MODULE must name the solc npm package directory");
const solc = require(solcModule);

const args = process.argv.slice(2);
if (args.includes("--version")) {
  process.stdout.write(
    `solc, the solidity compiler commandline interface\nVersion: ${solc.version()}\n`,
  );
  process.exit(0);
}
if (!args.includes("--standard-json")) {
  fail(`only --version and --standard-json are supported, got: ${args.join(" ")}`);
}

// Collect the directories imports may be read from.
const roots = [];
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  const take = () => {
    if (i + 1 >= args.length) fail(`${a} needs a value`);
    return args[++i];
  };
  if (a === "--base-path" || a === "--include-path") roots.push(path.resolve(take()));
  else if (a === "--allow-paths") take().split(",").filter(Boolean).forEach((p) => roots.push(path.resolve(p)));
  else if (a.startsWith("--")) {
    // Flags forge may add that take no value here (e.g. --no-import-callback) are ignored.
  }
}
if (roots.length === 0) roots.push(process.cwd());

function within(root, file) {
  const rel = path.relative(root, file);
  return rel !== "" && !rel.startsWith("..") && !path.isAbsolute(rel);
}

function findImports(importPath) {
  for (const root of roots) {
    const file = path.resolve(root, importPath);
    if (!within(root, file)) continue;
    try {
      return { contents: fs.readFileSync(file, "utf8") };
    } catch (_) {
      // try the next root
    }
  }
  return { error: `File not found in ${roots.join(", ")}: ${importPath}` };
}

const input = fs.readFileSync(0, "utf8");
process.stdout.write(solc.compile(input, { import: findImports }));
